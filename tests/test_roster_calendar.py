"""The month's calendar: chinese-calendar, the office's own days, and years the package does not know."""
from __future__ import annotations

import datetime as dt

import pytest

from engine.roster.calendar import UnknownYear, build_calendar

D = dt.date


def test_office_days_override_the_package_day_by_day_in_a_known_year():
    # A county declares 10月12日 a local holiday: National Day (10月1日–7日) and the adjusted
    # working Saturday 10月10日 still come from chinese-calendar (they used to be dropped).
    cal = build_calendar(2026, 10, holidays=[D(2026, 10, 12)])
    assert cal.source == "chinese-calendar+office"
    assert [d + 1 for d in range(31) if cal.is_holiday[d]] == [1, 2, 3, 4, 5, 6, 7, 12]
    assert cal.holiday_name[0] == "国庆节" and cal.holiday_name[11] == "节假日"
    assert not cal.is_rest_day[9]


def test_office_workday_turns_a_package_rest_day_into_a_working_day():
    cal = build_calendar(2026, 10, workdays=[D(2026, 10, 11)])
    assert not cal.is_rest_day[10] and cal.is_rest_day[16]


def test_without_office_days_the_package_alone_decides():
    cal = build_calendar(2026, 10)
    assert cal.source == "chinese-calendar" and not cal.is_rest_day[9] and cal.is_rest_day[10]


def test_unknown_year_needs_the_office_days():
    with pytest.raises(UnknownYear):
        build_calendar(2027, 10)
    cal = build_calendar(2027, 10, holidays=[D(2027, 10, 1)], workdays=[])
    assert cal.source == "office" and cal.is_holiday[0] and cal.is_rest_day[1] and not cal.is_rest_day[3]
