"""What changed between two results of the same month: a re-run or correction (who changed,
which period consequences appeared or disappeared, whose payable moved) and a what-if of two
policies.  Pure functions over results.json dicts."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

__all__ = ["diff_months", "compare_results"]


_SCORE_KINDS = {"quarter_score", "year_score"}


def _consequences(adds: Mapping[str, dict] | None) -> dict[tuple, dict]:
    out = {}
    for wid, a in (adds or {}).items():
        for f in a["period_findings"]:
            if f["kind"] in _SCORE_KINDS:
                continue
            out[(wid, f["rule_id"], f["kind"], tuple(f["months"]), f.get("grade"), f["amount"])] = f
    return out


def diff_months(old_base: Mapping | None, new_base: Mapping, old_adds: Mapping[str, Mapping | None],
                new_adds: Mapping[str, Mapping | None]) -> tuple[list, list, list]:
    """What a re-run changed: monthly scores of the month itself, period consequences, payable."""
    score_changes = []
    if old_base is not None:
        old = {w["worker_id"]: w for w in old_base["workers"]}
        for w in new_base["workers"]:
            o = old.get(w["worker_id"])
            if o is None:
                continue
            if (o["score"], o["band"]["id"] if o.get("band") else None, o["pay"]) != \
                    (w["score"], w["band"]["id"] if w.get("band") else None, w["pay"]):
                score_changes.append({
                    "worker_id": w["worker_id"], "name": w.get("name", ""),
                    "old_score": o["score"], "new_score": w["score"],
                    "score_delta": str(Decimal(w["score"]) - Decimal(o["score"])),
                    "old_band": (o.get("band") or {}).get("label"), "new_band": (w.get("band") or {}).get("label"),
                    "old_pay": o["pay"], "new_pay": w["pay"],
                    "pay_delta": str(Decimal(w["pay"]) - Decimal(o["pay"]))})
    consequence_changes, pay_changes = [], []
    for month in sorted(new_adds):
        before, after = _consequences(old_adds.get(month)), _consequences(new_adds[month])
        for key in sorted(set(before) | set(after)):
            if key in before and key in after:
                continue
            f = after.get(key) or before[key]
            consequence_changes.append({"month": month, "worker_id": key[0], "change": "出现" if key in after else "消失",
                                        "rule_id": f["rule_id"], "rule_label": f["rule_label"], "kind": f["kind"],
                                        "amount": f["amount"], "reason": f["reason"]})
        o_adds, n_adds = old_adds.get(month) or {}, new_adds[month] or {}
        for wid in sorted(n_adds):
            if wid in o_adds and o_adds[wid]["payable"] != n_adds[wid]["payable"]:
                pay_changes.append({"month": month, "worker_id": wid, "old_payable": o_adds[wid]["payable"],
                                    "new_payable": n_adds[wid]["payable"]})
    return score_changes, consequence_changes, pay_changes


def compare_results(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict:
    """Per-worker and total differences between the same month scored under policies A and B."""
    wa = {w["worker_id"]: w for w in a["workers"]}
    wb = {w["worker_id"]: w for w in b["workers"]}
    rows = []
    pay_a = pay_b = Decimal("0.00")
    score_changed = band_changed = 0
    for wid in sorted(set(wa) | set(wb)):
        x, y = wa.get(wid), wb.get(wid)
        band_x = (x.get("band") or {}).get("label") if x else None
        band_y = (y.get("band") or {}).get("label") if y else None
        row = {"worker_id": wid, "name": (x or y).get("name", ""),
               "score_a": x["score"] if x else None, "score_b": y["score"] if y else None,
               "band_a": band_x, "band_b": band_y,
               "pay_a": x["pay"] if x else None, "pay_b": y["pay"] if y else None,
               "score_delta": None, "pay_delta": None}
        if x and y:
            row["score_delta"] = str(Decimal(y["score"]) - Decimal(x["score"]))
            row["pay_delta"] = str(Decimal(y["pay"]) - Decimal(x["pay"]))
        row["changed"] = (row["score_a"], band_x, row["pay_a"]) != (row["score_b"], band_y, row["pay_b"])
        score_changed += row["score_a"] != row["score_b"]
        band_changed += band_x != band_y
        pay_a += Decimal(x["pay"]) if x else 0
        pay_b += Decimal(y["pay"]) if y else 0
        rows.append(row)
    return {"month": a["month"],
            "policy_a": {k: a["policy"].get(k) for k in ("id", "version", "hash")},
            "policy_b": {k: b["policy"].get(k) for k in ("id", "version", "hash")},
            "workers": rows,
            "totals": {"workers": len(rows), "score_changed": score_changed, "band_changed": band_changed,
                       "pay_a": str(pay_a), "pay_b": str(pay_b), "pay_delta": str(pay_b - pay_a)}}
