"""Per-account back-off for log-ins: failures are counted per e-mail address, in the database.

The count lives in the database so that every worker sees it, and it is keyed by the address typed (its
SHA-256), whether or not such an account exists: the answer is the same for both and reveals nothing.
The FREE_FAILURES-th failure within WINDOW of the first refuses that address for FIRST_BACKOFF; each failure
after a back-off refuses it for twice as long as the one before (1, 2, 4 … minutes, capped at MAX_BACKOFF).
While refused, attempts are not even checked. A successful log-in forgets the failures; so does a quiet WINDOW
after the end of the last back-off.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from marketplace.auth.models import LoginThrottle
from marketplace.common.clock import now
from marketplace.common.errors import TooManyAttempts
from marketplace.extensions import db

FREE_FAILURES = 5
WINDOW = timedelta(minutes=15)
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(minutes=30)


def login_key(email: str | None) -> str:
    """What a log-in attempt is counted under: the address as the log-in looks it up (trimmed, lower case)."""
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def backoff_after(failures: int) -> timedelta | None:
    """How long an address is refused after its n-th failure in a row (None: not yet)."""
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_BACKOFF * 2 ** (failures - FREE_FAILURES), MAX_BACKOFF)


def _refusal(until: datetime, at: datetime) -> TooManyAttempts:
    seconds = math.ceil((until - at).total_seconds())
    minutes = max(1, math.ceil(seconds / 60))
    return TooManyAttempts(
        _l(
            "Too many failed log-ins with this email address. Please try again in %(minutes)d minutes.",
            minutes=minutes,
        ),
        retry_after=seconds,
    )


def check(key: str) -> None:
    """Raise TooManyAttempts while the address is in its back-off (reads only)."""
    row = db.session.get(LoginThrottle, key)
    at = now()
    if row is not None and row.locked_until is not None and row.locked_until > at:
        raise _refusal(row.locked_until, at)


def _locked_row(key: str, at: datetime) -> LoginThrottle:
    stmt = (
        select(LoginThrottle)
        .where(LoginThrottle.email_hash == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = db.session.scalar(stmt)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            db.session.add(LoginThrottle(email_hash=key, failures=0, first_failure_at=at, last_failure_at=at))
    except IntegrityError:  # a concurrent first failure made it: count on that one
        pass
    return db.session.scalar(stmt)


def record_failure(key: str) -> TooManyAttempts | None:
    """Count one failure. Returns the refusal if this failure starts a back-off.

    Committed here, not at the boundary: the failed log-in's own transaction rolls back, and the count must
    survive it (the one service that commits, on purpose)."""
    at = now()
    row = _locked_row(key, at)
    if row.locked_until is not None:  # in the back-off series: it ends after a quiet WINDOW
        stale = at - row.locked_until > WINDOW
    else:  # still counting: only failures within WINDOW of the first count
        stale = at - row.first_failure_at > WINDOW
    if stale or not row.failures:
        row.failures = 0
        row.first_failure_at = at
    row.failures += 1
    row.last_failure_at = at
    backoff = backoff_after(row.failures)
    row.locked_until = at + backoff if backoff else None
    db.session.commit()
    return _refusal(row.locked_until, at) if backoff else None


def reset(key: str) -> None:
    """A successful log-in forgets the address's failures (the caller commits)."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.email_hash == key))


def purge_stale() -> int:
    """Forget addresses whose last failure is a day old (their back-off is long over)."""
    result = db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.last_failure_at < now() - timedelta(days=1))
    )
    return result.rowcount or 0
