"""One register: a patrol problem whose grid workers come from the scoring register, and the
comparison of a roster with a register that the print pack stops on."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from engine.app.rosters import publish, register_differences, solve_roster
from engine.demo import generate
from engine.errors import DataError
from engine.inputs import read_register
from engine.policy import load_policy
from engine.roster.model import load_problem
from engine.roster.register import compare_register

ROOT = Path(__file__).resolve().parents[1]
TOWN = ROOT / "rosters" / "demo-town"


def test_the_demo_town_roster_has_the_scoring_registers_people_and_grids(tmp_path):
    # The register `wangge demo` scores (engine/demo.generate, seed 7) against the roster problem.
    policy = load_policy(ROOT / "rules" / "chengguan.yaml").for_month("2026-10")
    scoring = generate(policy, tmp_path, "town", ["2026-10"])["workers"]
    prob = load_problem(TOWN)
    assert prob.register == str(TOWN / "workers.csv")
    assert compare_register(prob, read_register(scoring)) == []
    assert len(prob.grids) == 68 and {g.worker for g in prob.grids.values()} == {w.worker_id for w in read_register(scoring)}


def test_a_published_roster_and_its_register_agree(tmp_path):
    run = solve_roster(ROOT / "tests" / "fixtures" / "roster" / "valid", time_limit=3)
    publish(run, tmp_path / "out")
    register = tmp_path / "workers.csv"
    with open(register, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["工号", "姓名", "乡镇", "社区", "网格"])
        for g, grid in sorted(run.problem.grids.items()):
            person = run.problem.people[grid.worker]
            w.writerow([person.id, person.name, person.town, run.problem.communities[grid.community].name, g])
    assert register_differences(tmp_path / "out", register) == []


def _register(tmp_path, edit) -> Path:
    rows = list(csv.reader(open(TOWN / "workers.csv", encoding="utf-8")))
    rows = edit(rows)
    path = tmp_path / "workers.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_every_difference_between_roster_and_register_is_located(tmp_path):
    def edit(rows):
        rows[1][1] = "罗平"                              # W0001 named otherwise
        rows[2][4], rows[3][4] = rows[3][4], rows[2][4]  # W0002 and W0003 swap grids
        del rows[5]                                      # W0005 and grid 1-1-05 gone
        rows.append(["W0999", "新人", "鹤山镇", "鹤鸣社区", "1-1-99", "网格员"])
        return rows
    path = _register(tmp_path, edit)
    got = [str(p) for p in compare_register(load_problem(TOWN), read_register(path))]
    assert got == [
        f"{path}:2 姓名: 发现 '罗平'，应为 与排班一致（排班中 W0001 是 罗萍）",
        f"{path}:3 网格: 发现 '1-1-03'，应为 与排班一致（排班中网格 1-1-03 的网格员是 W0003 孙辉，不是 马华）",
        f"{path}:4 网格: 发现 '1-1-02'，应为 与排班一致（排班中网格 1-1-02 的网格员是 W0002 马华，不是 孙辉）",
        f"{path}:69 工号: 发现 'W0999'，应为 排班中的人员（排班中没有此人）",
        f"{path}:69 网格: 发现 '1-1-99'，应为 排班中的网格（排班中没有此网格）",
        "roster.json 网格 1-1-05: 发现 'W0005 尹秀英'，应为 名册中的网格（名册中没有此网格）",
    ]


def _folder_with(tmp_path, edit_grids=None, edit_staff=None) -> Path:
    f = tmp_path / "town"
    shutil.copytree(TOWN, f)
    for stem, edit in (("grids", edit_grids), ("staff", edit_staff)):
        if edit:
            rows = list(csv.reader(open(f / f"{stem}.csv", encoding="utf-8")))
            with open(f / f"{stem}.csv", "w", encoding="utf-8", newline="") as fh:
                csv.writer(fh).writerows(edit(rows))
    return f


def test_a_roster_table_contradicting_the_register_is_refused_where_it_says_so(tmp_path):
    def grids(rows):
        rows[0].append("网格员")
        for r in rows[1:]:
            r.append("")
        rows[1][-1] = "W0002"                            # grid 1-1-01 is W0001's in the register
        rows.append(["9-9-99", "", 300, "普通", "否", "", "", "S1", ""])   # a grid the register does not have
        return rows

    def staff(rows):
        rows.append(["W0500", "外来", "网格员", "鹤山镇", "鹤鸣社区", ""])  # a grid worker not in the register
        return rows
    f = _folder_with(tmp_path, grids, staff)
    with pytest.raises(DataError) as exc:
        load_problem(f)
    got = [str(p).replace(str(f) + "/", "") for p in exc.value.problems]
    # (the folder's path is cut from every message below)
    assert got == [
        "staff.csv:45 编号: 发现 'W0500'，应为 名册中的工号（网格员以名册为准：workers.csv）"
        "（名册中没有此人：请先把此人加入名册，或改为协管员等其他角色）",
        "grids.csv:2 网格员: 发现 'W0002'，应为 与名册一致（workers.csv 第2行：网格 1-1-01 的网格员是 W0001 罗萍）",
        "grids.csv:70 网格编号: 发现 '9-9-99'，应为 名册中的网格编号（名册 workers.csv 中没有此网格）",
    ]


def test_a_missing_register_is_one_problem_at_problem_yaml(tmp_path):
    f = _folder_with(tmp_path)
    (f / "workers.csv").unlink()
    with pytest.raises(DataError) as exc:
        load_problem(f)
    assert [str(p) for p in exc.value.problems] == [
        f"{f}/problem.yaml:4 register: 发现 '{f}/workers.csv'，应为 存在的名册文件（考核用的网格员名册：工号、姓名、乡镇、社区、网格）"]
