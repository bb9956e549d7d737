"""What runs on the Ray workers: one segment through `ffmpeg -vf espcn`, and
the actor that collects frame progress.

The segment's bytes (and the model file's, when one is given) arrive through
Ray's object store and the result goes back the same way, so the workers need
no shared filesystem: only ffmpeg with the espcn filter at the path the job
names (and the default models beside its libespcn when no model is given).
"""
from __future__ import annotations

import os
import shutil
import tempfile

from . import media

TMP_PREFIX = "espcn-ray-"


def _remove_stale_temp_dirs() -> None:
    """Folders left by a task whose worker was killed (its pid is gone)."""
    root = tempfile.gettempdir()
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if not name.startswith(TMP_PREFIX):
            continue
        try:
            pid = int(name[len(TMP_PREFIX):].split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        except (ValueError, PermissionError):
            continue


def upscale_segment(segment: bytes, model: bytes | None, job: dict, progress, key: str) -> bytes:
    """The encoded, upscaled segment. JOB: ffmpeg, scale, backend, precision,
    threads, encoder_args. Reports frames done to the PROGRESS actor under KEY.
    Raises media.MediaKilled (retried) when ffmpeg dies by a signal,
    media.MediaError (not retried: the same input fails the same way) otherwise."""
    _remove_stale_temp_dirs()
    tmp = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-")
    try:
        src, dst = os.path.join(tmp, "in.mkv"), os.path.join(tmp, "out.mkv")
        with open(src, "wb") as f:
            f.write(segment)
        model_file = None
        if model is not None:
            model_file = os.path.join(tmp, "model.safetensors")
            with open(model_file, "wb") as f:
                f.write(model)
        vf = media.espcn_filter(job["scale"], model_file, job["backend"], job["precision"], job["threads"])
        cmd = media.upscale_command(job["ffmpeg"], src, dst, vf, job["encoder_args"])

        def report(frames: int) -> None:
            if progress is not None:
                progress.report.remote(key, frames)
        media.run_with_progress(cmd, f"segment {key}", report)
        with open(dst, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Progress:
    """Frames done per segment; a retried segment starts again from 0."""

    def __init__(self):
        self.frames: dict[str, int] = {}

    def report(self, key: str, frames: int) -> None:
        self.frames[key] = frames

    def snapshot(self) -> dict[str, int]:
        return dict(self.frames)
