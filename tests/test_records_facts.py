"""A worker's checked days and weeks travel to durable_rules as a few packed facts (RecordFacts).

Each day or week is a place with its own fields and its own conditions; one fact carries as many
places as durable_rules can check at once (its 64-deep stack of matching alpha nodes, its 255
properties).  The worst case is a month without any record: every slot of every day is short and
every condition of every place matches.  Worked out by hand for October 2026 (31 days, 18 working
days; weeks starting 28 September and 5, 12, 19, 26 October).
"""
from __future__ import annotations

import datetime as dt
import re
import textwrap
from decimal import Decimal

from engine.assessment import FieldNames
from engine.kinds.records import FACT_FIELDS, Record, RecordFacts
from engine.policy import load_policy_file
from engine.prepare import prepare_case
from engine.scoring import score_cases

D = Decimal
SLOTS = ["凌晨", "早", "上午", "下午", "傍晚", "夜间"]     # six four-hour slots

POLICY = """
id: many_slots
name: 六个时段的巡查
attributes:
  worker_type: {label: 类别, values: [村, 社区, 城镇], default: 社区}
records:
  patrol:
    label: 巡查
    type: 巡查
    measure: minutes
    slots: {凌晨: "[0, 4)", 早: "[4, 8)", 上午: "[8, 12)", 下午: "[12, 16)", 傍晚: "[16, 20)", 夜间: "[20, 24)"}
  diary: {label: 民情日志, type: 民情日志, measure: count}
items:
  - id: patrol
    label: 巡查
    points: 60
    rules:
      - id: every_slot
        label: 每个时段巡查
        records: {series: patrol, every: day, slots: {凌晨: 10, 早: 10, 上午: 10, 下午: 10, 傍晚: 10, 夜间: 10},
                  points: 0.1}
      - id: working_day
        label: 工作日巡查
        records: {series: patrol, every: day, days: working, quota: 120, points: 1}
  - id: diary
    label: 日志
    points: 40
    rules:
      - id: weekly
        label: 每周日志
        records: {series: diary, every: week, quota: {by: worker_type, values: {村: 2, 社区: 5}, default: 3},
                  points: 1}
pay:
  performance_share: 20%
  bands: [{id: all, label: 全额, range: "[0, 100]", ratio: 1}]
"""


def load(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(POLICY), encoding="utf-8")
    return load_policy_file(path)


def case(policy, worker_type, records=()):
    recs = []
    for series, day, start, end in records:
        d = dt.date.fromisoformat(day)
        recs.append(Record((series,), d, dt.datetime.combine(d, dt.time.fromisoformat(start)) if start else None,
                           dt.datetime.combine(d, dt.time.fromisoformat(end)) if end else None))
    return prepare_case(policy, "2026-10", "W1", {"worker_type": worker_type}, {}, [], recs)


def rule_points(result, rule_id):
    return sum((f.points for f in result.findings if f.rule_id == rule_id), D(0))


def test_a_month_without_records_finds_every_slot_of_every_day(tmp_path):
    policy = load(tmp_path)
    [r] = score_cases(policy, [case(policy, "村")], [None], processes=1)
    # 31 days × 6 slots × 0.1; 18 working days × 1; 5 weeks below 2 diaries × 1
    assert [f.rule_id for f in r.findings].count("every_slot") == 31
    assert rule_points(r, "every_slot") == D("-18.6")
    assert [f.rule_id for f in r.findings].count("working_day") == 18
    assert rule_points(r, "working_day") == D(-18)
    assert rule_points(r, "weekly") == D(-5)
    assert r.score == D("58.4")
    first = next(f for f in r.findings if f.rule_id == "every_slot")
    assert first.reason.startswith("10月1日巡查凌晨0分钟（应不少于10分钟）、早0分钟（应不少于10分钟）、上午0分钟")


def test_the_places_of_a_worker_take_several_facts_within_durable_rules_limits(tmp_path):
    policy = load(tmp_path)
    bodies = RecordFacts(policy.doc, FieldNames(policy)).bodies(case(policy, "村"))
    # a place is 7 value checks (six slots and the day) with 8 fields (and the working-day flag):
    # the 31 days and 5 weeks cannot share one fact
    assert len(bodies) > 1
    for body in bodies:
        assert body.count('":') + 4 <= FACT_FIELDS
    assert sum(len(re.findall(r'"p\d+_\d+s0":', body)) for body in bodies) == 31   # every day, once
    assert sum(len(re.findall(r'"p\d+_\d+":', body)) for body in bodies) == 31 + 5   # day totals and weeks


def test_a_partly_patrolled_day_and_the_quota_of_each_worker_type(tmp_path):
    policy = load(tmp_path)
    records = [("patrol", "2026-10-09", "08:00", "10:00"),       # 120 minutes in 上午: the working day is met
               ("diary", "2026-10-13", None, None), ("diary", "2026-10-14", None, None),
               ("diary", "2026-10-15", None, None)]              # three diaries in the week of 12 October
    results = score_cases(policy, [case(policy, t, records) for t in ("村", "社区", "城镇")], [None] * 3, processes=1)
    for r in results:
        day9 = [f for f in r.findings if f.rule_id == "every_slot" and f.values["日期"] == "2026-10-09"]
        assert [f.points for f in day9] == [D("-0.5")]          # five slots short, 上午 met
        assert [f.rule_id for f in r.findings].count("working_day") == 17
    # 村 (2 a week) and 城镇 (default 3) meet the week of 12 October; 社区 (5) does not
    assert [rule_points(r, "weekly") for r in results] == [D(-4), D(-5), D(-4)]


def test_a_month_with_other_working_days_is_not_written_with_the_last_months_days(tmp_path):
    # October and December 2026 both have 31 days (the same places, day 0 to day 30), but October
    # has 18 working days (the National Day week) and December 23 (Tuesday 1st to Thursday 31st,
    # no holiday); one process scores both, December after October, with the same compiled policy
    policy = load(tmp_path)
    october = case(policy, "村")
    december = prepare_case(policy, "2026-12", "W1", {"worker_type": "村"}, {}, [], [])
    [r10] = score_cases(policy, [october], [None], processes=1)
    [r12] = score_cases(policy, [december], [None], processes=1)
    assert [f.rule_id for f in r10.findings].count("working_day") == 18
    assert [f.rule_id for f in r12.findings].count("working_day") == 23
    assert sorted(f.values["日期"] for f in r12.findings if f.rule_id == "working_day")[:5] == \
        ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04", "2026-12-07"]
