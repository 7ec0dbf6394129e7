"""The demo office for the browser: the history `wangge demo` made, an office over it, one account for
each role (passwords below, printed by `wangge demo` and listed in docs/web.md: for trying the tool on
one's own machine only), and the demo town's files as the last month's uploads."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from ..app.uploads import Part, check_town_inputs
from .auth import add_user
from .jobs import problem_dict
from .store import Store, default_url, now, uploads
from .tasks import upload_label

__all__ = ["DEMO_ACCOUNTS", "prepare_demo_office"]

DEMO_ACCOUNTS = [  # username, password, role, town, name
    ("admin", "wangge-admin", "admin", None, "县中心管理员"),
    ("heshan", "wangge-heshan", "clerk", "鹤山镇", "鹤山镇办事员"),
    ("caiwu", "wangge-caiwu", "finance", None, "财务"),
    ("shenji", "wangge-shenji", "auditor", None, "审计"),
]


def prepare_demo_office(data: str | Path, *, policy: str | Path, settings: str | Path, roster_dir: str | Path | None,
                        inputs: dict[str, Path], month: str, town: str = "鹤山镇",
                        roster_problem: str | Path | None = None) -> list[tuple]:
    """Make `data` (a demo history folder) a web office: the store afresh, the accounts, and the
    demo's input files registered as `month`'s uploads of `town`.  Returns the accounts."""
    data = Path(data).resolve()
    for name in ("web.sqlite3", "web.sqlite3-wal", "web.sqlite3-shm"):
        (data / name).unlink(missing_ok=True)
    shutil.rmtree(data / "uploads", ignore_errors=True)
    store = Store(default_url(data))
    try:
        office = store.add_office("示例县网格化服务管理中心（示例数据）", [str(Path(policy).resolve())],
                                  str(Path(settings).resolve()), str(Path(roster_dir).resolve()) if roster_dir else None,
                                  unit="示例县网格化服务管理中心",
                                  roster_problem=str(Path(roster_problem).resolve()) if roster_problem else None)
        for username, password, role, t, name in DEMO_ACCOUNTS:
            add_user(store, office_id=office, username=username, password=password, role=role, town=t, display_name=name)
        parts, ids = {}, []
        for kind, src in inputs.items():
            rel = Path("uploads") / f"demo-{kind}" / f"{kind}{src.suffix}"
            (data / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, data / rel)
            content = (data / rel).read_bytes()
            row = dict(office_id=office, month=month, town=town, kind=kind, original_name=src.name,
                       source_path=rel.as_posix(), path=rel.as_posix(), size=len(content),
                       sha256=hashlib.sha256(content).hexdigest(), mapped=False, uploaded_by="admin", uploaded_at=now())
            ids.append(store.insert(uploads, **row))
            parts[kind] = Part(town, kind, upload_label(row), str(data / rel))
        found = check_town_inputs([str(Path(policy).resolve())], month, parts, town)
        store.save_check(office, month, town, ids, [problem_dict(p) for p in found])
    finally:
        store.close()
    return DEMO_ACCOUNTS
