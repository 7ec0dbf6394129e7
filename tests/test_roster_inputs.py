"""Bad roster input found by the acceptance audit: each fixture breaks one thing, and loading it
fails with exactly these located messages (all of them at once, nothing that follows from another)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import DataError
from engine.roster.model import load_problem
from engine.roster.solve import solve

from roster_checker import violations

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "roster"
ROLES = "角色之一：网格员、协管员、督导员、网格管理者、巡防队员、下沉干部"
TOP = "已知的键之一：calendar、decompose、kind、month、name、period、previous、register、rules、seed、shifts、time_limit、unit"

CASES = {
    # A wrong staff row is reported once; grids naming that person do not repeat it as "unknown".
    "staff-bad-role-no-cascade": [f"staff.csv:4 角色: 发现 '厨师'，应为 {ROLES}"],
    "staff-without-town": ["staff.csv:4 镇街: 发现 （缺失），应为 所属镇街"],
    # One person, one role: a supervisor with a squad team (the team was silently ignored), or twice.
    "supervisor-also-in-a-squad": ["staff.csv:5 班组: 发现 'T1'，应为 空（只有巡防队员属于班组，此人是督导员）",
                                   "staff.csv:10 编号: 发现 'S1'，应为 不重复的人员编号（第5行已有）"],
    # A department cadre in a town without communities was silently left out of every model.
    "staff-town-without-communities": ["staff.csv:9 镇街: 发现 '丙镇'，应为 communities 中的镇街之一：乙镇、甲镇"],
    "staff-community-in-other-town": ["staff.csv:7 社区: 发现 'C1'，应为 乙镇 的社区（此社区属 甲镇）"],
    "community-without-town": ["communities.csv:3 镇街: 发现 （缺失），应为 社区所属的镇街"],
    # A missing table is one problem, not one per reference into it.
    "staff-table-missing": ["staff.csv 文件: 发现 （缺失），应为 staff.csv 或 staff.xlsx"],
    "staff-csv-and-xlsx": ["staff.xlsx 文件: 发现 'staff.xlsx'，应为 staff.csv 和 staff.xlsx 只保留一个（两个都在时不知道该用哪个）"],
    "grids-header-only": ["grids.csv:2 （数据行）: 发现 '只有表头'，应为 至少一行网格"],
    "grid-adjacent-to-itself": ["grids.csv:4 相邻网格: 发现 'G3'，应为 本网格以外的网格编号"],
    "request-fractional-weight": ["requests.csv:2 权重: 发现 '1.5'，应为 正整数"],
    "request-twice-same-day": ["requests.csv:3 日期: 发现 '2026-10-05'，应为 每人每天只有一条申请（第2行已有此人这一天的申请）"],
    "request-on-during-leave": ["requests.csv:2 申请: 发现 '上班'，应为 请假日以外的上班申请（leave 第2行：2026-10-12～2026-10-13病假）"],
    # Used to end in a traceback (exit 70).
    "shift-cover-shifts-not-mapping": [
        "problem.yaml:4 rules.shift_cover.shifts: 发现 3，应为 班次编号到要求的映射，如 {day: {min_teams: 1, min_strength: 5}, night: {...}}"],
    "shift-cover-unknown-option": [
        "problem.yaml:6 rules.shift_cover.shifts.day.min_teems: 发现 'min_teems'，应为 班次要求之一：min_teams、min_strength、target_strength"],
    "forbidden-succession-unknown-shift": [
        "problem.yaml:4 rules.forbidden_succession.pairs[0]: 发现 ['nite', 'day']，应为 shift_cover.shifts 中的班次编号：day、night",
        "problem.yaml:4 rules.forbidden_succession.pairs[1]: 发现 ['night']，应为 两个班次编号 [前一天的班次, 后一天的班次]，如 [night, day]"],
    "rule-window-zero": ["problem.yaml:4 rules.supervisor_visits.window: 发现 0，应为 正整数（至少 1）"],
    "rest-min-off-above-window": ["problem.yaml:4 rules.rest_in_window.min_off: 发现 8，应为 不大于 window（7）的整数"],
    "total-days-min-above-max": ["problem.yaml:4 rules.total_days.min: 发现 25，应为 不大于 max（20）的整数"],
    "grid-cover-disabled": ["problem.yaml:4 rules.grid_cover: 发现 False，应为 启用（「网格每日巡查」是排班的前提，不能停用）"],
    "rule-weight-empty": ["problem.yaml:4 rules.fair_weekends.weight: 发现 （缺失），应为 非负整数"],
    "decompose-not-boolean": ["problem.yaml:3 decompose: 发现 'maybe'，应为 true 或 false"],
    "calendar-not-mapping": [
        "problem.yaml:3 calendar: 发现 ['2026-10-12']，应为 键 key_days、sensitive_periods、holidays、workdays 的映射"],
    "key-days-not-list": ["problem.yaml:4 calendar.key_days: 发现 '2026-10-12'，应为 列表，如 [2026-10-12]"],
    "holiday-also-workday": [
        "problem.yaml:5 calendar.workdays[1]: 发现 '2027-10-04'，应为 不同时列在 holidays 中的日期（一天不能既是节假日又是调休上班日）"],
    # `files:` was accepted and silently ignored.
    "problem-yaml-files-key": [f"problem.yaml:3 files: 发现 'files'，应为 {TOP}"],
    # A broken problem.yaml no longer hides the tables' problems.
    "problem-yaml-broken-and-table-faults": [
        "problem.yaml:3 YAML 语法: 发现 '缺少值'，应为 键或 - 之后写上值（第 1 列）",
        "grids.csv:2 AB岗: 发现 'W7'，应为 staff 中已有的人员编号（AB岗人员不存在）"],
    "problem-yaml-is-a-list": ["problem.yaml:1 （根）: 发现 [{'month': '2026-10'}]，应为 键: 值 形式的设置（至少有 month: YYYY-MM）"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_fixture_gives_exactly_its_located_messages(name):
    with pytest.raises(DataError) as exc:
        load_problem(FIX / name)
    assert [str(p) for p in exc.value.problems] == [f"{FIX / name}/{m}" for m in CASES[name]]


def test_missing_problem_folder_is_one_located_error(tmp_path):
    with pytest.raises(DataError) as exc:
        load_problem(tmp_path / "nowhere")
    assert [str(p) for p in exc.value.problems] == [
        f"{tmp_path / 'nowhere'} 目录: 发现 '{tmp_path / 'nowhere'}'，应为 存在的排班问题目录（含 problem.yaml、staff.csv 等）"]


def test_manager_of_a_community_without_grids_has_no_duty():
    # Used to make every month infeasible, with an empty explanation.
    ro = solve(load_problem(FIX / "manager-of-community-without-grids"), time_limit=3)
    assert violations(ro) == []
    assert not any(u == "M8" for u, _ in ro.duty)
