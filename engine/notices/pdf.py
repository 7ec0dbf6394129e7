"""HTML -> PDF with WeasyPrint, and the font check that runs before any PDF is made.

The only weasyprint importer.  WeasyPrint silently falls back to another font when a family is
missing, and a fallback without Chinese glyphs prints boxes.  So before rendering, every
`font-family` list in the stylesheets is checked against the fonts fontconfig knows *with
Chinese coverage* (`fc-list :lang=zh-cn`): a list with no such font is an error naming the
stylesheet, its line and the families it asked for; a list whose first choice is missing but a
later one is present is a note (the stand-in is named, e.g. Noto Serif CJK SC for 仿宋_GB2312).

Templates are edited by offices, so the PDF step is bounded like the template step:
- it fetches nothing but `data:` URLs and files inside the template, stylesheet and photo
  folders (an edited template's `<link rel=attachment href=file:///etc/passwd>` attaches nothing
  and is reported);
- a time limit per document (`render_time_limit`), with a message that says which one;
- a number never breaks from the Chinese around it (engine/notices/wording.py);
- a 公文's 版记 lands on an even page: measured after a first layout, and laid out again with a
  page turn before it when it fell on an odd one.
"""
from __future__ import annotations

import functools
import re
import shutil
import signal
import subprocess
import threading
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterable

from ..errors import EngineError, Problem, TemplateError
from .wording import bind_numbers

__all__ = ["check_fonts", "html_to_pdf", "pdf_available", "chinese_fonts", "PdfRefused", "PdfTimeout"]

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


class PdfTimeout(BaseException):
    """The time limit for one PDF ran out (a BaseException, so that no `except Exception` inside
    WeasyPrint swallows it)."""


class PdfRefused(Exception):
    """A document asked for files outside the allowed folders (the URLs, in order)."""

    def __init__(self, urls: list[str]):
        super().__init__(urls)
        self.urls = urls


def _allowed(url: str, roots: list[Path]) -> bool:
    scheme = url.split(":", 1)[0].lower()
    if scheme == "data":
        return True
    if scheme != "file":
        return False
    parsed = urllib.parse.urlsplit(url)
    if parsed.netloc not in ("", "localhost"):
        return False
    try:
        path = Path(urllib.request.url2pathname(parsed.path)).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return False
    return path.is_file() and any(path.is_relative_to(r) for r in roots)


def _fetcher(roots: Iterable[str | Path], refused: list[str]):
    """A URL fetcher that serves data: URLs and the files inside `roots` (after following links),
    and refuses everything else, recording what it refused."""
    wp = _weasyprint()
    allowed = [Path(r).resolve() for r in roots]
    if hasattr(wp, "URLFetcher"):          # WeasyPrint 66 and later
        class Fetcher(wp.URLFetcher):
            def fetch(self, url, headers=None):
                if not _allowed(url, allowed):
                    refused.append(url)
                    raise ValueError(f"refused: {url}")
                return super().fetch(url, headers)
        return Fetcher(allowed_protocols=("data", "file"), allow_redirects=False)

    def fetch(url, *args, **kwargs):   # older WeasyPrint: a function
        if not _allowed(url, allowed):
            refused.append(url)
            raise ValueError(f"refused: {url}")
        return wp.default_url_fetcher(url, *args, **kwargs)
    return fetch


def _deadline(seconds: float | None):
    """SIGALRM after `seconds` in the main thread (PDF processes run their task there), then again
    every quarter second: an exception raised while C code calls back into Python (cffi callbacks
    of the font and text libraries) is printed and dropped there, so one alarm is not enough.
    `expired` says the time ran out, for the checks before anything is written."""
    class _Timer:
        expired = False

        def __enter__(self):
            self.on = bool(seconds) and threading.current_thread() is threading.main_thread() \
                and hasattr(signal, "setitimer")
            if self.on:
                def alarm(signum, frame):
                    self.expired = True
                    raise PdfTimeout()
                self.old = signal.signal(signal.SIGALRM, alarm)
                signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)
            return self

        def check(self):
            if self.expired:
                raise PdfTimeout()

        def __exit__(self, *exc):
            if self.on:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, self.old)
            return False
    return _Timer()


# An element `<div class="page …" id="fit-N" data-fit="dense denser">` is one sheet of paper (a result
# slip the worker signs): when it runs onto a second page it is laid out again with the next of its
# data-fit classes added (the template's CSS sets them denser), at most once per class.
_FIT_RX = re.compile(r'<div class="([^"]*)" id="(fit-\d+)" data-fit="([^"]*)">')


def _overflowing(doc) -> set[str]:
    """The fit-N elements laid out over more than one page (WeasyPrint lists an element's id among the
    anchors of every page it is on)."""
    seen: dict[str, int] = {}
    for page in doc.pages:
        for name in page.anchors:
            if name.startswith("fit-"):
                seen[name] = seen.get(name, 0) + 1
    return {name for name, n in seen.items() if n > 1}


def _denser(html: str, ids: set[str]) -> str:
    def bump(m: re.Match) -> str:
        classes, ident, levels = m.group(1), m.group(2), m.group(3).split()
        if ident not in ids:
            return m.group(0)
        have = classes.split()
        at = max((i for i, c in enumerate(levels) if c in have), default=-1)
        if at + 1 >= len(levels):
            return m.group(0)          # already the densest: it stays two pages
        # the next level replaces the one before it (dense → denser)
        kept = [c for c in have if c not in levels]
        return f'<div class="{" ".join(kept + [levels[at + 1]])}" id="{ident}" data-fit="{m.group(3)}">'
    return _FIT_RX.sub(bump, html)


def html_to_pdf(html: str, path: Path, *, base_url: str | None = None, roots: Iterable[str | Path] = (),
                time_limit: float | None = None, even_banji: bool = False) -> int:
    """Write the PDF of one HTML document; returns its page count.  Raises PdfRefused when the
    document asked for a file outside `roots` (nothing is written), PdfTimeout after `time_limit`
    seconds.  With `even_banji` the element id="banji" (a 公文's 版记) ends on an even page."""
    wp = _weasyprint()
    refused: list[str] = []
    fetcher = _fetcher(list(roots) + ([base_url] if base_url else []), refused)
    html = bind_numbers(html)
    with _deadline(time_limit) as deadline:
        doc = wp.HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()
        if even_banji:
            where = {name: i for i, page in enumerate(doc.pages) for name in page.anchors}
            # page indexes from 0: index 0 is page 1.  Laid out again when the 版记 fell on an odd
            # page, or alone on a page after the text (WeasyPrint then leaves that page unnumbered,
            # as a blank one): the turn puts it on the next even page, after an empty page when
            # the text ends on an even page (the empty page and the 版记 page then have no number).
            at, end = where.get("banji"), where.get("text-end")
            if at is not None and (at % 2 == 0 or (end is not None and end < at)) and 'class="banji-turn"' in html:
                turn = "banji-turn turn" + (" blank" if end is not None and end % 2 == 1 else "")
                doc = wp.HTML(string=html.replace('class="banji-turn"', f'class="{turn}"', 1), base_url=base_url,
                              url_fetcher=fetcher).render()
        for _ in range(3):                  # pages that must stay one sheet of paper, set denser if not
            over = _overflowing(doc)
            if not over:
                break
            denser = _denser(html, over)
            if denser == html:
                break
            html = denser
            doc = wp.HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()
            deadline.check()
        deadline.check()
        try:
            doc.write_pdf(str(path))        # attachments (<link rel=attachment>) are fetched here
            deadline.check()
        except PdfTimeout:
            Path(path).unlink(missing_ok=True)      # no half-written PDF left behind
            raise
    if refused:
        Path(path).unlink(missing_ok=True)
        raise PdfRefused(list(dict.fromkeys(refused)))
    return len(doc.pages)
