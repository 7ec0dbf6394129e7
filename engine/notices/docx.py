"""Notices as .docx, for staff who edit them in Word or WPS: docxtpl, the only docxtpl importer.

The templates (reports/docx/*.docx) are Word files with Jinja tags, made by
scripts/make_docx_templates.py; an office may copy and edit them like the HTML ones.  They are
rendered with the same sandbox, undefined-variable errors and time limit as the HTML templates,
with XML escaping on (docxtpl's default of no escaping mangles a name containing & or <).  The
zip entries get a fixed timestamp so that the same month gives the same bytes.  A number is bound
to the Chinese next to it with WORD JOINERs, which Word and WPS honour (engine/notices/wording.py).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Mapping

from ..errors import Problem, TemplateError
from .render import TemplateSet
from .wording import bind_numbers

__all__ = ["render_docx"]

FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def render_docx(tset: TemplateSet, name: str, context: Mapping) -> bytes:
    path = tset.path_of(name)
    if not Path(path).is_file():
        raise TemplateError([Problem(", ".join(str(d) for d in tset.dirs), None, "模板", name, "存在的 .docx 模板文件")])

    def render() -> bytes:
        from docxtpl import DocxTemplate

        tpl = DocxTemplate(path)
        tpl.render(dict(context), jinja_env=tset.docx_env(), autoescape=True)
        buf = io.BytesIO()
        tpl.save(buf)
        return buf.getvalue()

    return _normalise(tset.run_bounded(path, render))


def _normalise(data: bytes) -> bytes:
    """The same zip with every entry dated FIXED_TIME, in the same order, and the numbers of the
    document's text bound to the Chinese around them (no line break inside 扣6分)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            body = src.read(info.filename)
            if info.filename == "word/document.xml":
                body = bind_numbers(body.decode("utf-8")).encode("utf-8")
            dst.writestr(fixed, body)
    return out.getvalue()
