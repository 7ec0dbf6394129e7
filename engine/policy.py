"""Assessment policies (考核细则) in YAML: load, inherit, validate, and pick the version in force.

A policy file describes one office's 100-point sheet: metrics, items with deduction rules,
bonuses, one-vote vetoes, stars, pay bands and worked examples (format: docs/policy.md).
`load_policy(paths)` reads files or folders, resolves `extends:` (a county policy on top of a
base), validates everything in one pass and raises `PolicyError` listing every problem with
file, line, field, the value found and what was expected.  A rule that could never fire
(unknown metric, a tier outside the metric's range, an unreachable pay band) is an error.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Literal, Optional, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError, create_model

from .errors import MONTH_FIELD, POLICY_FIELD, PolicyError, Problem, ProblemList, close_match
from .intervals import Interval, covers, parse_interval
from .kinds import KINDS, RULE_FORMS
from .kinds.base import Checks, check_reachable, metric_domain, template_fields, COMMON_PLACEHOLDERS
from .kinds.event import EventFilter, EventRule, check_filter, check_stages
from .kinds.per_count import PerCount
from .kinds.records import CalendarDef, FromRecords, RecordSeries, check_from_records, check_series
from .kinds.shortfall import Shortfall
from .kinds.tiers import Tier, Tiers
from .periods.model import PeriodsDef, check_with_policy, period_rules
from .policy_values import (ID_RX, MAX_DECIMALS, MAX_MAGNITUDE, MONTH_RX, Num, QuotaBy, Range, Ratio, StrList,
                            Strict, to_decimal)
from .sources import LocDict, LocList, dotted, load_yaml

_to_decimal = to_decimal   # the name engine.notices and older callers import

__all__ = ["Policy", "PolicySet", "PolicyDoc", "MetricDef", "RuleDef", "ItemDef", "VetoDef", "VetoEffect",
           "EventFilter", "QuotaBy", "PerCount", "Shortfall", "Tier", "Tiers", "EventRule", "ExampleDef",
           "load_policy", "load_policy_file", "version_problems", "coerce_metric", "policy_hash",
           "policy_json_schema", "Num", "Range", "Ratio", "StrList", "Strict", "MONTH_RX", "ID_RX",
           "MAX_DECIMALS", "MAX_MAGNITUDE"]


# --------------------------------------------------------------------------- schema


class MetricDef(Strict):
    label: str
    type: Literal["integer", "number", "percent", "bool"]
    unit: str = ""
    min: Optional[Num] = None
    max: Optional[Num] = None
    default: Any = None
    count_events: Optional[EventFilter] = None   # computed: how many of the worker's events match
    from_records: Optional[FromRecords] = None   # computed from a record series (a total, a daily mean…)
    description: str = ""
    # percent metrics only: how the metrics sheet writes them.  Unset: 0-100, and a column whose
    # values all lie in [0, 1] is refused when the rules' thresholds are far above 1 (docs/inputs.md);
    # fraction: 0.97 means 97%; percent: 0-100 as written, never refused as fractions.
    scale: Optional[Literal["percent", "fraction"]] = None

    @property
    def computed(self) -> bool:
        """Counted from the event log or the records sheet, not read from the metrics sheet."""
        return self.count_events is not None or self.from_records is not None


class AttributeDef(Strict):
    label: str
    values: Optional[list[str]] = None
    default: Optional[str] = None


class _RuleBase(Strict):
    id: str
    label: str
    reason: Optional[str] = None              # sentence template, e.g. "{指标}{数值}{单位}，扣{分值}分"
    cap: Optional[Num] = None                 # at most this many points from this rule
    effect: Optional[Literal["earn", "deduct"]] = None   # in an earn item: 得 (default) or 扣

    @property
    def kind(self) -> str:
        for k in RULE_FORMS:
            if getattr(self, k) is not None:
                return k
        return ""

    @property
    def spec(self):
        return getattr(self, self.kind) if self.kind else None


# One optional field per rule form of the catalogue (engine/kinds): exactly one is given.
RuleDef = create_model("RuleDef", __base__=_RuleBase,
                       **{key: (Optional[kind.model], None) for key, kind in KINDS.items()})


class ItemDef(Strict):
    id: str
    label: str
    category: str = ""
    points: Num
    mode: Literal["deduct", "earn"] = "deduct"   # deduct: from its points down (扣完为止); earn: from 0 up
    rules: list[RuleDef] = []
    description: str = ""


class BonusDef(Strict):
    label: str = "加分项目"
    cap: Num
    rules: list[RuleDef] = []


class VetoEffect(Strict):
    fail: bool = True                                   # the month counts as failed (不合格)
    score: Literal["keep", "zero"] = "keep"
    pay: Literal["withhold", "keep"] = "withhold"       # withhold = no performance pay at all
    stars: Literal["keep", "zero"] = "zero"


class VetoDef(Strict):
    id: str
    label: str
    domain: str
    metric: str
    range: Optional[Range] = None              # default: true for bool metrics, ≥1 for counts
    effect: Optional[VetoEffect] = None
    reason: Optional[str] = None               # sentence template (docs/policy.md, Reasons)


class StarDef(Strict):
    stars: int
    range: Range
    label: str = ""


class BandDef(Strict):
    id: str
    label: str
    range: Range
    ratio: Ratio


class PayDef(Strict):
    performance_share: Ratio                     # e.g. 20% of the monthly wage is performance pay
    bands: list[BandDef]
    # plausible monthly wages in the register (yuan): below wage_min is a unit slip (3.4 for 3,400),
    # above wage_max one the other way (wages in fen); an office sets its local minimum wage here
    wage_min: Num = Decimal(100)
    wage_max: Num = Decimal(100_000)


class EventEvent(Strict):
    """An event inside a worked example: in hours (delay_hours, handling_hours, unclosed), or with
    the times the log would hold (discovered, reported, closed, stages), read like the log."""

    id: Optional[str] = None
    category: str = ""
    severity: str = ""
    delay_hours: Optional[Num] = None
    handling_hours: Optional[Num] = None
    unclosed: bool = False
    discovered: Optional[str] = None
    reported: Optional[str] = None
    closed: Optional[str] = None
    stages: dict[str, str] = {}
    problem: str = ""


class ExampleRecord(Strict):
    """A record inside a worked example: one date, or the same record on every date of a range."""

    series: str
    date: Optional[str] = None                 # 2026-10-09
    dates: Optional[str] = None                # 2026-10-08/2026-10-30
    days: Literal["all", "working"] = "all"    # with `dates`: every day, or the working days only
    start: Optional[str] = None                # 08:00
    end: Optional[str] = None                  # 09:10
    amount: Optional[Num] = None


class ExpectDef(Strict):
    score: Optional[Num] = None
    deductions: Optional[Num] = None
    bonus: Optional[Num] = None
    stars: Optional[int] = None
    band: Optional[str] = None
    pay: Optional[Num] = None
    veto: Optional[Union[bool, str]] = None           # true/false, or the veto rule id
    findings: Optional[dict[str, Num]] = None        # rule id -> signed points
    reasons: Optional[dict[str, str]] = None         # rule id -> the reason its (first) finding gives


class ExampleDef(Strict):
    name: str
    month: Optional[str] = None
    worker: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    events: list[EventEvent] = []
    records: list[ExampleRecord] = []
    expect: ExpectDef


class EventVocabulary(Strict):
    categories: Optional[list[str]] = None
    severities: Optional[list[str]] = None
    # a report or closing time later than this many days after the scored month is a typed date
    # (2062 for 2026), refused with its row
    max_days_after_month: int = 60
    stages: Optional[dict[str, str]] = None    # named stages: id -> Chinese name (column <name>时间)


class PolicyDoc(Strict):
    id: str
    name: str
    version: str = ""
    description: str = ""
    abstract: bool = False                     # a base that is only extended, never scored directly
    extends: Optional[str] = None
    remove: list[str] = []
    effective_from: Optional[str] = None
    effective_until: Optional[str] = None
    full_score: Num = Decimal(100)
    attributes: dict[str, AttributeDef] = {}
    events: Optional[EventVocabulary] = None
    records: dict[str, RecordSeries] = {}      # dated record series (the records sheet)
    calendar: Optional[CalendarDef] = None     # the office's holidays and 调休 days, over the national calendar
    metrics: dict[str, MetricDef] = {}
    items: list[ItemDef] = []
    bonus: Optional[BonusDef] = None
    vetoes: list[VetoDef] = []
    veto_effect: VetoEffect = VetoEffect()
    stars: Optional[list[StarDef]] = None
    pay: Optional[PayDef] = None
    periods: Optional[PeriodsDef] = None        # cross-month rules (engine/periods)
    examples: list[ExampleDef] = []


# --------------------------------------------------------------------------- resolved policy


@dataclass
class Policy:
    """A validated, inheritance-resolved policy, ready to compile."""

    doc: PolicyDoc
    files: list[str]
    hash: str
    raw: LocDict
    periods_file: str | None = None

    # convenient views
    @property
    def id(self) -> str:
        return self.doc.id

    @property
    def name(self) -> str:
        return self.doc.name

    @property
    def version(self) -> str:
        return self.doc.version

    @property
    def full_score(self) -> Decimal:
        return self.doc.full_score

    @property
    def max_score(self) -> Decimal:
        return self.doc.full_score + (self.doc.bonus.cap if self.doc.bonus else 0)

    @property
    def periods_raw(self):
        return self.raw.get("periods")

    def veto_effect(self, veto: VetoDef) -> VetoEffect:
        return veto.effect or self.doc.veto_effect

    def applies_to(self, month: str) -> bool:
        lo = self.doc.effective_from or "0000-01"
        hi = self.doc.effective_until or "9999-12"
        return lo <= month <= hi


@dataclass
class PolicySet:
    """All versions of one policy id found in the given files; picks the one in force."""

    versions: list[Policy] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.versions[0].id

    def for_month(self, month: str) -> Policy:
        if not MONTH_RX.match(month or ""):
            raise PolicyError([Problem(self.versions[0].files[0], None, MONTH_FIELD, month, "YYYY-MM 格式，如 2026-10")])
        chosen = [p for p in self.versions if p.applies_to(month)]
        if not chosen:
            spans = "、".join(f"{p.files[0]}（{p.doc.effective_from or '不限'} 至 {p.doc.effective_until or '不限'}）"
                             for p in self.versions)
            raise PolicyError([Problem(self.versions[0].files[0], None, "effective_from/effective_until", month,
                                       f"有一个版本在该月有效；现有版本：{spans}")])
        return chosen[-1]


# --------------------------------------------------------------------------- loading


def load_policy(paths: list[str | Path] | str | Path) -> PolicySet:
    """Load policy files/folders; the scorable (non-abstract) ones must share one id."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    problems = ProblemList()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml"))))
        elif p.exists():
            files.append(p)
        else:
            problems.add(str(p), None, POLICY_FIELD, str(p), "存在的考核细则文件或文件夹")
    problems.raise_if_any(PolicyError)
    seen: set[Path] = set()   # one file named twice (or a folder and a file in it) is one version
    files = [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]
    policies: list[Policy] = []
    all_problems: list[Problem] = []
    for f in files:
        try:
            policies.append(load_policy_file(f))
        except PolicyError as exc:
            all_problems.extend(exc.problems)
    if all_problems:
        raise PolicyError(all_problems)
    scorable = [p for p in policies if not p.doc.abstract]
    if not scorable:
        raise PolicyError([Problem(str(paths[0]), None, "abstract", True, "至少一个可直接使用的考核细则（abstract 不为 true）")])
    ids = sorted({p.id for p in scorable})
    if len(ids) > 1:
        raise PolicyError([Problem(str(paths[0]), None, "id", "、".join(ids),
                                   "同一次只使用一个考核细则（同一 id 的多个版本可以一起给出）",
                                   "请只给出一个细则的文件或文件夹")])
    return _order_versions(scorable)


def version_problems(policies: list[Policy]) -> list[Problem]:
    """Versions of one policy id whose effective months overlap (`wangge validate` of a folder)."""
    by_id: dict[str, list[Policy]] = {}
    for p in policies:
        if not p.doc.abstract:
            by_id.setdefault(p.id, []).append(p)
    out: list[Problem] = []
    for versions in by_id.values():
        out.extend(_overlaps(sorted(versions, key=lambda p: p.doc.effective_from or "0000-01")))
    return out


def _overlaps(versions: list[Policy]) -> list[Problem]:
    problems = ProblemList()
    for a, b in zip(versions, versions[1:]):
        a_end = a.doc.effective_until or "9999-12"
        b_start = b.doc.effective_from or "0000-01"
        if a.doc.effective_until is None and b.doc.effective_from is not None:
            if b_start == (a.doc.effective_from or "0000-01"):   # a would end before it starts: never used
                problems.add(b.files[0], b.raw.lines.get("effective_from"), "effective_from", b.doc.effective_from,
                             f"与 {a.files[0]} 不同的生效月份（两个版本同月生效，无法判断用哪一个）")
            continue  # an open-ended version is superseded by the next one from its start month
        if a_end >= b_start:
            problems.add(b.files[0], b.raw.lines.get("effective_from"), "effective_from", b.doc.effective_from,
                         f"晚于 {a.files[0]} 的截止月份 {a_end}（同一考核细则的版本不能重叠）")
    return problems.problems


def _order_versions(versions: list[Policy]) -> PolicySet:
    versions = sorted(versions, key=lambda p: p.doc.effective_from or "0000-01")
    overlapping = _overlaps(versions)
    if overlapping:
        raise PolicyError(overlapping)
    # an open-ended version ends the month before the next one starts
    for a, b in zip(versions, versions[1:]):
        if a.doc.effective_until is None and b.doc.effective_from:
            y, m = map(int, b.doc.effective_from.split("-"))
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
            a.doc = a.doc.model_copy(update={"effective_until": f"{y:04d}-{m:02d}"})
    return PolicySet(versions)


def load_policy_file(path: str | Path) -> Policy:
    """Load one file, resolving its `extends:` chain, and validate the result."""
    dups: list[Problem] = []          # duplicate keys: reported with everything else, not alone
    try:
        raw, files = _resolve(Path(path), [], dups)
    except PolicyError as exc:
        raise PolicyError(dups + exc.problems) from None
    doc, problems, pruned = _validate_schema(raw)
    problems = dups + problems + _period_id_problems(raw)
    if doc is not None:
        problems.extend(_check_semantics(doc, _without(raw, pruned), pruned, _written_ids(raw)))
    if problems:
        raise PolicyError(bounded(problems))
    return Policy(doc=doc, files=[str(f) for f in files], hash=policy_hash(doc, raw.get("periods")), raw=raw,
                  periods_file=_file_of(raw, ["periods"]))


def _tag(node: Any, file: str) -> None:
    """Record the file each mapping key came from (merged trees mix files)."""
    if isinstance(node, LocDict):
        node.file = file
        node.keyfiles = {k: file for k in node}
        for v in node.values():
            _tag(v, file)
    elif isinstance(node, LocList):
        node.file = file
        node.itemfiles = [file] * len(node)
        for v in node:
            _tag(v, file)


def _resolve(path: Path, chain: list[Path], dups: list[Problem]) -> tuple[LocDict, list[Path]]:
    real = path.resolve()
    raw = load_yaml(path, PolicyError, problems=dups)
    if not isinstance(raw, LocDict):
        raise PolicyError([Problem(str(path), 1, "（根）", {"LocList": "列表", "NoneType": "空文件"}.get(
            type(raw).__name__, type(raw).__name__), "一个 YAML 映射（键: 值），如 id: … name: …")])
    _tag(raw, str(path))
    parent_ref = raw.get("extends")
    if parent_ref is None:
        if raw.get("remove"):
            raise PolicyError([Problem(str(path), raw.lines.get("remove"), "remove", raw.get("remove"),
                                       "只在继承（extends）时使用，删除继承来的项目、规则或否决项",
                                       "本文件没有 extends；不要的项目直接删去即可")])
        return raw, [path]
    if not isinstance(parent_ref, str):
        raise PolicyError([Problem(str(path), raw.lines.get("extends"), "extends", parent_ref, "被继承文件的相对路径")])
    parent_path = (path.parent / parent_ref)
    if not parent_path.exists():
        raise PolicyError([Problem(str(path), raw.lines.get("extends"), "extends", parent_ref,
                                   "存在的考核细则文件（相对于本文件所在文件夹）")])
    if parent_path.resolve() in chain + [real]:
        names = [p.name for p in chain + [real, parent_path.resolve()]]
        raise PolicyError([Problem(str(path), raw.lines.get("extends"), "extends", parent_ref, "不循环的继承关系",
                                   "循环：" + " → ".join(names))])
    base, base_files = _resolve(parent_path, chain + [real], dups)
    return _merge(base, raw, str(path)), [path] + base_files


_BY_ID_LISTS = {"items", "vetoes"}
_INHERITED_NOT = {"abstract", "examples", "extends", "remove", "effective_from", "effective_until"}


def _merge(base: LocDict, child: LocDict, child_file: str) -> LocDict:
    """Child overrides base: mappings merge by key, item/veto/rule lists merge by id, `remove` drops ids."""
    out = LocDict()
    out.line, out.file, out.keyfiles = child.line, child_file, {}
    for k, v in base.items():
        if k in _INHERITED_NOT:
            continue
        out[k] = v
        out.lines[k] = base.lines.get(k)
        out.keyfiles[k] = base.keyfiles.get(k, base.file)
    for k, v in child.items():
        if k in out and k in _BY_ID_LISTS and isinstance(v, LocList) and isinstance(out[k], LocList):
            out[k] = _merge_list(out[k], v)
        elif k in out and k in ("metrics", "attributes") and isinstance(v, LocDict) and isinstance(out[k], LocDict):
            out[k] = _merge_map(out[k], v)
        elif k == "bonus" and isinstance(v, LocDict) and isinstance(out.get(k), LocDict):
            merged = _merge_map(out[k], v)
            if isinstance(v.get("rules"), LocList) and isinstance(out[k].get("rules"), LocList):
                merged["rules"] = _merge_list(out[k]["rules"], v["rules"])
            out[k] = merged
        else:
            out[k] = v
        out.lines[k] = child.lines.get(k)
        out.keyfiles[k] = child_file
    removed = child.get("remove") or []
    if isinstance(removed, list) and removed:
        out = _remove_ids(out, set(str(r) for r in removed))
    return out


def _merge_map(base: LocDict, child: LocDict) -> LocDict:
    out = LocDict()
    out.line, out.file, out.keyfiles = child.line, child.file, {}
    for src in (base, child):
        for k, v in src.items():
            out[k] = v
            out.lines[k] = src.lines.get(k)
            out.keyfiles[k] = src.keyfiles.get(k, src.file)
    return out


def _merge_list(base: LocList, child: LocList) -> LocList:
    out = LocList()
    out.line, out.file, out.itemfiles = child.line, child.file, []
    index: dict[Any, int] = {}
    for i, v in enumerate(base):
        index[v.get("id") if isinstance(v, dict) else object()] = len(out)
        out.append(v)
        out.lines.append(base.lines[i])
        out.itemfiles.append(base.itemfiles[i] if hasattr(base, "itemfiles") else base.file)
    for i, v in enumerate(child):
        key = v.get("id") if isinstance(v, dict) else None
        if key is not None and key in index:
            pos = index[key]
            old = out[pos]
            if isinstance(old, LocDict) and isinstance(v, LocDict) and any(k in v for k in RULE_FORMS):
                old = _without(old, [(k,) for k in RULE_FORMS if k not in v])   # a new form replaces the old one
            merged = _merge_map(old, v) if isinstance(old, LocDict) and isinstance(v, LocDict) else v
            if isinstance(old, LocDict) and isinstance(v, LocDict) and isinstance(v.get("rules"), LocList) \
                    and isinstance(old.get("rules"), LocList):
                merged["rules"] = _merge_list(old["rules"], v["rules"])
            out[pos] = merged
            out.lines[pos] = child.lines[i]
            out.itemfiles[pos] = child.file
        else:
            out.append(v)
            out.lines.append(child.lines[i])
            out.itemfiles.append(child.file)
    return out


def _remove_ids(node: LocDict, ids: set[str]) -> LocDict:
    found: set[str] = set()

    def prune(lst: LocList) -> LocList:
        out = LocList()
        out.line, out.file, out.itemfiles = lst.line, getattr(lst, "file", ""), []
        for i, v in enumerate(lst):
            if isinstance(v, dict) and str(v.get("id")) in ids:
                found.add(str(v.get("id")))
                continue
            if isinstance(v, LocDict) and isinstance(v.get("rules"), LocList):
                v = _merge_map(v, LocDict())
                v["rules"] = prune(v["rules"])
            out.append(v)
            out.lines.append(lst.lines[i])
            out.itemfiles.append(lst.itemfiles[i] if hasattr(lst, "itemfiles") else out.file)
        return out

    for key in ("items", "vetoes"):
        if isinstance(node.get(key), LocList):
            node[key] = prune(node[key])
    if isinstance(node.get("bonus"), LocDict) and isinstance(node["bonus"].get("rules"), LocList):
        b = _merge_map(node["bonus"], LocDict())
        b["rules"] = prune(b["rules"])
        node["bonus"] = b
    missing = ids - found
    if missing:
        raise PolicyError([Problem(node.keyfiles.get("remove", node.file), node.lines.get("remove"), "remove",
                                   m, "被继承的考核细则中存在的项目、规则或否决项 id") for m in sorted(missing)])
    return node


def _locate(raw: Any, path: tuple | list) -> tuple[str, int | None]:
    """File and line of the deepest node along `path`."""
    file = getattr(raw, "file", "?")
    line = getattr(raw, "line", None)
    cur = raw
    for step in path:
        if isinstance(cur, LocDict) and step in cur:
            file = cur.keyfiles.get(step, getattr(cur, "file", file))
            line = cur.lines.get(step, line)
            cur = cur[step]
        elif isinstance(cur, LocList) and isinstance(step, int) and 0 <= step < len(cur):
            files = getattr(cur, "itemfiles", ())
            file = files[step] if step < len(files) else getattr(cur, "file", file)
            line = cur.lines[step]
            cur = cur[step]
        else:
            break
    return file, line


def _node(raw: Any, path: tuple | list) -> Any:
    cur = raw
    for step in path:
        if isinstance(cur, dict) and step in cur:
            cur = cur[step]
        elif isinstance(cur, list) and isinstance(step, int) and 0 <= step < len(cur):
            cur = cur[step]
        else:
            return None
    return cur


def _original_path(raw: Any, path: list) -> list:
    """Translate list indexes of a pruned tree back to the indexes the user wrote."""
    out, cur = [], raw
    for step in path:
        if isinstance(cur, LocList) and isinstance(step, int) and 0 <= step < len(cur):
            out.append(cur.orig[step] if hasattr(cur, "orig") else step)
            cur = cur[step]
        elif isinstance(cur, dict) and step in cur:
            out.append(step)
            cur = cur[step]
        else:
            out.append(step)
            cur = None
    return out


def _file_of(raw: LocDict, path: list) -> str | None:
    return _locate(raw, path)[0] if raw.get(path[0]) is not None else None


_EXPECTED_BY_TYPE = {
    "missing": "必填项",
    "extra_forbidden": "已知的字段（此字段名不认识，可能拼写有误）",
    "string_type": "文字",
    "int_type": "整数",
    "int_parsing": "整数",
    "bool_type": "true 或 false",
    "bool_parsing": "true 或 false",
    "list_type": "列表（以 - 开头的多行）",
    "dict_type": "映射（键: 值）",
    "model_type": "映射（键: 值）",
    "literal_error": "",
    "value_error": "",
}


MAX_LISTED = 100   # problems listed one by one; the rest of a hopeless file is counted, not translated


def _validate_schema(raw: LocDict, model: type[BaseModel] | None = None) -> tuple[Any, list[Problem], set[tuple]]:
    """Validate; on errors, drop the offending parts and validate again so that the semantic
    checks still run on everything else (all problems in one pass).  Returns the doc built
    from what was valid, the schema problems, and the set of pruned paths.  Only the first
    MAX_LISTED errors are translated (a typo hint costs a fuzzy match each); the others are
    counted in a last problem, so that a file of 90,000 unknown keys is refused in seconds."""
    problems: list[Problem] = []
    pruned: set[tuple] = set()
    unlisted = 0
    current = raw
    for _ in range(8):
        try:
            doc = (model or PolicyDoc).model_validate(current)
            break
        except ValidationError as exc:
            cut = set()
            for err in exc.errors():
                loc = _clean_loc(err["loc"])
                if len(problems) < MAX_LISTED:
                    problems.append(_schema_problem(raw, loc, err))
                else:
                    unlisted += 1
                cut.add(_prune_point(loc))
            current = _without(current, cut)
            pruned |= cut
    else:
        doc = None
    problems = _dedupe(problems)
    if unlisted:
        problems.append(unlisted_problem(getattr(raw, "file", "?"), unlisted))
    return doc, problems, pruned


class _PeriodsAlone(Strict):
    periods: PeriodsDef


def validate_periods_alone(raw_periods: Any, file: str) -> tuple[Any, list[Problem]]:
    """A `periods:` section on its own (as engine.periods.parse_period_rules is given it): its
    period rules (None if unusable) and every problem, located as in the policy."""
    root = LocDict(periods=raw_periods)
    root.lines["periods"] = getattr(raw_periods, "line", None) or 0
    root.file = file
    _tag_files(root, file)
    model, problems, pruned = _validate_schema(root, _PeriodsAlone)
    problems += _period_id_problems(root)
    if model is None or ("periods",) in pruned:
        return None, problems
    from .periods.model import PeriodRules, check_alone
    rules = PeriodRules(model.periods.ranking, tuple(model.periods.rules), file)
    kept = _without(root, pruned)

    def add(path: list, found: Any, expected: str, hint: str = "") -> None:
        f, line = _locate(kept, path)
        problems.append(Problem(f, line, dotted(_original_path(kept, path)), found, expected, hint))
    check_alone(rules, None, file, add=add)
    return rules, bounded(problems)


def _period_id_problems(raw: LocDict) -> list[Problem]:
    """Period rule ids written twice, found on the tree as written (rules with other problems too)."""
    from .periods.model import duplicate_ids
    periods = raw.get("periods")
    out = []
    for i, rid, first in duplicate_ids(periods.get("rules") if isinstance(periods, dict) else None):
        f, line = _locate(raw, ["periods", "rules", i, "id"])
        out.append(Problem(f, line, dotted(["periods", "rules", i, "id"]), rid, "不重复的规则 id",
                           f"与第 {first + 1} 条规则重复"))
    return out


def _tag_files(node: Any, file: str) -> None:
    """Name `file` as the file of every node not yet tagged (a tree read by load_yaml alone)."""
    if isinstance(node, LocDict):
        node.file = getattr(node, "file", "?") if getattr(node, "file", "?") != "?" else file
        node.keyfiles = {k: node.keyfiles.get(k, file) for k in node}
        for v in node.values():
            _tag_files(v, file)
    elif isinstance(node, LocList):
        node.file = file if getattr(node, "file", "?") == "?" else node.file
        node.itemfiles = [node.itemfiles[i] if i < len(node.itemfiles) else file for i in range(len(node))]
        for v in node:
            _tag_files(v, file)


def unlisted_problem(file: str, count: int) -> Problem:
    """The last line of a long problem list: how many more there are."""
    return Problem(file, None, "（其余）", f"另有 {count} 处问题未逐一列出",
                   f"先改正以上 {MAX_LISTED} 处问题，再次检查时会列出其余问题")


def bounded(problems: list[Problem]) -> list[Problem]:
    """At most MAX_LISTED problems in file and line order, then one that counts the rest."""
    problems = sorted(problems, key=lambda p: (p.file, p.line or 0))
    rest = [p for p in problems if p.field == "（其余）"]
    listed = [p for p in problems if p.field != "（其余）"]
    extra = sum(int(re.search(r"\d+", p.found).group()) for p in rest)
    if len(listed) > MAX_LISTED:
        extra += len(listed) - MAX_LISTED
        listed = listed[:MAX_LISTED]
    return listed + ([unlisted_problem(listed[0].file if listed else rest[0].file, extra)] if extra else [])


def _step(annotation: Any, key: Any) -> list[Any]:
    """The annotations one step `key` below a value of type `annotation`: a model's field, a
    list's or dict's element (through Optional and unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        f = annotation.model_fields.get(key) if isinstance(key, str) else None
        f = f or next((x for x in annotation.model_fields.values() if x.alias == key), None)
        return [f.annotation] if f is not None else []
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (list, tuple, set) and isinstance(key, int):
        return list(args[:1])
    if origin is dict and len(args) == 2:
        return [args[1]]
    if args and origin is not Literal:          # Union / Optional / Annotated
        return [x for arg in args for x in _step(arg, key)]
    return []


def _known_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names (and aliases) allowed beside the last step of `loc` in `model`."""
    annotations: list[Any] = [model]
    for step in loc[:-1]:
        annotations = [x for a in annotations for x in _step(a, step)]
    names: set[str] = set()
    todo = list(annotations)
    while todo:
        a = todo.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            names.update(n for k, f in a.model_fields.items() for n in (k, f.alias) if n)
        elif get_origin(a) is not Literal:
            todo += [x for x in get_args(a) if get_origin(x) not in (list, dict)]
    return sorted(names)


def unknown_key_hint(model: type[BaseModel], loc: tuple) -> str:
    """'可能是 X' for an unknown key close to a known one (a typo), else ''."""
    if not loc or not isinstance(loc[-1], str):
        return ""
    close = close_match(loc[-1], _known_fields(model, loc))
    return f"可能是 {close}" if close else ""


_UNION_TAG = ("union_tag_invalid", "union_tag_not_found")


def _schema_problem(raw: LocDict, loc: tuple, err: dict, model: type[BaseModel] | None = None) -> Problem:
    if err["type"] in _UNION_TAG:   # a period rule's kind: unknown, missing or not a word
        from .periods.kinds import PERIOD_KINDS
        file, line = _locate(raw, loc + ("kind",))
        found = err.get("ctx", {}).get("tag") if err["type"] == "union_tag_invalid" else None
        item = _node(raw, loc)
        if isinstance(item, dict):
            found = item.get("kind")
        return Problem(file, line, dotted(loc + ("kind",)), found,
                       "规则类型之一：" + "、".join(PERIOD_KINDS) if found is not None else "必填项")
    file, line = _locate(raw, loc)
    if loc and isinstance(loc[-1], bool):   # `on:`, `yes:` … as a key: YAML 1.1 reads them as true/false
        return Problem(file, line, dotted(loc[:-1]), loc[-1], "文字键",
                       "不加引号时 YAML 把键 on、off、yes、no 读成了是/否，请给键加引号，如 \"on\":")
    expected = _EXPECTED_BY_TYPE.get(err["type"], None)
    if err["type"] == "literal_error":
        expected = "以下之一：" + "、".join(re.findall(r"'([^']*)'", err["ctx"]["expected"]))
    elif err["type"] == "value_error" or expected is None:
        expected = str(err["msg"]).removeprefix("Value error, ")
    found = err.get("input") if err["type"] != "missing" else None
    if isinstance(found, (dict, list)):
        found = ("映射" if isinstance(found, dict) else "列表") if err["type"] != "extra_forbidden" else loc[-1]
    hint = ""
    if err["type"] == "string_type" and isinstance(found, (int, float, bool)):
        # YAML reads 2026.1, 202601 or yes as numbers and booleans
        hint = "不加引号时 YAML 把它读成了" + ("是/否" if isinstance(found, bool) else "数字") + "，请用引号括起来"
    if err["type"] == "extra_forbidden":
        hint = unknown_key_hint(model or PolicyDoc, loc)
    return Problem(file, line, dotted(loc), found, expected, hint)


_PRUNE_UNITS = {("items",), ("items", "*", "rules"), ("bonus", "rules"), ("vetoes",), ("stars",), ("pay", "bands"),
                ("periods", "rules"),
                ("examples",), ("metrics",), ("attributes",)}


def _prune_point(loc: tuple) -> tuple:
    """The smallest self-contained part around an error: a list element or a metric, else the top key."""
    best = loc[:1]
    for i in range(1, len(loc)):
        pattern = tuple("*" if isinstance(x, int) else x for x in loc[:i])
        if pattern in _PRUNE_UNITS:
            best = loc[:i + 1]
    return best


def _without(node: Any, cuts: Iterable[tuple]) -> Any:
    """A copy of `node` without the parts at `cuts` (lists keep their LocList type and lines)."""
    cuts = cuts if isinstance(cuts, (set, frozenset)) else set(cuts)   # looked up once per key
    def walk(n: Any, path: tuple) -> Any:
        if isinstance(n, dict):
            out = LocDict()
            out.line, out.lines = getattr(n, "line", 0), dict(getattr(n, "lines", {}))
            out.file, out.keyfiles = getattr(n, "file", "?"), dict(getattr(n, "keyfiles", {}))
            for k, v in n.items():
                if path + (k,) in cuts:
                    continue
                out[k] = walk(v, path + (k,))
            return out
        if isinstance(n, list):
            out = LocList()
            out.line, out.file, out.itemfiles = getattr(n, "line", 0), getattr(n, "file", "?"), []
            out.orig = []   # original index of each kept element, so messages name the user's index
            for i, v in enumerate(n):
                if path + (i,) in cuts:
                    continue
                out.orig.append(getattr(n, "orig", range(len(n)))[i])
                out.append(walk(v, path + (i,)))
                out.lines.append(n.lines[i] if hasattr(n, "lines") and i < len(n.lines) else 0)
                out.itemfiles.append(n.itemfiles[i] if hasattr(n, "itemfiles") else out.file)
            return out
        return n
    return walk(node, ())


def _clean_loc(loc: tuple) -> tuple:
    out = []
    if loc[:2] == ("periods", "rules") and len(loc) > 3:
        loc = loc[:3] + loc[4:]   # the tag pydantic puts after a period rule's index (its kind)
    for s in loc:
        if isinstance(s, str) and (s.startswith("function-") or s in ("union", "tagged-union") or "[" in s
                                   or s in ("Decimal", "QuotaBy", "bool", "str", "int")):
            continue
        if isinstance(s, str) and s.startswith("constrained-"):
            continue
        out.append(s)
    return tuple(out)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.file, p.line, p.field)
        if key in seen:
            continue
        seen.add(key)
        out.append(p)
    return out


# --------------------------------------------------------------------------- semantic checks


def _written_ids(raw: LocDict) -> set[str]:
    """Every item, rule, bonus rule and veto id written in the resolved tree, valid or not."""
    out: set[str] = set()

    def ids(lst: Any) -> None:
        for v in lst if isinstance(lst, list) else []:
            if isinstance(v, dict):
                out.add(str(v.get("id")))
                ids(v.get("rules"))
    ids(raw.get("items"))
    ids(raw.get("vetoes"))
    if isinstance(raw.get("bonus"), dict):
        ids(raw["bonus"].get("rules"))
    return out


def _check_semantics(doc: PolicyDoc, raw: LocDict, pruned: set[tuple] = frozenset(),
                     written_ids: set[str] = frozenset()) -> list[Problem]:
    """Cross-field checks.  Parts dropped for schema errors (`pruned`) already have a problem;
    checks that need the whole (sums, coverage, references) skip what they cannot judge."""
    probs: list[Problem] = []
    pruned_tops = {p[0] for p in pruned}
    pruned_metrics = {p[1] for p in pruned if p[0] == "metrics" and len(p) > 1}
    if any(p[0] == "metrics" and len(p) == 1 for p in pruned):
        pruned_metrics = set(raw.get("metrics") or {}) | {"*"}

    def add(path: list, found: Any, expected: str, hint: str = "") -> None:
        f, line = _locate(raw, path)
        probs.append(Problem(f, line, dotted(_original_path(raw, path)), found, expected, hint))

    ck = Checks(doc, add, pruned_metrics)
    for key in ("effective_from", "effective_until"):
        v = getattr(doc, key)
        if v is not None and not MONTH_RX.match(str(v)):
            add([key], v, "YYYY-MM 格式的月份，如 2026-01")
    if doc.effective_from and doc.effective_until and doc.effective_until < doc.effective_from:
        add(["effective_until"], doc.effective_until, f"不早于 effective_from（{doc.effective_from}）")
    if not ID_RX.match(doc.id):
        add(["id"], doc.id, "以字母开头、由字母数字下划线组成的标识")

    for name, a in doc.attributes.items():
        if name in RESERVED_ATTRS:
            add(["attributes", name], name, f"不与名册固定列重名（{'、'.join(sorted(RESERVED_ATTRS))}）")
        if a.values is not None and not a.values:
            add(["attributes", name, "values"], [], "至少一个取值（或不写 values，不限取值）")
        elif a.values is not None and a.default is not None and a.default not in a.values:
            add(["attributes", name, "default"], a.default, f"values 中的取值之一：{'、'.join(a.values)}",
                "名册中此列留空的人会取默认值")
    for mid, m in doc.metrics.items():
        if not re.match(r"^[a-z][a-z0-9_]*$", mid):
            add(["metrics", mid], mid, "小写字母开头、由小写字母数字下划线组成的指标代码")
        if m.min is not None and m.max is not None and m.min > m.max:
            add(["metrics", mid, "max"], str(m.max), f"不小于 min（{m.min}）")
        if m.type == "percent":
            lo, hi = m.min if m.min is not None else Decimal(0), m.max if m.max is not None else Decimal(100)
            if lo < 0 or hi > 100:
                add(["metrics", mid], f"[{lo}, {hi}]", "百分比指标的范围在 0 到 100 之间")
        if m.type == "bool" and (m.min is not None or m.max is not None):
            add(["metrics", mid, "min"], m.min, "是/否指标不设 min/max")
        if m.scale is not None and (m.type != "percent" or m.count_events is not None):
            add(["metrics", mid, "scale"], m.scale, "不填（scale 只用于指标表中填写的 percent 百分比指标）")
        if m.default is not None:
            try:
                coerce_metric(m, m.default)
            except ValueError as e:
                add(["metrics", mid, "default"], m.default, str(e))
        if m.count_events is not None:
            if m.type != "integer":
                add(["metrics", mid, "type"], m.type, "integer（由事件台账计数的指标）")
            check_filter(ck, m.count_events, ["metrics", mid, "count_events"])
        if m.from_records is not None:
            check_from_records(ck, mid, m, ["metrics", mid, "from_records"])
    check_series(ck)
    check_stages(ck)
    if doc.calendar is not None:
        for key in ("holidays", "workdays"):
            for j, d in enumerate(getattr(doc.calendar, key)):
                try:
                    date.fromisoformat(str(d))
                except ValueError:
                    add(["calendar", key, j], d, "日期，如 2027-01-01")

    # ids are unique across items, rules, bonus rules and vetoes: a finding's rule id is unambiguous
    seen: dict[str, list] = {}

    def claim(i: str, path: list) -> None:
        if i in seen:
            add(path + ["id"], i, "唯一的 id", f"与 {dotted(seen[i])} 重复")
        else:
            seen[i] = path
        if not ID_RX.match(str(i)):
            add(path + ["id"], i, "以字母开头、由字母数字下划线或连字符组成的标识")

    if not doc.abstract and not doc.items and "items" not in pruned_tops:
        add(["items"], None, "至少一个考核项目")
    total = sum((it.points for it in doc.items), Decimal(0))
    if not doc.abstract and doc.items and total != doc.full_score and "items" not in pruned_tops:
        add(["items"], f"各项分值合计 {_n(total)}", f"等于满分 full_score = {_n(doc.full_score)}")
    for i, it in enumerate(doc.items):
        claim(it.id, ["items", i])
        if it.points <= 0:
            add(["items", i, "points"], _n(it.points), "大于 0 的分值")
        for j, r in enumerate(it.rules):
            _check_rule(ck, r, ["items", i, "rules", j], claim, bonus=False)
            if r.effect == "earn" and it.mode != "earn":
                add(["items", i, "rules", j, "effect"], r.effect, "不填或 deduct（扣分项目中的规则只扣分；得分写在 mode: earn 的项目或 bonus 中）")
        _check_rules_together(ck, it.rules, ["items", i, "rules"], bonus=False)
    if doc.bonus:
        if doc.bonus.cap <= 0:
            add(["bonus", "cap"], _n(doc.bonus.cap), "大于 0 的加分上限")
        for j, r in enumerate(doc.bonus.rules):
            _check_rule(ck, r, ["bonus", "rules", j], claim, bonus=True)
            if r.effect is not None:
                add(["bonus", "rules", j, "effect"], r.effect, "不填（加分项目的规则都是加分）")
        _check_rules_together(ck, doc.bonus.rules, ["bonus", "rules"], bonus=True)
    for i, v in enumerate(doc.vetoes):
        claim(v.id, ["vetoes", i])
        m = doc.metrics.get(v.metric)
        if m is None:
            if v.metric not in pruned_metrics and "*" not in pruned_metrics:
                add(["vetoes", i, "metric"], v.metric, "metrics 中已声明的指标", _known(doc))
        elif v.range is not None:
            if m.type == "bool":
                add(["vetoes", i, "range"], str(v.range), "不填（是/否指标为“是”即否决）")
            else:
                check_reachable(m, v.range, ["vetoes", i, "range"], add)
        elif m.type not in ("bool", "integer"):
            add(["vetoes", i, "range"], None, "数值指标需写明否决区间，如 \"[1, +inf)\"")
        elif m.type == "integer" and m.max is not None and m.max < 1:
            add(["vetoes", i, "metric"], v.metric, "最大值至少为 1 的计数指标（不写 range 时次数 ≥ 1 即否决，否则永远不会触发）")

    domain = parse_interval(f"[0, {_n(doc.full_score + (doc.bonus.cap if doc.bonus else 0))}]")
    if doc.stars is not None:
        for msg in ([] if "stars" in pruned_tops or "bonus" in pruned_tops else covers([s.range for s in doc.stars], domain)):
            add(["stars"], msg, f"各星级区间恰好覆盖得分范围 {domain}，不重叠、无空档")
        for i, s in enumerate(doc.stars):
            if s.stars < 0:
                add(["stars", i, "stars"], s.stars, "不小于 0 的星级")
            if not s.range.overlaps(domain):
                add(["stars", i, "range"], str(s.range), f"与得分范围 {domain} 有交集（否则永远评不到）")
    if doc.pay is not None:
        if not (0 < doc.pay.performance_share <= 1):
            add(["pay", "performance_share"], _n(doc.pay.performance_share), "0 到 100% 之间，如 20%")
        if doc.pay.wage_min < 0 or doc.pay.wage_min.as_tuple().exponent < -2:
            add(["pay", "wage_min"], _n(doc.pay.wage_min), "不小于 0、最多两位小数的金额（元），如当地最低工资标准")
        if doc.pay.wage_max <= doc.pay.wage_min:
            add(["pay", "wage_max"], _n(doc.pay.wage_max), f"大于 wage_min（{_n(doc.pay.wage_min)} 元）的金额（元）")
        ids = set()
        for i, b in enumerate(doc.pay.bands):
            if b.id in ids:
                add(["pay", "bands", i, "id"], b.id, "唯一的档次 id")
            ids.add(b.id)
            if not (0 <= b.ratio <= 1):
                add(["pay", "bands", i, "ratio"], _n(b.ratio), "0 到 1 之间的发放比例，如 0.9 或 90%")
            if not b.range.overlaps(domain):
                add(["pay", "bands", i, "range"], str(b.range), f"与得分范围 {domain} 有交集（否则永远用不到）")
        for msg in ([] if "pay" in pruned_tops or "bonus" in pruned_tops else covers([b.range for b in doc.pay.bands], domain)):
            add(["pay", "bands"], msg, f"各档区间恰好覆盖得分范围 {domain}，不重叠、无空档",
                "写明边界归属，如 [90, +inf) 与 [80, 90)")
    elif not doc.abstract and "pay" not in pruned_tops:
        add(["pay"], None, "绩效工资档次（pay.performance_share 与 pay.bands）")

    if doc.events is not None and doc.events.max_days_after_month < 1:
        add(["events", "max_days_after_month"], doc.events.max_days_after_month, "不小于 1 的天数，如 60")
    if doc.periods is not None:
        check_with_policy(ck, period_rules(doc))
    veto_ids = {v.id for v in doc.vetoes}
    for i, ex in enumerate(doc.examples):
        if ex.month is not None and not MONTH_RX.match(ex.month):
            add(["examples", i, "month"], ex.month, "YYYY-MM 格式的月份")
        elif ex.month is not None and ex.records and (why := _calendar_problem(doc, ex.month)):
            add(["examples", i, "month"], ex.month, why)
        _check_example(doc, ex, ["examples", i], add, pruned_metrics)
        if ex.expect.band is not None:
            if doc.pay and ex.expect.band not in {b.id for b in doc.pay.bands}:
                add(["examples", i, "expect", "band"], ex.expect.band, "pay.bands 中的档次 id")
            elif doc.pay is None and "pay" not in pruned_tops:
                add(["examples", i, "expect", "band"], ex.expect.band, "不填（本细则没有 pay 绩效档次）")
        if ex.expect.pay is not None and doc.pay is None and "pay" not in pruned_tops:
            add(["examples", i, "expect", "pay"], _n(ex.expect.pay), "不填（本细则没有 pay 绩效档次）")
        if ex.expect.stars is not None and doc.stars is None and "stars" not in pruned_tops:
            add(["examples", i, "expect", "stars"], ex.expect.stars, "不填（本细则没有 stars 星级）")
        if isinstance(ex.expect.veto, str) and ex.expect.veto not in veto_ids and ex.expect.veto not in written_ids:
            add(["examples", i, "expect", "veto"], ex.expect.veto, "true、false 或 vetoes 中的否决项 id",
                "已有：" + ("、".join(veto_ids) or "无"))
        for key in ("findings", "reasons"):
            for rid in getattr(ex.expect, key) or {}:
                if rid not in seen and rid not in written_ids:
                    add(["examples", i, "expect", key, rid], rid, "本细则中的规则 id")
    return probs


def _calendar_problem(doc: PolicyDoc, month: str) -> str | None:
    from .kinds.records import calendar_problem
    try:
        return calendar_problem(doc, month)
    except ValueError:
        return None   # the calendar's own dates are wrong: reported there


def _check_example(doc: PolicyDoc, ex: "ExampleDef", path: list, add, pruned_metrics: set[str]) -> None:
    """A worked example must be a possible worker-month: known metrics with valid values, every
    metric without a default given, a valid wage and attribute values, events of the vocabulary."""
    for k, val in ex.metrics.items():
        m = doc.metrics.get(k)
        if m is None:
            if k not in pruned_metrics and "*" not in pruned_metrics:
                add(path + ["metrics", k], k, "metrics 中已声明的指标", _known(doc))
        elif m.count_events is not None:
            add(path + ["metrics", k], val, f"不填（「{m.label}」由事件计数，请在示例的 events 中写出事件）")
        elif m.from_records is not None:
            add(path + ["metrics", k], val, f"不填（「{m.label}」由记录统计，请在示例的 records 中写出记录）")
        elif m.min is None or m.max is None or m.min <= m.max:   # else the range itself is the problem
            try:
                coerce_metric(m, val)
            except ValueError as e:
                add(path + ["metrics", k], val, str(e))
    if "*" not in pruned_metrics:
        for mid, m in doc.metrics.items():
            if not m.computed and m.default is None and mid not in ex.metrics:
                add(path + ["metrics"], None, f"写出指标「{m.label}」（{mid}）的数值（该指标没有默认值）")
    for k, val in ex.worker.items():
        if k == "wage":
            try:
                w = _to_decimal(val)
                if w < 0 or w.as_tuple().exponent < -2:
                    raise ValueError
            except ValueError:
                add(path + ["worker", "wage"], val, "不小于 0、最多两位小数的月工资（元）")
            else:
                if doc.pay is not None and doc.pay.wage_min < doc.pay.wage_max and not doc.pay.wage_min <= w <= doc.pay.wage_max:
                    add(path + ["worker", "wage"], val,
                        f"{doc.pay.wage_min:,} 到 {doc.pay.wage_max:,} 元之间的月工资（pay.wage_min、pay.wage_max）")
        elif k in doc.attributes:
            a = doc.attributes[k]
            if a.values is not None and str(val) not in a.values:
                add(path + ["worker", k], val, f"属性「{a.label}」的取值之一：" + "、".join(a.values))
        elif k not in EXAMPLE_WORKER_FIELDS:
            add(path + ["worker", k], k, f"attributes 中声明的属性或 {'、'.join(sorted(EXAMPLE_WORKER_FIELDS))}")
    vocab = doc.events
    for j, e in enumerate(ex.events):
        ep = path + ["events", j]
        if vocab and vocab.categories is not None and e.category not in vocab.categories:
            add(ep + ["category"], e.category or None, "events.categories 中声明的类别之一：" + "、".join(vocab.categories))
        if vocab and vocab.severities is not None and e.severity not in vocab.severities:
            add(ep + ["severity"], e.severity or None, "events.severities 中声明的等级之一：" + "、".join(vocab.severities))
        for key in ("delay_hours", "handling_hours"):
            h = getattr(e, key)
            if h is not None and h < 0:
                add(ep + [key], _n(h), "不小于 0 的小时数")
        if e.handling_hours is not None and e.delay_hours is None:
            add(ep + ["handling_hours"], _n(e.handling_hours), "不填，或同时写 delay_hours（已办结的事件应已上报）")
        if e.handling_hours is not None and e.unclosed:
            add(ep + ["unclosed"], True, "false（写了 handling_hours 的事件已办结）")
        _check_example_times(doc, ex, e, ep, add)
    for j, r in enumerate(ex.records):
        _check_example_record(doc, ex, r, path + ["records", j], add)


def _parse_example_time(text: Any):
    from .inputs import parse_timestamp   # the event log's own reading of a time
    return parse_timestamp(text)


def _check_example_times(doc: PolicyDoc, ex: "ExampleDef", e: "EventEvent", ep: list, add) -> None:
    """An example event given by its times (as the log holds them) is read like the log."""
    given = {k: getattr(e, k) for k in ("discovered", "reported", "closed") if getattr(e, k) is not None}
    given.update(e.stages)
    if not given:
        if e.problem:
            add(ep + ["problem"], e.problem, "写明事件各环节的时间（discovered 等），问题编号才能跨月比对")
        return
    if any(getattr(e, k) is not None for k in ("delay_hours", "handling_hours")) or e.unclosed:
        add(ep, "delay_hours/handling_hours/unclosed", "不填（写了时间的事件由时间算出上报延迟、办理用时和是否办结）")
    if "discovered" not in given:
        add(ep + ["discovered"], None, "发现时间，如 \"2026-10-05 08:30\"")
    if ex.month is None:
        add(ep[:-2] + ["month"], None, "示例所在的月份 YYYY-MM（写了时间的事件按该月的月底截止）")
    from .kinds.event import stage_names
    stages = stage_names(doc)
    times = {}
    for k, v in given.items():
        key = ep + ([k] if k in ("discovered", "reported", "closed") else ["stages", k])
        if k not in stages:
            add(key, k, "事件环节之一：" + "、".join(stages))
            continue
        try:
            times[k] = _parse_example_time(v)
        except ValueError:
            add(key, v, "时间，如 2026-10-05 14:30")
    if "discovered" in times and "reported" in times and times["reported"] < times["discovered"]:
        add(ep + ["reported"], given["reported"], "不早于发现时间")
    if "closed" in times and "reported" not in given:
        add(ep + ["reported"], None, "已办结的事件应有上报时间")
    elif "closed" in times and "reported" in times and times["closed"] < times["reported"]:
        add(ep + ["closed"], given["closed"], "不早于上报时间")


def _check_example_record(doc: PolicyDoc, ex: "ExampleDef", r: "ExampleRecord", rp: list, add) -> None:
    s = doc.records.get(r.series)
    if s is None:
        add(rp + ["series"], r.series, "records 中声明的记录系列", "已声明：" + ("、".join(doc.records) or "无"))
    if ex.month is None:
        add(rp[:-2] + ["month"], None, "示例所在的月份 YYYY-MM（记录按该月统计）")
    if (r.date is None) == (r.dates is None):
        add(rp, None if r.date is None else "date 与 dates 都写了", "date（某一天）或 dates（起止日期，如 2026-10-08/2026-10-30）二选一")
    from .kinds.records import example_dates, example_clock
    try:
        example_dates(r)
    except ValueError:
        add(rp + ["date" if r.date is not None else "dates"], r.date or r.dates, "日期，如 2026-10-09（区间写 2026-10-08/2026-10-30）")
    for key in ("start", "end"):
        v = getattr(r, key)
        if v is not None:
            try:
                example_clock(v)
            except ValueError:
                add(rp + [key], v, "钟点，如 08:30")
    if s is not None and s.measure in ("minutes", "hours"):
        if r.start is None or r.end is None:
            add(rp, None, f"start 和 end（「{s.label}」按时长计）")
        else:
            try:
                if example_clock(r.start) >= example_clock(r.end):
                    add(rp + ["end"], r.end, f"晚于开始时间 {r.start}")
            except ValueError:
                pass   # reported above
    if s is not None and s.measure == "amount" and r.amount is None:
        add(rp + ["amount"], None, f"数量（「{s.label}」按数量计）")


RESERVED_ATTRS = {"worker_id", "name", "town", "community", "grid", "role", "employment", "wage", "phone", "id_number"}
EXAMPLE_WORKER_FIELDS = {"worker_id", "name", "town", "community", "grid", "role", "employment", "wage"}


def _known(doc: PolicyDoc) -> str:
    names = "、".join(doc.metrics)
    return f"已声明：{names}" if names else "尚未声明任何指标"


def _n(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral() else format(d.normalize(), "f")


def _check_rule(ck: Checks, r: RuleDef, path: list, claim, bonus: bool) -> None:
    """What every rule must be (an id, exactly one form, a reason with known placeholders, a
    positive cap), then the checks of its form (engine/kinds)."""
    claim(r.id, path)
    forms = [k for k in RULE_FORMS if getattr(r, k) is not None]
    if len(forms) != 1:
        ck.add(path, "、".join(forms) or None,
               "恰好一种规则写法：" + "、".join(f"{k}（{kind.title}）" for k, kind in KINDS.items()))
        return
    kind = KINDS[forms[0]]
    spec = getattr(r, forms[0])
    if r.reason is not None:
        allowed = reason_placeholders(ck.doc, r)
        for name in template_fields(r.reason):
            if name not in allowed:
                ck.add(path + ["reason"], "{" + name + "}", "可用的占位符之一：" + "、".join("{" + a + "}" for a in allowed))
    if r.cap is not None and r.cap <= 0:
        ck.add(path + ["cap"], _n(r.cap), "大于 0 的上限")
    kind.check(ck, r, spec, path)


def reason_placeholders(doc: PolicyDoc, r: RuleDef) -> list[str]:
    """The placeholders a rule's `reason` may use: the values its findings carry (engine/kinds)."""
    return COMMON_PLACEHOLDERS + KINDS[r.kind].placeholders(r.spec, doc)


def _check_rules_together(ck: Checks, rules: list, path: list, bonus: bool) -> None:
    for kind in KINDS.values():
        if any(r.kind == kind.key for r in rules):
            kind.check_together(ck, rules, path, bonus)


# --------------------------------------------------------------------------- values and hashing


def coerce_metric(m: MetricDef, value: Any):
    """A raw cell or YAML value -> Decimal (numbers) or bool; ValueError(Chinese) if it does not fit."""
    from .sources import parse_bool_cell, parse_decimal_cell

    if m.type == "bool":
        try:
            return parse_bool_cell(value)
        except ValueError:
            raise ValueError("是/否（如 是、否、1、0）")
    try:
        d = parse_decimal_cell(value)
    except ValueError:
        raise ValueError(f"数字（{m.label}）")
    if m.type == "integer" and d != d.to_integral_value():
        raise ValueError(f"整数（{m.label}）")
    if d.as_tuple().exponent < -MAX_DECIMALS:
        raise ValueError(f"最多 {MAX_DECIMALS} 位小数的数字")
    dom = metric_domain(m)
    if not dom.contains(d):
        raise ValueError(f"在 {dom} 范围内的数值（{m.label}{('，单位' + m.unit) if m.unit else ''}）")
    return d


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return _n(v)
    if isinstance(v, Interval):
        return str(v)
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


# Fields added to the format after months were first stored under it.  While they hold their
# default they are left out of the hash, so that a policy file nobody touched keeps the hash its
# stored months carry (history refuses a month whose policy "changed").  Add each new field here.
_LATER_FIELDS = {
    "VetoDef": {"reason"},
    "EventFilter": {"interval", "overdue", "repeat_months", "month_by"},
    "EventVocabulary": {"stages"},
    "MetricDef": {"from_records"},
    "ItemDef": {"mode"},
    "_RuleBase": {"effect"},
    "RuleDef": set(KINDS) - {"per_count", "shortfall", "tiers", "event"},   # forms added after the first four
    "PolicyDoc": {"records", "calendar"},
}
_NOT_HASHED = {"examples", "description", "extends", "remove", "abstract"}
# Settings that only decide whether data is accepted, never a number: never hashed, so that adding
# one does not make the months stored under the policy look rescored.  (A metric's `scale` is
# hashed only when it converts values: `fraction`.)
_ACCEPTANCE_ONLY = {"PayDef": {"wage_min", "wage_max"}, "EventVocabulary": {"max_days_after_month"}}


def _hash_data(v: Any, top: bool = False) -> Any:
    if isinstance(v, BaseModel):
        later = set().union(*(_LATER_FIELDS.get(c.__name__, ()) for c in type(v).__mro__))
        skip = set().union(*(_ACCEPTANCE_ONLY.get(c.__name__, ()) for c in type(v).__mro__))
        out = {}
        for name, f in type(v).model_fields.items():
            if (top and name in _NOT_HASHED) or name in skip:
                continue
            if name == "scale" and isinstance(v, MetricDef) and getattr(v, name) != "fraction":
                continue
            if top and name == "periods":
                continue   # hashed as written (below): the way it was hashed before it had a model
            value = getattr(v, name)
            if name in later and value == f.default:
                continue
            out[name] = _hash_data(value)
        return out
    if isinstance(v, Interval):   # as pydantic dumped the dataclass when the hash was first defined
        return {"lo": _hash_data(v.lo), "lo_closed": v.lo_closed, "hi": _hash_data(v.hi), "hi_closed": v.hi_closed,
                "text": v.text}
    if isinstance(v, dict):
        return {k: _hash_data(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_hash_data(x) for x in v]
    return _jsonable(v)


def policy_hash(doc: PolicyDoc, raw_periods: Any = None) -> str:
    """sha256 of the resolved policy, examples and descriptions excluded: same rules, same hash.
    The period rules are hashed as written (`raw_periods`, the resolved tree's `periods:`)."""
    data = _hash_data(doc, top=True)
    data["periods"] = _jsonable(raw_periods) if doc.periods is not None else None
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def policy_json_schema() -> dict:
    """JSON Schema of the policy format, for editors (`wangge schema`)."""
    schema = PolicyDoc.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "wangge 考核细则（policy）"
    return schema
