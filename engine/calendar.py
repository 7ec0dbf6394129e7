"""The official calendar of a month (or of any planning period): public holidays, adjusted working
days (调休), key days.

Rosters plan on it (engine/roster) and records rules count working days on it (engine/kinds/
records.py).  This is the only module that imports `chinese_calendar`.  For a year the package does not
know, the office must list the month's holidays and adjusted working days in problem.yaml;
otherwise loading fails with a located error.  Days the office lists override the package's
for that day in any year.
"""
from __future__ import annotations

import calendar as _stdcal
import datetime as dt
from dataclasses import dataclass, field

import chinese_calendar


class UnknownYear(Exception):
    """chinese-calendar has no data for this year and the office gave none."""


@dataclass
class MonthCalendar:
    """Facts about each day of one planning period; day index 0 is its first day (the 1st of a month).

    `year` and `month` are those of the first day."""

    year: int
    month: int
    dates: list[dt.date]
    is_weekend: list[bool]          # Saturday or Sunday by the week, whatever the office rules
    is_holiday: list[bool]          # a named public holiday (国庆节, 春节, ...)
    is_rest_day: list[bool]         # official rest day: holiday or a weekend that is not a working day
    holiday_name: list[str]
    is_key: list[bool]              # office-declared key day or inside a sensitive period
    key_reason: list[str]
    source: str                     # "chinese-calendar", "office" (unknown year) or "chinese-calendar+office"
    first_monday: int | None = field(init=False)
    first_working_monday: int | None = field(init=False)

    def __post_init__(self) -> None:
        mondays = [i for i, d in enumerate(self.dates) if d.weekday() == 0]
        self.first_monday = mondays[0] if mondays else None
        self.first_working_monday = next((i for i in mondays if not self.is_rest_day[i]), None)

    @property
    def days(self) -> int:
        return len(self.dates)

    @property
    def start(self) -> dt.date:
        return self.dates[0]

    @property
    def end(self) -> dt.date:
        return self.dates[-1]

    @property
    def is_month(self) -> bool:
        """The period is exactly one calendar month."""
        return self.start.day == 1 and self.days == _stdcal.monthrange(self.year, self.month)[1] \
            and self.end.month == self.month

    @property
    def official_working_days(self) -> int:
        """Official working days (法定工作日) in the period: weekdays that are not holidays, and adjusted
        working Saturdays and Sundays (调休上班日)."""
        return sum(1 for r in self.is_rest_day if not r)

    def weekends(self) -> list[list[int]]:
        """Each weekend of the period as its day indices: Saturday and Sunday, whatever the holidays;
        a weekend cut by the period's first or last day has its one day inside."""
        out: list[list[int]] = []
        for i, d in enumerate(self.dates):
            if d.weekday() == 5 or (d.weekday() == 6 and (i == 0 or self.dates[i - 1].weekday() != 5)):
                out.append([i])
            elif d.weekday() == 6:
                out[-1].append(i)
        return out

    def label(self, d: int) -> str:
        """'10月12日' — how a clerk writes a date (with the year when the period spans two)."""
        day = self.dates[d]
        if self.start.year != self.end.year:
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.month}月{day.day}日"

    def title(self) -> str:
        """'2026年10月' for a month, '2026年11月2日至11月29日' for another period."""
        if self.is_month:
            return f"{self.year}年{self.month}月"
        a, b = self.start, self.end
        tail = f"{b.year}年{b.month}月{b.day}日" if b.year != a.year else f"{b.month}月{b.day}日"
        return f"{a.year}年{a.month}月{a.day}日至{tail}"


def build_calendar(year: int, month: int, *, holidays: list[dt.date] | None = None,
                   workdays: list[dt.date] | None = None,
                   key_days: dict[dt.date, str] | None = None) -> MonthCalendar:
    """Build the month; `holidays`/`workdays` from the office override the package's data day by day."""
    n = _stdcal.monthrange(year, month)[1]
    return build_period(dt.date(year, month, 1), n, holidays=holidays, workdays=workdays, key_days=key_days)


def build_period(start: dt.date, days: int, *, holidays: list[dt.date] | None = None,
                 workdays: list[dt.date] | None = None,
                 key_days: dict[dt.date, str] | None = None) -> MonthCalendar:
    """Build a period of `days` days from `start`, as build_calendar does a month."""
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    year, month = start.year, start.month
    key_days = key_days or {}
    office = holidays is not None or workdays is not None
    hol, rest, names = [], [], []
    office_hol, office_work = set(holidays or []), set(workdays or [])
    known = True
    for day in dates:
        try:
            is_hol, name = chinese_calendar.get_holiday_detail(day)
            is_work = chinese_calendar.is_workday(day)
            # get_holiday_detail says True for ordinary weekends too; only named days are holidays.
            is_hol = bool(is_hol and name)
            name = _HOLIDAY_CN.get(name or "", name or "")
        except NotImplementedError as exc:
            if not office:
                raise UnknownYear(str(exc)) from None
            # A year the package does not know: ordinary weeks, then the office's days below.
            is_hol, name, is_work = False, "", day.weekday() < 5
            known = False
        # The office's days override the package day by day (a local adjustment, or an unknown year).
        if day in office_hol:
            is_hol, is_work, name = True, False, name or "节假日"
        elif day in office_work:
            is_hol, is_work, name = False, True, ""
        hol.append(is_hol)
        rest.append(not is_work)
        names.append(name if is_hol else "")
    return MonthCalendar(
        year=year, month=month, dates=dates,
        is_weekend=[d.weekday() >= 5 for d in dates],
        is_holiday=hol, is_rest_day=rest, holiday_name=names,
        is_key=[d in key_days for d in dates],
        key_reason=[key_days.get(d, "") for d in dates],
        source="chinese-calendar" if not office else ("chinese-calendar+office" if known else "office"),
    )


_HOLIDAY_CN = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


def working_days(year: int, month: int) -> dict[dt.date, bool]:
    """date -> whether it is an official working day (weekends worked by 调休 count, holidays do not);
    UnknownYear when chinese-calendar has no data for the year."""
    cal = build_calendar(year, month)
    return {d: not rest for d, rest in zip(cal.dates, cal.is_rest_day)}
