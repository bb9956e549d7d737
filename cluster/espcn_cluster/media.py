"""ffprobe and ffmpeg, as the cluster tool uses them: probing a video, splitting
it at keyframes without re-encoding, upscaling one segment, joining segments
with the concat demuxer, and counting what came out.

Every external call goes through run(): a failure raises MediaError carrying
the command and the tail of its stderr; the child dies with its parent
(PR_SET_PDEATHSIG), so a killed Ray worker leaves no ffmpeg behind.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction


class MediaError(RuntimeError):
    """An ffmpeg/ffprobe call failed, or a file is not what it must be."""


class MediaKilled(MediaError):
    """ffmpeg was ended by a signal (OOM killer, a node going away): worth a retry."""


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not glibc Linux: the child may outlive a killed worker


def run(cmd: list[str], what: str, stdout=subprocess.PIPE) -> str:
    p = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True, preexec_fn=_die_with_parent)
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-8:])
        error = MediaKilled if p.returncode < 0 else MediaError
        raise error(f"{what} failed (exit {p.returncode}): {' '.join(cmd)}\n{tail}")
    return p.stdout if stdout == subprocess.PIPE else ""


@dataclass
class Probe:
    """What the tool needs to know about one input file."""
    path: str
    width: int
    height: int
    codec: str
    fps: Fraction                  # the video stream's frame rate (constant frame rate assumed)
    time_base: Fraction
    keyframes: list[int]           # packet indices (decode order) of the video keyframes
    frames: int                    # video packets = frames for the codecs this tool is for
    video_duration: Fraction       # last pts + its duration - first pts, seconds
    video_start: Fraction          # first video pts, seconds
    file_start: Fraction           # the container's start time, seconds
    other_streams: dict[str, int] = field(default_factory=dict)  # codec_type -> packets


def _fraction(text: str | None, what: str) -> Fraction:
    try:
        value = Fraction(text)
    except (TypeError, ValueError, ZeroDivisionError):
        raise MediaError(f"ffprobe gave no usable {what} ({text!r})") from None
    return value


def _packets(ffprobe: str, path: str, stream: str) -> list[tuple[int | None, int | None, bool]]:
    """(pts, duration, keyframe) of each packet of STREAM ('v:0', 'a:1', ...), in file order."""
    text = run([ffprobe, "-v", "error", "-select_streams", stream, "-show_entries",
                "packet=pts,dts,duration,flags", "-of", "json", path], f"ffprobe of {path}'s packets")
    out = []
    for p in json.loads(text).get("packets", []):
        pts = p.get("pts", p.get("dts"))
        out.append((int(pts) if pts is not None else None,
                    int(p["duration"]) if p.get("duration") not in (None, "N/A") else None,
                    "K" in p.get("flags", "")))
    return out


def _span(packets, time_base: Fraction, fps: Fraction) -> tuple[Fraction, Fraction]:
    """(start, duration) in seconds of a stream's packets; a packet without a
    duration lasts one frame."""
    stamps = [(pts, dur) for pts, dur, _ in packets if pts is not None]
    if not stamps:
        return Fraction(0), Fraction(len(packets)) / fps
    first = min(pts for pts, _ in stamps)
    last_pts, last_dur = max(stamps)
    end = last_pts * time_base + (last_dur * time_base if last_dur else 1 / fps)
    return first * time_base, end - first * time_base


def probe(ffprobe: str, path: str) -> Probe:
    text = run([ffprobe, "-v", "error", "-show_entries",
                "stream=index,codec_type,codec_name,width,height,r_frame_rate,avg_frame_rate,time_base"
                ":format=start_time", "-of", "json", path], f"ffprobe of {path}")
    info = json.loads(text)
    streams = info.get("streams", [])
    videos = [s for s in streams if s.get("codec_type") == "video"]
    if not videos:
        raise MediaError(f"{path}: no video stream")
    v = videos[0]
    rate = v.get("avg_frame_rate") if v.get("avg_frame_rate") not in (None, "0/0") else v.get("r_frame_rate")
    fps = _fraction(rate, f"frame rate of {path}")
    if fps <= 0:
        raise MediaError(f"{path}: frame rate {rate}")
    time_base = _fraction(v.get("time_base"), f"time base of {path}")
    packets = _packets(ffprobe, path, "v:0")
    if not packets:
        raise MediaError(f"{path}: the video stream has no packets")
    keyframes = [i for i, (_, _, key) in enumerate(packets) if key]
    if not keyframes or keyframes[0] != 0:
        raise MediaError(f"{path}: the video does not start with a keyframe; cannot split it without re-encoding")
    start, duration = _span(packets, time_base, fps)
    others: dict[str, int] = {}
    for kind, spec in (("audio", "a"), ("subtitle", "s")):
        n = sum(1 for s in streams if s.get("codec_type") == kind)
        for k in range(n):
            others[f"{spec}:{k}"] = len(_packets(ffprobe, path, f"{spec}:{k}"))
    file_start = Fraction(info.get("format", {}).get("start_time") or 0)
    return Probe(path=path, width=int(v["width"]), height=int(v["height"]), codec=v.get("codec_name", "?"),
                 fps=fps, time_base=time_base, keyframes=keyframes, frames=len(packets),
                 video_duration=duration, video_start=start, file_start=file_start, other_streams=others)


def video_summary(ffprobe: str, path: str) -> tuple[int, int, int, Fraction]:
    """(width, height, frames, duration seconds) of the first video stream."""
    text = run([ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                "stream=width,height,time_base,avg_frame_rate,r_frame_rate", "-of", "json", path],
               f"ffprobe of {path}")
    streams = json.loads(text).get("streams", [])
    if not streams:
        raise MediaError(f"{path}: no video stream")
    s = streams[0]
    rate = s.get("avg_frame_rate") if s.get("avg_frame_rate") not in (None, "0/0") else s.get("r_frame_rate")
    packets = _packets(ffprobe, path, "v:0")
    _, duration = _span(packets, _fraction(s.get("time_base"), "time base"), _fraction(rate, "frame rate"))
    return int(s["width"]), int(s["height"]), len(packets), duration


def packet_count(ffprobe: str, path: str, stream: str) -> int:
    return len(_packets(ffprobe, path, stream))


def split(ffmpeg: str, src: str, cut_packets: list[int], pattern: str) -> None:
    """Copies SRC's first video stream into segment files PATTERN % k, cut
    before the packets whose indices are CUT_PACKETS (keyframes), no re-encoding;
    each segment's timestamps start at 0."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", src, "-map", "0:v:0",
           "-c", "copy", "-f", "segment", "-segment_format", "matroska", "-reset_timestamps", "1"]
    if cut_packets:
        cmd += ["-segment_frames", ",".join(str(c) for c in cut_packets)]
    else:
        cmd += ["-segment_time", "1e9"]  # one segment
    run(cmd + [pattern], f"splitting {src}")


def espcn_filter(scale: int, model_file: str | None, backend: str, precision: str, threads: int) -> str:
    opts = [f"scale={scale}", f"backend={backend}", f"precision={precision}", f"threads={threads}"]
    if model_file:
        opts.append("model=" + model_file.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'"))
    return "espcn=" + ":".join(opts)


def upscale_command(ffmpeg: str, src: str, dst: str, vf: str, encoder_args: list[str]) -> list[str]:
    """One segment through the filter: every frame kept as it is (passthrough),
    progress as key=value lines on stdout."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
            "-i", src, "-map", "0:v:0", "-vf", vf, "-fps_mode", "passthrough", *encoder_args,
            "-f", "matroska", dst]


def concat_list(entries: list[tuple[str, Fraction]]) -> str:
    """The concat demuxer's script: each file with its exact duration, so the
    next segment starts where this one ends (no gap, no overlap)."""
    lines = ["ffconcat version 1.0"]
    for path, duration in entries:
        quoted = path.replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {float(duration):.9f}"]
    return "\n".join(lines) + "\n"


def join(ffmpeg: str, list_file: str, src: str, dst: str, video_offset: Fraction, other_streams: list[str],
         container_args: list[str]) -> None:
    """The upscaled segments (stream copy) + SRC's audio and subtitles (stream
    copy, once, whole), metadata from SRC. VIDEO_OFFSET keeps the source's
    audio/video alignment (the concatenation starts at 0)."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    if video_offset:
        cmd += ["-itsoffset", f"{float(video_offset):.9f}"]
    # auto_convert 0: the segments are Matroska (length-prefixed H.264/HEVC),
    # which every output container takes as it is; no Annex B conversion
    # (and no need for the bitstream filters a lean FFmpeg leaves out).
    cmd += ["-f", "concat", "-safe", "0", "-auto_convert", "0", "-i", list_file, "-i", src, "-map", "0:v:0"]
    for spec in other_streams:
        cmd += ["-map", f"1:{spec}"]
    cmd += ["-c", "copy", "-map_metadata", "1", *container_args, dst]
    run(cmd, f"joining the segments into {dst}")


def run_with_progress(cmd: list[str], what: str, on_frames) -> None:
    """run() for an ffmpeg started with `-progress pipe:1`: calls ON_FRAMES(n)
    with the frames done so far, at most every half second and at the end."""
    import time
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_die_with_parent)
    last = 0.0
    frames = 0
    assert p.stdout is not None and p.stderr is not None
    for line in p.stdout:
        if line.startswith("frame="):
            try:
                frames = int(line[6:])
            except ValueError:
                continue
            now = time.monotonic()
            if now - last >= 0.5:
                on_frames(frames)
                last = now
    err = p.stderr.read()
    rc = p.wait()
    if rc != 0:
        tail = "\n".join(err.strip().splitlines()[-8:])
        error = MediaKilled if rc < 0 else MediaError
        raise error(f"{what} failed (exit {rc}): {' '.join(cmd)}\n{tail}")
    on_frames(frames)
