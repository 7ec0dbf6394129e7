"""Progress while solving, and "proved impossible" told apart from "not found in time"."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.app.rosters import solve_roster
from engine.cli import main
from engine.errors import InfeasibleError, NotFoundInTime

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "fixtures" / "roster" / "valid"
solve_module = importlib.import_module("engine.roster.solve")   # (engine.roster.solve is also the function)


def test_progress_reports_phases_and_the_best_penalty_so_far():
    events = []
    run = solve_roster(VALID, time_limit=3, progress=events.append)
    phases = [e.phase for e in events]
    assert phases.count("first") == 2 and phases.count("done") == 2     # two towns
    assert {e.part for e in events} == {"甲镇", "乙镇"} and all(e.parts_total == 2 for e in events)
    assert events[-1].phase == "done" and events[-1].parts_done == 2
    assert events[-1].best == run.roster.objective
    assert all(e.elapsed >= 0 and e.time_limit == 3 for e in events)
    assert events[0].message == "甲镇：正在找满足全部硬性规则的排班" or events[0].message == "乙镇：正在找满足全部硬性规则的排班"
    assert any(e.message.startswith("甲镇：完成，罚分") for e in events)


def test_a_roster_not_found_in_time_is_not_called_impossible(monkeypatch):
    monkeypatch.setattr(solve_module, "first_roster",
                        lambda *a, **k: solve_module.FirstRoster("UNKNOWN", 0.0))
    with pytest.raises(NotFoundInTime) as exc:
        solve_roster(VALID, time_limit=3)
    assert str(exc.value) == "在求解时限内未找到满足全部硬性规则的排班（这不等于排不出）"
    assert exc.value.explanation == ["【乙镇】在 3 秒内未找到满足全部硬性规则的排班（未证明排不出：请加大求解时限再试）",
                                     "【甲镇】在 3 秒内未找到满足全部硬性规则的排班（未证明排不出：请加大求解时限再试）"]
    res = CliRunner().invoke(main, ["roster", "--problem", str(VALID), "--out", "/nonexistent/never", "--time-limit", "3"])
    assert res.exit_code == 1 and "这不等于排不出" in res.output


def test_a_proved_impossibility_says_so():
    with pytest.raises(InfeasibleError) as exc:
        solve_roster(ROOT / "rosters" / "demo-infeasible", time_limit=5)
    assert not isinstance(exc.value, NotFoundInTime)
    assert exc.value.explanation[0] == "【小河镇】已证明无可行排班，冲突的规则和事实："
