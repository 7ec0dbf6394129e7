"""Files that come in through the browser: kept under the data folder by a name of our making, never
the sender's; checked for size and, for .xlsx, for what they unpack to, before anything reads them."""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import zipfile
from pathlib import Path

from ..errors import DataError, Problem

__all__ = ["safe_name", "check_workbook", "save_upload", "ALLOWED", "UploadRefused"]

ALLOWED = (".csv", ".xlsx")
MAX_ENTRIES = 2000             # an .xlsx of one sheet has a few dozen parts
MAX_RATIO = 200                # XML compresses well, but not this well unless it is a bomb
UPLOAD_FIELD = "上传文件"


class UploadRefused(DataError):
    kind = "上传文件"


def safe_name(name: str, limit: int = 120) -> str:
    """The sender's file name, for showing only: the last part after any / or \\, control and
    format characters removed, at most `limit` characters; never empty."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    return name[:limit] or "未命名"


def check_workbook(path: Path, shown: str, max_unpacked: int) -> None:
    """An .xlsx must be a zip whose parts unpack to at most `max_unpacked` bytes in all, with at most
    MAX_ENTRIES parts and no part compressed beyond MAX_RATIO (a zip bomb).  zipfile never unpacks
    more than a part's stated size, so checking the stated sizes bounds the real work."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError):
        raise UploadRefused([Problem(shown, None, UPLOAD_FIELD, shown, "Excel 工作簿（.xlsx）",
                                     "文件已损坏或不是 .xlsx；请在 Excel/WPS 中另存为 .xlsx 或 CSV")]) from None
    total = sum(i.file_size for i in infos)
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos), default=0)
    if len(infos) > MAX_ENTRIES or total > max_unpacked or worst > MAX_RATIO:
        raise UploadRefused([Problem(shown, None, UPLOAD_FIELD, f"解压后 {total // (1024 * 1024)} MB，{len(infos)} 个部件",
                                     f"解压后不超过 {max_unpacked // (1024 * 1024)} MB 的工作簿",
                                     "文件异常（可能是压缩炸弹）或过大；请只保留需要的工作表和行后重新保存")])


def save_upload(data: Path, kind: str, original: str, content: bytes, max_unpacked: int) -> tuple[str, str]:
    """Keep an upload at uploads/<random>/<kind><ext> under the data folder; returns (relative path, sha256).
    The extension must be .csv or .xlsx; an .xlsx is checked before it is kept."""
    shown = safe_name(original)
    ext = Path(shown).suffix.lower()
    if ext not in ALLOWED:
        raise UploadRefused([Problem(shown, None, UPLOAD_FIELD, ext or shown, "扩展名为 .csv 或 .xlsx 的表格",
                                     ".xls 请在 Excel/WPS 中另存为 .xlsx")])
    if not content:
        raise UploadRefused([Problem(shown, None, UPLOAD_FIELD, "空文件", "有表头和数据行的表格")])
    rel = Path("uploads") / secrets.token_hex(8) / f"{kind}{ext}"
    target = data / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(content)
    if ext == ".xlsx":
        try:
            check_workbook(tmp, shown, max_unpacked)
        except UploadRefused:
            tmp.unlink()
            raise
    tmp.replace(target)
    return rel.as_posix(), hashlib.sha256(content).hexdigest()
