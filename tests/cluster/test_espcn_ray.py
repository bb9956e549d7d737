"""cluster/espcn_ray.py on a real two-node Ray cluster on this machine.

A head and a worker node (`ray start`, 1 CPU each, their own temp dirs and
ports, node addresses 127.0.0.2 and 127.0.0.3: loopback only) run a 64x48
clip of 320 frames (lossless H.264, keyframe every 40 frames, B-frames, a PCM
audio track) cut into 8 segments, upscaled x2 with lossless H.264 out.

  1. the decoded output frames equal (framemd5) one `ffmpeg -vf espcn` run
     over the whole clip; 8 segments; the audio packets are the source's;
  2. the worker node's processes are SIGKILLed while one of its ffmpeg
     segments runs: the job still completes, output frames identical;
  3. the same command again skips the input (manifest: done and verified);
  4. the driver killed mid-run, then the same command again: it runs only
     the segments not yet done and verified, output frames identical;
  5. --backend cuda on this CPU-only cluster fails at once with a clear error;
  6. a local cluster (no --address: ray.init() on this machine), 2 CPUs.
The cluster is always stopped at the end (our processes by pid, then `ray stop`).

Usage: pytest test_espcn_ray.py --ffmpeg PATH --ffprobe PATH  (with build/venv-cluster's python)
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TOOL = HERE.parent.parent / "cluster" / "espcn_ray.py"
FRAMES, GOP, SEGMENT = 320, 40, 40
HEAD_IP, WORKER_IP = "127.0.0.2", "127.0.0.3"
LOSSLESS = "-c:v libx264 -qp 0 -preset veryfast -threads 1"
RUN_TIMEOUT = 240  # seconds for one run of the tool; the kill run waits for Ray to notice a dead node


class Failure(AssertionError):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise Failure(message)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- processes ----------------------------------------------------------------------

def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def parent(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[1])
    except (OSError, IndexError, ValueError):
        return -1


def descendants(roots: set[int]) -> set[int]:
    found, frontier = set(roots), set(roots)
    pids = all_pids()
    while frontier:
        children = {p for p in pids if parent(p) in frontier and p not in found}
        found |= children
        frontier = children
    return found


def node_processes(temp_dir: str) -> set[int]:
    """The processes of the Ray node whose temp dir is TEMP_DIR: those naming it
    on their command line (raylet, gcs_server, log monitor, ...) and all their
    descendants (workers, agents, the ffmpeg of a running task)."""
    roots = {p for p in all_pids() if temp_dir in cmdline(p) and p != os.getpid()}
    return descendants(roots)


def kill_pids(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def free_port_block(count: int) -> int:
    """The first of COUNT consecutive TCP ports free on this machine."""
    for base in range(30000, 60000, count + 7):
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("0.0.0.0", port))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise Failure("no block of free ports")


# --- the cluster --------------------------------------------------------------------

class Cluster:
    def __init__(self, ray_cli: str, root: Path, env: dict):
        self.ray, self.root, self.env = ray_cli, root, env
        self.head_tmp, self.worker_tmp = str(root / "head"), str(root / "worker")
        base = free_port_block(2 * 9 + 2 * 40)
        self.port = base

        def ports(b):
            return {"--node-manager-port": b, "--object-manager-port": b + 1,
                    "--dashboard-agent-listen-port": b + 2, "--dashboard-agent-grpc-port": b + 3,
                    "--metrics-export-port": b + 4, "--runtime-env-agent-port": b + 5,
                    "--min-worker-port": b + 18, "--max-worker-port": b + 18 + 39}
        self.head_ports = {**ports(base + 1), "--dashboard-port": base + 7}
        self.worker_ports = ports(base + 9 + 40)
        self.address = f"{HEAD_IP}:{self.port}"

    def _start(self, args: list[str], ports: dict, what: str) -> None:
        cmd = [self.ray, "start", *args, "--num-cpus", "1", "--num-gpus", "0", "--disable-usage-stats",
               *[x for k, v in ports.items() for x in (k, str(v))]]
        # The GCS declares a silent node dead after 3 missed 1 s health checks
        # (Ray's default takes about half a minute): keeps the kill case short.
        env = {**self.env, "RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "1000",
               "RAY_health_check_failure_threshold": "3"}
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, f"ray start ({what}) failed: {p.stderr.strip()[-1500:]}")

    def start(self) -> None:
        self._start(["--head", "--node-ip-address", HEAD_IP, "--port", str(self.port), "--temp-dir", self.head_tmp,
                     "--include-dashboard", "false"], self.head_ports, "head")
        self._start(["--address", self.address, "--node-ip-address", WORKER_IP, "--temp-dir", self.worker_tmp],
                    self.worker_ports, "worker")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # both nodes registered
            p = subprocess.run([self.ray, "status", "--address", self.address], env=self.env,
                               capture_output=True, text=True)
            if p.returncode == 0 and "2.0 CPU" in p.stdout:
                return
            time.sleep(1)
        raise Failure(f"the cluster did not show 2 CPUs within 60 s: {p.stdout[-800:]}{p.stderr[-800:]}")

    def kill_worker_node(self) -> set[int]:
        pids = node_processes(self.worker_tmp)
        kill_pids(pids)
        return pids

    def stop(self) -> None:
        ours = node_processes(self.worker_tmp) | node_processes(self.head_tmp)
        subprocess.run([self.ray, "stop"], env=self.env, capture_output=True, text=True, timeout=120)
        time.sleep(1)
        kill_pids({p for p in ours if cmdline(p)})  # whatever `ray stop` left


# --- media --------------------------------------------------------------------------

def ffmpeg_run(ffmpeg: str, args: list[str]) -> None:
    p = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"ffmpeg {' '.join(args)}: {p.stderr.strip()[-1000:]}")


def frame_hashes(ffmpeg: str, path: str, vf: str | None = None) -> list[str]:
    """The md5 of every decoded video frame (framemd5's last column), in order."""
    args = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-map", "0:v:0"]
    if vf:
        args += ["-vf", vf, "-fps_mode", "passthrough"]
    p = subprocess.run(args + ["-f", "framemd5", "-"], capture_output=True, text=True)
    check(p.returncode == 0, f"framemd5 of {path}: {p.stderr.strip()[-1000:]}")
    return [line.rsplit(",", 1)[1].strip() for line in p.stdout.splitlines() if line and not line.startswith("#")]


def stream_md5(ffmpeg: str, path: str, spec: str) -> str:
    p = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path, "-map", f"0:{spec}",
                        "-c", "copy", "-f", "md5", "-"], capture_output=True, text=True)
    check(p.returncode == 0, f"md5 of {path} {spec}: {p.stderr.strip()[-500:]}")
    return p.stdout.strip()


# --- the tests (in this order: they share one cluster and its outputs) ----------------

class Run:
    """The clip, the single-run reference and the cluster the tests share."""

    def __init__(self, ffmpeg: str, ffprobe: str, root: Path):
        self.ffmpeg, self.ffprobe, self.root = ffmpeg, ffprobe, root
        ray_cli = str(Path(sys.executable).with_name("ray"))
        check(os.access(ray_cli, os.X_OK), f"no ray command beside {sys.executable}")
        self.task_tmp = root / "task-tmp"
        self.task_tmp.mkdir()
        # Token authentication with a token of this run only (nothing read from or
        # written to ~/.ray), no usage statistics, task temporary files in our folder.
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "TMPDIR": str(self.task_tmp),
                    "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
        self.cluster = Cluster(ray_cli, root, self.env)

    def prepare(self) -> None:
        self.clip = str(self.root / "clip.mkv")
        ffmpeg_run(self.ffmpeg, [
            "-f", "lavfi", "-i", f"testsrc2=size=64x48:rate=25", "-f", "lavfi",
            "-i", f"sine=frequency=440:sample_rate=48000:duration={FRAMES / 25}",
            "-frames:v", str(FRAMES), "-map", "0:v", "-map", "1:a", "-pix_fmt", "yuv420p", "-c:v", "libx264",
            "-qp", "0", "-preset", "veryfast", "-threads", "1",
            "-x264-params", f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=2:open-gop=0",
            "-c:a", "pcm_s16le", self.clip])
        vf = "espcn=scale=2:backend=cpu:precision=auto:threads=1"
        self.reference = frame_hashes(self.ffmpeg, self.clip, vf)
        check(len(self.reference) == FRAMES, f"the reference run gave {len(self.reference)} frames, expected {FRAMES}")
        self.audio_md5 = stream_md5(self.ffmpeg, self.clip, "a:0")
        log(f"clip: {FRAMES} frames 64x48, keyframe every {GOP}; reference: one ffmpeg -vf {vf} run")
        log("starting the cluster: head + worker node, 1 CPU each")
        self.cluster.start()
        log(f"cluster up at {self.cluster.address}")

    def tool(self, outdir: Path, extra=(), address=True, timeout=RUN_TIMEOUT, popen=False):
        cmd = [sys.executable, str(TOOL), self.clip, "-o", str(outdir), "--scale", "2", "--backend", "cpu",
               "--encoder-args", LOSSLESS, "--segment-frames", str(SEGMENT), "--ffmpeg", self.ffmpeg,
               "--ffprobe", self.ffprobe, "--no-progress", *extra]
        if address:
            cmd += ["--address", self.cluster.address, "--node-ip-address", HEAD_IP]
        if popen:
            return subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)

    def same_as_reference(self, out: Path) -> str:
        got = frame_hashes(self.ffmpeg, str(out))
        check(len(got) == FRAMES, f"{out.name}: {len(got)} frames, expected {FRAMES}")
        bad = [i for i, (a, b) in enumerate(zip(got, self.reference)) if a != b]
        check(not bad, f"{len(bad)} frames differ from the single ffmpeg run, first: frame {bad[:1]}")
        check(stream_md5(self.ffmpeg, str(out), "a:0") == self.audio_md5, "the audio is not the source's")
        return f"{FRAMES} frames identical to the single run, audio identical"


def manifest(outdir: Path) -> dict:
    files = list((outdir / ".espcn-ray").glob("*.json"))
    check(len(files) == 1, f"{len(files)} manifests in {outdir}/.espcn-ray")
    return json.loads(files[0].read_text())


@pytest.fixture(scope="module")
def run(option):
    ffmpeg, ffprobe = option("--ffmpeg"), option("--ffprobe")
    t0 = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="espcn-ray-test-"))
    r = Run(ffmpeg, ffprobe, root)
    try:
        r.prepare()
        yield r
    finally:
        r.cluster.stop()
        left = node_processes(r.cluster.head_tmp) | node_processes(r.cluster.worker_tmp)
        if left:
            log(f"processes still alive after ray stop: {sorted(left)}")
        shutil.rmtree(root, ignore_errors=True)
        log(f"{time.monotonic() - t0:.0f} s")


def test_two_nodes_output_equals_one_ffmpeg_run(run):
    out = run.root / "out-plain"
    p = run.tool(out)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()[-2000:]}")
    m = manifest(out)
    n = len(m["segments"])
    check(n >= 6, f"{n} segments, the test needs >= 6")
    check(m["complete"], "the manifest does not say complete")
    leftovers = [p for p in (out / ".espcn-ray").iterdir() if p.is_dir()]
    check(not leftovers, f"temporary folders left: {leftovers}")
    log(f"{n} segments; " + run.same_as_reference(out / "clip.mkv") + "; " + p.stderr.strip().splitlines()[-2])


def test_worker_node_killed_mid_run_job_completes_identically(run):
    out = run.root / "out-killed"
    proc = run.tool(out, popen=True)
    deadline, victims, had_ffmpeg = time.monotonic() + 120, set(), False
    while time.monotonic() < deadline and proc.poll() is None:
        pids = node_processes(run.cluster.worker_tmp)
        if any("ffmpeg" in cmdline(p) and "-progress" in cmdline(p) for p in pids):  # a segment runs
            victims, had_ffmpeg = run.cluster.kill_worker_node(), True
            break
        time.sleep(0.05)
    check(had_ffmpeg, "no segment ran on the worker node before the job ended: nothing was killed mid-run")
    t_kill = time.monotonic()
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure(f"the job did not finish within {RUN_TIMEOUT} s of the worker node's death")
    check(proc.returncode == 0, f"exit {proc.returncode} after the kill: {output.strip()[-2000:]}")
    log(f"killed {len(victims)} worker-node processes mid-segment, the job finished "
        f"{time.monotonic() - t_kill:.1f} s later; " + run.same_as_reference(out / "clip.mkv"))


def test_rerun_of_a_finished_job_skips_it(run):
    out = run.root / "out-killed"  # the previous test's finished job
    before = (out / "clip.mkv").stat().st_mtime_ns
    p = run.tool(out)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()[-1500:]}")
    check("already done and verified" in p.stderr, f"no skip reported: {p.stderr.strip()[-800:]}")
    check((out / "clip.mkv").stat().st_mtime_ns == before, "the output was rewritten")
    log(p.stderr.strip().splitlines()[0])


def test_driver_killed_then_rerun_runs_only_the_missing_segments(run):
    out = run.root / "out-resumed"
    proc = run.tool(out, popen=True)
    deadline, done = time.monotonic() + 120, 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            done = sum(s["status"] == "done" for s in manifest(out)["segments"])
        except (Failure, ValueError, OSError):
            done = 0
        if done >= 3:
            proc.kill()  # the driver dies; Ray drops its tasks
            break
        time.sleep(0.05)
    proc.communicate()
    check(3 <= done < FRAMES // SEGMENT, f"the driver was not killed mid-run ({done} segments done)")
    m = manifest(out)
    done_before = sum(s["status"] == "done" for s in m["segments"])
    p = run.tool(out)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()[-1500:]}")
    first = p.stderr.strip().splitlines()[0]
    check(f"{len(m['segments']) - done_before} to run ({done_before} done and verified before)" in first,
          f"the re-run did not skip the {done_before} segments done: {first}")
    log(f"{done_before} segments kept from the killed run; " + run.same_as_reference(out / "clip.mkv"))


def test_backend_cuda_on_a_cpu_only_cluster_is_a_clear_error(run):
    p = run.tool(run.root / "out-gpu", ["--backend", "cuda"], timeout=120)
    check(p.returncode == 1, f"exit {p.returncode}, expected 1: {p.stderr.strip()[-800:]}")
    msg = p.stderr.strip().splitlines()[-1]
    check("no node of the cluster offers" in msg and "GPU" in msg, f"unclear message: {msg}")
    log(msg[:160])


def test_no_task_temporary_files_left(run):
    leftovers = list(run.task_tmp.iterdir())
    check(not leftovers, f"task temporary files left: {[p.name for p in leftovers]}")


def test_local_cluster_without_address(run):
    log("stopping the cluster")
    run.cluster.stop()
    out = run.root / "out-local"
    p = run.tool(out, ["--num-cpus", "2"], address=False)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.strip()[-2000:]}")
    log(run.same_as_reference(out / "clip.mkv") + "; " + p.stderr.strip().splitlines()[-2])
