"""Atomic writing of output files: all of a run's files appear together, or none do.

A run writes every output into a staging folder inside the destination and only then
moves each file into place with os.replace (atomic per file on one filesystem).  If the
run fails or is killed before that last step, the destination keeps its previous files;
the leftover staging folder is removed by the next run.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .errors import OUT_FOLDER, EngineError, InputError, Problem

STAGING_PREFIX = ".wangge-staging-"


class OutputsIncomplete(EngineError):
    """What a run records was committed, but its files could not all be moved into place."""


@contextmanager
def staged_outputs(out_dir: str | Path, stale: Callable[[Path], bool] | None = None, *,
                   record: Callable[[], None] | None = None) -> Iterator[Path]:
    """Yield a staging folder; on normal exit move its files into `out_dir`.

    `stale(path)` names earlier outputs that this run replaces as a set (e.g. last run's 通报批评
    when this month has none): those not written again are removed after the new files are in.
    `record()` (e.g. a history commit) runs once every file is staged and every destination folder
    is known to be writable, just before the files are moved, so that a folder that cannot take
    the files stops the run before anything is recorded.
    On failure the folders this call created (out_dir and missing parents) are removed again
    when they are empty, so a failed run leaves no trace."""
    out = Path(out_dir)
    created = _missing_folders(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob(STAGING_PREFIX + "*"):
            shutil.rmtree(old, ignore_errors=True)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    except OSError as exc:   # a file of that name, a file on the way, no permission, a full disk
        _remove_empty(created)
        raise InputError([Problem(str(out), None, OUT_FOLDER, str(out), "可以写入的输出文件夹",
                                  _os_reason(out, exc))]) from None
    done = False
    written: set[Path] = set()
    try:
        try:
            yield stage
        except OSError as exc:   # writing into the stage: a full disk, a file too large…
            name = _staged_name(exc, stage, out)
            if name is None:
                raise            # not about the output folder (e.g. a template that cannot be read)
            raise InputError([Problem(str(out), None, OUT_FOLDER, name, "可以写入的输出文件夹",
                                      f"写出文件失败：{_os_reason(out, exc)}；输出文件夹未改动")]) from None
        files = sorted(src for src in stage.rglob("*") if not src.is_dir())
        _check_destinations(files, stage, out)
        if record is not None:
            record()
        try:
            for src in files:
                dest = out / src.relative_to(stage)
                dest.parent.mkdir(parents=True, exist_ok=True)
                fsync_file(src)
                os.replace(src, dest)
                written.add(dest)
            if stale is not None:
                for old in sorted(out.rglob("*")):
                    if old.is_file() and old not in written and STAGING_PREFIX not in str(old) and stale(old):
                        old.unlink()
        except OSError as exc:
            recorded = "结果已存入历史库，但" if record is not None else ""
            raise OutputsIncomplete(f"{recorded}移入输出文件时失败（{exc.filename or out}：{_os_reason(out, exc)}），"
                                    "部分输出文件可能仍是旧的；请用同样的输入重新运行以补齐") from None
        done = True
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if not done:
            _remove_empty(created)


def _check_destinations(files: list[Path], stage: Path, out: Path) -> None:
    """Every folder the staged files go to exists (or is made now) and can be written: a read-only
    print folder is found before anything is recorded, not after."""
    problems, seen = [], set()
    for src in files:
        folder = (out / src.relative_to(stage)).parent
        if folder in seen:
            continue
        seen.add(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not os.access(folder, os.W_OK | os.X_OK):
                raise PermissionError(errno.EACCES, "permission denied", str(folder))
            dest = out / src.relative_to(stage)
            if dest.is_dir():
                raise IsADirectoryError(errno.EISDIR, "is a directory", str(dest))
        except OSError as exc:
            problems.append(Problem(str(folder), None, OUT_FOLDER, str(exc.filename or folder), "可以写入的输出文件夹",
                                    f"{_os_reason(folder, exc)}；输出文件夹和历史库均未改动"))
    if problems:
        raise InputError(problems)


def _staged_name(exc: OSError, stage: Path, out: Path) -> str | None:
    """The output file (as the clerk will see it) an error while staging was about, or None."""
    if exc.filename is None:
        return str(out) if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS) else None
    try:
        return str(out / Path(exc.filename).relative_to(stage))
    except ValueError:
        return None


def folder_problem(path: str | Path, option: str, expected: str = "可以写入的输出文件夹") -> Problem | None:
    """Why `path` could not be used (created if missing, then written) as a folder, without
    creating anything; None when it looks usable.  Lets a command refuse a bad --out or --data
    before it scores, stores or prints anything."""
    p = Path(path)
    existing = next((q for q in [p, *p.parents] if q.exists()), None)
    reason = ""
    if existing is None:
        reason = "路径无效"
    elif not existing.is_dir():
        reason = f"{existing} 是一个文件，不是文件夹"
    elif not os.access(existing, os.W_OK | os.X_OK):
        reason = "没有写入权限" if existing == p else f"没有在 {existing} 中新建文件夹的权限"
    return Problem(str(p), None, option, str(p), expected, reason) if reason else None


def _missing_folders(out: Path) -> list[Path]:
    """out and those of its parents that do not exist yet, deepest first."""
    missing = []
    for q in [out, *out.parents]:
        if q.exists() or q.is_symlink():
            break
        missing.append(q)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for q in folders:
        try:
            q.rmdir()
        except OSError:
            break


def _os_reason(out: Path, exc: OSError) -> str:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        blocker = next((p for p in [out, *out.parents] if p.exists()), out)
        if blocker.is_file():
            return f"{blocker} 是一个文件，不是文件夹"
    if isinstance(exc, PermissionError):
        return "没有写入权限"
    return _ERRNO_ZH.get(exc.errno, str(exc.strerror or exc))


_ERRNO_ZH = {errno.ENOSPC: "磁盘空间不足", errno.EROFS: "只读的文件系统", errno.EDQUOT: "超出磁盘配额",
             errno.EFBIG: "文件过大", errno.ENAMETOOLONG: "文件名过长", errno.EIO: "磁盘读写错误"}


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
