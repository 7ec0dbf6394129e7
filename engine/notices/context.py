"""Plain data for the notice templates, built from a stored month, a roster and the register.

Templates receive only dicts, lists, strings and numbers (never live objects), so an edited
template can read data but not call into the engine.  Every number a notice prints comes from
results.json as stored (scores and money are decimal strings, already rounded once by the
scorer); the only arithmetic here is counting, sums of fen amounts, and means, which are
rounded once to 2 decimals, ROUND_HALF_UP, and say so.  Personal data is masked *here*, per
document and as the office settings say, so no template can print more than its purpose needs.
"""
from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping

from ..intervals import parse_interval
from ..periods import last_places, month_label
from .settings import FieldPrivacy, OfficeSettings

__all__ = ["DocNumber", "office_context", "bulletin_context", "criticism_context", "commendation_context",
           "slips_context", "paysheet_context", "roster_context", "register_context", "mask_phone", "mask_id",
           "criticised", "commended", "month_ranking"]

ZERO = Decimal("0.00")
INFO_KINDS = {"quarter_score", "year_score", "grade"}   # period findings that are figures, not consequences
WEEKDAYS = "一二三四五六日"


class DocNumber(dict):
    """{'year': 2026, 'number': 3, 'text': '鹤网格〔2026〕3号', 'date': '2026-11-05'} (a plain dict)."""


def _d(v: Any) -> Decimal:
    return Decimal(str(v)) if v not in (None, "") else ZERO


def _mean(values: list[Decimal]) -> str:
    if not values:
        return ""
    return str((sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _num(v: Decimal | str) -> str:
    """A score as the stored text writes it ('92.5', '100')."""
    return str(v)


def mask_phone(phone: str, mode: str) -> str:
    phone = (phone or "").strip()
    if mode == "hide" or not phone:
        return ""
    if mode == "full":
        return phone
    digits = phone.replace("-", "").replace(" ", "")
    if len(digits) == 11 and digits.startswith("1"):    # mobile: 138****5678
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 4:             # landline: keep the last 4
        return "*" * (len(digits) - 4) + digits[-4:]
    return "****"


def mask_id(number: str, mode: str) -> str:
    number = (number or "").strip()
    if mode == "hide" or not number:
        return ""
    if mode == "full":
        return number
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]   # 3705**********1234


def _private(person: Mapping[str, Any] | None, rule: FieldPrivacy) -> dict:
    person = person or {}
    return {"phone": mask_phone(str(person.get("phone") or ""), rule.phone),
            "id_number": mask_id(str(person.get("id_number") or ""), rule.id_number)}


# --------------------------------------------------------------------------- the office block


def office_context(settings: OfficeSettings, number: Mapping | None, date: str) -> dict:
    """The 公文 frame: header, number, addressees, issuer, date, 版记."""
    return {
        "header": settings.header_text,
        "issuer": settings.issuer,
        "signature": settings.signature_text,
        "number": (number or {}).get("text", ""),
        "addressees": settings.addressees,
        "date": date,
        "cc": "、".join(settings.cc),
        "printed_by": settings.printed_by_text,
        "contact": settings.contact.model_dump() if settings.contact else None,
        "unit": settings.unit_text,
    }


def _month(results: Mapping) -> dict:
    m = results["month"]
    pol = results.get("policy") or {}
    return {"id": m, "label": month_label(m), "year": int(m[:4]), "month": int(m[5:7]),
            "policy": {"name": pol.get("name", ""), "version": pol.get("version", ""),
                       "full_score": pol.get("full_score", "100")},
            "period_rules": bool(results.get("period_rules_applied"))}


# --------------------------------------------------------------------------- ranking


def _group_of(w: Mapping) -> str:
    return w.get("peer_group") or w.get("town") or "全部"


def month_ranking(workers: list[Mapping], key=_group_of) -> "OrderedDict[str, list[tuple[int, Mapping]]]":
    """Per ranking group, (rank, worker) by score, highest first; a vetoed month ranks below every
    passed one; equal scores share a rank and the next rank skips (1, 2, 2, 4) — the rule of the
    period rules' monthly ranking (docs/history.md)."""
    groups: "OrderedDict[str, list[Mapping]]" = OrderedDict()
    for w in sorted(workers, key=lambda w: (key(w), w["worker_id"])):
        groups.setdefault(key(w), []).append(w)
    out: "OrderedDict[str, list[tuple[int, Mapping]]]" = OrderedDict()
    for g, members in groups.items():
        members = sorted(members, key=lambda w: (bool(w.get("failed")), -_d(w["score"]), w["worker_id"]))
        ranked, prev, rank = [], None, 0
        for i, w in enumerate(members):
            k = (bool(w.get("failed")), _d(w["score"]))
            if k != prev:
                rank, prev = i + 1, k
            ranked.append((rank, w))
        out[g] = ranked
    return out


def _band(w: Mapping) -> str:
    if w.get("failed"):
        return "一票否决"
    return (w.get("band") or {}).get("label", "")


def _row(rank: int | None, w: Mapping) -> dict:
    return {"rank": rank, "worker_id": w["worker_id"], "name": w.get("name", ""), "town": w.get("town") or "",
            "community": w.get("community") or "", "grid": w.get("grid") or "", "score": w["score"],
            "stars": w.get("stars"), "band": _band(w), "failed": bool(w.get("failed")),
            "pay": w.get("pay") or "", "payable": w.get("payable", w.get("pay")) or ""}


def _deduction_reasons(w: Mapping, k: int = 3) -> list[str]:
    """The worker's largest deductions, as 'label：reason（−n分）'."""
    ded = [f for f in w.get("findings", []) if f["kind"] in ("deduction", "veto")]
    ded.sort(key=lambda f: (_d(f["points"]), f["rule_id"]))
    return [f"{f['rule_label']}：{f['reason']}" for f in ded[:k]]


# --------------------------------------------------------------------------- bulletin


def bulletin_context(results: Mapping, settings: OfficeSettings, office: dict) -> dict:
    workers = results["workers"]
    scores = [_d(w["score"]) for w in workers]
    bands: "OrderedDict[str, dict]" = OrderedDict()
    for w in sorted(workers, key=lambda w: (bool(w.get("failed")), -_d((w.get("band") or {}).get("ratio") or 0))):
        label = _band(w)
        b = bands.setdefault(label, {"label": label, "range": (w.get("band") or {}).get("range", ""), "count": 0})
        b["count"] += 1
    for b in bands.values():
        b["share"] = _percent(b["count"], len(workers))
    stars: dict[int, int] = {}
    for w in workers:
        if w.get("stars") is not None:
            stars[w["stars"]] = stars.get(w["stars"], 0) + 1

    by = settings.bulletin.group_by
    groups = []
    ranking = month_ranking(workers, key=(lambda w: w.get(by) or "（未填）"))
    for name, ranked in ranking.items():
        members = [w for _, w in ranked]
        comms: "OrderedDict[str, list]" = OrderedDict()
        for w in sorted(members, key=lambda w: (w.get("community") or "", w["worker_id"])):
            comms.setdefault(w.get("community") or "（未填社区）", []).append(w)
        groups.append({
            "name": name, "size": len(members),
            "mean": _mean([_d(w["score"]) for w in members]),
            "max": _num(max(_d(w["score"]) for w in members)), "min": _num(min(_d(w["score"]) for w in members)),
            "communities": [{"name": c, "workers": len(ms), "mean": _mean([_d(w["score"]) for w in ms]),
                             "max": _num(max(_d(w["score"]) for w in ms)),
                             "min": _num(min(_d(w["score"]) for w in ms)),
                             "vetoes": sum(1 for w in ms if w.get("failed"))} for c, ms in comms.items()],
            "ranking": [_row(r, w) for r, w in ranked],
        })

    overall = [(r, w) for r, w in next(iter(month_ranking(workers, key=lambda w: "all").values()), [])]
    best = [dict(_row(r, w), highlights=_bonus_reasons(w)) for r, w in overall[:settings.bulletin.best]
            if not w.get("failed")]
    worst_src = overall[::-1][:settings.bulletin.worst] if settings.bulletin.worst else []
    worst = [dict(_row(r, w), reasons=_deduction_reasons(w)) for r, w in worst_src]
    vetoes = []
    for w in sorted(workers, key=lambda w: w["worker_id"]):
        for v in w.get("vetoes") or []:
            f = next((f for f in w.get("findings", []) if f["kind"] == "veto" and f["rule_id"] == v.get("rule_id")), {})
            vetoes.append(dict(_row(None, w), label=v.get("label", ""), domain=v.get("domain", ""),
                               reason=f.get("reason", "")))
    consequences = []
    for w in sorted(workers, key=lambda w: (w.get("town") or "", w.get("community") or "", w["worker_id"])):
        for f in w.get("period_findings", []):
            if f["kind"] in INFO_KINDS:
                continue
            consequences.append(dict(_row(None, w), rule_id=f["rule_id"], label=f["rule_label"], kind=f["kind"],
                                     reason=f["reason"], amount=f.get("amount", "0.00")))
    return {
        "office": office, "month": _month(results), "title": f"关于{month_label(results['month'])}网格员考核情况的通报",
        "summary": {
            "workers": len(workers), "mean": _mean(scores),
            "max": _num(max(scores)) if scores else "", "min": _num(min(scores)) if scores else "",
            "vetoes": sum(1 for w in workers if w.get("failed")),
            "pay": str(sum((_d(w.get("pay")) for w in workers), ZERO)),
            "withheld": str(sum((_d(w.get("withheld")) for w in workers), ZERO)),
            "payable": str(sum((_d(w.get("payable", w.get("pay"))) for w in workers), ZERO)),
            "rounding": "平均分按四舍五入保留两位小数",
        },
        "bands": list(bands.values()),
        "stars": [{"stars": s, "count": stars[s], "share": _percent(stars[s], len(workers))}
                  for s in sorted(stars, reverse=True)],
        "group_by": "乡镇（街道）" if by == "town" else "社区（村）",
        "groups": groups, "best": best, "worst": worst, "vetoes": vetoes, "consequences": consequences,
        "closing": settings.bulletin.closing,
    }


def _percent(k: int, n: int) -> str:
    if not n:
        return ""
    return str((Decimal(k) * 100 / n).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) + "%"


def _band_range(text: Any) -> str:
    """'[80, 90)' -> '80分及以上、低于90分' (the band's stored interval, read out in Chinese)."""
    if not text:
        return ""
    try:
        return parse_interval(text).human("分")
    except Exception:  # noqa: BLE001 - a range we cannot read is printed as stored
        return str(text)


def _ratio_text(ratio: Any) -> str:
    """'0.9' -> '90%', '0.855' -> '85.5%' (exact: the ratio is the policy's own decimal)."""
    if ratio in (None, ""):
        return ""
    pct = (Decimal(str(ratio)) * 100).normalize()
    return f"{pct:f}%"


def _bonus_reasons(w: Mapping) -> list[str]:
    return [f"{f['rule_label']}：{f['reason']}" for f in w.get("findings", []) if f["kind"] == "bonus"]


# --------------------------------------------------------------------------- criticism and commendation


def criticised(results: Mapping, settings: OfficeSettings) -> list[dict]:
    """Who belongs in this month's 通报批评, each with every reason (rule id, label, sentence)."""
    cfg = settings.criticism
    entries: "OrderedDict[str, dict]" = OrderedDict()
    workers = results["workers"]

    def add(w: Mapping, rule_id: str, label: str, reason: str, amount: str = "0.00") -> None:
        e = entries.setdefault(w["worker_id"], dict(_row(None, w), reasons=[]))
        e["reasons"].append({"rule_id": rule_id, "label": label, "reason": reason, "amount": amount})

    for w in sorted(workers, key=_order):
        if cfg.vetoes:
            for f in w.get("findings", []):
                if f["kind"] == "veto":
                    add(w, f["rule_id"], f["rule_label"], f["reason"])
    if cfg.last_place:
        for group, ranked in month_ranking(workers).items():
            rank_of = {id(w): rank for rank, w in ranked}
            for w in last_places(ranked):   # the period rules' own decision (engine/periods/ranking.py)
                rank = rank_of[id(w)]
                why = "一票否决" if w.get("failed") else f"得分{w['score']}分"
                add(w, "monthly_last_place", "月度排名末位",
                    f"{month_label(results['month'])}在{group}排名末位（第{rank}名，共{len(ranked)}人），{why}")
    if cfg.period_rules:
        for w in sorted(workers, key=_order):
            for f in w.get("period_findings", []):
                if f.get("criticise"):
                    add(w, f["rule_id"], f["rule_label"], f["reason"], f.get("amount", "0.00"))
    return sorted(entries.values(), key=lambda e: (e["town"], e["community"], e["worker_id"]))


def commended(results: Mapping, settings: OfficeSettings) -> list[dict]:
    """Who belongs in this month's 通报表彰, each with every reason."""
    cfg = settings.commendation
    entries: "OrderedDict[str, dict]" = OrderedDict()
    floor = Decimal(cfg.min_score) if cfg.min_score is not None else None

    def add(w: Mapping, rule_id: str, label: str, reason: str) -> None:
        e = entries.setdefault(w["worker_id"], dict(_row(None, w), reasons=[]))
        e["reasons"].append({"rule_id": rule_id, "label": label, "reason": reason, "amount": "0.00"})

    if cfg.top:
        for group, ranked in month_ranking(results["workers"]).items():
            for rank, w in ranked:
                if rank > cfg.top or w.get("failed") or (floor is not None and _d(w["score"]) < floor):
                    continue
                add(w, "monthly_top", "月度排名前列",
                    f"{month_label(results['month'])}在{group}排名第{rank}名（共{len(ranked)}人），得分{w['score']}分")
    if cfg.period_rules:
        for w in sorted(results["workers"], key=_order):
            for f in w.get("period_findings", []):
                if f.get("commend"):
                    add(w, f["rule_id"], f["rule_label"], f["reason"])
    return sorted(entries.values(), key=lambda e: (e["town"], e["community"], e["worker_id"]))


def _order(w: Mapping) -> tuple:
    return (w.get("town") or "", w.get("community") or "", w["worker_id"])


def criticism_context(results: Mapping, settings: OfficeSettings, office: dict) -> dict:
    return {"office": office, "month": _month(results),
            "title": f"关于对{month_label(results['month'])}考核中有关网格员予以通报批评的决定",
            "entries": criticised(results, settings), "closing": settings.criticism.closing}


def commendation_context(results: Mapping, settings: OfficeSettings, office: dict) -> dict:
    return {"office": office, "month": _month(results),
            "title": f"关于对{month_label(results['month'])}考核中表现突出的网格员予以通报表彰的决定",
            "entries": commended(results, settings), "closing": settings.commendation.closing}


# --------------------------------------------------------------------------- slips


def _source_text(src: Mapping | None, event_id: str | None) -> str:
    if not src:
        return ""
    text = f"{src.get('file', '')} 第{src.get('row')}行" if src.get("row") else str(src.get("file", ""))
    return f"事件 {event_id}（{text}）" if event_id else text


def slips_context(results: Mapping, settings: OfficeSettings, office: dict,
                  register: Mapping[str, Mapping] | None = None, towns: Iterable[str] | None = None) -> dict:
    """One slip per worker (optionally only those of some towns), in town, community, id order."""
    rule = settings.privacy.slips
    wanted = set(towns) if towns is not None else None
    slips = []
    for w in sorted(results["workers"], key=_order):
        if wanted is not None and (w.get("town") or "") not in wanted:
            continue
        findings = [{"rule_id": f["rule_id"], "label": f["rule_label"], "item": f.get("item_label") or "",
                     "kind": f["kind"], "points": f["points"], "reason": f["reason"],
                     "source": _source_text(f.get("source"), f.get("event_id"))}
                    for f in w.get("findings", [])]
        period = [{"rule_id": f["rule_id"], "label": f["rule_label"], "reason": f["reason"],
                   "amount": f.get("amount", "0.00"), "info": f["kind"] in INFO_KINDS}
                  for f in w.get("period_findings", [])]
        slips.append(dict(_row(w.get("rank"), w), **_private((register or {}).get(w["worker_id"]), rule),
                          role=w.get("role") or "", employment=w.get("employment") or "",
                          peer_group=w.get("peer_group") or "", peer_rank=w.get("peer_rank"),
                          peer_size=w.get("peer_size"), size=len(results["workers"]),
                          wage=w.get("wage") or "", performance_base=w.get("performance_base") or "",
                          ratio=(w.get("band") or {}).get("ratio", ""),
                          ratio_text=_ratio_text((w.get("band") or {}).get("ratio")), band_range=_band_range((w.get("band") or {}).get("range")),
                          deductions=w.get("deductions", "0"), bonus=w.get("bonus", "0"),
                          withheld=w.get("withheld", "0.00"),
                          item_rows=[dict(i) for i in w.get("items", [])], findings=findings, period=period))
    appeal = None
    if settings.slips.appeal_days:
        appeal = {"days": settings.slips.appeal_days, "to": settings.slips.appeal_to or settings.issuer}
    return {"office": office, "month": _month(results), "title": "网格员月度考核结果通知单",
            "slips": slips, "appeal": appeal, "rounding": results.get("rounding", "")}


# --------------------------------------------------------------------------- pay sheet for signature


def paysheet_context(results: Mapping, settings: OfficeSettings, office: dict) -> dict:
    from ..paysheet import paysheet_rows

    rows = []
    for r in paysheet_rows(results):
        v = dict(r.values)
        rows.append({"kind": r.kind, **{k: ("" if val is None else str(val)) for k, val in v.items()},
                     "ratio_text": _ratio_text(v.get("ratio"))})
    pol = results.get("policy") or {}
    return {"office": office, "month": _month(results),
            "title": f"{month_label(results['month'])}网格员绩效工资发放表",
            "subtitle": f"考核细则：{pol.get('name', '')}（{pol.get('version', '')}）"
                        + ("；已计入跨月规则扣发" if results.get("period_rules_applied") else ""),
            "rows": rows, "rounding": results.get("rounding", "")}


# --------------------------------------------------------------------------- roster


CELL_EM = 10.0      # what fits in a roster day column (30.5 mm at 8 pt), in em


def text_width(text: str) -> float:
    """Printed width in em: CJK and full-width characters 1, others about half."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)


def roster_context(roster: Mapping, settings: OfficeSettings, office: dict,
                   towns: Iterable[str] | None = None) -> dict:
    """Per community and per week (Monday to Sunday, cut at the month's edges), one table that is
    both the grid view and the person view: a row per grid and its own worker, a cell per day that
    is blank when the worker patrols their own grid and otherwise says what happens (休/假 and who
    covers, 顶 for the grids the worker covers besides, 消防 for the fire-safety check); then a row
    per supervisor or manager with their visits.  Only exceptions are printed, so that a county's
    month stays a few hundred pages and the eye finds the changes."""
    d = roster["directory"]
    days = [dt.date.fromisoformat(x) for x in roster["days"]]
    n = len(days)
    cal = d["calendar"]
    labels = d.get("shift_labels") or {}
    people, grids = d["people"], d["grids"]
    weeks: list[list[int]] = []
    for i, day in enumerate(days):
        if not weeks or day.weekday() == 0:
            weeks.append([])
        weeks[-1].append(i)

    def name(pid: str | None) -> str:
        return people.get(pid or "", {}).get("name", pid or "")

    def duty(pid: str, i: int) -> str | None:
        row = roster["duty"].get(people[pid]["duty_row"]) if pid in people else None
        return (row or [None] * n)[i]

    covers: dict[tuple[str, int], list[str]] = {}          # (person, day) -> other grids patrolled
    for g, row in roster["patrol"].items():
        for i, who in enumerate(row):
            if who is not None and who != grids[g]["worker"]:
                covers.setdefault((who, i), []).append(g)
    visits: dict[tuple[str, int], list[str]] = {}
    for pid, g, i in roster.get("visits", []):
        visits.setdefault((pid, i), []).append(g)
    fire = {g: set(v) for g, v in roster.get("fire", {}).items()}

    def listed(prefix: str, items: list[str]) -> str:
        text = prefix + "、".join(items)
        return text if len(items) == 1 or text_width(text) <= CELL_EM else f"{prefix}{items[0]}等{len(items)}格"

    def cover_mark(g: str, who: str) -> str:
        bk = grids[g]["backups"]
        return f"（{chr(ord('B') + bk.index(who))}岗）" if who in bk else "（相邻）"

    def grid_cell(g: str, i: int) -> str:
        w = grids[g]["worker"]
        who = roster["patrol"].get(g, [None] * n)[i]
        parts = []
        if i in people.get(w, {}).get("leave", []):
            parts.append("假")
        elif duty(w, i) is None:
            parts.append("休")
        if who is not None and who != w:
            parts.append("→" + name(who) + cover_mark(g, who))
        elif who is None:
            parts.append("无人巡查")
        extra = sorted(covers.get((w, i), []))
        if extra:
            parts.append(listed("顶", extra))
        if i in fire.get(g, ()):
            parts.append("消防")
        text = " ".join(parts)
        return text if text_width(text) <= CELL_EM else text.replace("岗）", "）").replace(" ", "")

    def person_cell(pid: str, i: int, local: set[str]) -> str:
        if i in people[pid].get("leave", []):
            return "假"
        shift = duty(pid, i)
        if shift is None:
            return "休"
        seen = sorted(g for g in visits.get((pid, i), []) if g in local)
        if seen:
            return listed("走访", seen)
        return "" if shift == "duty" else labels.get(shift, shift)

    def day_head(i: int) -> dict:
        c = cal[i]
        return {"date": f"{days[i].month}/{days[i].day}", "weekday": WEEKDAYS[days[i].weekday()],
                "mark": "节" if c["holiday"] else ("休" if c["rest"] else ""), "key": c["key"],
                "note": c["holiday_name"] or c["key_reason"]}

    def week_label(wk: list[int]) -> str:
        return f"{days[wk[0]].month}月{days[wk[0]].day}日—{days[wk[-1]].month}月{days[wk[-1]].day}日"

    wanted = set(towns) if towns is not None else None
    communities = []
    for cid, c in sorted(d["communities"].items(), key=lambda kv: (kv[1]["town"], kv[0])):
        if wanted is not None and c["town"] not in wanted:
            continue
        local = sorted(g for g, x in grids.items() if x["community"] == cid)
        workers = {grids[g]["worker"] for g in local}
        others = sorted({pid for pid, p in people.items() if p.get("community") == cid and pid not in workers
                         and p["role"] != "巡防队员"}
                        | {pid for (pid, i), gs in visits.items() if any(g in local for g in gs)})
        local_set = set(local)
        communities.append({
            "id": cid, "name": c["name"], "town": c["town"],
            "weeks": [{"label": week_label(wk), "days": [day_head(i) for i in wk],
                       "grids": [{"id": g, "key": grids[g]["key"], "worker": name(grids[g]["worker"]),
                                  "cells": [grid_cell(g, i) for i in wk]} for g in local],
                       "people": [{"name": name(pid), "role": people[pid]["role"],
                                   "cells": [person_cell(pid, i, local_set) for i in wk]} for pid in others]}
                      for wk in weeks]})
    teams = []
    for t, team in sorted(d.get("teams", {}).items()):
        if wanted is not None and team["town"] not in wanted:
            continue
        row = roster["duty"].get(team["duty_row"]) or [None] * n
        teams.append({"id": t, "town": team["town"], "members": "、".join(name(m) for m in team["members"]),
                      "cells": [labels.get(row[i], row[i]) if row[i] else "休" for i in range(n)]})
    month = roster["month"]
    return {"office": office, "title": f"{month_label(month)}网格巡查排班表", "name": roster.get("name", ""),
            "month": {"id": month, "label": month_label(month)}, "communities": communities,
            "teams": teams, "days": [day_head(i) for i in range(n)],
            "legend": "空白＝本人巡查本网格；休/假＝本人休息/请假，→后为顶岗人员（B岗、C岗）或相邻网格联合巡查；"
                      "顶＝本人另巡的网格；消防＝出租房屋消防安全检查；表头“节”为法定节假日、“休”为休息日、“重”为重点日"}


# --------------------------------------------------------------------------- boards and cards


def register_context(register: list[Mapping], settings: OfficeSettings, office: dict, doc: str) -> dict:
    """Grid boards or contact cards from the worker register, masked as the settings say for `doc`."""
    rule = settings.privacy[doc]
    duties = settings.boards.duties
    people = []
    for w in sorted(register, key=lambda w: (w.get("town") or "", w.get("community") or "", w.get("grid") or "",
                                             w["worker_id"])):
        people.append({"worker_id": w["worker_id"], "name": w.get("name", ""), "town": w.get("town") or "",
                       "community": w.get("community") or "", "grid": w.get("grid") or "",
                       "role": w.get("role") or "网格员", "employment": w.get("employment") or "",
                       "duties": w.get("duties") or duties.get(w.get("role") or "", duties.get("default", "")),
                       **_private(w, rule)})
    return {"office": office, "title": "网格公示牌" if doc == "boards" else "网格员服务联系卡",
            "people": people, "hotline": settings.boards.hotline}
