"""One register of people and grids for scoring, rosters and notices.

A patrol problem folder may name the scoring register (`register:` in problem.yaml, the `workers`
file read by engine/inputs.read_register): its grid workers, their towns, communities and grids
are then the register's, with its ids, and the roster's own tables only add what the register
does not hold (AB岗 and neighbours, supervisors and managers, squads, department staff).
`merge_register` turns the register into the rows the loader reads, and reports every place
where the roster's tables contradict it.

`compare_register` checks a roster (a published roster.json, or a problem) against a register
and returns every difference as a located `Problem`: a grid worked by someone else, a person or
grid one of them does not have, a name, town or community that differs.  The print pack stops on
these, so that a town never prints a roster for other people than the ones it scores.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..errors import DataError, Problem, ProblemList
from ..inputs import WorkerInfo, read_register
from ..sources import Row
from .model import _s
from .rules import ROLE_ALIASES, ROLE_LABELS

REGISTER_ROLES = ("grid_worker", "co_manager")


def register_tables(path: Path, where: tuple[str, int | None], probs: ProblemList) -> list[WorkerInfo] | None:
    """The register named by problem.yaml, or None (its problems added to `probs`)."""
    if not path.is_file():
        probs.add(where[0], where[1], "register", str(path),
                  "存在的名册文件（考核用的网格员名册：工号、姓名、乡镇、社区、网格）")
        return None
    try:
        return read_register(path)
    except DataError as exc:
        probs.extend(exc.problems)
        return None


def community_ids(workers: list[WorkerInfo]) -> dict[tuple[str, str], str]:
    """(town, community name) -> the community id in the roster: its name, or 镇·名 when two towns
    have a community of that name."""
    towns: dict[str, set[str]] = {}
    for w in workers:
        towns.setdefault(w.community, set()).add(w.town)
    return {(w.town, w.community): w.community if len(towns[w.community]) == 1 else f"{w.town}·{w.community}"
            for w in workers}


def merge_register(workers: list[WorkerInfo], staff_rows: list[Row], comm_rows: list[Row], grid_rows: list[Row],
                   probs: ProblemList) -> tuple[list[Row], list[Row], list[Row]]:
    """The staff, community and grid rows of a problem whose grid workers come from the register."""
    reg = {w.worker_id: w for w in workers}
    cid = community_ids(workers)

    # People: every register row is a grid worker (or 协管员) of the roster, where the register says.
    staff: list[Row] = []
    for w in workers:
        role = ROLE_ALIASES.get(w.role or "")
        staff.append(Row(w.source[0], w.source[1], {
            "id": w.worker_id, "name": w.name, "town": w.town, "community": cid[w.town, w.community],
            "role": ROLE_LABELS[role if role in REGISTER_ROLES else "grid_worker"]}))
    for r in staff_rows:
        pid = _s(r.get("id"))
        w = reg.get(pid or "")
        if w is None:
            if ROLE_ALIASES.get(_s(r.get("role")) or "") == "grid_worker":
                probs.add(r.file, r.row, "id", pid, f"名册中的工号（网格员以名册为准：{w_file(workers)}）",
                          "名册中没有此人：请先把此人加入名册，或改为协管员等其他角色")
                continue
            staff.append(r)
            continue
        # A register person listed again: what the staff table says must agree with the register.
        for col, theirs in (("name", w.name), ("town", w.town), ("community", cid[w.town, w.community])):
            mine = _s(r.get(col))
            if mine is not None and mine != theirs and not (col == "community" and mine == w.community):
                probs.add(r.file, r.row, col, mine, f"与名册一致（{w.source[0]} 第{w.source[1]}行：{theirs}）")
        role = ROLE_ALIASES.get(_s(r.get("role")) or "")
        if role is not None and role not in REGISTER_ROLES:
            probs.add(r.file, r.row, "role", r.get("role"),
                      f"网格员或协管员（此人在名册 {w.source[0]} 第{w.source[1]}行有网格 {w.grid}）")

    # Communities: the register's, with the managers (and other communities) of communities.csv.
    comms: dict[str, Row] = {}
    for w in workers:
        c = cid[w.town, w.community]
        comms.setdefault(c, Row(w.source[0], w.source[1], {"id": c, "name": w.community, "town": w.town}))
    extra: list[Row] = []
    for r in comm_rows:
        c = _s(r.get("id"))
        if c in comms:
            base = comms[c]
            town = _s(r.get("town"))
            if town is not None and town != base.get("town"):
                probs.add(r.file, r.row, "town", town, f"与名册一致（{base.file} 第{base.row}行：{base.get('town')}）")
            comms[c] = Row(r.file, r.row, {**base.values, "manager": r.get("manager"),
                                           "name": r.get("name") or base.get("name")})
        else:
            extra.append(r)

    # Grids: the register's grid and worker, with AB岗, neighbours, supervisor … from grids.csv.
    grids: dict[str, Row] = {}
    owner: dict[str, WorkerInfo] = {}
    for w in workers:
        if w.grid in owner:
            first = owner[w.grid]
            probs.add(w.source[0], w.source[1], "网格", w.grid,
                      f"每个网格一名本格网格员（第{first.source[1]}行 {first.name} 已是网格 {w.grid} 的网格员）")
            continue
        owner[w.grid] = w
        grids[w.grid] = Row(w.source[0], w.source[1], {"id": w.grid, "community": cid[w.town, w.community],
                                                       "worker": w.worker_id})
    reg_file = w_file(workers)
    for r in grid_rows:
        g = _s(r.get("id"))
        if g is None:
            grids.setdefault(f"（第{r.row}行）", r)    # reported by the loader as a missing id
            continue
        if g not in owner:
            probs.add(r.file, r.row, "id", g, f"名册中的网格编号（名册 {reg_file} 中没有此网格）")
            continue
        base, w = grids[g], owner[g]
        worker = _s(r.get("worker"))
        if worker is not None and worker != w.worker_id:
            probs.add(r.file, r.row, "worker", worker,
                      f"与名册一致（{w.source[0]} 第{w.source[1]}行：网格 {g} 的网格员是 {w.worker_id} {w.name}）")
        comm = _s(r.get("community"))
        if comm is not None and comm not in (base.get("community"), w.community):
            probs.add(r.file, r.row, "community", comm,
                      f"与名册一致（{w.source[0]} 第{w.source[1]}行：{w.community}）")
        values = {**{k: v for k, v in r.values.items() if v is not None}, **base.values}
        grids[g] = Row(r.file, r.row, values)
    return staff, list(comms.values()) + extra, list(grids.values())


def w_file(workers: list[WorkerInfo]) -> str:
    return workers[0].source[0] if workers else "名册"


# --------------------------------------------------------------------------- comparing

def roster_view(roster: Any) -> dict:
    """The parts of a roster that say who works where: roster.json's `directory`, or a problem's."""
    if isinstance(roster, Mapping):
        return roster["directory"]
    p = roster
    return {"people": {pid: {"name": x.name, "role": ROLE_LABELS[x.role], "town": x.town, "community": x.community}
                       for pid, x in p.people.items()},
            "communities": {c: {"name": x.name, "town": x.town} for c, x in p.communities.items()},
            "grids": {g: {"worker": x.worker, "community": x.community, "town": x.town} for g, x in p.grids.items()}}


def compare_register(roster: Any, workers: list[WorkerInfo], *, roster_file: str = "roster.json") -> list[Problem]:
    """Every difference between a roster (roster.json as a dict, or a RosterProblem) and a register
    (engine.inputs.read_register) in who works where: located in the register's rows when the
    register has the row, otherwise in the roster (field = the grid or person)."""
    view = roster_view(roster)
    people, grids, comms = view["people"], view["grids"], view.get("communities", {})
    out: list[Problem] = []
    # A roster may be one town's of a county register: only the towns it covers are compared, and a
    # town of the roster that the register does not have at all is itself a difference.
    towns = {x.get("town") for x in [*people.values(), *grids.values(), *comms.values()] if x.get("town")}
    known = {w.town for w in workers}
    for t in sorted(towns - known):
        out.append(Problem(roster_file, None, "乡镇/街道", t, "名册中的乡镇/街道（名册中没有此镇街的人员）"))
    workers = [w for w in workers if w.town in towns]
    grids = {g: x for g, x in grids.items() if x.get("town") in known or x.get("town") is None}
    in_register: set[str] = set()
    for w in workers:
        file, row = w.source
        in_register.add(w.grid)
        me = people.get(w.worker_id)
        if me is None:
            out.append(Problem(file, row, "工号", w.worker_id, "排班中的人员（排班中没有此人）"))
        else:
            if me.get("name") != w.name:
                out.append(Problem(file, row, "姓名", w.name, f"与排班一致（排班中 {w.worker_id} 是 {me.get('name')}）"))
            if me.get("town") != w.town:
                out.append(Problem(file, row, "乡镇/街道", w.town, f"与排班一致（排班中 {w.name} 属 {me.get('town')}）"))
        g = grids.get(w.grid)
        if g is None:
            out.append(Problem(file, row, "网格", w.grid, "排班中的网格（排班中没有此网格）"))
            continue
        if g.get("worker") != w.worker_id:
            other = people.get(g.get("worker") or "", {}).get("name", "")
            out.append(Problem(file, row, "网格", w.grid,
                               f"与排班一致（排班中网格 {w.grid} 的网格员是 {g.get('worker')} {other}，不是 {w.name}）"))
        comm = comms.get(g.get("community") or "", {}).get("name", g.get("community"))
        if comm != w.community and g.get("community") != w.community:
            out.append(Problem(file, row, "社区/村", w.community, f"与排班一致（排班中网格 {w.grid} 属 {comm}）"))
    for g, x in sorted(grids.items()):
        if g not in in_register:
            name = people.get(x.get("worker") or "", {}).get("name", "")
            out.append(Problem(roster_file, None, f"网格 {g}", f"{x.get('worker')} {name}".strip(),
                               "名册中的网格（名册中没有此网格）"))
    return out

