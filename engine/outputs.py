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
from typing import Callable, Iterator

from .errors import InputError, Problem

STAGING_PREFIX = ".wangge-staging-"


@contextmanager
def staged_outputs(out_dir: str | Path, stale: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield a staging folder; on normal exit move its files into `out_dir`.

    `stale(path)` names earlier outputs that this run replaces as a set (e.g. last run's 通报批评
    when this month has none): those not written again are removed after the new files are in."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob(STAGING_PREFIX + "*"):
            shutil.rmtree(old, ignore_errors=True)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    except OSError as exc:   # a file of that name, a file on the way, no permission, a full disk
        raise InputError([Problem(str(out), None, "--out", str(out), "可以写入的输出文件夹",
                                  _os_reason(out, exc))]) from None
    written: set[Path] = set()
    try:
        yield stage
        for src in sorted(stage.rglob("*")):
            if src.is_dir():
                continue
            dest = out / src.relative_to(stage)
            dest.parent.mkdir(parents=True, exist_ok=True)
            fsync_file(src)
            os.replace(src, dest)
            written.add(dest)
        if stale is not None:
            for old in sorted(out.rglob("*")):
                if old.is_file() and old not in written and STAGING_PREFIX not in str(old) and stale(old):
                    old.unlink()
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _os_reason(out: Path, exc: OSError) -> str:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        blocker = next((p for p in [out, *out.parents] if p.exists()), out)
        if blocker.is_file():
            return f"{blocker} 是一个文件，不是文件夹"
    if isinstance(exc, PermissionError):
        return "没有写入权限"
    return str(exc.strerror or exc)


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
