"""HTML -> PDF with WeasyPrint, and the font check that runs before any PDF is made.

The only weasyprint importer.  WeasyPrint silently falls back to another font when a family is
missing, and a fallback without Chinese glyphs prints boxes.  So before rendering, every
`font-family` list in the stylesheets is checked against the fonts fontconfig knows *with
Chinese coverage* (`fc-list :lang=zh-cn`): a list with no such font is an error naming the
stylesheet, its line and the families it asked for; a list whose first choice is missing but a
later one is present is a note (the stand-in is named, e.g. Noto Serif CJK SC for 仿宋_GB2312).
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

from ..errors import EngineError, Problem, TemplateError

__all__ = ["check_fonts", "html_to_pdf", "pdf_available", "chinese_fonts"]

GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "inherit", "initial"}
INSTALL_HINT = "运行 bash scripts/install-system.sh（或 apt-get install fonts-noto-cjk fonts-arphic-ukai fontconfig）"


@functools.lru_cache(maxsize=1)
def chinese_fonts() -> frozenset[str]:
    """Family names (every alias fontconfig lists) of the installed fonts that cover Chinese."""
    if shutil.which("fc-list") is None:
        raise EngineError(f"无法检查字体：找不到 fc-list（fontconfig）。请{INSTALL_HINT}")
    out = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=False).stdout
    names = set()
    for line in out.splitlines():
        for fam in line.split(","):
            fam = fam.strip().replace("\\-", "-")
            if fam:
                names.add(fam.lower())
    return frozenset(names)


_DECL = re.compile(r"font-family\s*:\s*([^;}]+)", re.I)


def check_fonts(stylesheets: list[tuple[str, str]], installed: frozenset[str] | None = None) -> list[str]:
    """Check every font-family list in (path, css text); returns notes, raises TemplateError if unprintable."""
    have = chinese_fonts() if installed is None else installed
    problems, swaps = [], {}
    for path, css in stylesheets:
        for m in _DECL.finditer(css):
            line = css.count("\n", 0, m.start()) + 1
            fams = [f.strip().strip("'\"") for f in m[1].split(",")]
            fams = [f for f in fams if f and f.lower() not in GENERIC]
            if not fams:
                continue
            present = [f for f in fams if f.lower() in have]
            if not present:
                problems.append(Problem(path, line, "font-family", "、".join(fams),
                                        "至少一种已安装且含中文字形的字体", INSTALL_HINT))
            elif present[0] != fams[0]:
                swaps.setdefault(fams[0], present[0])
    if problems:
        raise TemplateError(problems)
    if not swaps:
        return []
    return ["未安装的字体以免费字体代替：" + "、".join(f"{a}→{b}" for a, b in swaps.items())]


@functools.lru_cache(maxsize=1)
def _weasyprint():
    try:
        import weasyprint  # noqa: WPS433 - imported on first use: ~1 s, and only PDF needs it
    except (ImportError, OSError) as exc:
        raise EngineError(f"无法生成 PDF：WeasyPrint 不可用（{exc}）。请{INSTALL_HINT}，再 pip install weasyprint") from None
    return weasyprint


def pdf_available() -> bool:
    try:
        _weasyprint()
        return True
    except EngineError:
        return False


def html_to_pdf(html: str, path: Path, *, base_url: str | None = None) -> int:
    """Write the PDF of one HTML document; returns its page count."""
    wp = _weasyprint()
    doc = wp.HTML(string=html, base_url=base_url).render()
    doc.write_pdf(str(path))
    return len(doc.pages)
