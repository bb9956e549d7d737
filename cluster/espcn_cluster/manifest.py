"""What is done and verified, per input, so that a re-run skips it.

One JSON file per input and job (OUTDIR/.espcn-ray/<stem>-<key>.json), beside
the folder of that input's segment files (OUTDIR/.espcn-ray/<stem>-<key>/).
The key hashes everything the result depends on (the source's path, size and
modification time, scale, model, backend, precision, encoder arguments,
segment length), so a changed input or option starts afresh instead of
mixing old segments in. A segment counts as done only when its output file
was verified (frame count and size) and still has the recorded sha256; the
folder is removed once the joined output is verified, the JSON stays and
lets a re-run skip the whole input while the output keeps its sha256.
Written atomically (a temporary file renamed over the old one).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

VERSION = 1


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def job_key(source: str, options: dict) -> str:
    st = os.stat(source)
    text = json.dumps({"source": os.path.abspath(source), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                       "options": options}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Manifest:
    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data

    @classmethod
    def open(cls, path: Path, key: str, fresh: dict) -> "Manifest":
        """The manifest at PATH if it belongs to KEY, else FRESH (not yet written)."""
        try:
            data = json.loads(path.read_text())
            if data.get("version") == VERSION and data.get("key") == key:
                return cls(path, data)
        except (OSError, ValueError):
            pass
        return cls(path, {"version": VERSION, "key": key, **fresh})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)

    # -- segments ------------------------------------------------------------------
    def segment(self, index: int) -> dict:
        return self.data["segments"][index]

    def segment_done(self, index: int, folder: Path) -> bool:
        """Recorded as done, and its file is still there with the recorded sha256."""
        s = self.segment(index)
        f = folder / s.get("file", "")
        return s.get("status") == "done" and f.is_file() and sha256_file(f) == s.get("sha256")

    def mark_done(self, index: int, file_name: str, digest: str) -> None:
        s = self.segment(index)
        s.update(status="done", file=file_name, sha256=digest)
        self.save()

    # -- the whole input -----------------------------------------------------------
    def complete(self) -> bool:
        out = self.data.get("output")
        return bool(self.data.get("complete")) and out is not None and os.path.isfile(out) \
            and sha256_file(out) == self.data.get("output_sha256")

    def mark_complete(self, output: str, digest: str) -> None:
        self.data.update(complete=True, output=output, output_sha256=digest)
        self.save()
