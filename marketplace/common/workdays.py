"""Working days (工作日) in Beijing: the days a review deadline counts.

China's official calendar moves holidays and makes some weekends working days (调休); `chinesecalendar`
(MIT, maintained, one release a year after the State Council publishes the next year's holidays) knows them.
For a year it does not know yet, and if the package is missing, working days are Monday to Friday.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from marketplace.common.clock import LOCAL_TZ, as_utc

try:  # pragma: no cover - the import itself is what is tested
    import chinese_calendar
except ImportError:  # pragma: no cover
    chinese_calendar = None


def is_working_day(day: date) -> bool:
    if chinese_calendar is not None:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # a year the package has no data for yet
            pass
    return day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (start itself does not count)."""
    day = start
    left = max(0, n)
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def due_after(moment: datetime, n: int) -> datetime:
    """The end (23:59:59 Beijing time) of the n-th working day after the day of `moment`, in UTC."""
    day = add_working_days(as_utc(moment).astimezone(LOCAL_TZ).date(), n)
    end = datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL_TZ)
    return as_utc(end)
