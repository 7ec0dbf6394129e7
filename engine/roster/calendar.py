"""The month's calendar for rostering: see engine/calendar.py (scoring counts working days too,
so the official calendar sits below both; this module keeps the roster's imports)."""
from ..calendar import _HOLIDAY_CN, MonthCalendar, UnknownYear, build_calendar, build_period  # noqa: F401
