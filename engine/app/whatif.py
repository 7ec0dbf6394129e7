"""What a change would do to stored months, before it is made: the months scored again (under a
draft policy, or from corrected inputs), the period rules evaluated again from the first changed
month on, and the outcome set beside what is stored — who changes score, band and pay, per town
and in total, and which period consequences appear or disappear.  Nothing is written.

Built on engine/changes.py (`compare_results`, `diff_months`), the functions `wangge compare` and
`wangge correct` report with; the period rules are evaluated exactly as `record_month` does.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Mapping

from ..changes import compare_results, diff_months
from ..errors import DataError, HistoryError, Problem
from ..history import History
from ..periods import evaluate, merge_additions, month_label, views_from_results
from ..sources import sha256_file
from .month import MonthFiles

__all__ = ["stored_files", "what_if", "INPUT_FIELD"]

INPUT_FIELD = "存入时的输入文件"


def stored_files(hist: History, month: str) -> MonthFiles:
    """The input files a stored month was scored from, still there and unchanged (else a problem
    naming the file: a what-if on other data than the stored month's would mislead)."""
    info = next((i for i in hist.months() if i.month == month), None)
    if info is None:
        raise hist.not_stored(month, f"历史中没有 {month_label(month)}（{month}）")
    problems, paths = [], {}
    for kind, f in (info.inputs or {}).items():
        path = Path(f.get("path", ""))
        if not path.is_file():
            problems.append(Problem(str(path), None, INPUT_FIELD, str(path), f"{month_label(month)}存入时所用的文件",
                                    "该文件已被移走或删除，无法按原数据重算"))
        elif f.get("sha256") and sha256_file(str(path)) != f["sha256"]:
            problems.append(Problem(str(path), None, INPUT_FIELD, "文件内容已改变", f"{month_label(month)}存入时的文件内容",
                                    "该文件在存入后被改过，无法按原数据重算"))
        paths[kind] = str(path)
    if problems:
        raise DataError(problems)
    return MonthFiles(paths["workers"], paths["metrics"], paths.get("events"), no_events="events" not in paths,
                      records=paths.get("records"))


def _money(v: Any) -> Decimal:
    return Decimal(str(v)) if v not in (None, "") else Decimal("0.00")


def _town_totals(rows: list[dict]) -> list[dict]:
    towns: dict[str, dict] = {}
    for r in rows:
        t = towns.setdefault(r["town"], {"town": r["town"], "workers": 0, "score_changed": 0, "band_changed": 0,
                                         "pay_a": Decimal("0.00"), "pay_b": Decimal("0.00"),
                                         "payable_a": Decimal("0.00"), "payable_b": Decimal("0.00")})
        t["workers"] += 1
        t["score_changed"] += r["score_a"] != r["score_b"]
        t["band_changed"] += r["band_a"] != r["band_b"]
        for k in ("pay_a", "pay_b", "payable_a", "payable_b"):
            t[k] += _money(r[k])
    out = []
    for t in towns.values():
        t["pay_delta"] = t["pay_b"] - t["pay_a"]
        t["payable_delta"] = t["payable_b"] - t["payable_a"]
        out.append({k: (str(v) if isinstance(v, Decimal) else v) for k, v in t.items()})
    return out


def _month_report(month: str, old: dict, new: dict, old_adds, new_adds) -> dict:
    """One month: the per-worker comparison (with 实发 after period rules), towns, totals."""
    a, b = merge_additions(old, old_adds), merge_additions(new, new_adds)
    diff = compare_results(a, b)
    wa = {w["worker_id"]: w for w in a["workers"]}
    wb = {w["worker_id"]: w for w in b["workers"]}
    rows = []
    for r in diff["workers"]:
        x, y = wa.get(r["worker_id"]), wb.get(r["worker_id"])
        w = y or x
        r = dict(r, town=w.get("town") or "", community=w.get("community") or "", grid=w.get("grid") or "",
                 payable_a=(x or {}).get("payable", (x or {}).get("pay")), payable_b=(y or {}).get("payable", (y or {}).get("pay")))
        r["payable_delta"] = str(_money(r["payable_b"]) - _money(r["payable_a"])) if x and y else None
        r["changed"] = r["changed"] or r["payable_a"] != r["payable_b"]
        rows.append(r)
    totals = dict(diff["totals"])
    totals["payable_a"] = str(sum((_money(r["payable_a"]) for r in rows), Decimal("0.00")))
    totals["payable_b"] = str(sum((_money(r["payable_b"]) for r in rows), Decimal("0.00")))
    totals["payable_delta"] = str(_money(totals["payable_b"]) - _money(totals["payable_a"]))
    totals["changed"] = sum(1 for r in rows if r["changed"])
    return {"month": month, "label": month_label(month), "policy_a": diff["policy_a"], "policy_b": diff["policy_b"],
            "workers": rows, "towns": _town_totals(rows), "totals": totals}


def what_if(data: str | Path, new_results: Mapping[str, dict], rules_for: Callable[[str], Any],
            *, later: bool = True) -> dict:
    """The stored months of `new_results` (month -> results.json as scored anew, without period
    additions) beside what is stored.  Period rules (`rules_for(month)`) are evaluated for those
    months and, with `later`, every later stored month (a change in September can start or end a
    sanction in October).  Returns {months: [per month report], consequences: [...], pay_changes: [...]}."""
    with History(data, create=False) as hist:
        stored = [i.month for i in hist.months()]
        for m in new_results:
            if m not in stored:
                raise hist.not_stored(m, f"历史中没有 {month_label(m)}（{m}）")
        first = min(new_results)
        views = hist.views()
        for m, res in new_results.items():
            views[m] = views_from_results(res)
        targets = [m for m in stored if m >= first] if later else sorted(new_results)
        old_adds = {m: hist.period_additions(m) for m in targets}
        old_base = {m: hist.base_results(m) for m in new_results}
        try:
            new_adds = evaluate(rules_for, views, targets, stored=hist.period_additions)
        except KeyError as exc:
            raise HistoryError(f"历史记录不完整，无法计算跨月规则：{exc}") from None
    months = [_month_report(m, old_base[m], new_results[m], old_adds[m], new_adds[m]) for m in sorted(new_results)]
    names = {wm.worker_id: {"name": wm.name, "town": wm.group.get("town", "")} for m in targets for wm in views[m]}
    consequences, pay_changes = [], []
    for m in targets:
        _, cons, pays = diff_months(None, new_results.get(m) or {"workers": []}, {m: old_adds[m]}, {m: new_adds[m]})
        consequences += cons
        pay_changes += pays
    for c in consequences + pay_changes:
        w = names.get(c["worker_id"], {})
        c.update(name=w.get("name", ""), town=w.get("town") or "")
    return {"months": months, "later_months": [m for m in targets if m not in new_results],
            "consequences": consequences, "pay_changes": pay_changes}
