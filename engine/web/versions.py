"""The office's policy versions on the pages: which files are in force, drafts and their files,
publishing (administrators; audited) and the rule that a published version is never written again.

The versions an office was made with are registered as they are (imported, published); a draft is
a file of its own under <data>/policies/<office>/, made from a published version by the application
layer (engine/app/policy_versions.py).  Publishing adds the draft's file to the office's policy
files in the same transaction that marks it published, and takes its write permission away.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from sqlalchemy import select, update

from ..app.policies import policy_files
from ..app.policy_versions import draft_text, flatten_policy, publish_problems
from ..errors import PolicyError, Problem
from ..policy import load_policy_file
from ..sources import sha256_file
from .store import Store, now, offices, policy_versions

__all__ = ["Refused", "versions", "version", "ensure_imported", "create_draft", "save_text", "publish", "discard",
           "version_path", "version_text", "changed_files", "STATE_LABELS"]

STATE_LABELS = {"draft": "草稿", "published": "已发布", "discarded": "已放弃"}


class Refused(Exception):
    """An action on a version that its state does not allow (message in Chinese)."""


def _row(r: dict | None) -> dict | None:
    if r is not None:
        r["files"] = json.loads(r["files"])
    return r


def versions(store: Store, office_id: int, *, with_discarded: bool = False) -> list[dict]:
    q = select(policy_versions).where(policy_versions.c.office_id == office_id)
    if not with_discarded:
        q = q.where(policy_versions.c.state != "discarded")
    rows = [_row(r) for r in store.all(q.order_by(policy_versions.c.id))]
    return sorted(rows, key=lambda r: (r["state"] != "published", r["effective_from"] or "0000-00", r["id"]))


def version(store: Store, office_id: int | None, vid: int) -> dict | None:
    """The version `vid` of the office (None: of any office, for the caller to check and refuse)."""
    r = _row(store.one(select(policy_versions).where(policy_versions.c.id == vid)))
    return r if r is not None and (office_id is None or r["office_id"] == office_id) else None


def version_path(data: Path, row: dict) -> Path:
    p = Path(row["path"])
    return p if p.is_absolute() else data / p


def version_text(data: Path, row: dict) -> str:
    return version_path(data, row).read_text(encoding="utf-8")


def _files(paths: list[str]) -> list[dict]:
    return [{"path": str(p), "sha256": sha256_file(str(p))} for p in paths]


def changed_files(data: Path, row: dict) -> list[str]:
    """Files of a published version that are no longer what was published (edited outside the pages)."""
    out = []
    for f in row["files"]:
        p = Path(f["path"])
        p = p if p.is_absolute() else data / p
        if not p.is_file() or sha256_file(str(p)) != f["sha256"]:
            out.append(str(f["path"]))
    return out


def ensure_imported(store: Store, office: dict, user: dict | None) -> None:
    """Register the policy files the office was made with as its published versions (once)."""
    have = store.one(select(policy_versions.c.id).where(policy_versions.c.office_id == office["id"]).limit(1))
    if have is not None:
        return
    with store.engine.begin() as c:
        for f in policy_files(office["policy_paths"]):
            try:
                pol = load_policy_file(f)
            except PolicyError:
                continue          # the office's own files are checked when a month runs; nothing to list
            if pol.doc.abstract:
                continue
            c.execute(policy_versions.insert().values(
                office_id=office["id"], policy_id=pol.id, version=pol.version, effective_from=pol.doc.effective_from,
                state="published", source="imported", path=str(Path(f).resolve()),
                files=json.dumps(_files([str(Path(x).resolve()) for x in pol.files]), ensure_ascii=False),
                hash=pol.hash, created_by=(user or {}).get("username", "（系统）"), created_at=now()))


def _write(path: Path, text: str) -> None:
    """Atomically: the old text or the new, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def create_draft(store: Store, data: Path, office: dict, base: dict, version: str, effective_from: str,
                 user: dict, ip: str = "") -> int:
    """A new draft from version `base`, with its version text and effective month."""
    src = version_path(data, base)
    text = flatten_policy(src) if base["source"] == "imported" else src.read_text(encoding="utf-8")
    text = draft_text(text, version, effective_from)
    with store.engine.begin() as c:
        vid = c.execute(policy_versions.insert().values(
            office_id=office["id"], policy_id=base["policy_id"], version=version.strip(),
            effective_from=effective_from, state="draft", source="web", path="", files="[]", based_on=base["id"],
            created_by=user["username"], created_at=now())).inserted_primary_key[0]
        rel = Path("policies") / str(office["id"]) / f"v{vid}-{base['policy_id']}.yaml"
        _write(data / rel, text)
        c.execute(update(policy_versions).where(policy_versions.c.id == vid).values(path=rel.as_posix()))
        store.audit(user=user, action="policy.draft", target=f"考核细则版本 {vid}", ip=ip, conn=c,
                    after={"版本": version.strip(), "生效月份": effective_from, "依据版本": base["id"],
                           "文件": rel.as_posix()})
    return vid


def refuse_published(store: Store, row: dict, user: dict, what: str, ip: str = "") -> None:
    """A published (or discarded) version is never changed in place: the attempt is refused and audited."""
    if row["state"] != "draft":
        store.audit(user=user, action="policy.denied", target=f"考核细则版本 {row['id']}", ip=ip,
                    after={"操作": what, "状态": STATE_LABELS[row["state"]]})
        raise Refused(f"版本 {row['version']} {STATE_LABELS[row['state']]}，不能修改；"
                      "如需改动，请以它为底稿新建草稿")


def save_text(store: Store, data: Path, row: dict, text: str, user: dict, *, what: str, changes: list[str],
              ip: str = "") -> None:
    """A draft's new text (already checked), audited with what changed."""
    refuse_published(store, row, user, what, ip)
    path = version_path(data, row)
    before = path.read_text(encoding="utf-8")
    if before == text:
        return
    import hashlib
    meta = _meta(text)
    with store.engine.begin() as c:
        c.execute(update(policy_versions).where(policy_versions.c.id == row["id"]).values(
            version=meta.get("version", row["version"]), effective_from=meta.get("effective_from", row["effective_from"]),
            updated_by=user["username"], updated_at=now()))
        store.audit(user=user, action="policy.edit", target=f"考核细则版本 {row['id']}（{what}）", ip=ip, conn=c,
                    before={"sha256": hashlib.sha256(before.encode()).hexdigest()},
                    after={"sha256": hashlib.sha256(text.encode()).hexdigest(), "改动": changes})
        _write(path, text)


def _meta(text: str) -> dict:
    import yaml
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: str(doc[k]) for k in ("version", "effective_from") if doc.get(k) is not None}


def publish(store: Store, data: Path, office: dict, row: dict, check: dict, user: dict, ip: str = "") -> list[Problem]:
    """Publish a checked draft: refused (problems returned) when the check found anything, when its
    months clash with a published version or when a stored month would move to it."""
    refuse_published(store, row, user, "发布", ip)
    if not check["ok"]:
        return list(check["problem_objects"]) + list(check["mismatch_objects"])
    path = version_path(data, row)
    current = [str(version_path(data, v)) for v in versions(store, office["id"]) if v["state"] == "published"]
    problems = publish_problems(current, str(path), data)
    if problems:
        return problems
    pol = load_policy_file(path)
    fresh = store.office(office["id"])
    paths = list(fresh["policy_paths"]) + [str(path.resolve())]
    with store.engine.begin() as c:
        got = c.execute(update(policy_versions).where(policy_versions.c.id == row["id"],
                                                      policy_versions.c.state == "draft").values(
            state="published", hash=pol.hash, version=pol.version, effective_from=pol.doc.effective_from,
            files=json.dumps(_files([str(path)]), ensure_ascii=False), published_by=user["username"],
            published_at=now())).rowcount
        if got != 1:
            raise Refused("该草稿已被发布或放弃")
        c.execute(update(offices).where(offices.c.id == office["id"]).values(
            policy_paths=json.dumps(paths, ensure_ascii=False)))
        store.audit(user=user, action="policy.publish", target=f"考核细则版本 {row['id']}", ip=ip, conn=c,
                    before={"细则文件": fresh["policy_paths"]},
                    after={"细则文件": paths, "版本": pol.version, "生效月份": pol.doc.effective_from, "哈希": pol.hash})
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)      # never written again
    return []


def discard(store: Store, row: dict, user: dict, ip: str = "") -> None:
    refuse_published(store, row, user, "放弃", ip)
    with store.engine.begin() as c:
        c.execute(update(policy_versions).where(policy_versions.c.id == row["id"]).values(
            state="discarded", updated_by=user["username"], updated_at=now()))
        store.audit(user=user, action="policy.discard", target=f"考核细则版本 {row['id']}", ip=ip, conn=c,
                    before={"状态": "草稿"}, after={"状态": "已放弃"})


def in_force(rows: list[dict]) -> list[dict]:
    """The published versions with the months each is in force for (an open one ends when the next starts)."""
    pub = sorted((r for r in rows if r["state"] == "published"), key=lambda r: r["effective_from"] or "0000-00")
    out = []
    for a, b in zip(pub, pub[1:] + [None]):
        end = ""
        if b is not None and b["effective_from"]:
            y, m = int(b["effective_from"][:4]), int(b["effective_from"][5:])
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
            end = f"{y:04d}-{m:02d}"
        out.append(dict(a, until=end))
    return out


def current_for(rows: list[dict], month: str) -> dict | None:
    for r in reversed(in_force(rows)):
        if (r["effective_from"] or "0000-00") <= month:
            return r
    return None
