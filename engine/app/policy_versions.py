"""Policy versions as use cases: a policy checked from its text (the checks of `wangge validate`,
worked examples included), a new version drafted from one in force, what it would cost on stored
months before it is published, and whether publishing it would keep every stored month on the
policy it was scored under.

A version is a policy file with its own `version` and `effective_from` (docs/policy.md): the
versions of one policy are loaded together and the one in force for a month is picked by its
months, exactly as `wangge run --policy A --policy B` does.  A draft is one self-contained file
(an inherited policy is written out whole: `flat_text`), so that everything the office reads and
edits is in it.  Publishing adds the file to the office's policy files; it never changes a file.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import EngineError, InputError, PolicyError, Problem
from ..history import History
from ..policy import Policy, PolicyDoc, PolicySet, load_policy, load_policy_file
from ..policy_edit import EditError, flat_text, quoted, set_top
from ..policy_values import MONTH_RX
from ..sources import LocDict, LocList
from .month import MonthFiles, Policies, POLICY_FIELD

__all__ = ["PolicyCheck", "check_policy_text", "flatten_policy", "draft_text", "publish_problems",
           "preview_change", "VERSION_FIELD", "EFFECTIVE_FIELD"]

VERSION_FIELD = "版本"
EFFECTIVE_FIELD = "生效月份"


@dataclass
class PolicyCheck:
    """A policy text checked as `wangge validate` checks a file."""
    problems: list[Problem] = field(default_factory=list)      # format and reference problems
    mismatches: list[Problem] = field(default_factory=list)    # worked examples that came out otherwise
    policy: Policy | None = None                               # the policy, when it loads

    @property
    def ok(self) -> bool:
        return not self.problems and not self.mismatches

    def as_dict(self) -> dict:
        def p(x: Problem) -> dict:
            return {"line": x.line, "field": x.field, "found": None if x.found is None else str(x.found),
                    "expected": x.expected, "hint": x.hint, "text": str(x)}
        return {"ok": self.ok, "problems": [p(x) for x in self.problems], "mismatches": [p(x) for x in self.mismatches],
                "examples": len(self.policy.doc.examples) if self.policy is not None else 0}


def check_policy_text(text: str, name: str, *, policy_id: str | None = None) -> PolicyCheck:
    """Check a policy's text (named `name` in problems): format, references, worked examples.  A
    draft stands alone (`extends` would read a file beside it), and with `policy_id` must keep the
    office's policy id (a version of the same policy)."""
    from ..scoring import run_examples

    out = PolicyCheck()
    with tempfile.TemporaryDirectory(prefix="wangge-policy-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_text(text, encoding="utf-8")
        try:
            pol = load_policy_file(path)
        except PolicyError as exc:
            out.problems = [_named(p, path, name) for p in exc.problems]
            return out
        if pol.doc.extends or len(pol.files) > 1:
            out.problems.append(Problem(name, pol.raw.lines.get("extends"), "extends", pol.doc.extends,
                                        "不使用 extends：一个版本的全部内容写在一个文件里"))
        if policy_id is not None and pol.id != policy_id:
            out.problems.append(Problem(name, pol.raw.lines.get("id"), "id", pol.id,
                                        f"{policy_id}（同一考核细则的各个版本用同一个 id）"))
        if pol.doc.abstract:
            out.problems.append(Problem(name, pol.raw.lines.get("abstract"), "abstract", True,
                                        "false：版本是可以直接用于考核的细则"))
        if out.problems:
            return out
        out.mismatches = [_named(p, path, name) for p in run_examples(pol)]
        pol.files = [name]
        out.policy = pol
    return out


def _named(p: Problem, path: Path, name: str) -> Problem:
    from dataclasses import replace
    return replace(p, file=name) if Path(p.file).name == path.name else p


# --------------------------------------------------------------------------- drafting


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


_NOT_IN_VERSION = {"abstract", "extends", "remove", "effective_until"}


def flatten_policy(path: str | Path) -> str:
    """A policy file as one self-contained text: its own text when it inherits nothing, else the
    inherited content written out whole (in the order of the format), with a header saying so."""
    path = Path(path)
    pol = load_policy_file(path)
    if len(pol.files) == 1:
        return path.read_text(encoding="utf-8")
    tree = _plain(pol.raw)
    order = list(PolicyDoc.model_fields)
    tree = {k: tree[k] for k in sorted(tree, key=lambda k: order.index(k) if k in order else len(order))
            if k not in _NOT_IN_VERSION}
    names = "、".join(Path(f).name for f in pol.files)
    return flat_text(tree, f"{pol.name}（{names} 合并为一个文件：继承的内容已全部写入本文件）")


def draft_text(text: str, version: str, effective_from: str) -> str:
    """A new version of a policy: its text with `version` and `effective_from` set (and no end month:
    a version ends when the next one starts)."""
    problems = []
    if not version.strip() or len(version) > 40:
        problems.append(Problem(VERSION_FIELD, None, VERSION_FIELD, version, "版本号，如 2027.1（1–40 个字符）"))
    if not MONTH_RX.match(effective_from or ""):
        problems.append(Problem(EFFECTIVE_FIELD, None, EFFECTIVE_FIELD, effective_from, "月份 YYYY-MM，如 2027-01"))
    if problems:
        raise InputError(problems)
    try:
        return set_top(text, {"version": quoted(version.strip()), "effective_from": quoted(effective_from)},
                       after=("version", "name", "id"), drop=("effective_until",))
    except EditError as exc:
        raise PolicyError([Problem(POLICY_FIELD, None, "YAML", None, "可以读取的 YAML 文本", str(exc))]) from None


# --------------------------------------------------------------------------- publishing


def publish_problems(current: Iterable[str], draft: str, data: str | Path | None) -> list[Problem]:
    """What stops `draft` joining the policy files `current`: versions that overlap or start in the
    same month, another policy id, and — the history's rule — any stored month that would then be
    scored under another policy than the one it was stored with."""
    current = [str(p) for p in current]
    try:
        after = load_policy(current + [str(draft)])
    except PolicyError as exc:
        return list(exc.problems)
    if data is None or not (Path(data) / "history.sqlite3").exists():
        return []
    problems = []
    with History(data, create=False) as hist:
        for info in hist.months():
            try:
                now = after.for_month(info.month)
            except EngineError:
                now = None
            if now is None or now.hash != info.policy_hash:
                d = load_policy_file(draft)
                problems.append(Problem(str(draft), d.raw.lines.get("effective_from"), "effective_from",
                                        d.doc.effective_from, f"晚于已存入的月份 {info.month}",
                                        f"{info.month} 按 {info.policy_id} {info.policy_version} 存入；"
                                        "新版本从已存入的月份起生效，会使这些月份与存入时的细则不符"))
                break
    return problems


# --------------------------------------------------------------------------- what it costs


class _AsInForce(Policies):
    """One policy treated as in force for any month (a draft scored on months before it starts)."""

    def __init__(self, policy: Policy):
        from dataclasses import replace

        self.paths = tuple(policy.files)
        doc = policy.doc.model_copy(update={"effective_from": None, "effective_until": None})
        self.ps = PolicySet([replace(policy, doc=doc)])
        self._rules = {}


def preview_change(draft: str | Path, data: str | Path, months: list[str], *,
                   progress: Callable[[str], None] | None = None) -> dict:
    """The draft policy applied to stored months (scored from the inputs they were stored with) beside
    what is stored: per worker, per town and in total, and the period consequences that would appear
    or disappear (period rules of the draft, from the first of `months` on).  Nothing is written."""
    from .whatif import stored_files, what_if

    pols = _AsInForce(load_policy_file(draft))
    new = {}
    with History(data, create=False) as hist:
        files = {m: stored_files(hist, m) for m in months}
    for m in sorted(months):
        if progress is not None:
            progress(m)
        new[m] = pols.score(m, files[m])[0]
    report = what_if(data, new, pols.rules_for, later=True)
    report["policy"] = {"id": pols.ps.versions[0].id, "version": pols.ps.versions[0].version,
                        "hash": pols.ps.versions[0].hash}
    return report
