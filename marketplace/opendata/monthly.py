"""The months of the open data: their bounds in Beijing time and the months that have a release package (the
packages themselves are made by the clock and kept: opendata/kept.py)."""

from __future__ import annotations

from datetime import date, datetime, time

from marketplace.common.clock import LOCAL_TZ, local, now
from marketplace.stats import open_months
from marketplace.stats.open_months import OcdsMonth


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime.combine(month.replace(day=1), time(), LOCAL_TZ)
    following = month.replace(day=28).toordinal() + 4
    nxt = date.fromordinal(following).replace(day=1)
    return start, datetime.combine(nxt, time(), LOCAL_TZ)


def month_rows() -> list[OcdsMonth]:
    """The months that have releases, newest first, with their kept packages' descriptions (a package not yet
    made included): the kept rows (stats/open_months.py), up to this month."""
    return open_months.rows_until(local(now()).strftime("%Y-%m"))


def months() -> list[date]:
    return [date(int(r.month[:4]), int(r.month[5:]), 1) for r in month_rows()]
