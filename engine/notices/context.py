"""Plain data for the notice templates, built from a stored month, a roster and the register.

Templates receive only dicts, lists, strings and numbers (never live objects), so an edited
template can read data but not call into the engine.  Every number a notice prints comes from
results.json as stored (scores and money are decimal strings, already rounded once by the
scorer); the only arithmetic here is counting, sums of fen amounts, and means, which are
rounded once to 2 decimals, ROUND_HALF_UP, and say so.  Personal data is masked *here*, per
document and as the office settings say, so no template can print more than its purpose needs.

What a worker or the public reads is written as an office writes it (issue 11.2): mainland
quotation marks, no space between a number and its unit, no sentence said twice in one item, no
rule ids, input file names or row numbers (those stay in findings.csv and the detail views).
Towns, communities, grids and workers come in the office's order (engine/ordering.py), and a
public list never cuts inside a tie (issue 11.5).
"""
from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping

from ..intervals import parse_interval
from ..ordering import OfficeOrder, natural_key
from ..paysheet import paid_band
from ..periods import grade_counts, last_places, month_label
from ..periods.months import period_label
from .settings import FieldPrivacy, OfficeSettings
from .wording import band_phrase, labelled, money_text, tidy

__all__ = ["DocNumber", "office_context", "bulletin_context", "criticism_context", "commendation_context",
           "slips_context", "paysheet_context", "roster_context", "shift_roster_context", "is_shift_roster", "register_context", "mask_phone", "mask_id",
           "criticised", "commended", "month_ranking", "office_order", "tidy", "top_with_ties"]

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


# --------------------------------------------------------------------------- wording


def _ratio_text(ratio: Any) -> str:
    """'0.9' -> '90%', '0.855' -> '85.5%' (exact: the ratio is the policy's own decimal)."""
    if ratio in (None, ""):
        return ""
    pct = (Decimal(str(ratio)) * 100).normalize()
    return f"{pct:f}%"


# --------------------------------------------------------------------------- privacy


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


def office_context(settings: OfficeSettings, number: Mapping | None, date: str, draft: str | None = None) -> dict:
    """The 公文 frame: header, number, addressees, issuer, date, 版记.  `draft` (送审稿, 征求意见稿)
    prints that word across the pages and leaves the number empty."""
    return {
        "header": settings.header_text,
        "issuer": settings.signature_text,        # one name for the office in header, text and signature
        "full_name": settings.issuer,
        "signature": settings.signature_text,
        "number": "" if draft else (number or {}).get("text", ""),
        "draft": draft or "",
        "addressees": settings.addressees,
        "date": date,
        "cc": "、".join(settings.cc),
        "printed_by": settings.printed_by_text,
        "contact": settings.contact.model_dump() if settings.contact else None,
        "unit": settings.unit_text,
    }


def _month(results: Mapping, settings: OfficeSettings | None = None) -> dict:
    m = results["month"]
    pol = results.get("policy") or {}
    show = settings is not None and settings.show_policy_version and pol.get("version")
    return {"id": m, "label": month_label(m), "year": int(m[:4]), "month": int(m[5:7]),
            "policy": {"name": pol.get("name", ""), "version": pol.get("version", "") if show else "",
                       "full_score": pol.get("full_score", "100")},
            "period_rules": bool(results.get("period_rules_applied"))}


def office_order(results: Mapping, settings: OfficeSettings) -> OfficeOrder:
    """The office's order: towns and communities as the settings list them, then as the register."""
    return OfficeOrder(results["workers"], settings.order.towns, settings.order.communities)


# --------------------------------------------------------------------------- ranking


def _group_of(w: Mapping) -> str:
    return w.get("peer_group") or w.get("town") or "全部"


def month_ranking(workers: list[Mapping], key=_group_of, order: OfficeOrder | None = None
                  ) -> "OrderedDict[str, list[tuple[int, Mapping]]]":
    """Per ranking group (in the office's order), (rank, worker) by score, highest first; a vetoed
    month ranks below every passed one; equal scores share a rank and the next rank skips
    (1, 2, 2, 4) — the rule of the period rules' monthly ranking (docs/history.md).  Equal ranks
    are listed in the office's order."""
    order = order or OfficeOrder(workers)
    groups: "OrderedDict[str, list[Mapping]]" = OrderedDict()
    for w in order.sorted(workers):
        groups.setdefault(key(w), []).append(w)
    out: "OrderedDict[str, list[tuple[int, Mapping]]]" = OrderedDict()
    for g, members in groups.items():
        members = sorted(members, key=lambda w: (bool(w.get("failed")), -_d(w["score"])))   # stable: office order
        ranked, prev, rank = [], None, 0
        for i, w in enumerate(members):
            k = (bool(w.get("failed")), _d(w["score"]))
            if k != prev:
                rank, prev = i + 1, k
            ranked.append((rank, w))
        out[g] = ranked
    return out


def top_with_ties(ranked: list[tuple[int, Any]], n: int, ties: str, place: str = "第"
                  ) -> tuple[list[tuple[int, Any]], str]:
    """The first `n` of a ranking for a public list, never cut inside a tie: with ties 'all' the
    whole tie across the cut is in (the list is longer), with 'none' it is out (shorter).
    Returns the list and a sentence saying what happened at the cut ('' when nothing did);
    `place` is how the sentence names a rank (第, or 倒数第 for the bottom of a table)."""
    if n <= 0 or not ranked:
        return [], ""
    if len(ranked) <= n:
        return list(ranked), ""
    cut_rank = ranked[n - 1][0]
    tied = [x for x in ranked if x[0] == cut_rank]
    if ranked[n][0] != cut_rank:
        return list(ranked[:n]), ""
    before = [x for x in ranked if x[0] < cut_rank]
    if ties == "all":
        return before + tied, f"{place}{cut_rank}名{len(tied)}人并列，均列入"
    return before, f"{place}{cut_rank}名{len(tied)}人并列，超出{n}人的名额，均未列入"


def _row(rank: int | None, w: Mapping) -> dict:
    band = paid_band(w)
    return {"rank": rank, "worker_id": w["worker_id"], "name": w.get("name", ""), "town": w.get("town") or "",
            "community": w.get("community") or "", "grid": w.get("grid") or "", "score": w["score"],
            "stars": w.get("stars"), "band": band.get("label", ""), "failed": bool(w.get("failed")),
            "pay": w.get("pay") or "", "payable": w.get("payable", w.get("pay")) or ""}


def _deduction_reasons(w: Mapping, k: int = 3) -> list[str]:
    """The worker's largest deductions, as 'label：reason'."""
    ded = [f for f in w.get("findings", []) if f["kind"] in ("deduction", "veto")]
    ded.sort(key=lambda f: (_d(f["points"]), f["rule_id"]))
    return [labelled(f["rule_label"], f["reason"]) for f in ded[:k]]


def _bonus_reasons(w: Mapping) -> list[str]:
    return [labelled(f["rule_label"], f["reason"]) for f in w.get("findings", []) if f["kind"] == "bonus"]


# --------------------------------------------------------------------------- bulletin


def _percent(k: int, n: int) -> str:
    if not n:
        return ""
    return str((Decimal(k) * 100 / n).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) + "%"


def _band_range(text: Any) -> str:
    """'[80, 90)' -> '80分及以上、低于90分' (the band's stored interval, read out in Chinese)."""
    if not text:
        return ""
    try:
        return tidy(parse_interval(text).human("分"))
    except Exception:  # noqa: BLE001 - a range we cannot read is printed as stored
        return str(text)


def bulletin_context(results: Mapping, settings: OfficeSettings, office: dict) -> dict:
    workers = results["workers"]
    order = office_order(results, settings)
    scores = [_d(w["score"]) for w in workers]
    bands: "OrderedDict[str, dict]" = OrderedDict()
    for w in sorted(workers, key=lambda w: (bool(paid_band(w).get("vetoes")), -_d(paid_band(w).get("ratio") or 0))):
        band = paid_band(w)
        label = band.get("label", "")
        b = bands.setdefault(label, {"label": label, "range": band.get("range", ""), "count": 0})
        b["count"] += 1
    for b in bands.values():
        b["share"] = _percent(b["count"], len(workers))
        b["phrase"] = band_phrase(b["label"], b["count"])
    stars: dict[int, int] = {}
    for w in workers:
        if w.get("stars") is not None:
            stars[w["stars"]] = stars.get(w["stars"], 0) + 1

    by = settings.bulletin.group_by
    groups = []
    group_key = (lambda w: w.get(by) or "（未填）")
    for name, ranked in month_ranking(workers, key=group_key, order=order).items():
        members = [w for _, w in ranked]
        comms: "OrderedDict[str, list]" = OrderedDict()
        for w in order.sorted(members):
            comms.setdefault(w.get("community") or "（未填社区）", []).append(w)
        groups.append({
            "name": name, "size": len(members),
            "mean": _mean([_d(w["score"]) for w in members]),
            "max": _num(max(_d(w["score"]) for w in members)), "min": _num(min(_d(w["score"]) for w in members)),
            "vetoes": sum(1 for w in members if w.get("failed")),
            "communities": [{"name": c, "workers": len(ms), "mean": _mean([_d(w["score"]) for w in ms]),
                             "max": _num(max(_d(w["score"]) for w in ms)),
                             "min": _num(min(_d(w["score"]) for w in ms)),
                             "vetoes": sum(1 for w in ms if w.get("failed"))} for c, ms in comms.items()],
            "ranking": [_row(r, w) for r, w in ranked],
        })

    overall = next(iter(month_ranking(workers, key=lambda w: "all", order=order).values()), [])
    cfg = settings.bulletin
    # the bottom of the table, counted from the end (ranks from the bottom), among those with
    # something to improve: a veto, or a deduction and a place in the lower half of the table (in a
    # town of five with worst: 5, the one who lost 2 points and ranks first is not 需要改进)
    bottom = _from_bottom([(r, w) for r, w in overall
                           if w.get("failed") or (_d(w.get("deductions")) > 0 and 2 * r > len(overall))])
    worst_src, worst_note = top_with_ties(bottom, cfg.worst, cfg.ties, "倒数第")
    worst = [dict(_row(r, w), reasons=_deduction_reasons(w)) for r, w in (x[1] for x in worst_src)]
    # 表现突出 from the top, never a worker the same notice names as 需要改进 (a small office)
    named = {w["worker_id"] for w in worst}
    passed = [(r, w) for r, w in overall if not w.get("failed") and w["worker_id"] not in named]
    best_src, best_note = top_with_ties(passed, cfg.best, cfg.ties)
    best = [dict(_row(r, w), highlights=_bonus_reasons(w)) for r, w in best_src]
    vetoes = []
    for w in order.sorted(workers):
        for v in w.get("vetoes") or []:
            f = next((f for f in w.get("findings", []) if f["kind"] == "veto" and f["rule_id"] == v.get("rule_id")), {})
            vetoes.append(dict(_row(None, w), label=v.get("label", ""), domain=v.get("domain", ""),
                               reason=labelled(v.get("label", ""), f.get("reason", "")) if f else v.get("label", "")))
    consequences = []
    for w in order.sorted(workers):
        for f in w.get("period_findings", []):
            if f["kind"] in INFO_KINDS:
                continue
            consequences.append(dict(_row(None, w), rule_id=f["rule_id"], label=f["rule_label"], kind=f["kind"],
                                     reason=labelled(f["rule_label"], f["reason"]), amount=f.get("amount", "0.00")))
    title = f"关于{month_label(results['month'])}网格员考核情况的通报"
    group_label = "乡镇（街道）" if by == "town" else "社区（村）"
    attachments = []
    if cfg.ranking == "attachment":
        attachments.append({"title": f"{month_label(results['month'])}各{group_label}网格员考核排名",
                            "kind": "ranking"})
    month = _month(results, settings)
    summary = {
        "workers": len(workers), "mean": _mean(scores),
        "max": _num(max(scores)) if scores else "", "min": _num(min(scores)) if scores else "",
        "vetoes": sum(1 for w in workers if w.get("failed")),
        "pay": str(sum((_d(w.get("pay")) for w in workers), ZERO)),
        "withheld": str(sum((_d(w.get("withheld")) for w in workers), ZERO)),
        "payable": str(sum((_d(w.get("payable", w.get("pay"))) for w in workers), ZERO)),
        "rounding": "平均分按四舍五入保留两位小数",
    }
    star_list = [{"stars": s, "count": stars[s], "share": _percent(stars[s], len(workers))}
                 for s in sorted(stars, reverse=True)]
    band_list = list(bands.values())
    summary["grades"] = [{"label": label, "counts": [{"grade": g, "count": k} for g, k in counts]}
                         for label, counts in grade_counts(workers)]
    summary["text"] = _summary_text(summary, band_list, star_list, month["period_rules"])
    for g in groups:
        g["text"] = (f"共{g['size']}人，平均得分{g['mean']}分，最高{g['max']}分，最低{g['min']}分"
                     + (f"，一票否决{g['vetoes']}人" if g["vetoes"] else "") + "。")
    for r in worst:
        r["text"] = tidy(f"{r['community']}{r['name']}，得分{r['score']}分"
                         + (f"，主要扣分：{'；'.join(_bare(x) for x in r['reasons'])}" if r["reasons"] else "") + "。")
    for v in vetoes:
        v["text"] = f"{v['community']}{v['name']}：{_bare(v['reason'])}。"
    for c in consequences:
        c["text"] = (f"{c['community']}{c['name']}：{_bare(c['reason'])}"
                     + (f"（本月扣发{money_text(c['amount'])}元）" if _d(c["amount"]) else "") + "。")
    best_text = ""
    if best:
        best_text = ("、".join(f"{r['community']}{r['name']}（{r['score']}分）" for r in best)
                     + "本月考核成绩位居前列，工作扎实，予以肯定。" + (f"（{best_note}。）" if best_note else ""))
    policy = month["policy"]
    intro = (f"根据《{policy['name']}》" + (f"（{policy['version']}）" if policy["version"] else "")
             + f"，{office['issuer']}对{month['label']}全体网格员的工作进行了考核。现将考核情况通报如下：")
    return {
        "office": office, "month": month, "title": title, "intro": intro, "summary": summary,
        "bands": band_list, "stars": star_list,
        "group_by": group_label,
        "groups": groups, "best": best, "best_note": best_note, "best_text": best_text,
        "worst": worst, "worst_note": f"（{worst_note}。）" if worst_note else "",
        "vetoes": vetoes, "consequences": consequences,
        "ranking_in": cfg.ranking, "attachments": attachments,
        "ranking_note": f"各{group_label}的社区（村）得分情况和网格员考核排名见附件。" if attachments else "",
        "closing": settings.bulletin.closing,
    }


def _bare(text: str) -> str:
    """A reason without its closing punctuation, to go inside a sentence."""
    return str(text).rstrip("。；，;,. ")


def _summary_text(summary: Mapping, bands: list[dict], stars: list[dict], period_rules: bool) -> str:
    text = (f"本月共考核网格员{summary['workers']}名，平均得分{summary['mean']}分，"
            f"最高{summary['max']}分，最低{summary['min']}分。")
    if bands:
        text += "；".join(f"{b['phrase']}（占{b['share']}）" for b in bands) + "。"
    if stars:
        text += "星级评定：" + "，".join(f"{s['stars']}星{s['count']}人" for s in stars) + "。"
    for g in summary.get("grades", ()):
        text += f"{g['label']}：" + "，".join(f"“{c['grade']}”{c['count']}人" for c in g["counts"]) + "。"
    if summary["vetoes"] and not any(b["label"] == "一票否决" for b in bands):
        text += f"被一票否决{summary['vetoes']}人。"
    text += f"本月应发绩效工资合计{money_text(summary['pay'])}元"
    if period_rules:
        if _d(summary["withheld"]):
            text += f"，按跨月规则扣发{money_text(summary['withheld'])}元，实发{money_text(summary['payable'])}元"
        else:
            text += "，无跨月规则扣发"
    return text + f"。（{summary['rounding']}）"


def _from_bottom(ranked: list[tuple[int, Mapping]]) -> list[tuple[int, tuple[int, Mapping]]]:
    """The ranking read from its end, with ranks counted from the bottom (equal places share one),
    so that the bottom-n list cuts between places exactly as the top-n list does."""
    out, prev, rank = [], None, 0
    for i, (r, w) in enumerate(reversed(ranked)):
        if r != prev:
            rank, prev = i + 1, r
        out.append((rank, (r, w)))
    return out


# --------------------------------------------------------------------------- criticism and commendation


def _entry(w: Mapping) -> dict:
    return dict(_row(None, w), reasons=[])


def criticised(results: Mapping, settings: OfficeSettings) -> list[dict]:
    """Who belongs in this month's 通报批评, each with every reason (rule id, label, sentence)."""
    cfg = settings.criticism
    order = office_order(results, settings)
    entries: "OrderedDict[str, dict]" = OrderedDict()
    workers = order.sorted(results["workers"])

    def add(w: Mapping, rule_id: str, label: str, reason: str, amount: str = "0.00") -> None:
        e = entries.setdefault(w["worker_id"], _entry(w))
        e["reasons"].append({"rule_id": rule_id, "label": label, "reason": tidy(reason), "amount": amount})

    for w in workers:
        if cfg.vetoes:
            for f in w.get("findings", []):
                if f["kind"] == "veto" and f["reason"]:
                    add(w, f["rule_id"], f["rule_label"], labelled(f["rule_label"], f["reason"]))
    if cfg.last_place:
        for group, ranked in month_ranking(workers, order=order).items():
            rank_of = {id(w): rank for rank, w in ranked}
            for w in last_places(ranked):   # the period rules' own decision (engine/periods/ranking.py)
                # (the score is in the entry's head; a veto is named by its own reason)
                add(w, "monthly_last_place", "月度排名末位",
                    f"{month_label(results['month'])}在{group}排名末位（第{rank_of[id(w)]}名，共{len(ranked)}人）")
    if cfg.period_rules:
        for w in workers:
            for f in w.get("period_findings", []):
                if f.get("criticise"):
                    add(w, f["rule_id"], f["rule_label"], f["reason"], f.get("amount", "0.00"))
    return sorted(entries.values(), key=lambda e: order.worker_key(e))


def commended(results: Mapping, settings: OfficeSettings) -> list[dict]:
    """Who belongs in this month's 通报表彰, each with every reason."""
    cfg = settings.commendation
    order = office_order(results, settings)
    entries: "OrderedDict[str, dict]" = OrderedDict()
    floor = Decimal(cfg.min_score) if cfg.min_score is not None else None

    def add(w: Mapping, rule_id: str, label: str, reason: str) -> None:
        e = entries.setdefault(w["worker_id"], _entry(w))
        e["reasons"].append({"rule_id": rule_id, "label": label, "reason": tidy(reason), "amount": "0.00"})

    if cfg.top:
        month = month_label(results["month"])
        for group, ranked in month_ranking(results["workers"], order=order).items():
            eligible = [(r, w) for r, w in ranked
                        if not w.get("failed") and (floor is None or _d(w["score"]) >= floor)]
            chosen, _note = top_with_ties(eligible, cfg.top, cfg.ties)
            for rank, w in chosen:
                tied = sum(1 for r, _ in ranked if r == rank)
                place = f"并列第{rank}名（{tied}人并列，" if tied > 1 else f"排名第{rank}名（"
                add(w, "monthly_top", "月度排名前列", f"{month}在{group}{place}共{len(ranked)}人）")
    if cfg.period_rules:
        for w in order.sorted(results["workers"]):
            for f in w.get("period_findings", []):
                if f.get("commend"):
                    add(w, f["rule_id"], f["rule_label"], f["reason"])
    return sorted(entries.values(), key=lambda e: order.worker_key(e))


def _entry_text(e: Mapping, amounts: bool) -> str:
    """'鹤山镇东村社区网格员杨洋（网格1-1-03，本月得分70分）：reason；reason（本月扣发416.00元）。'"""
    named_veto = any(r["rule_id"] != "monthly_last_place" and "一票否决" in r["reason"] for r in e["reasons"])
    head = (f"{e['town']}{e['community']}网格员{e['name']}（网格{e['grid']}，本月得分{e['score']}分"
            + ("，一票否决" if e["failed"] and not named_veto else "") + "）：")
    parts = [_bare(r["reason"]) + (f"（本月扣发{money_text(r['amount'])}元）" if amounts and _d(r["amount"]) else "")
             for r in e["reasons"]]
    return tidy(head + "；".join(parts) + "。")


def _entries_context(results: Mapping, settings: OfficeSettings, office: dict, entries: list[dict], *,
                     criticism: bool) -> dict:
    month = _month(results, settings)
    for e in entries:
        e["text"] = _entry_text(e, amounts=criticism)
    basis = f"{month['label']}，{office['issuer']}依据《{month['policy']['name']}》" + (
        f"（{month['policy']['version']}）" if month["policy"]["version"] else "") + "对全体网格员进行了考核。"
    if criticism:
        intro = basis + f"经考核，以下{len(entries)}名网格员工作存在明显差距，现予以通报批评："
        title = f"关于对{month['label']}考核中有关网格员予以通报批评的决定"
    else:
        intro = basis + f"以下{len(entries)}名网格员履职尽责、成绩突出，现予以通报表彰："
        title = f"关于对{month['label']}考核中表现突出的网格员予以通报表彰的决定"
    cfg = settings.criticism if criticism else settings.commendation
    return {"office": office, "month": month, "title": title, "intro": intro, "entries": entries,
            "closing": cfg.closing}


def criticism_context(results: Mapping, settings: OfficeSettings, office: dict) -> dict:
    return _entries_context(results, settings, office, criticised(results, settings), criticism=True)


def commendation_context(results: Mapping, settings: OfficeSettings, office: dict) -> dict:
    return _entries_context(results, settings, office, commended(results, settings), criticism=False)


# --------------------------------------------------------------------------- slips


def slips_context(results: Mapping, settings: OfficeSettings, office: dict,
                  register: Mapping[str, Mapping] | None = None, towns: Iterable[str] | None = None) -> dict:
    """One slip per worker (optionally only those of some towns), in the office's order.  A slip
    is handed to the worker: rule ids, file names and row numbers stay in findings.csv."""
    rule = settings.privacy.slips
    wanted = set(towns) if towns is not None else None
    slips = []
    for w in office_order(results, settings).sorted(results["workers"]):
        if wanted is not None and (w.get("town") or "") not in wanted:
            continue
        findings = [{"rule_id": f["rule_id"], "label": f["rule_label"], "item": f.get("item_label") or "",
                     "kind": f["kind"], "points": f["points"], "points_text": _points_text(f),
                     "reason": tidy(f["reason"])}
                    for f in w.get("findings", [])]
        period = [{"rule_id": f["rule_id"], "label": f["rule_label"], "reason": labelled(f["rule_label"], f["reason"]),
                   "amount": f.get("amount", "0.00"), "info": f["kind"] in INFO_KINDS}
                  for f in w.get("period_findings", [])]
        # the grades of the month and of a period ending with it: the result itself, beside the pay band
        grades = [{"label": f["rule_label"], "grade": f["grade_label"], "period": period_label(f["months"][-1], span)
                   if (span := f.get("period") or ("year" if f["kind"] == "annual_grade" else "month")) != "month" else "",
                   "score": f.get("score") or ""}
                  for f in w.get("period_findings", []) if f.get("grade_label") is not None]
        band = paid_band(w)
        score_band = band.get("score_band") or {}
        slips.append(dict(_row(w.get("rank"), w), **_private((register or {}).get(w["worker_id"]), rule),
                          role=w.get("role") or "", employment=w.get("employment") or "",
                          peer_group=w.get("peer_group") or "", peer_rank=w.get("peer_rank"),
                          peer_size=w.get("peer_size"), size=len(results["workers"]),
                          wage=w.get("wage") or "", performance_base=w.get("performance_base") or "",
                          ratio=w.get("pay_ratio") or band.get("ratio", ""),
                          ratio_text=_ratio_text(w.get("pay_ratio") or band.get("ratio")),
                          band_range=_band_range(band.get("range")),
                          band_reason=tidy(band.get("reason", "")).removeprefix(band.get("label", "") + "："),
                          score_band=score_band.get("label", ""),
                          deductions=w.get("deductions", "0"), bonus=w.get("bonus", "0"),
                          withheld=w.get("withheld", "0.00"),
                          item_rows=[dict(i) for i in w.get("items", [])], findings=findings, period=period,
                          grades=grades))
    appeal = None
    if settings.slips.appeal_days:
        appeal = {"days": settings.slips.appeal_days, "to": settings.slips.appeal_to or office["signature"]}
    return {"office": office, "month": _month(results, settings), "title": "网格员月度考核结果通知单",
            "slips": slips, "appeal": appeal, "rounding": results.get("rounding", "")}


def _points_text(f: Mapping) -> str:
    """A finding's effect as a slip says it: 扣6分, 加2分, 得2分 (an earn item's rule), 退回2分 (扣完为止, or an earn
    item brought up to 0), 扣回1分 (加分封顶, or an earn item's points above its value); an earn item's
    starting point says itself (为得分项，从0分起计)."""
    p = _d(f["points"])
    if not p or f["kind"] == "earn_base":
        return ""
    amount = _num(abs(p).normalize() if abs(p) != abs(p).to_integral_value() else abs(p).to_integral_value())
    if f["kind"] in ("cap", "bonus_cap"):
        return f"{'扣回' if p < 0 else '退回'}{amount}分"
    if f["kind"] == "earn":
        return f"得{amount}分"
    return f"{'扣' if p < 0 else '加'}{amount}分"


# --------------------------------------------------------------------------- pay sheet for signature


NOTE_ROWS = 0.6      # a 扣发原因 line under a worker's row takes about this many rows of paper


def paysheet_context(results: Mapping, settings: OfficeSettings, office: dict) -> dict:
    """The pay sheet to sign, page by page: per town, a fixed number of rows a page with its
    本页小计, the town's total with 合计（大写）and the signature line; 汇总 last for several towns."""
    from ..paysheet import SIGN_LINE, town_sheets
    from ..rmb import rmb_upper
    from ..sheets import ROUNDING_NOTE

    def text(vals: Mapping) -> dict:
        return {k: ("" if v is None else str(v)) for k, v in vals.items()}

    def weight(r) -> float:
        return 1.0 + (NOTE_ROWS if r.kind == "明细" and r.values["withheld_reason"] else 0.0)

    towns, grand = town_sheets(results, office_order(results, settings),
                               rows_per_page=settings.paysheet.rows_per_page, weight=weight)
    pages = []
    for t in towns:
        for i, p in enumerate(t.pages, 1):
            rows = []
            for r in p.rows:
                v = text(r.values)
                v["kind"] = r.kind
                v["ratio_text"] = _ratio_text(r.values.get("ratio"))
                v["withheld_reason"] = _short_reason(r.values.get("withheld_reason", ""))
                rows.append(v)
            pages.append({"town": t.town, "number": i, "of": len(t.pages), "rows": rows,
                          "subtotal": text(p.subtotal.values), "last": p.last,
                          "total": text(t.total.values) if p.last else None, "upper": t.upper if p.last else ""})
    pol = results.get("policy") or {}
    month = _month(results, settings)
    subtitle = f"考核细则：《{pol.get('name', '')}》" + (f"（{month['policy']['version']}）" if month["policy"]["version"] else "")
    if results.get("period_rules_applied"):
        subtitle += "；已计入跨月规则扣发"
    summary = None
    if len(towns) > 1:
        summary = {"towns": [dict(text(t.total.values), town=t.town) for t in towns], "total": text(grand.values),
                   "upper": rmb_upper(grand.values["payable"])}
    return {"office": office, "month": month,
            "title": f"{month_label(results['month'])}网格员绩效工资发放表",
            "subtitle": subtitle, "pages": pages, "summary": summary, "sign_line": list(SIGN_LINE),
            "prepared_by": settings.paysheet.prepared_by, "checked_by": settings.paysheet.checked_by,
            "rounding": results.get("rounding", ""), "rounding_note": ROUNDING_NOTE}


def _short_reason(text: str) -> str:
    """The 扣发原因 line under a row on the printed sheet: each reason's label and amount (the
    sentence itself is on the worker's slip and in the .xlsx), so that the line stays one line."""
    if not text:
        return ""
    out = []
    for part in text.split("；"):
        label, _, rest = part.partition("：")
        m = re.search(r"（([\d,.]+元)）$", rest)
        out.append(f"{label}（{m[1]}）" if m else tidy(part))
    return "；".join(out)


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
    per supervisor or manager with their visits, every grid named (a long cell takes more lines).
    Only exceptions are printed, so that a county's month stays a few hundred pages and the eye
    finds the changes.  Communities in the office's order, grids in natural order."""
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
        return prefix + "、".join(sorted(items, key=natural_key))

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
        extra = covers.get((w, i), [])
        if extra:
            parts.append(listed("顶", extra))
        if i in fire.get(g, ()):
            parts.append("消防")
        text = " ".join(parts)
        return text if text_width(text) <= CELL_EM else text.replace("岗）", "）")

    def person_cell(pid: str, i: int, local: set[str]) -> str:
        if i in people[pid].get("leave", []):
            return "假"
        shift = duty(pid, i)
        if shift is None:
            return "休"
        seen = [g for g in visits.get((pid, i), []) if g in local]
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

    order = OfficeOrder([], settings.order.towns, settings.order.communities)
    for cid, c in d["communities"].items():          # the roster's own order after the settings'
        order.add(c["town"], c["name"])
    wanted = set(towns) if towns is not None else None
    communities = []
    for cid, c in sorted(d["communities"].items(), key=lambda kv: order.community_key(kv[1]["town"], kv[1]["name"])):
        if wanted is not None and c["town"] not in wanted:
            continue
        local = sorted((g for g, x in grids.items() if x["community"] == cid), key=natural_key)
        workers = {grids[g]["worker"] for g in local}
        others = sorted({pid for pid, p in people.items() if p.get("community") == cid and pid not in workers
                         and p["role"] != "巡防队员"}
                        | {pid for (pid, i), gs in visits.items() if any(g in local for g in gs)}, key=natural_key)
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
    for t, team in sorted(d.get("teams", {}).items(), key=lambda kv: (order.town_key(kv[1]["town"]), natural_key(kv[0]))):
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
                      "顶＝本人另巡的网格；走访＝当天走访的网格；消防＝出租房屋消防安全检查；"
                      "表头“节”为法定节假日、“休”为休息日、“重”为重点日"}


PAGE_MM = 277.0          # the width of landscape A4 inside the sheet margins
NAME_MM, SEQ_MM, TOTAL_MM = 17.0, 7.0, 8.5
MAX_BLOCK_DAYS = 31     # days side by side on one page width; a longer period is cut at a Monday


def is_shift_roster(roster: Mapping) -> bool:
    return roster.get("kind", "patrol") == "shifts"


def shift_roster_context(roster: Mapping, office: dict) -> dict:
    """A duty room's roster by person and shift, as it is pinned on the wall: a row per person in
    the problem's order with a shift code a day (休 rest, 假 leave), then per shift the people on
    duty against the people wanted each day, the period's totals per person (shifts, each shift,
    hours, weekend and holiday days, leave), the legend with each shift's times and hours, the
    shortages and surpluses named, and the signatures.  A period longer than MAX_BLOCK_DAYS is cut
    into blocks of whole weeks; the totals are printed with the last block."""
    d = roster["directory"]
    days = [dt.date.fromisoformat(x) for x in roster["days"]]
    n = len(days)
    cal = d["calendar"]
    shifts = d.get("shifts") or {}
    ids = [s for s in shifts if s in (d.get("demand") or {})] or [s for s in shifts if s != "duty"]
    demand = d.get("demand") or {}
    people = list(d["people"].items())
    duty = {pid: (roster["duty"].get(x["duty_row"]) or [None] * n) for pid, x in people}

    def label(s: str) -> str:
        return shifts.get(s, {}).get("label", s)

    has_holiday = any(c["holiday"] for c in cal)
    has_leave = any(x.get("leave") for _, x in people)
    total_head = ["班数"] + [label(s) for s in ids] + ["工时", "周末"] + (["节假日"] if has_holiday else []) \
        + (["请假"] if has_leave else [])

    def totals(pid: str) -> list:
        row = duty[pid]
        worked = [i for i in range(n) if row[i]]
        minutes = sum(shifts.get(row[i], {}).get("minutes") or 0 for i in worked)
        out = [len(worked)] + [sum(1 for i in worked if row[i] == s) for s in ids]
        out += [f"{minutes / 60:g}" if minutes else "", sum(1 for i in worked if cal[i]["weekend"] and cal[i]["rest"]
                                                             and not cal[i]["holiday"])]
        if has_holiday:
            out.append(sum(1 for i in worked if cal[i]["holiday"]))
        if has_leave:
            out.append(len(d["people"][pid].get("leave") or []))
        return out

    def cell(pid: str, i: int) -> dict:
        s = duty[pid][i]
        if i in (d["people"][pid].get("leave") or []):
            return {"text": "假", "cls": "leave"}
        if not s:
            return {"text": "休", "cls": "off"}
        return {"text": label(s), "cls": "night" if shifts.get(s, {}).get("night") else ""}

    short, over = [], []

    def count(s: str, i: int) -> dict:
        on = sum(1 for pid, _ in people if duty[pid][i] == s)
        want = (demand.get(s) or [None] * n)[i]
        if want is None:
            return {"text": str(on) if on else "", "cls": ""}
        where = (i, ids.index(s), f"{days[i].month}月{days[i].day}日{label(s)}（{on}/{want[0]}）")
        if on < want[0]:
            short.append(where)
        elif on > want[0]:
            over.append(where)
        return {"text": f"{on}/{want[0]}", "cls": "short" if on < want[0] else ("over" if on > want[0] else "")}

    def head(i: int) -> dict:
        c = cal[i]
        return {"day": days[i].day, "month": days[i].month if i == 0 or days[i].day == 1 else None,
                "weekday": WEEKDAYS[days[i].weekday()],
                "cls": "holiday" if c["holiday"] else ("rest" if c["rest"] else ("workday" if c["weekend"] else "")),
                "mark": "节" if c["holiday"] else ("班" if c["weekend"] and not c["rest"] else "")}

    weeks: list[list[int]] = []
    for i in range(n):
        if not weeks or days[i].weekday() == 0:
            weeks.append([])
        weeks[-1].append(i)
    blocks: list[list[int]] = [[]]
    for wk in weeks if n > MAX_BLOCK_DAYS else [list(range(n))]:
        if blocks[-1] and len(blocks[-1]) + len(wk) > MAX_BLOCK_DAYS:
            blocks.append([])
        blocks[-1].extend(wk)
    out_blocks = []
    for b, block in enumerate(blocks):
        last = b == len(blocks) - 1
        width = PAGE_MM - SEQ_MM - NAME_MM - (TOTAL_MM * len(total_head) if last else 0)
        out_blocks.append({
            "label": f"{days[block[0]].month}月{days[block[0]].day}日—{days[block[-1]].month}月{days[block[-1]].day}日",
            "days": [head(i) for i in block], "day_mm": f"{width / len(block):.2f}", "totals": last,
            "rows": [{"seq": k + 1, "name": x["name"], "cells": [cell(pid, i) for i in block],
                      "totals": totals(pid) if last else []} for k, (pid, x) in enumerate(people)],
            "counts": [{"label": label(s), "cells": [count(s, i) for i in block]} for s in ids]})
    unit = (roster.get("parts") or [{}])[0].get("town") or next((x["town"] for _, x in people), "")
    start, end = days[0], days[-1]
    period = f"{start.year}年{start.month}月{start.day}日至" + (f"{end.year}年" if end.year != start.year else "") \
        + f"{end.month}月{end.day}日"
    legend = []
    for s in ids:
        x = shifts[s]
        name = x["label"] if x["label"].endswith("班") else x["label"] + "班"
        bits = [b for b in (x.get("time"), f"{x['minutes'] / 60:g}小时" if x.get("minutes") else "",
                            "夜班" if x.get("night") and "夜" not in name else "") if b]
        legend.append(f"{x['label']}＝{name}" + (f"（{'，'.join(bits)}）" if bits else ""))
    failed = [c["label"] for c in roster.get("check", []) if c.get("violations")]
    return {"office": office, "title": roster.get("name") or f"{unit}值班表", "unit": unit, "period": period,
            "days_count": n, "blocks": out_blocks, "total_head": total_head, "total_mm": f"{TOTAL_MM:g}",
            "seq_mm": f"{SEQ_MM:g}", "name_mm": f"{NAME_MM:g}",
            "legend": "；".join(legend + ["休＝休息", "假＝请假"]),
            "notes": "表头灰底为休息日，“节”为法定节假日，“班”为调休上班日；夜班加粗。人数行为当天该班次在岗人数/需求人数，"
                     "加框为缺员。合计：班数为上班天数，工时为各班时长之和，周末、节假日为在这些休息日上班的天数。",
            "short": _first([x[2] for x in sorted(short)]), "over": _first([x[2] for x in sorted(over)]),
            "short_count": len(short), "over_count": len(over), "has_demand": any(demand.get(s) for s in ids),
            "failed": failed, "edited": roster.get("source") == "imported"}


def _first(items: list[str], k: int = 12) -> list[str]:
    """At most k items, then how many in all: a list under a table stays a few lines."""
    return items if len(items) <= k else items[:k] + [f"等共 {len(items)} 个班次"]


def roster_towns(roster: Mapping | None, settings: OfficeSettings, more: Iterable[str] = ()) -> list[str]:
    """The roster's towns and `more` in the office's order (settings first, then the roster's own)."""
    order = OfficeOrder([], settings.order.towns)
    own = [c["town"] for c in roster["directory"]["communities"].values()] if roster is not None else []
    for t in own + sorted(more):
        order.add(t)
    return order.sort_keys({*own, *more})


# --------------------------------------------------------------------------- boards and cards


def register_context(register: list[Mapping], settings: OfficeSettings, office: dict, doc: str,
                     photos: Mapping[str, str] | None = None) -> dict:
    """Grid boards or contact cards from the worker register, masked as the settings say for `doc`,
    in the office's order; a photo (a file: URL inside the photo folder) where one was found, the
    grid's households and area where the register has them."""
    rule = settings.privacy[doc]
    duties = settings.boards.duties
    order = OfficeOrder(register, settings.order.towns, settings.order.communities)
    people = []
    for w in order.sorted(register):
        people.append({"worker_id": w["worker_id"], "name": w.get("name", ""), "town": w.get("town") or "",
                       "community": w.get("community") or "", "grid": w.get("grid") or "",
                       "role": w.get("role") or "网格员", "employment": w.get("employment") or "",
                       "duties": tidy(w.get("duties") or duties.get(w.get("role") or "", duties.get("default", ""))),
                       "households": str(w.get("households") or ""), "area": tidy(w.get("area") or ""),
                       "photo": (photos or {}).get(w["worker_id"], ""),
                       **_private(w, rule)})
    return {"office": office, "title": "网格公示牌" if doc == "boards" else "网格员服务联系卡",
            "people": people, "hotline": settings.boards.hotline}
