"""Atomic writing of output files: all of a run's files appear together, or none do.

A run writes every output into a staging folder inside the destination and only then
moves each file into place with os.replace (atomic per file on one filesystem).  If the
run fails or is killed before that last step, the destination keeps its previous files;
the leftover staging folder is removed by the next run.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

STAGING_PREFIX = ".wangge-staging-"


@contextmanager
def staged_outputs(out_dir: str | Path) -> Iterator[Path]:
    """Yield a staging folder; on normal exit move its files into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(STAGING_PREFIX + "*"):
        shutil.rmtree(old, ignore_errors=True)
    stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    try:
        yield stage
        for src in sorted(stage.rglob("*")):
            if src.is_dir():
                continue
            dest = out / src.relative_to(stage)
            dest.parent.mkdir(parents=True, exist_ok=True)
            fsync_file(src)
            os.replace(src, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write one file atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
