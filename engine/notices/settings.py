"""Office settings (发文设置): who issues the notices, their numbers, addressees and privacy.

One YAML file per office (format: docs/notices.md), validated with pydantic models that forbid
unknown keys, so that a misspelt key is an error rather than a silent default.  Every problem is
reported at once with file, line, dotted field, the value found and what was expected.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import TemplateError
from ..policy import _clean_loc, _schema_problem
from ..sources import LocDict, dotted, line_of, load_yaml

__all__ = ["OfficeSettings", "Privacy", "load_settings", "DEFAULT_SETTINGS", "DOCUMENTS", "PUBLIC_DOCUMENTS"]

DEFAULT_SETTINGS = Path(__file__).resolve().parents[2] / "reports" / "office.yaml"

# Every printable document, its key for --only, and whether it is posted publicly.
DOCUMENTS = {
    "bulletin": "月度考核通报",
    "criticism": "通报批评",
    "commendation": "通报表彰",
    "slips": "考核结果通知单",
    "paysheet": "绩效工资发放表（签字版）",
    "roster": "巡查排班表",
    "boards": "网格公示牌",
    "cards": "服务联系卡",
}
PUBLIC_DOCUMENTS = ("bulletin", "criticism", "commendation", "boards")

Mode = Literal["full", "mask", "hide"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldPrivacy(_Strict):
    phone: Mode = "hide"
    id_number: Mode = "hide"


def _privacy_default(doc: str) -> FieldPrivacy:
    # Only what each document's purpose needs: a grid board and a contact card exist to give
    # residents the number to call, in full; a slip is handed to the worker (internal) and may carry
    # the id number masked; nothing else shows either (notices about sanctions included).
    return {
        "boards": FieldPrivacy(phone="full", id_number="hide"),
        "cards": FieldPrivacy(phone="full", id_number="hide"),
        "slips": FieldPrivacy(phone="hide", id_number="mask"),
    }.get(doc, FieldPrivacy())


class Privacy(_Strict):
    bulletin: FieldPrivacy = Field(default_factory=lambda: _privacy_default("bulletin"))
    criticism: FieldPrivacy = Field(default_factory=lambda: _privacy_default("criticism"))
    commendation: FieldPrivacy = Field(default_factory=lambda: _privacy_default("commendation"))
    slips: FieldPrivacy = Field(default_factory=lambda: _privacy_default("slips"))
    paysheet: FieldPrivacy = Field(default_factory=lambda: _privacy_default("paysheet"))
    roster: FieldPrivacy = Field(default_factory=lambda: _privacy_default("roster"))
    boards: FieldPrivacy = Field(default_factory=lambda: _privacy_default("boards"))
    cards: FieldPrivacy = Field(default_factory=lambda: _privacy_default("cards"))

    def __getitem__(self, doc: str) -> FieldPrivacy:
        return getattr(self, doc)


class DocumentNumber(_Strict):
    prefix: str = Field(min_length=1)       # 鹤网格 -> 鹤网格〔2026〕3号
    start: int = Field(default=1, ge=1)     # the first number of a year that history has no number for

    @field_validator("prefix")
    @classmethod
    def _no_brackets(cls, v: str) -> str:
        if re.search(r"[〔〕\[\]（）()号]", v):
            raise ValueError("文号前缀（机关代字），不含〔〕、括号和“号”，如 鹤网格")
        return v


class Contact(_Strict):
    name: str
    phone: str


Ties = Literal["all", "none"]    # a public list cut inside a tie: name all of them, or none of them


class BulletinSettings(_Strict):
    group_by: Literal["town", "community"] = "town"   # one ranking table per town or per community
    best: int = Field(default=5, ge=0)                # 表现突出 listed by name
    worst: int = Field(default=5, ge=0)               # 需要改进 listed with their deductions
    ties: Ties = "all"                                # a tie across the cut of best/worst: all of it, or none
    ranking: Literal["attachment", "body"] = "attachment"   # the full ranking as 附件 or in the body
    closing: str = "请各社区（村）对照考核细则查找不足、限期整改，进一步提升网格服务管理水平。"


class CriticismSettings(_Strict):
    last_place: bool = True          # the month's last place in each ranking group (ties: all of them)
    vetoes: bool = True              # every veto of the month
    period_rules: bool = True        # period findings marked criticise (连续末位, 多次后3% ...)
    closing: str = "希望被通报批评的网格员深刻反思、认真整改；全体网格员要引以为戒，切实履行网格职责。"


class CommendationSettings(_Strict):
    top: int = Field(default=1, ge=0)   # the month's first N of each ranking group
    ties: Ties = "all"                  # a tie across the cut: all of it (the list may be longer), or none
    min_score: Optional[str] = None     # and only from this score up, e.g. "95"
    period_rules: bool = True           # period findings marked commend (优秀网格员, 全年未受批评 ...)
    closing: str = "希望受到表彰的网格员珍惜荣誉、再接再厉；全体网格员要以先进为榜样，扎实做好网格服务管理工作。"

    @field_validator("min_score")
    @classmethod
    def _number(cls, v):
        if v is not None:
            try:
                float(str(v))
            except ValueError:
                raise ValueError("分数，如 \"95\"")
            return str(v)
        return v


class SlipSettings(_Strict):
    appeal_days: int = Field(default=3, ge=0)   # 0: no appeal sentence on the slip
    appeal_to: str = ""                         # default: the issuer


class BoardSettings(_Strict):
    duties: dict[str, str] = Field(default_factory=lambda: {
        "default": "负责网格内信息采集、矛盾纠纷排查化解、安全隐患巡查上报、政策宣传和便民服务。"})
    hotline: str = ""                            # e.g. 12345 or the centre's duty phone
    photos: Optional[str] = None                 # a folder of <工号>.jpg/.jpeg/.png (relative to this file)


class OrderSettings(_Strict):
    """The office's order of towns and communities (others follow in the register's order)."""
    towns: list[str] = Field(default_factory=list)
    communities: list[str] = Field(default_factory=list)


class PaysheetSettings(_Strict):
    rows_per_page: int = Field(default=14, ge=5, le=40)   # worker rows on a printed page (8-10 mm each)
    prepared_by: str = ""                                 # 制表人, printed on the signature line if given
    checked_by: str = ""                                  # 审核人


class OfficeSettings(_Strict):
    issuer: str = Field(min_length=1)              # 发文机关全称 (also the 落款 unless signature is given)
    header: str = ""                               # 红头 (发文机关标志); default issuer + "文件"
    document_number: DocumentNumber
    addressees: str = "各社区（村）网格工作站，全体网格员"
    signature: str = ""                            # 落款; default issuer
    date: Optional[str] = None                     # 成文日期 YYYY-MM-DD; default the day a number is first issued
    cc: list[str] = Field(default_factory=list)    # 抄送
    printed_by: str = ""                           # 印发机关; default issuer
    contact: Optional[Contact] = None              # （联系人：…，电话：…） at the end of a notice
    unit: str = ""                                 # 填报单位 on pay sheets; default issuer
    templates: Optional[str] = None                # a folder of the office's own template copies
    render_time_limit: float = Field(default=60, gt=0, le=3600)   # seconds per document (template and PDF)
    show_policy_version: bool = False              # 细则版本号 in the papers' text
    order: OrderSettings = Field(default_factory=OrderSettings)
    paysheet: PaysheetSettings = Field(default_factory=PaysheetSettings)
    privacy: Privacy = Field(default_factory=Privacy)
    bulletin: BulletinSettings = Field(default_factory=BulletinSettings)
    criticism: CriticismSettings = Field(default_factory=CriticismSettings)
    commendation: CommendationSettings = Field(default_factory=CommendationSettings)
    slips: SlipSettings = Field(default_factory=SlipSettings)
    boards: BoardSettings = Field(default_factory=BoardSettings)

    # Filled by load_settings: where the file is, so relative `templates:` resolve beside it.
    file: str = Field(default="", exclude=True)

    @field_validator("date")
    @classmethod
    def _date(cls, v):
        if v is None:
            return v
        try:
            dt.date.fromisoformat(str(v))
        except ValueError:
            raise ValueError("日期 YYYY-MM-DD，如 2026-11-05")
        return str(v)

    @property
    def header_text(self) -> str:
        return self.header or f"{self.issuer}文件"

    @property
    def signature_text(self) -> str:
        """One name for the issuing office: the 落款 is the name in the red header unless the
        settings give both on purpose (GB/T 9704: 发文机关署名 is the office named in the header)."""
        if self.signature:
            return self.signature
        return self.header.removesuffix("文件") if self.header else self.issuer

    @property
    def printed_by_text(self) -> str:
        return self.printed_by or self.signature_text

    @property
    def unit_text(self) -> str:
        return self.unit or self.issuer

    def template_dir(self) -> Path | None:
        return self._folder(self.templates)

    def photo_dir(self) -> Path | None:
        return self._folder(self.boards.photos)

    def _folder(self, value: str | None) -> Path | None:
        if not value:
            return None
        p = Path(value)
        return p if p.is_absolute() else Path(self.file).parent / p


def _n(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


_BOUNDS = {   # pydantic's number and length limits, said in Chinese
    "greater_than": lambda c: f"大于 {_n(c.get('gt'))} 的数",
    "greater_than_equal": lambda c: f"不小于 {_n(c.get('ge'))} 的数",
    "less_than": lambda c: f"小于 {_n(c.get('lt'))} 的数",
    "less_than_equal": lambda c: f"不大于 {_n(c.get('le'))} 的数",
    "string_too_short": lambda c: "非空的文字",
    "float_parsing": lambda c: "数字",
    "float_type": lambda c: "数字",
}


EXPECTED_ROOT = ("“键: 值”的发文设置，至少写明 issuer（发文机关全称）和 document_number（文号前缀 prefix），"
                 "如 reports/office.yaml；格式见 docs/notices.md")


def load_settings(path: str | Path) -> OfficeSettings:
    """Read and validate an office settings file; every problem at once, as TemplateError."""
    name = str(path)
    raw = load_yaml(path, TemplateError)
    if raw is None:      # an empty file (or only comments)
        raise TemplateError([_problem(name, 1, "（根）", "（空文件）", EXPECTED_ROOT)])
    if not isinstance(raw, dict):
        found = "列表" if isinstance(raw, list) else str(raw)[:40]
        raise TemplateError([_problem(name, 1, "（根）", found, EXPECTED_ROOT)])
    if "file" in raw:
        raise TemplateError([_problem(name, line_of(raw, ["file"]), "file", "file", "已知的字段（此字段名不认识，可能拼写有误）")])
    try:
        settings = OfficeSettings.model_validate({**raw, "file": name})
    except ValidationError as exc:
        problems = []
        seen = set()
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            p = _schema_problem(raw if isinstance(raw, LocDict) else LocDict(raw), loc, err, OfficeSettings)
            found = loc[-1] if err["type"] == "extra_forbidden" else p.found   # the unknown key itself
            p = p.__class__(name, p.line, dotted(loc), found, _BOUNDS.get(err["type"], lambda c: p.expected)(
                err.get("ctx") or {}), p.hint)
            if (p.line, p.field) not in seen:
                seen.add((p.line, p.field))
                problems.append(p)
        raise TemplateError(sorted(problems, key=lambda p: (p.line or 0, p.field))) from None
    problems = []
    for key, folder, found in ((["templates"], settings.template_dir(), settings.templates),
                               (["boards", "photos"], settings.photo_dir(), settings.boards.photos)):
        if folder is not None and not folder.is_dir():
            problems.append(_problem(name, line_of(raw, key), dotted(key), found, "存在的文件夹（相对于本设置文件）"))
    if problems:
        raise TemplateError(problems)
    return settings


def _problem(file, line, field_, found, expected):
    from ..errors import Problem
    return Problem(file, line, field_, found, expected)
