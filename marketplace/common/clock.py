"""The one clock the application reads. Times are timezone-aware UTC inside."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import has_request_context, request

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # what people see; the market's days and months are Beijing's


def now() -> datetime:
    return datetime.now(UTC)


ARRIVAL_KEY = "marketplace.arrived_at"  # WSGI environ key, stamped by app.StampArrival


def arrival() -> datetime:
    """When the current HTTP request reached the application, before it waited for a database connection
    or a lock; now() outside a request. Deadlines are judged by this time, never by when the lock came."""
    if has_request_context():
        stamped = request.environ.get(ARRIVAL_KEY)
        if stamped is not None:
            return stamped
    return now()


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local(value: datetime) -> datetime:
    return as_utc(value).astimezone(LOCAL_TZ)
