"""Offices as data: a city centre's counties (and the city itself) in the web's store, each with
its own data folder and history.  `new_office` checks everything about a new office in one pass
and reports each problem located (which field, the value found, what was expected)."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError, Problem
from .store import OFFICE_KINDS, Store

__all__ = ["OfficeError", "new_office", "CODE_RX", "KIND_LABELS"]

CODE_RX = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")
KIND_LABELS = {"county": "县级单位", "city": "市级单位"}
WHERE = "单位设置"


class OfficeError(InputError):
    kind = "单位设置"


def _p(field: str, found, expected: str, hint: str = "") -> Problem:
    return Problem(WHERE, None, field, found, expected, hint)


def new_office(store: Store, *, code: str, name: str, kind: str, city: str | None, data: str | Path | None,
               policies: list[str], settings: str | None = None, database: str | None = None, unit: str = "",
               roster_problem: str | None = None, server_data: str | Path | None = None) -> int:
    """Add an office after checking all of it; OfficeError lists every problem.  A county's data
    folder is made if missing and may be no other office's (`server_data`: the folder of the offices
    that have none of their own)."""
    from ..store.db import url_problem

    problems: list[Problem] = []
    if not CODE_RX.match(code or ""):
        problems.append(_p("代码", code, "2–32 个小写英文字母、数字、- 或 _，以字母开头（如 heshan）"))
    elif store.office_by_code(code) is not None:
        problems.append(_p("代码", code, "未被其他单位使用的代码", "用 wangge office list 查看已有单位"))
    if not (name or "").strip():
        problems.append(_p("名称", name, "单位名称（如 鹤山县网格化服务管理中心）"))
    if kind not in OFFICE_KINDS:
        problems.append(_p("类别", kind, "county（县级单位）或 city（市级单位）"))
    parent = None
    if city:
        parent = store.office_by_code(city)
        if kind == "city":
            problems.append(_p("所属市", city, "不填：市级单位没有上级"))
        elif parent is None or parent["kind"] != "city":
            problems.append(_p("所属市", city, "已建立的市级单位的代码", "先用 wangge office add --kind city 建立"))
    folder = Path(data).resolve() if data else None
    if kind == "county":
        if folder is None:
            problems.append(_p("数据目录", None, "本县（区）自己的数据目录"))
        else:
            taken = {Path(o["data_dir"]).resolve() if o["data_dir"] else Path(server_data or ".").resolve(): o["code"]
                     for o in store.all_offices() if o["kind"] == "county" and (o["data_dir"] or server_data)}
            if folder in taken:
                problems.append(_p("数据目录", str(folder), "本县（区）自己的数据目录",
                                   f"该目录已是单位 {taken[folder]} 的数据目录：各县（区）的数据须分开存放"))
            elif folder.exists() and not folder.is_dir():
                problems.append(_p("数据目录", str(folder), "一个文件夹（不存在时自动建立）"))
        if not policies:
            problems.append(_p("考核细则", None, "本县（区）的考核细则 YAML（至少一个）"))
    for pth in policies:
        if not Path(pth).is_file():
            problems.append(_p("考核细则", str(pth), "存在的考核细则 YAML 文件"))
    if settings and not Path(settings).is_file():
        problems.append(_p("发文设置", str(settings), "存在的 office.yaml 文件"))
    if roster_problem and not Path(roster_problem).is_dir():
        problems.append(_p("排班数据目录", str(roster_problem), "存在的排班数据文件夹"))
    bad = url_problem(database)
    if bad is not None:
        problems.append(_p("历史库", bad.found, bad.expected, bad.hint))
    if problems:
        raise OfficeError(problems)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    if kind == "county" and folder is not None and not settings and (folder / "office.yaml").is_file():
        settings = str(folder / "office.yaml")
    return store.add_office(name.strip(), [str(Path(p).resolve()) for p in policies],
                            str(Path(settings).resolve()) if settings else None, None, unit=unit or name.strip(),
                            roster_problem=str(Path(roster_problem).resolve()) if roster_problem else None,
                            code=code, kind=kind, parent_id=parent["id"] if parent else None,
                            data_dir=str(folder) if folder else None, database=database or None)
