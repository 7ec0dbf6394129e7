"""The forms of issue 16, each with a case where it binds and one where it does not, worked out by hand.

Every policy here is a few lines of YAML; the worker-month is prepared as the office's files are
(engine/prepare.py: counted and record metrics, the events that count, record periods) and scored
through durable_rules.  October 2026 has 18 working days: 1–7 are the National Day holiday, 10 (a
Saturday) is worked (调休), 11, 17, 18, 24, 25 and 31 are weekend rest days.  Its weeks (by their
Thursday) start on 28 September and 5, 12, 19 and 26 October.
"""
from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal

import pytest

from engine.errors import PolicyError
from engine.inputs import parse_timestamp
from engine.kinds.event import make_event
from engine.kinds.records import Record
from engine.policy import coerce_metric, load_policy_file
from engine.prepare import prepare_case
from engine.scoring import score_cases

D = Decimal
PAY = """
pay:
  performance_share: 20%
  bands: [{id: all, label: 全额, range: "[0, 100]", ratio: 1}]
"""


@pytest.fixture
def policy(tmp_path):
    def load(text: str):
        path = tmp_path / "p.yaml"
        path.write_text("id: t\nname: 测试\n" + textwrap.dedent(text) + PAY, encoding="utf-8")
        return load_policy_file(path)
    return load


def score(policy, month="2026-10", metrics=None, events=(), records=(), attrs=None):
    """One worker-month: events as (id, category, {stage: time}, problem), records as (type, date, start, end, amount)."""
    doc = policy.doc
    vals = {mid: coerce_metric(m, (metrics or {}).get(mid, m.default)) for mid, m in doc.metrics.items()
            if not m.computed}
    evs = [make_event(eid, cat, "一般", {k: parse_timestamp(v) for k, v in times.items()}, month, problem)
           for eid, cat, times, problem in events]
    recs = None
    if doc.records:
        recs = []
        for kind, day, start, end, amount in records:
            d = dt.date.fromisoformat(day)
            series = tuple(sid for sid, s in doc.records.items() if kind in s.types)
            recs.append(Record(series, d, dt.datetime.combine(d, dt.time.fromisoformat(start)) if start else None,
                               dt.datetime.combine(d, dt.time.fromisoformat(end)) if end else None,
                               D(amount) if amount is not None else None))
    case = prepare_case(policy, month, "W1", attrs or {}, vals, evs, recs)
    return score_cases(policy, [case], [D(3000)], processes=1)[0]


def points(res, rule_id):
    return sum((f.points for f in res.findings if f.rule_id == rule_id and f.kind != "cap"), D(0))


def reasons(res, rule_id):
    return [f.reason for f in res.findings if f.rule_id == rule_id and f.kind != "cap"]


# --------------------------------------------------------------------------- 1. daily and weekly records

PATROL = """
records:
  patrol: {label: 巡查, type: 巡查, measure: minutes, slots: {上午: "[0, 12)", 下午: "[12, 24)"}}
items:
  - id: patrol
    label: 日常巡查
    points: 100
    rules:
      - id: half_day
        label: 半天巡查不足
        records: {series: patrol, every: day, days: DAYS, slots: {上午: 60, 下午: 70}, points: 1, period_cap: 2}
"""


def full_days(month_days, morning=("08:00", "09:00"), afternoon=("14:00", "15:10")):
    out = []
    for day in month_days:
        out += [("巡查", day, *morning, None), ("巡查", day, *afternoon, None)]
    return out


WORKING = ["2026-10-08", "2026-10-09", "2026-10-10"] + [f"2026-10-{d}" for d in
                                                        (12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 26, 27, 28, 29, 30)]


def test_a_half_day_quota_binds_on_a_short_half_day(policy):
    # 10月12日 the morning session is 08:00–08:50 = 50 minutes < 60: 1 point; every other half-day meets it
    p = policy(PATROL.replace("DAYS", "working"))
    recs = full_days([d for d in WORKING if d != "2026-10-12"]) + full_days(["2026-10-12"], ("08:00", "08:50"))
    res = score(p, records=recs)
    assert points(res, "half_day") == -1 and res.score == 99
    assert reasons(res, "half_day") == ["10月12日巡查上午50分钟（应不少于60分钟），每时段不足扣1分，扣1分"]


def test_a_half_day_quota_does_not_bind_when_both_halves_meet_it(policy):
    # 60 minutes exactly in the morning and 70 in the afternoon of every working day: nothing short
    res = score(policy(PATROL.replace("DAYS", "working")), records=full_days(WORKING))
    assert res.findings == [] and res.score == 100


def test_a_day_without_records_counts_as_zero_and_a_day_is_capped(policy):
    # 10月9日 has no records: 上午 0 < 60 and 下午 0 < 70, 2 points, the day's cap 2.  With days: all the
    # 13 rest days of October (1–7, 11, 17, 18, 24, 25, 31) are checked too: 2 points each, 28 in all.
    recs = full_days([d for d in WORKING if d != "2026-10-09"])
    res = score(policy(PATROL.replace("DAYS", "working")), records=recs)
    assert points(res, "half_day") == -2
    assert reasons(res, "half_day") == ["10月9日巡查上午0分钟（应不少于60分钟）、下午0分钟（应不少于70分钟），"
                                        "每时段不足扣1分，每天最多扣2分，扣2分"]
    assert points(score(policy(PATROL.replace("DAYS", "all")), records=recs), "half_day") == -28


def test_a_session_crossing_noon_is_split_at_the_slot_edge(policy):
    # 11:30–13:00 on 10月8日 gives the morning 30 minutes and the afternoon 60: both short, 2 points
    recs = full_days([d for d in WORKING if d != "2026-10-08"]) + [("巡查", "2026-10-08", "11:30", "13:00", None)]
    res = score(policy(PATROL.replace("DAYS", "working")), records=recs)
    assert reasons(res, "half_day") == ["10月8日巡查上午30分钟（应不少于60分钟）、下午60分钟（应不少于70分钟），"
                                        "每时段不足扣1分，每天最多扣2分，扣2分"]


DIARY = """
attributes:
  worker_type: {label: 类别, values: [村, 社区], default: 社区}
records:
  diary: {label: 民情日志, type: 日志, measure: count}
items:
  - id: diary
    label: 民情日志
    points: 100
    rules:
      - id: weekly
        label: 每周日志不足
        records: {series: diary, every: week, quota: {by: worker_type, values: {村: 2, 社区: 5}}, points: 1, per: 1}
"""


def test_a_weekly_quota_binds_by_worker_type_and_counts_the_week_of_its_thursday(policy):
    # 村: 2 a week.  The week 9月28日–10月4日 belongs to October (Thursday 10月1日): its two diaries are
    # written on 9月28日 and 29日.  The week of 10月12日 has one (short 1), the others two each.
    days = ["2026-09-28", "2026-09-29", "2026-10-05", "2026-10-06", "2026-10-14", "2026-10-19", "2026-10-20",
            "2026-10-26", "2026-11-01"]
    recs = [("日志", d, None, None, None) for d in days]
    res = score(policy(DIARY), records=recs, attrs={"worker_type": "村"})
    assert points(res, "weekly") == -1
    assert reasons(res, "weekly") == ["10月12日至18日这一周民情日志1条，低于每周2条，差1条，每差1条扣1分，扣1分"]
    # 社区: 5 a week; the weeks hold 2, 2, 1, 2 and 2 diaries: short 3+3+4+3+3 = 16
    assert points(score(policy(DIARY), records=recs, attrs={"worker_type": "社区"}), "weekly") == -16


def test_a_weekly_quota_does_not_bind_when_every_week_has_enough(policy):
    days = [dt.date(2026, 9, 28) + dt.timedelta(days=i) for i in range(35)]
    recs = [("日志", d.isoformat(), None, None, None) for d in days]      # one a day: 7 a week
    assert score(policy(DIARY), records=recs, attrs={"worker_type": "社区"}).findings == []


MEAN = """
records:
  patrol: {label: 巡查时长, type: 巡查, measure: hours}
metrics:
  daily: {label: 日均巡查时长, type: number, unit: 小时, from_records: {series: patrol, stat: per_day, days: working}}
items:
  - id: mean
    label: 日均巡查
    points: 100
    rules:
      - id: mean_low
        label: 日均巡查不足1小时
        shortfall: {metric: daily, quota: 1, points: 5, per: 1}
"""


def test_an_average_derived_from_the_records_binds_below_one_hour(policy):
    # 50 minutes on each of the 18 working days: 0.8333 h a day -> mean 0.83 (2 decimals, half up) < 1
    recs = [("巡查", d, "08:00", "08:50", None) for d in WORKING]
    res = score(policy(MEAN), records=recs)
    assert res.case.metrics["daily"] == D("0.83")
    assert points(res, "mean_low") == -5


def test_an_average_derived_from_the_records_does_not_bind_at_one_hour(policy):
    # 17 days of 60 minutes and one day of 60 more on a rest day (not counted): mean exactly 1
    recs = [("巡查", d, "08:00", "09:00", None) for d in WORKING] + [("巡查", "2026-10-11", "08:00", "09:00", None)]
    res = score(policy(MEAN), records=recs)
    assert res.case.metrics["daily"] == 1 and res.findings == []


# --------------------------------------------------------------------------- 2. weighted composites

COMPOSITE = """
metrics:
  valid: {label: 有效上报率, type: percent, unit: "%"}
  missed: {label: 漏报率, type: percent, unit: "%"}
  verified: {label: 按时核实, type: integer, unit: 件, max: 100}
  reported: {label: 上报事件, type: integer, unit: 件, max: 100}
items:
  - id: platform
    label: 平台指标
    points: 100
    rules:
      - id: composite
        label: 综合得分
        composite:
          terms:
            - {metric: valid, weight: 40%}
            - {metric: missed, weight: 30%, complement: true}
            - {ratio: [verified, reported], weight: 30%}
          decimals: DEC
"""


def test_a_composite_binds_and_is_rounded_once_at_the_end(policy):
    # 99.99×40% + (100−0.01)×30% + (2/3)×100×30% = 39.996 + 29.997 + 20 = 89.993 (exactly)
    # decimals 2: 89.99, deducting 10.01; rounding each term to a whole point would have made it 40+30+20 = 90
    res = score(policy(COMPOSITE.replace("DEC", "2")), metrics={"valid": "99.99", "missed": "0.01",
                                                                 "verified": 2, "reported": 3})
    assert res.score == D("89.99") and points(res, "composite") == D("-10.01")
    assert reasons(res, "composite") == [
        "综合得分＝有效上报率99.99%×40%＋（1－漏报率0.01%）×30%＋按时核实÷上报事件（2/3）×30%"
        "＝89.993分，四舍五入保留2位小数为89.99分（满分100分），扣10.01分"]
    # the stated rule decides: 0 decimals rounds 89.993 to 90
    assert score(policy(COMPOSITE.replace("DEC", "0")), metrics={"valid": "99.99", "missed": "0.01", "verified": 2,
                                                                 "reported": 3}).score == 90


def test_a_composite_does_not_bind_at_full_rates_and_an_empty_ratio_counts_as_full(policy):
    # 100% + (1 − 0%) + 0/0 (nothing to verify: 100%) -> 100, nothing deducted
    res = score(policy(COMPOSITE.replace("DEC", "2")), metrics={"valid": 100, "missed": 0, "verified": 0, "reported": 0})
    assert res.findings == [] and res.score == 100


# --------------------------------------------------------------------------- 3. event lifecycle, 9. months

LIFECYCLE = """
events:
  stages: {accepted: 受理}
metrics:
  open_at_end: {label: 月底未办结, type: integer, unit: 件, count_events: {unclosed: true}}
items:
  - id: deadlines
    label: 办理时限
    points: 100
    rules:
      - id: accept_late
        label: 2天内未受理
        event: {overdue: {from: reported, to: accepted, days: 2}, points: 1}
      - id: close_late
        label: 7天内未办结
        event: {overdue: {from: reported, to: closed, days: 7}, points: 2}
      - id: open
        label: 月底未办结
        per_count: {metric: open_at_end, points: 1}
"""


def test_a_deadline_binds_in_the_month_it_passes_whether_done_later_or_still_open(policy):
    # reported 10月25日 09:00: 受理 due 10月27日 09:00, done 10月28日 -> late in October (1);
    # 办结 due 11月1日 09:00 -> passes in November: not October's; closed 11月3日 -> open at October's end (1).
    ev = ("E1", "治安", {"discovered": "2026-10-25 08:00", "reported": "2026-10-25 09:00",
                        "accepted": "2026-10-28 10:00", "closed": "2026-11-03 10:00"}, "")
    october = score(policy(LIFECYCLE), events=[ev])
    assert (points(october, "accept_late"), points(october, "close_late"), points(october, "open")) == (-1, 0, -1)
    assert reasons(october, "accept_late") == [
        "事件E1（治安，一般）上报后2天内未受理（10月27日09:00到期，10月28日10:00才受理），属“2天内未受理”，扣1分"]
    # November's log holds the same event: its 办结 deadline passed in November (closed later, on 11月3日)
    november = score(policy(LIFECYCLE), month="2026-11", events=[ev])
    assert (points(november, "accept_late"), points(november, "close_late"), points(november, "open")) == (0, -2, 0)


def test_a_deadline_does_not_bind_when_met_or_not_yet_passed(policy):
    ev = ("E1", "治安", {"discovered": "2026-10-25 08:00", "reported": "2026-10-25 09:00",
                        "accepted": "2026-10-27 09:00", "closed": "2026-10-30 10:00"}, "")   # 受理 just in time
    assert score(policy(LIFECYCLE), events=[ev]).findings == []
    # still open at the end of October, but reported 10月30日: both deadlines pass in November
    ev = ("E2", "治安", {"discovered": "2026-10-30 08:00", "reported": "2026-10-30 09:00"}, "")
    res = score(policy(LIFECYCLE), events=[ev])
    assert (points(res, "accept_late"), points(res, "close_late"), points(res, "open")) == (0, 0, -1)


def test_unclosed_means_not_closed_by_the_end_of_the_month(policy):
    # closed 11月1日 00:00 (the cut-off itself): not closed by October's end; closed 10月31日 23:59: closed
    late = ("E1", "治安", {"discovered": "2026-10-20 08:00", "reported": "2026-10-20 09:00",
                          "accepted": "2026-10-20 10:00", "closed": "2026-11-01 00:00"}, "")
    in_time = ("E2", "治安", {"discovered": "2026-10-20 08:00", "reported": "2026-10-20 09:00",
                             "accepted": "2026-10-20 10:00", "closed": "2026-10-31 23:59"}, "")
    assert score(policy(LIFECYCLE), events=[late]).case.metrics["open_at_end"] == 1
    assert score(policy(LIFECYCLE), events=[in_time]).case.metrics["open_at_end"] == 0



def test_a_stage_is_its_own_column_and_a_built_in_one_is_not_declared_again(policy):
    """Each named stage reads its own <name>时间 column: a built-in stage declared again, two stages of one
    name and a name that already ends in 时间 are located, all in one pass; the stages above load."""
    text = LIFECYCLE.replace("stages: {accepted: 受理}", "stages: {accepted: 受理, verified: 受理, reported: 接报, checked: 核查时间}")
    with pytest.raises(PolicyError) as exc:
        policy(text)
    got = sorted((p.line, p.field, p.found) for p in exc.value.problems)
    assert got == [(5, "events.stages.checked", "核查时间"), (5, "events.stages.reported", "reported"),
                   (5, "events.stages.verified", "受理")]
    assert policy(LIFECYCLE).doc.events.stages == {"accepted": "受理"}

MONTH_BY = """
metrics:
  closed_n: {label: 本月办结, type: integer, unit: 件, count_events: {month_by: BY}}
items:
  - id: a
    label: 办结
    points: 100
    rules:
      - {id: closed_short, label: 办结不足, shortfall: {metric: closed_n, quota: 2, points: 1}}
"""


def test_counting_by_the_closing_month(policy):
    # discovered in September, closed in October, and one discovered and closed in October
    evs = [("E1", "治安", {"discovered": "2026-09-28 08:00", "reported": "2026-09-28 09:00",
                          "closed": "2026-10-02 09:00"}, ""),
           ("E2", "治安", {"discovered": "2026-10-10 08:00", "reported": "2026-10-10 09:00",
                          "closed": "2026-10-11 09:00"}, "")]
    by_closing = score(policy(MONTH_BY.replace("BY", "closed")), events=evs)
    assert by_closing.case.metrics["closed_n"] == 2 and by_closing.findings == []
    by_discovery = score(policy(MONTH_BY.replace("BY", "discovered")), events=evs)
    assert by_discovery.case.metrics["closed_n"] == 1 and points(by_discovery, "closed_short") == -1


# --------------------------------------------------------------------------- 4. earn-points items

EARN = """
metrics:
  reports: {label: 有效上报, type: integer, unit: 起, max: 50}
  rate: {label: 核查率, type: percent, unit: "%"}
  misses: {label: 漏报, type: integer, unit: 起, max: 10, default: 0}
items:
  - id: earn
    label: 上报得分
    points: 10
    mode: earn
    rules:
      - {id: per_report, label: 有效上报, per_count: {metric: reports, points: 2}}
      - {id: rate_ok, label: 核查率达标, tiers: {metric: rate, tiers: [{range: "[90, 100]", points: 1}]}}
      - {id: missed, label: 漏报, effect: deduct, per_count: {metric: misses, points: 3}}
  - {id: rest, label: 其余, points: 90}
"""


def earn_policy(policy):
    return policy(EARN)


def test_an_earn_item_starts_at_zero_earns_and_nets_its_deductions(policy):
    # 3 reports × 2 = 6, rate 92% ≥ 90: 1, one miss −3 -> 4 of 10: the item loses 6 -> 94
    res = score(earn_policy(policy), metrics={"reports": 3, "rate": 92, "misses": 1})
    assert res.score == 94
    assert (points(res, "per_report"), points(res, "rate_ok"), points(res, "missed")) == (6, 1, -3)
    assert reasons(res, "per_report") == ["有效上报3起（每起得2分），得6分"]
    assert sum(f.points for f in res.findings) == res.score - 100


def test_an_earn_item_is_capped_at_its_points_and_floored_at_zero(policy):
    # 8 reports = 16 + 1 = 17 > 10: 10 (扣回 7) -> 100; 0 reports, rate 80 (不得分), 2 misses: −6 -> 0, not −6
    top = score(earn_policy(policy), metrics={"reports": 8, "rate": 95})
    assert top.score == 100 and [f.reason for f in top.findings if f.kind == "cap"] == [
        "“上报得分”得分合计17分，超过该项分值10分，按10分计"]
    bottom = score(earn_policy(policy), metrics={"reports": 0, "rate": 80, "misses": 2})
    assert bottom.score == 90 and points(bottom, "rate_ok") == 0
    assert [f.reason for f in bottom.findings if f.kind == "cap"] == ["“上报得分”扣分多于得分（合计-6分），本项按0分计"]


# --------------------------------------------------------------------------- 7. the same problem again, 10. units

REPEAT = """
metrics:
  spots: {label: 环境问题, type: integer, unit: 处, count_events: {category: 环境卫生}}
items:
  - id: problems
    label: 问题整改
    points: 100
    rules:
      - {id: again, label: 同样问题连续通报, event: {repeat_months: "[2, +inf)", points: 2}}
      - {id: spot, label: 环境问题, per_count: {metric: spots, points: 0.5}}
"""


def _env(eid, when, problem):
    return (eid, "环境卫生", {"discovered": when, "reported": when}, problem)


def test_the_same_problem_in_consecutive_months_escalates(policy):
    evs = [_env("E1", "2026-09-10 08:00", "垃圾乱堆"), _env("E2", "2026-10-05 08:00", "垃圾乱堆"),
           _env("E3", "2026-10-06 08:00", "占道经营")]
    res = score(policy(REPEAT), events=evs)
    assert points(res, "again") == -2
    assert reasons(res, "again") == ["事件E2（环境卫生，一般）同一问题（垃圾乱堆）连续2个月出现，属“同样问题连续通报”，扣2分"]
    assert reasons(res, "spot") == ["环境问题2处（每处扣0.5分），扣1分"]    # the metric's unit, not 次


def test_the_same_problem_after_a_month_without_it_does_not_escalate(policy):
    evs = [_env("E1", "2026-08-10 08:00", "垃圾乱堆"), _env("E2", "2026-10-05 08:00", "垃圾乱堆")]
    assert points(score(policy(REPEAT), events=evs), "again") == 0


# --------------------------------------------------------------------------- reasons the office words itself


def test_a_reason_template_of_the_office_is_filled_and_an_unknown_placeholder_is_located(policy):
    text = REPEAT.replace("points: 0.5}}", "points: 0.5}, reason: \"发现{指标}{数值}{单位}，{得扣}{分值}分\"}")
    assert reasons(score(policy(text), events=[_env("E1", "2026-10-05 08:00", "")]), "spot") == ["发现环境问题1处，扣0.5分"]
    with pytest.raises(PolicyError) as exc:
        policy(REPEAT.replace("points: 0.5}}", "points: 0.5}, reason: \"{地点}有问题\"}"))
    [p] = exc.value.problems
    assert (p.line, p.field, p.found) == (12, "items[0].rules[1].reason", "{地点}")


def test_a_veto_says_what_fired_once_and_can_be_worded_by_the_office(policy):
    text = """
metrics:
  case: {label: 引发重大案件, type: bool, default: 否}
  accidents: {label: 安全事故, type: integer, unit: 起, max: 5, default: 0}
items: [{id: a, label: 甲, points: 100}]
vetoes:
  - {id: v_case, label: 迟报引发重大案件, domain: 综合治理, metric: case}
  - {id: v_acc, label: 安全事故, domain: 安全生产, metric: accidents, reason: "{指标}{数值}{单位}，本月考核不合格"}
"""
    res = score(policy(text), metrics={"case": "是", "accidents": 2})
    assert [f.reason for f in res.findings] == ["迟报引发重大案件（综合治理一票否决），本月考核不合格，绩效工资不予发放",
                                                "安全事故2起，本月考核不合格"]
    for f in res.findings:
        assert " " not in f.reason and "「" not in f.reason and "为是" not in f.reason
