"""Policies (考核细则): the versions and the one in force, a version as the office reads it, drafts edited
by a form per rule form or in the YAML editor — both checked live with the checks of `wangge validate`
— the changes between two versions, what a draft would cost on the last stored months, and publishing
(administrators; a published version is never changed)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

from ...app.month import stored_months
from ...app.policies import policy_schema
from ...app.policy_forms import SPARE_ROWS, FormField, common_fields, form_values, rule_form, spec_from_values
from ...app.policy_view import policy_changes, policy_view
from ...errors import EngineError, HistoryError, PolicyError
from ...kinds import KINDS
from ...policy import load_policy_file
from ...policy_edit import EditError, append_entry, delete_entry, read_tree, set_entry
from ...policy_values import MONTH_RX
from ..deps import Viewer, check_form, client_ip, mine, page, require, viewer, web_of
from ..jobs import problem_dict
from ..versions import (STATE_LABELS, Refused, changed_files, create_draft, current_for, discard, ensure_imported,
                        in_force, publish, refuse_published, save_text, version, version_path, version_text, versions)
from ..words import STATE_LABELS as JOB_STATES

router = APIRouter()


def _rows(request: Request, v: Viewer) -> list[dict]:
    web = web_of(request)
    ensure_imported(web.store, v.office, v.user.as_dict())
    return versions(web.store, v.office["id"])


def _version(request: Request, v: Viewer, vid: int) -> dict:
    row = mine(request, v, version(web_of(request).store, None, vid), "没有这个考核细则版本")
    if (row["state"] != "published" and not v.can("policy_drafts")):
        raise HTTPException(404, "没有这个考核细则版本")
    return row


def _last_stored(v) -> list[str]:
    try:
        months, _ = stored_months(v.data)
    except HistoryError:
        return []
    return [m.month for m in months]


# --------------------------------------------------------------------------- checking


def _check(request: Request, row: dict, text: str) -> dict:
    """The text checked in the helper process as `wangge validate` checks a file."""
    return web_of(request).checker.check(text, Path(row["path"]).name, row["policy_id"])


def _published_view(request: Request, row: dict) -> dict:
    """A published version: loaded as the months load it (with what it extends), examples not run again."""
    v = request.state.viewer
    pol = load_policy_file(version_path(v.data, row))
    return {"ok": True, "problems": [], "mismatches": [], "problem_objects": [], "mismatch_objects": [],
            "view": policy_view(pol), "examples": len(pol.doc.examples)}


def _problems(check: dict) -> list[dict]:
    return [problem_dict(p) for p in check.get("problem_objects", [])]


def _mismatches(check: dict) -> list[dict]:
    return [problem_dict(p) for p in check.get("mismatch_objects", [])]


# --------------------------------------------------------------------------- list, view, draft


@router.get("/policies")
def policies_page(request: Request, v: Viewer = Depends(viewer)):
    require(request, v, "policies")
    web = web_of(request)
    rows = _rows(request, v)
    stored = _last_stored(v)
    return page(request, "policies.html", rows=[r for r in rows if r["state"] == "published" or v.can("policy_drafts")],
                in_force=in_force(rows), states=STATE_LABELS, last=stored[-1] if stored else "",
                current=current_for(rows, stored[-1]) if stored else None,
                changed={r["id"]: changed_files(v.data, r) for r in rows if r["state"] == "published"})


@router.get("/policies/schema.json")
def schema(request: Request, v: Viewer = Depends(viewer)):
    """The JSON Schema of the policy format (the YAML editor completes keys from it)."""
    return JSONResponse(policy_schema())


@router.get("/policies/{vid}.json")
def version_json(request: Request, vid: int, v: Viewer = Depends(viewer)):
    require(request, v, "policies")
    row = _version(request, v, vid)
    check = _published_view(request, row) if row["state"] == "published" else _check(request, row, version_text(v.data, row))
    return JSONResponse({"id": row["id"], "state": row["state"], "version": row["version"],
                         "effective_from": row["effective_from"], "policy": check["view"],
                         "problems": check["problems"], "mismatches": check["mismatches"]})


@router.get("/policies/{vid}")
def version_page(request: Request, vid: int, v: Viewer = Depends(viewer)):
    require(request, v, "policies")
    web = web_of(request)
    row = _version(request, v, vid)
    rows = _rows(request, v)
    check = _published_view(request, row) if row["state"] == "published" else _check(request, row, version_text(v.data, row))
    jobs = [j for j in web.queue.recent(v.office["id"], limit=20, kind="policy_preview") if j.params.get("version") == vid]
    stored = _last_stored(v)
    return page(request, "policy.html", row=row, p=check["view"], problems=_problems(check),
                mismatches=_mismatches(check), states=STATE_LABELS, rows=rows, jobs=jobs, job_states=JOB_STATES,
                stored=list(reversed(stored[-6:])), changed=changed_files(v.data, row) if row["state"] == "published" else [],
                based=next((r for r in rows if r["id"] == row["based_on"]), None), kinds=KINDS)


@router.post("/policies/drafts")
async def new_draft(request: Request, v: Viewer = Depends(viewer)):
    form = await check_form(request, v)
    require(request, v, "policy_edit")
    web = web_of(request)
    rows = _rows(request, v)
    try:
        base = next(r for r in rows if r["id"] == int(str(form.get("base") or "0")))
    except (StopIteration, ValueError):
        raise HTTPException(400, "请选择作为底稿的版本") from None
    month = str(form.get("effective_from") or "").strip()
    if not MONTH_RX.match(month):
        raise HTTPException(400, f"生效月份应为 YYYY-MM（如 2027-01），发现 {month[:20]!r}")
    vid = create_draft(web.store, v.data, v.office, base, str(form.get("version") or ""), month, v.user.as_dict(),
                       client_ip(request))
    return RedirectResponse(f"/policies/{vid}?msg=draft", status_code=303)


# --------------------------------------------------------------------------- the YAML editor


@router.get("/policies/{vid}/yaml")
def yaml_page(request: Request, vid: int, v: Viewer = Depends(viewer)):
    require(request, v, "policy_drafts")
    web = web_of(request)
    row = _version(request, v, vid)
    text = version_text(v.data, row)
    check = _check(request, row, text) if row["state"] == "draft" else {"problem_objects": [], "mismatch_objects": []}
    return page(request, "policy_yaml.html", row=row, text=text, problems=_problems(check),
                mismatches=_mismatches(check), states=STATE_LABELS, saved=False)


def _editable(request: Request, v: Viewer, vid: int, what: str) -> dict:
    """A draft the viewer may edit; a published version refused (and the attempt audited)."""
    require(request, v, "policy_edit")
    row = _version(request, v, vid)
    try:
        refuse_published(web_of(request).store, row, v.user.as_dict(), what, client_ip(request))
    except Refused as exc:
        raise HTTPException(409, str(exc)) from None
    return row


def _changes_between(request: Request, row: dict, before: str, after: str) -> list[str]:
    """What an edit changed, in the office's words (for the audit log)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a.yaml", Path(tmp) / "b.yaml"
        a.write_text(before, encoding="utf-8")
        b.write_text(after, encoding="utf-8")
        try:
            return [f"{c.what}：{c.before or '（无）'} → {c.after or '（无）'}"
                    for c in policy_changes(load_policy_file(a), load_policy_file(b))][:50]
        except EngineError:
            return []


def _save(request: Request, v: Viewer, row: dict, text: str, what: str) -> None:
    web = web_of(request)
    before = version_text(v.data, row)
    try:
        save_text(web.store, v.data, row, text, v.user.as_dict(), what=what,
                  changes=_changes_between(request, row, before, text), ip=client_ip(request))
    except Refused as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/policies/{vid}/check")
async def check_text_api(request: Request, vid: int, v: Viewer = Depends(viewer)):
    """Live check of the editor's text (nothing saved): problems with their lines."""
    form = await check_form(request, v)
    require(request, v, "policy_edit")
    row = _version(request, v, vid)
    check = _check(request, row, str(form.get("text") or ""))
    return JSONResponse({"ok": check["ok"], "problems": check["problems"], "mismatches": check["mismatches"]})


@router.post("/policies/{vid}/yaml")
async def yaml_save(request: Request, vid: int, v: Viewer = Depends(viewer)):
    form = await check_form(request, v)
    row = _editable(request, v, vid, "修改 YAML")
    text = str(form.get("text") or "").replace("\r\n", "\n")
    check = _check(request, row, text)
    if check["problem_objects"]:
        return page(request, "policy_yaml.html", status=422, row=row, text=text, problems=_problems(check),
                    mismatches=_mismatches(check), states=STATE_LABELS, saved=False)
    _save(request, v, row, text, "YAML 编辑")
    return RedirectResponse(f"/policies/{vid}/yaml?msg=saved", status_code=303)


# --------------------------------------------------------------------------- forms per rule form


def _rule_place(text: str, rule_id: str | None, section: str | None) -> tuple[list, str, Any, dict | None]:
    """(path of the rule in the file, dotted prefix the checks use, the item or bonus node, the rule as written)."""
    tree = read_tree(text)
    for i, it in enumerate(tree.get("items") or []):
        for j, r in enumerate(it.get("rules") or []):
            if rule_id is not None and str(r.get("id")) == rule_id:
                return ["items", i, "rules", j], f"items[{i}].rules[{j}]", it, r
        if rule_id is None and str(it.get("id")) == section:
            return ["items", i, "rules"], f"items[{i}].rules[{len(it.get('rules') or [])}]", it, None
    bonus = tree.get("bonus") or {}
    for j, r in enumerate(bonus.get("rules") or []):
        if rule_id is not None and str(r.get("id")) == rule_id:
            return ["bonus", "rules", j], f"bonus.rules[{j}]", bonus, r
    if rule_id is None and section == "bonus" and tree.get("bonus") is not None:
        return ["bonus", "rules"], f"bonus.rules[{len(bonus.get('rules') or [])}]", bonus, None
    raise HTTPException(404, "草稿中没有这条规则" if rule_id else "草稿中没有这个考核项目")


def _kind_of(rule: dict | None, kind: str | None) -> str:
    if rule is not None:
        kind = next((k for k in KINDS if k in rule), None)
    if kind not in KINDS:
        raise HTTPException(400, "请选择规则的计分方式：" + "、".join(f"{k.title}（{key}）" for key, k in KINDS.items()))
    return kind


def _options(view: dict | None, text: str) -> dict:
    """What choices a form offers: the policy's metrics, record series, attributes, categories, stages."""
    tree = read_tree(text)
    metrics = tree.get("metrics") or {}
    attrs = tree.get("attributes") or {}
    events = tree.get("events") or {}
    return {"metrics": [(k, f"{(m or {}).get('label', k)}（{k}）") for k, m in metrics.items()],
            "series": [(k, f"{(s or {}).get('label', k)}（{k}）") for k, s in (tree.get("records") or {}).items()],
            "attributes": [(k, (a or {}).get("label", k), list((a or {}).get("values") or [])) for k, a in attrs.items()],
            "categories": list(events.get("categories") or []), "severities": list(events.get("severities") or []),
            "stages": ["discovered", "reported", "closed"] + list((events.get("stages") or {}).keys())}


def _field_problems(check: dict, prefix: str, kind: str) -> tuple[dict[str, list[str]], list[dict]]:
    """Problems of the checked text: those about this rule by input name, the others as they are."""
    mine: dict[str, list[str]] = {}
    other = []
    for p in check.get("problem_objects", []):
        f = p.field or ""
        if f == prefix or f.startswith(prefix + "."):
            rel = f[len(prefix) + 1:]
            rel = rel[len(kind) + 1:] if rel.startswith(kind + ".") else ("" if rel == kind else rel)
            mine.setdefault(rel, []).append(f"发现 {'（缺失）' if p.found is None else p.found}，应为 {p.expected}"
                                            + (f"（{p.hint}）" if p.hint else ""))
        else:
            other.append(problem_dict(p))
    return mine, other


def _rule_from_form(form, kind: str, earn: bool) -> dict:
    values = {k: str(val) for k, val in form.multi_items() if isinstance(val, str)}
    rule = spec_from_values(common_fields(earn), values)
    rule[kind] = spec_from_values(rule_form(kind), {k[2:]: x for k, x in values.items() if k.startswith("f.")})
    return {k: rule[k] for k in ("id", "label", "cap", "reason", "effect", kind) if k in rule}


def _rows_for(fields: list[FormField], values: dict[str, str], prefix: str = "") -> dict[str, int]:
    """How many rows each table shows: those filled and SPARE_ROWS empty ones."""
    out = {}
    for f in fields:
        name = prefix + f.name
        if f.widget in ("rows", "map"):
            rx = re.compile(re.escape(name) + r"\[(\d+)\]\.")
            filled = [int(m.group(1)) for k in values if (m := rx.match(k))]
            out[name] = (max(filled) + 1 if filled else 0) + SPARE_ROWS
        if f.widget == "quota":
            rx = re.compile(re.escape(name + ".values") + r"\[(\d+)\]\.")
            filled = [int(m.group(1)) for k in values if (m := rx.match(k))]
            out[name + ".values"] = (max(filled) + 1 if filled else 0) + SPARE_ROWS
        if f.widget == "group":
            out.update(_rows_for(f.fields, values, name + "."))
    return out


def _rule_page(request, row, text, kind, rule_id, section, values, check=None, prefix="", status=200, item=None):
    mine, other = _field_problems(check, prefix, kind) if check is not None else ({}, [])
    earn = (item or {}).get("mode") == "earn"
    fields = rule_form(kind)
    fvalues = {k[2:]: x for k, x in values.items() if k.startswith("f.")}
    return page(request, "policy_rule.html", status=status, row=row, kind=kind, kind_title=KINDS[kind].title,
                rule_id=rule_id, section=section, common=common_fields(earn), fields=fields, values=values,
                fvalues=fvalues, counts=_rows_for(fields, fvalues), errors=mine, other=other,
                mismatches=_mismatches(check) if check else [], options=_options(None, text),
                item_label=(item or {}).get("label", "加分项目" if section == "bonus" else ""), kinds=KINDS)


@router.get("/policies/{vid}/rules/new")
def new_rule_form(request: Request, vid: int, section: str = "", kind: str = "", v: Viewer = Depends(viewer)):
    row = _editable(request, v, vid, "添加规则")
    text = version_text(v.data, row)
    _, _, item, _ = _rule_place(text, None, section)
    kind = _kind_of(None, kind)
    return _rule_page(request, row, text, kind, None, section, {"section": section}, item=item)


@router.get("/policies/{vid}/rules/{rule_id}")
def rule_form_page(request: Request, vid: int, rule_id: str, v: Viewer = Depends(viewer)):
    row = _editable(request, v, vid, "修改规则")
    text = version_text(v.data, row)
    _, _, item, rule = _rule_place(text, rule_id, None)
    kind = _kind_of(rule, None)
    plain = _plain(rule)
    values = form_values(common_fields(True), plain)
    values.update({"f." + k: x for k, x in form_values(rule_form(kind), plain.get(kind)).items()})
    return _rule_page(request, row, text, kind, rule_id, None, values, item=item)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(x) for k, x in node.items()}
    if isinstance(node, list):
        return [_plain(x) for x in node]
    return node


async def _apply_rule(request: Request, vid: int, rule_id: str | None, v: Viewer):
    form = await check_form(request, v)
    row = _editable(request, v, vid, "修改规则" if rule_id else "添加规则")
    web = web_of(request)
    text = version_text(v.data, row)
    section = str(form.get("section") or "") or None
    path, prefix, item, rule = _rule_place(text, rule_id, section)
    kind = _kind_of(rule, str(form.get("kind") or ""))
    earn = (item or {}).get("mode") == "earn"
    values = {k: str(x) for k, x in form.multi_items() if isinstance(x, str) and k not in ("csrf",)}
    deleting = form.get("op") == "delete"
    if form.get("op") == "rows":          # 再加两行: the same form again, as typed, with more blank rows
        return _rule_page(request, row, text, kind, rule_id, section, values, item=item)
    try:
        if deleting:
            new = delete_entry(text, path)
        else:
            new_rule = _rule_from_form(form, kind, earn)
            if rule_id is None:
                new = append_entry(text, path, new_rule) if "rules" in item else \
                    set_entry(text, path[:-1], dict(_plain(item), rules=[new_rule]))
            else:
                new = set_entry(text, path, new_rule)
    except EditError as exc:
        raise HTTPException(422, str(exc)) from None
    check = _check(request, row, new)
    if form.get("check") == "1":          # the live check: nothing saved
        mine, other = _field_problems(check, prefix, kind)
        return JSONResponse({"ok": check["ok"], "fields": mine, "other": other, "mismatches": _mismatches(check)})
    if check["problem_objects"] and deleting:
        return page(request, "error.html", status=422, status_code=422, message="删除这条规则后考核细则有问题，未保存",
                    problems=_problems(check))
    if check["problem_objects"]:
        return _rule_page(request, row, text, kind, rule_id, section, values, check, prefix, status=422, item=item)
    what = ("删除规则 " if deleting else "修改规则 " if rule_id else "添加规则 ") + (rule_id or values.get("id", ""))
    _save(request, v, row, new, what)
    return RedirectResponse(f"/policies/{vid}?msg=saved#rule-{'' if deleting else values.get('id', rule_id)}",
                            status_code=303)


@router.post("/policies/{vid}/rules/new")
async def new_rule_save(request: Request, vid: int, v: Viewer = Depends(viewer)):
    return await _apply_rule(request, vid, None, v)


@router.post("/policies/{vid}/rules/{rule_id}")
async def rule_save(request: Request, vid: int, rule_id: str, v: Viewer = Depends(viewer)):
    return await _apply_rule(request, vid, rule_id, v)


# --------------------------------------------------------------------------- the sheet: points, caps, bands, stars


def _sheet_values(text: str) -> dict:
    tree = _plain(read_tree(text))
    pay = tree.get("pay") or {}
    return {"items": [{"id": it.get("id"), "label": it.get("label"), "points": it.get("points")} for it in tree.get("items") or []],
            "bonus_cap": (tree.get("bonus") or {}).get("cap") if tree.get("bonus") else None,
            "share": pay.get("performance_share"), "bands": pay.get("bands") or [], "stars": tree.get("stars") or [],
            "has_pay": "pay" in tree, "has_stars": "stars" in tree, "has_bonus": "bonus" in tree}


@router.get("/policies/{vid}/sheet")
def sheet_page(request: Request, vid: int, v: Viewer = Depends(viewer)):
    row = _editable(request, v, vid, "修改分值和档次")
    text = version_text(v.data, row)
    return page(request, "policy_sheet.html", row=row, s=_sheet_values(text), problems=[], mismatches=[],
                spare=SPARE_ROWS)


def _num(x: str) -> Any:
    from ...app.policy_forms import _num as num
    return num(x) if x.strip() else None


def _sheet_edit(text: str, form) -> str:
    s = _sheet_values(text)
    for it in s["items"]:
        got = str(form.get(f"points.{it['id']}") or "").strip()
        if got and str(got) != str(it["points"]):
            text = set_entry(text, ["items", it["id"], "points"], _num(got))
    if s["has_bonus"]:
        got = str(form.get("bonus_cap") or "").strip()
        if got and got != str(s["bonus_cap"]):
            text = set_entry(text, ["bonus", "cap"], _num(got))
    if s["has_pay"]:
        share = str(form.get("share") or "").strip()
        if share and share != str(s["share"]):
            text = set_entry(text, ["pay", "performance_share"], share if share.endswith("%") else _num(share))
        bands = []
        for i in range(len(s["bands"]) + SPARE_ROWS):
            b = {k: str(form.get(f"bands[{i}].{k}") or "").strip() for k in ("id", "label", "range", "ratio")}
            if any(b.values()):
                bands.append({"id": b["id"], "label": b["label"], "range": b["range"],
                              "ratio": b["ratio"] if b["ratio"].endswith("%") else _num(b["ratio"])})
        if bands != [{k: x for k, x in b.items()} for b in s["bands"]]:
            text = set_entry(text, ["pay", "bands"], bands)
    if s["has_stars"]:
        stars = []
        for i in range(len(s["stars"]) + SPARE_ROWS):
            st = {k: str(form.get(f"stars[{i}].{k}") or "").strip() for k in ("stars", "range")}
            if any(st.values()):
                stars.append({"stars": _num(st["stars"]), "range": st["range"]})
        if stars != s["stars"]:
            text = set_entry(text, ["stars"], stars)
    return text


@router.post("/policies/{vid}/sheet")
async def sheet_save(request: Request, vid: int, v: Viewer = Depends(viewer)):
    form = await check_form(request, v)
    row = _editable(request, v, vid, "修改分值和档次")
    text = version_text(v.data, row)
    try:
        new = _sheet_edit(text, form)
    except EditError as exc:
        raise HTTPException(422, str(exc)) from None
    check = _check(request, row, new)
    if form.get("check") == "1":
        return JSONResponse({"ok": check["ok"], "problems": check["problems"], "mismatches": check["mismatches"]})
    if check["problem_objects"]:
        s = _sheet_values(new)
        return page(request, "policy_sheet.html", status=422, row=row, s=s, problems=_problems(check),
                    mismatches=_mismatches(check), spare=SPARE_ROWS)
    _save(request, v, row, new, "修改分值和档次")
    return RedirectResponse(f"/policies/{vid}?msg=saved", status_code=303)


# --------------------------------------------------------------------------- diff, preview, publish


@router.get("/policies/{vid}/diff")
def diff_page(request: Request, vid: int, against: int = 0, v: Viewer = Depends(viewer)):
    require(request, v, "policies")
    web = web_of(request)
    row = _version(request, v, vid)
    rows = _rows(request, v)
    other = _version(request, v, against) if against else (
        next((r for r in rows if r["id"] == row["based_on"]), None) or current_for(rows, row["effective_from"] or "9999-12"))
    if other is None or other["id"] == row["id"]:
        raise HTTPException(404, "请选择要对比的另一个版本")
    try:
        changes = policy_changes(load_policy_file(version_path(v.data, other)), load_policy_file(version_path(v.data, row)))
    except PolicyError as exc:
        return page(request, "error.html", status=422, status_code=422, message="其中一个版本有问题，无法对比",
                    problems=[problem_dict(p) for p in exc.problems])
    return page(request, "policy_diff.html", row=row, other=other, changes=[c.as_dict() for c in changes], rows=rows,
                states=STATE_LABELS)


@router.post("/policies/{vid}/preview")
async def preview(request: Request, vid: int, v: Viewer = Depends(viewer)):
    form = await check_form(request, v)
    require(request, v, "policy_edit")
    web = web_of(request)
    row = _version(request, v, vid)
    stored = _last_stored(v)
    if not stored:
        raise HTTPException(409, "还没有存入任何月份，无法试算")
    try:
        n = max(1, min(6, int(str(form.get("months") or "1"))))
    except ValueError:
        n = 1
    months = stored[-n:]
    key = f"preview:{vid}:{','.join(months)}"
    running = web.queue.active(v.office["id"], "policy_preview", key)
    if running is not None:
        return RedirectResponse(f"/jobs/{running.id}", status_code=303)
    jid = web.queue.submit(v.office["id"], "policy_preview", {"version": vid, "months": months, "key": key,
                                                              "label": f"{row['policy_id']} {row['version']}"},
                           town=None, user=v.user.as_dict(), ip=client_ip(request))
    return RedirectResponse(f"/jobs/{jid}", status_code=303)


@router.post("/policies/{vid}/publish")
async def publish_version(request: Request, vid: int, v: Viewer = Depends(viewer)):
    await check_form(request, v)
    require(request, v, "policy_publish")
    web = web_of(request)
    row = _version(request, v, vid)
    try:
        refuse_published(web.store, row, v.user.as_dict(), "发布", client_ip(request))
        check = _check(request, row, version_text(v.data, row))
        problems = publish(web.store, v.data, v.office, row, check, v.user.as_dict(), client_ip(request))
    except Refused as exc:
        raise HTTPException(409, str(exc)) from None
    if problems:
        web.store.audit(user=v.user.as_dict(), action="policy.publish.refused", target=f"考核细则版本 {vid}",
                        after={"问题": [str(p) for p in problems[:20]]}, ip=client_ip(request))
        return page(request, "error.html", status=422, status_code=422,
                    message=f"未发布：考核细则版本 {row['version']} 还有 {len(problems)} 处问题",
                    problems=[problem_dict(p) for p in problems])
    web.policies_changed()
    return RedirectResponse(f"/policies/{vid}?msg=published", status_code=303)


@router.post("/policies/{vid}/discard")
async def discard_version(request: Request, vid: int, v: Viewer = Depends(viewer)):
    await check_form(request, v)
    require(request, v, "policy_edit")
    web = web_of(request)
    row = _version(request, v, vid)
    try:
        discard(web.store, row, v.user.as_dict(), client_ip(request))
    except Refused as exc:
        raise HTTPException(409, str(exc)) from None
    return RedirectResponse("/policies?msg=discarded", status_code=303)
