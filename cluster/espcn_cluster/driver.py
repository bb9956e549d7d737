"""The job: plan every input, run the segments as Ray tasks, join and verify.

Per input: probe (ffprobe), cut into segments at keyframes (plan), split them
out without re-encoding (media.split), send each segment not yet done
(manifest) to a Ray task asking for the backend's resource, write and verify
each result as it arrives, then join the segments with the concat demuxer,
copying the source's audio and subtitles once, and verify frame count,
duration, size and the copied streams against the source.
"""
from __future__ import annotations

import argparse
import glob
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from . import media
from .manifest import Manifest, job_key, sha256_file
from .plan import Segment, plan_segments

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".mov", ".m4v", ".webm", ".avi", ".ts", ".mts", ".y4m"}
DEFAULT_ENCODER = "-c:v libx264 -preset veryfast -crf 16"
WORK_DIR = ".espcn-ray"


class JobError(RuntimeError):
    """Something the user must fix (bad input, missing resource); printed without a traceback."""


# --- inputs -------------------------------------------------------------------------

def expand_inputs(items: list[str]) -> list[str]:
    """Files as given; folders: the video files directly inside; patterns: glob."""
    out: list[str] = []
    for item in items:
        if os.path.isdir(item):
            found = sorted(str(p) for p in Path(item).iterdir()
                           if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
            if not found:
                raise JobError(f"{item}: no video files ({', '.join(sorted(VIDEO_EXTENSIONS))}) in this folder")
            out += found
        elif os.path.isfile(item):
            out.append(item)
        elif any(c in item for c in "*?["):
            found = sorted(p for p in glob.glob(item) if os.path.isfile(p))
            if not found:
                raise JobError(f"{item}: matches no file")
            out += found
        else:
            raise JobError(f"{item}: no such file or folder")
    seen: dict[str, str] = {}
    for path in out:
        stem = Path(path).stem
        if stem in seen and os.path.abspath(seen[stem]) != os.path.abspath(path):
            raise JobError(f"{seen[stem]} and {path} would both write {stem}.*: rename one")
        seen[stem] = path
    return list(dict.fromkeys(out))


def resolve_tool(name: str, given: str | None) -> str:
    if given:
        if os.sep in given:
            path = os.path.abspath(given)
            if not os.access(path, os.X_OK):
                raise JobError(f"--{name} {given}: not an executable file")
            return path
        found = shutil.which(given)
    else:
        found = shutil.which(name)
    if not found:
        raise JobError(f"no {name} on PATH: give --{name} PATH (an FFmpeg built with the espcn filter: "
                       "scripts/build_ffmpeg.sh)")
    return found


# --- per-input state ----------------------------------------------------------------

@dataclass
class Input:
    source: str
    probe: media.Probe
    segments: list[Segment]
    manifest: Manifest
    folder: Path                      # its segment files
    output: str
    todo: list[int] = field(default_factory=list)
    running: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: bool = False
    assembled: bool = False

    def key(self, index: int) -> str:
        return f"{Path(self.source).name}#{index}"

    def split_file(self, index: int) -> Path:
        return self.folder / f"in-{index:05d}.mkv"

    def out_file(self, index: int) -> Path:
        return self.folder / f"out-{index:05d}.mkv"


def prepare(source: str, args, ffmpeg: str, ffprobe: str, options: dict, outdir: Path) -> Input:
    source = os.path.abspath(source)  # the concat list and the manifest name files absolutely
    probe = media.probe(ffprobe, source)
    target = args.segment_frames or max(1, round(args.segment_seconds * probe.fps))
    segments = plan_segments(probe.keyframes, probe.frames, target)
    ext = args.container or Path(source).suffix.lstrip(".") or "mkv"
    output = str(outdir / f"{Path(source).stem}.{ext}")
    key = job_key(source, {**options, "segment_frames": target, "container": ext})
    work = outdir / WORK_DIR
    manifest = Manifest.open(work / f"{Path(source).stem}-{key}.json", key, {
        "source": os.path.abspath(source), "frames": probe.frames, "fps": str(probe.fps),
        "segments": [{"index": s.index, "first": s.first, "frames": s.frames, "status": "pending"}
                     for s in segments]})
    inp = Input(source, probe, segments, manifest, work / f"{Path(source).stem}-{key}", output)
    if manifest.complete() and os.path.abspath(manifest.data["output"]) == os.path.abspath(output):
        inp.skipped = True
        return inp
    if os.path.exists(output) and not args.overwrite:
        raise JobError(f"{output} exists and is not the verified result of this job: remove it or give --overwrite")
    inp.folder.mkdir(parents=True, exist_ok=True)
    inp.todo = [s.index for s in segments if not manifest.segment_done(s.index, inp.folder)]
    if inp.todo:
        for stale in inp.folder.glob("in-*.mkv"):
            stale.unlink()
        media.split(ffmpeg, source, [s.first for s in segments[1:]], str(inp.folder / "in-%05d.mkv"))
        for s in segments:  # the segment muxer must have cut exactly at our keyframes
            n = media.packet_count(ffprobe, str(inp.split_file(s.index)), "v:0") \
                if inp.split_file(s.index).exists() else -1
            if n != s.frames:
                raise JobError(f"{source}: segment {s.index} was split with {n} frames, planned {s.frames} "
                               f"(frames {s.first}..{s.first + s.frames - 1})")
    manifest.save()
    return inp


def verify_segment(inp: Input, index: int, path: Path, ffprobe: str, scale: int) -> None:
    w, h, frames, _ = media.video_summary(ffprobe, str(path))
    s = inp.segments[index]
    want = (inp.probe.width * scale, inp.probe.height * scale, s.frames)
    if (w, h, frames) != want:
        raise media.MediaError(f"segment {index} of {inp.source}: {w}x{h}, {frames} frames; expected "
                               f"{want[0]}x{want[1]}, {want[2]} frames")


def assemble(inp: Input, args, ffmpeg: str, ffprobe: str) -> None:
    inp.assembled = True
    p = inp.probe
    entries = [(str(inp.out_file(s.index)), Fraction(s.frames) / p.fps) for s in inp.segments]
    list_file = inp.folder / "concat.txt"
    list_file.write_text(media.concat_list(entries))
    ext = Path(inp.output).suffix
    joined = inp.folder / f"joined{ext}"
    container = ["-movflags", "+faststart"] if ext.lower() in (".mp4", ".mov", ".m4v") else []
    media.join(ffmpeg, str(list_file), inp.source, str(joined), p.video_start - p.file_start,
               sorted(p.other_streams), container)
    # Verify against the source before the result takes the output's name.
    w, h, frames, duration = media.video_summary(ffprobe, str(joined))
    problems = []
    if (w, h) != (p.width * args.scale, p.height * args.scale):
        problems.append(f"size {w}x{h}, expected {p.width * args.scale}x{p.height * args.scale}")
    if frames != p.frames:
        problems.append(f"{frames} frames, the source has {p.frames}")
    if abs(duration - p.video_duration) > Fraction(1, 2) / p.fps:
        problems.append(f"video lasts {float(duration):.6f} s, the source's {float(p.video_duration):.6f} s")
    for spec, n in sorted(p.other_streams.items()):
        got = media.packet_count(ffprobe, str(joined), spec)
        if got != n:
            problems.append(f"stream {spec}: {got} packets, the source has {n}")
    if problems:
        raise JobError(f"{inp.output}: verification failed: " + "; ".join(problems))
    os.replace(joined, inp.output)
    inp.manifest.mark_complete(os.path.abspath(inp.output), sha256_file(inp.output))
    if not args.keep_temp:
        shutil.rmtree(inp.folder, ignore_errors=True)


# --- progress -----------------------------------------------------------------------

class ProgressBar:
    """Frames done of TOTAL; the rate counts only frames done since START (not
    those a previous run left done)."""

    def __init__(self, total: int, before: int, enabled: bool):
        self.total, self.before, self.enabled = max(total, 1), before, enabled
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.last_line = -1

    def show(self, done: int, final: bool = False) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        fps = (done - self.before) / elapsed if elapsed > 0 else 0.0
        frac = min(done / self.total, 1.0)
        eta = (self.total - done) / fps if fps > 0 else 0
        bar = "#" * int(frac * 30)
        text = (f"[{bar:<30}] {done}/{self.total} frames {100 * frac:5.1f}%  {fps:7.1f} fps  "
                f"ETA {int(eta) // 60}:{int(eta) % 60:02d}")
        if self.tty:
            sys.stderr.write("\r" + text + ("\n" if final else ""))
            sys.stderr.flush()
        else:
            step = int(frac * 10)
            if step != self.last_line or final:
                self.last_line = step
                print(text, file=sys.stderr, flush=True)


# --- Ray ----------------------------------------------------------------------------

def init_ray(args):
    # No usage statistics leave the machine; a local cluster talks over loopback only.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not args.address:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise JobError("needs the `ray` package (PyPI): scripts/python_env.sh creates build/venv-cluster "
                       "with it; run this tool with build/venv-cluster/bin/python") from None
    runtime_env = {"py_modules": [str(Path(__file__).resolve().parent)]}
    kwargs = {"runtime_env": runtime_env, "log_to_driver": args.verbose, "logging_level": "WARNING"}
    if args.address:
        if args.node_ip_address:
            kwargs["_node_ip_address"] = args.node_ip_address
        ray.init(address=args.address, **kwargs)
    else:
        ray.init(num_cpus=args.num_cpus, num_gpus=args.num_gpus, include_dashboard=False, **kwargs)
    return ray


def task_resources(ray, args) -> dict:
    """num_cpus / num_gpus of one task, after checking that some node can give them."""
    deadline = time.monotonic() + args.wait_for_resources
    while True:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        has_gpu = any(n["Resources"].get("GPU", 0) >= args.gpus_per_task for n in nodes)
        use_gpu = args.backend == "cuda" or (args.backend == "auto" and has_gpu)
        need = {"CPU": args.cpus_per_task, **({"GPU": args.gpus_per_task} if use_gpu else {})}
        if any(all(n["Resources"].get(r, 0) >= v for r, v in need.items()) for n in nodes):
            return {"num_cpus": args.cpus_per_task, "num_gpus": args.gpus_per_task if use_gpu else 0}
        if time.monotonic() >= deadline:
            offers = "; ".join(f"{n['NodeManagerAddress']}: " + ", ".join(
                f"{r} {v:g}" for r, v in sorted(n["Resources"].items()) if r in ("CPU", "GPU"))
                for n in nodes) or "no alive node"
            hint = ("use --backend cpu, or add nodes with GPUs (ray start --num-gpus N; KubeRay GPU worker groups)"
                    if use_gpu else "lower --cpus-per-task, or add nodes")
            raise JobError(f"no node of the cluster offers what one task needs ({', '.join(f'{r} {v:g}' for r, v in need.items())}); "
                           f"the nodes offer: {offers}; {hint}")
        time.sleep(1.0)


def run_job(args) -> int:
    t0 = time.monotonic()
    ffmpeg = resolve_tool("ffmpeg", args.ffmpeg)
    ffprobe = resolve_tool("ffprobe", args.ffprobe)
    media.run([ffmpeg, "-hide_banner", "-h", "filter=espcn"], f"{ffmpeg}: looking for the espcn filter")
    sources = expand_inputs(args.inputs)
    outdir = Path(args.output_dir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    model_bytes = Path(args.model).read_bytes() if args.model else None
    encoder_args = shlex.split(args.encoder_args)
    options = {"scale": args.scale, "backend": args.backend, "precision": args.precision,
               "model_sha256": sha256_file(args.model) if args.model else None, "encoder_args": encoder_args,
               "threads": args.cpus_per_task}
    inputs = [prepare(s, args, ffmpeg, ffprobe, options, outdir) for s in sources]
    for inp in inputs:
        if inp.skipped:
            print(f"espcn-ray: {inp.source}: already done and verified ({inp.output})", file=sys.stderr)
    work = [inp for inp in inputs if not inp.skipped]
    total_frames = sum(inp.probe.frames for inp in work)
    done_frames = {inp.key(s.index): s.frames for inp in work for s in inp.segments if s.index not in inp.todo}
    n_todo = sum(len(inp.todo) for inp in work)
    print(f"espcn-ray: {len(sources)} input(s), {len(work)} to do: {total_frames} frames in "
          f"{sum(len(i.segments) for i in work)} segments, {n_todo} to run "
          f"({sum(len(i.segments) for i in work) - n_todo} done and verified before)", file=sys.stderr)
    if not work:
        return 0
    for inp in work:
        if not inp.todo:  # every segment was done before (a run stopped before its join)
            assemble(inp, args, ffmpeg, ffprobe)
    if n_todo == 0:
        for inp in work:
            print(f"espcn-ray: wrote {inp.output} ({inp.probe.frames} frames, verified)", file=sys.stderr)
        return 0

    ray = init_ray(args)
    try:
        resources = task_resources(ray, args)
        job = {"ffmpeg": ffmpeg, "scale": args.scale, "backend": args.backend, "precision": args.precision,
               "threads": args.cpus_per_task, "encoder_args": encoder_args}
        from . import tasks
        node_id = ray.get_runtime_context().get_node_id()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        progress = ray.remote(tasks.Progress).options(
            num_cpus=0, max_restarts=-1,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node_id, soft=True)).remote()
        upscale = ray.remote(tasks.upscale_segment).options(
            max_retries=args.retries, retry_exceptions=[media.MediaKilled], **resources)
        model_ref = ray.put(model_bytes) if model_bytes is not None else None
        slots = max(1, int(sum(n["Resources"].get("GPU" if resources["num_gpus"] else "CPU", 0)
                               for n in ray.nodes() if n.get("Alive"))
                           // max(resources["num_gpus"] or resources["num_cpus"], 1)))
        max_in_flight = args.max_in_flight or 2 * slots
        queue = [(inp, i) for inp in work for i in inp.todo]
        running: dict = {}
        bar = ProgressBar(total_frames, sum(done_frames.values()), not args.no_progress)
        t_run = time.monotonic()
        while queue or running:
            while queue and len(running) < max_in_flight:
                inp, i = queue.pop(0)
                data = ray.put(inp.split_file(i).read_bytes())
                ref = upscale.remote(data, model_ref, job, progress, inp.key(i))
                running[ref] = (inp, i)
                inp.running += 1
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for ref in ready:
                inp, i = running.pop(ref)
                inp.running -= 1
                try:
                    encoded = ray.get(ref)
                    out = inp.out_file(i)
                    tmp = out.with_suffix(".part")
                    tmp.write_bytes(encoded)
                    verify_segment(inp, i, tmp, ffprobe, args.scale)
                    os.replace(tmp, out)
                    inp.manifest.mark_done(i, out.name, sha256_file(out))
                    done_frames[inp.key(i)] = inp.segments[i].frames
                except Exception as e:  # the task's error after Ray's retries, or a bad result
                    inp.failed.append(f"segment {i}: {type(e).__name__}: {str(e).strip().splitlines()[0][:300]}")
                    if args.verbose:
                        print(f"espcn-ray: {inp.source} segment {i}: {e}", file=sys.stderr)
                if inp.running == 0 and not any(q[0] is inp for q in queue) and not inp.failed:
                    assemble(inp, args, ffmpeg, ffprobe)  # its last segment is in: join while others run
            try:
                live = ray.get(progress.snapshot.remote(), timeout=5)
            except Exception:  # the actor is being restarted: show what is known
                live = {}
            shown = sum(done_frames.values()) + sum(v for k, v in live.items() if k not in done_frames)
            bar.show(min(shown, total_frames))
        t_end = time.monotonic()
        bar.show(sum(done_frames.values()), final=True)
    finally:
        ray.shutdown()

    failed = [(inp, f) for inp in work for f in inp.failed]
    ran = sum(inp.segments[i].frames for inp in work for i in inp.todo)
    run_s = t_end - t_run
    print(f"espcn-ray: {ran} frames upscaled in {run_s:.2f} s = {ran / run_s if run_s > 0 else 0:.1f} fps "
          f"(segments running), {time.monotonic() - t0:.2f} s in all (probe, split, join, verify)", file=sys.stderr)
    if failed:
        for inp, f in failed:
            print(f"espcn-ray: {inp.source}: {f}", file=sys.stderr)
        print("espcn-ray: the segments done are kept; run the same command again to redo only the failed ones",
              file=sys.stderr)
        return 1
    for inp in work:
        if inp.assembled:
            print(f"espcn-ray: wrote {inp.output} ({inp.probe.frames} frames, verified)", file=sys.stderr)
    return 0


# --- command line -------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        prog="espcn_ray.py",
        description="Segment-parallel super-resolution of videos with ffmpeg -vf espcn on a Ray cluster.",
        epilog="Without --address a Ray cluster is started on this machine (loopback only) for the job. "
               "See README.md, 'Many machines: Ray'.")
    ap.add_argument("inputs", nargs="+", help="video files, folders (their video files) or quoted glob patterns")
    ap.add_argument("-o", "--output-dir", required=True, help="where the upscaled videos go (same file names)")
    f = ap.add_argument_group("filter (as ffmpeg -vf espcn)")
    f.add_argument("--scale", type=int, default=2, choices=(2, 3, 4))
    f.add_argument("--model", help="a .safetensors model, sent to the workers (default: the filter's "
                                    "default model for the scale, installed beside libespcn on each worker)")
    f.add_argument("--backend", default="auto", choices=("auto", "cpu", "cuda"),
                   help="cuda: each task asks Ray for a GPU; auto: a GPU if the cluster has one, else CPUs")
    f.add_argument("--precision", default="auto", choices=("auto", "fp32", "fp16"))
    e = ap.add_argument_group("encoding and container")
    e.add_argument("--encoder-args", default=DEFAULT_ENCODER,
                   help=f"ffmpeg output options for the video of each segment (default: '{DEFAULT_ENCODER}')")
    e.add_argument("--container", help="output file extension, e.g. mkv or mp4 (default: the input's)")
    s = ap.add_argument_group("segments and tasks")
    s.add_argument("--segment-seconds", type=float, default=60.0,
                   help="target segment length; cuts fall on the first keyframe after it (default 60)")
    s.add_argument("--segment-frames", type=int, default=0, help="target segment length in frames (overrides seconds)")
    s.add_argument("--cpus-per-task", type=int, default=1, help="CPUs each task asks for = the filter's threads")
    s.add_argument("--gpus-per-task", type=float, default=1, help="GPUs each task asks for with a GPU backend")
    s.add_argument("--retries", type=int, default=3, help="Ray retries of a task whose worker died (default 3)")
    s.add_argument("--max-in-flight", type=int, default=0, help="segments submitted at once (default 2x slots)")
    r = ap.add_argument_group("Ray")
    r.add_argument("--address", help="a running cluster (host:port of its head); default: a local one")
    r.add_argument("--node-ip-address", help="this machine's address in that cluster (ray.init's _node_ip_address)")
    r.add_argument("--num-cpus", type=int, help="CPUs of the local cluster (default: all)")
    r.add_argument("--num-gpus", type=int, help="GPUs of the local cluster (default: all visible)")
    r.add_argument("--wait-for-resources", type=float, default=0,
                   help="seconds to wait for a node with the needed resources (an autoscaling cluster)")
    t = ap.add_argument_group("tools and files")
    t.add_argument("--ffmpeg", help="ffmpeg with the espcn filter, at this path on every node (default: PATH)")
    t.add_argument("--ffprobe", help="ffprobe (default: PATH)")
    t.add_argument("--overwrite", action="store_true", help="replace outputs that are not this job's verified result")
    t.add_argument("--keep-temp", action="store_true", help="keep the segment files after a verified join")
    t.add_argument("--no-progress", action="store_true")
    t.add_argument("-v", "--verbose", action="store_true", help="worker logs and full errors")
    a = ap.parse_args(argv)
    if a.segment_frames < 0 or a.segment_seconds <= 0 or a.cpus_per_task < 1 or a.retries < 0:
        ap.error("segment length, --cpus-per-task and --retries must be positive")
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return run_job(args)
    except (JobError, media.MediaError, OSError) as e:
        print(f"espcn-ray: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("espcn-ray: interrupted; the segments done are kept for a re-run", file=sys.stderr)
        return 130
