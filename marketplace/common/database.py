"""The database under load: when a transaction takes the write lock at once, and which database errors mean
"busy, try again" (answered 409 or 503, see common/web.py) rather than "broken" (500).

SQLite allows one writer at a time. A transaction that reads and then writes must take the write lock when it
begins (BEGIN IMMEDIATE, waiting up to the busy timeout for it): one that began as a reader and tries to write
after another writer committed fails at once with "database is locked", and no waiting helps. So every
transaction of a non-GET request and of commands and clock work (`writing()`) begins IMMEDIATE; a GET begins as
a reader (in WAL mode readers never wait for the writer) and, in the rare case it writes (today's `advance()` on
pages) and loses that race, is run again holding the write lock from the start (app.Marketplace).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_LOCK_FLAG = "db_write_lock"  # flask.g: this request's transactions begin with the write lock

# PostgreSQL: lock_not_available (lock_timeout), deadlock_detected, serialization_failure.
_PG_LOCK_STATES = {"55P03", "40P01", "40001"}
_PG_TIMEOUT_STATES = {"57014"}  # query_canceled (statement_timeout)
# The server went away: admin_shutdown (a restart), crash_shutdown, cannot_connect_now (starting or stopping).
_PG_GONE_STATES = {"57P01", "57P02", "57P03"}

_writing: ContextVar[bool] = ContextVar("db_writing", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Outside a request (commands, clock work): the transactions begun inside take the write lock at once."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


def with_write_lock(callback):
    """Decorate a command's callback with `writing()` (once, however many apps are created)."""
    if getattr(callback, "_db_writing", False):
        return callback

    @functools.wraps(callback)
    def wrapped(*args, **kwargs):
        with writing():
            return callback(*args, **kwargs)

    wrapped._db_writing = True
    return wrapped


def wants_write_lock() -> bool:
    """Whether a transaction beginning now should take SQLite's write lock at once (BEGIN IMMEDIATE)."""
    if has_request_context():
        return request.method not in SAFE_METHODS or bool(g.get(WRITE_LOCK_FLAG))
    return _writing.get()


def _orig(exc: BaseException) -> BaseException | None:
    return exc.orig if isinstance(exc, DBAPIError) else None


def is_lock_error(exc: BaseException) -> bool:
    """Lost a race for a lock: SQLite busy/locked, PostgreSQL lock time-out, deadlock or serialization failure."""
    orig = _orig(exc)
    if orig is None:
        return False
    state = getattr(orig, "sqlstate", None)
    if state is not None:
        return state in _PG_LOCK_STATES
    name = getattr(orig, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


def is_overload(exc: BaseException) -> bool:
    """The database is too busy to answer in time: no free pooled connection, or a statement time-out."""
    if isinstance(exc, PoolTimeout):
        return True
    orig = _orig(exc)
    return orig is not None and getattr(orig, "sqlstate", None) in _PG_TIMEOUT_STATES


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached: restarted or stopped under us, refusing connections, the connection broken
    (SQLAlchemy invalidates it, and pool_pre_ping replaces it on the next request)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = _orig(exc)
    if orig is None:
        return False
    state = getattr(orig, "sqlstate", None)
    if state is not None:
        return state in _PG_GONE_STATES or state.startswith("08")  # class 08: connection exception
    # psycopg: a connection that could not be made or broke has no SQLSTATE
    return type(orig).__module__.startswith("psycopg") and type(orig).__name__ == "OperationalError"
