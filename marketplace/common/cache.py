"""State shared by every worker on every machine: the market's generation and the shared cache behind it.

The cache (Flask-Caching, `extensions.cache`) is Redis when `REDIS_URL` is set, else a FileSystemCache under the
instance folder, which every worker and the clock of one machine share (a SimpleCache would be one process's).

The generation is a random token in the cache, replaced after every committed transaction that wrote to a table a
visitor can see (anything but PRIVATE_TABLES). What is cached under a generation is therefore never older than
the last public change: a new token is written only *after* the commit (when the connection goes back to the
pool), and a cached page is stored under the token it read *before* it queried the database. A random token
rather than a counter, so that two processes replacing it at once can never bring back an old value. Writes
are seen at the driver (every INSERT / UPDATE / DELETE, ORM or not, DDL included), so no feature has to announce
anything; a write the cache misses (Redis down at that moment) is bounded by CACHE_PAGE_SECONDS.

`LocalCopy` serves the per-process copies of rarely changed tables (the regions): a process reloads its copy
when another one announced a change, checked at most every few seconds.
"""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid

from flask import Flask, current_app
from sqlalchemy import event

from marketplace.extensions import cache

log = logging.getLogger(__name__)

GENERATION_KEY = "market:generation"

# Tables no anonymous page reads: writing them (a log-in, the clock's lease, the outbox, the search queue) keeps
# the generation, so that the pages stay cached while nothing a visitor sees has changed.
PRIVATE_TABLES = frozenset(
    {
        "api_token",
        "clock_lease",
        "favourite",
        "fee_flag",
        "login_throttle",
        "notification",
        "notification_preference",
        "outbox_message",
        "request_watch",
        "search_document",  # the search pages are never cached (see httpcache.py)
        "search_queue",
        "stripe_event",
        "user_session",
    }
)

# Columns no anonymous page shows: an UPDATE setting only these is private too (every log-in stamps the user).
PRIVATE_COLUMNS = {"user": frozenset({"last_login_at", "updated_at"})}

_WRITE = re.compile(
    r"\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+(?:\w+\.)?[\"`]?(\w+)", re.I
)
_SET = re.compile(r"\bSET\s+(.*?)\s+WHERE\b", re.I | re.S)
_READS = ("SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "SHOW", "EXPLAIN")
FOLLOWED = "mp_generation_followed"  # app.extensions: register() renews the generation after public writes
_WROTE = "mp_public_write"  # connection info: a public table was written in the current transaction
_COMMITTED = "mp_public_commit"  # connection info: ... and that transaction committed


PAUSE_SECONDS = 10.0  # after a failed call this process leaves the cache alone for a while
_paused_until = [
    0.0
]  # per process on purpose: a circuit breaker, so that an outage costs one time-out per pause


def usable() -> bool:
    return time.monotonic() >= _paused_until[0]


def failed(what: str) -> None:
    _paused_until[0] = time.monotonic() + PAUSE_SECONDS
    log.warning("cache: %s failed; left alone for %.0f s", what, PAUSE_SECONDS, exc_info=True)


def backend(app: Flask | None = None):
    """The cachelib backend of the app's cache (Redis, a folder, or a null cache)."""
    app = app or current_app
    return app.extensions["cache"][cache]


def writes_public(statement: str) -> bool:
    """Whether a SQL statement may change what a visitor sees (unknown writes and DDL count as changes)."""
    head = statement.lstrip()[:10].upper()
    if head.startswith(_READS):
        return False
    found = _WRITE.match(statement)
    if not found:
        return True
    table = found.group(1).lower()
    if table in PRIVATE_TABLES:
        return False
    columns = PRIVATE_COLUMNS.get(table)
    if columns and head.startswith("UPDATE"):
        assigned = _SET.search(statement)
        if assigned:
            names = {
                part.split("=", 1)[0].strip().strip('"`').lower() for part in assigned.group(1).split(",")
            }
            return not names <= columns
    return True


def generation(store=None) -> str:
    """The current generation (created when the cache has none: first start, eviction, a flushed Redis)."""
    store = store or backend()
    token = store.get(GENERATION_KEY)
    if token is None:
        store.add(GENERATION_KEY, uuid.uuid4().hex[:16], timeout=0)
        token = store.get(GENERATION_KEY)
    return token


def bump(store=None) -> None:
    """A public change committed: everything cached under older generations is stale from now on."""
    if (
        not usable()
    ):  # (pages are neither kept nor read meanwhile; CACHE_PAGE_SECONDS bounds what was kept before)
        return
    store = store or backend()
    try:
        store.set(GENERATION_KEY, uuid.uuid4().hex[:16], timeout=0)
    except Exception:  # the change is committed; the page cache's expiry bounds how stale it can be
        failed("renewing the generation")


def register(app: Flask) -> None:
    """Follow the app's engine: note public writes per transaction, renew the generation after their commit.
    (Pages and the kept statistics use the generation: without either, CACHE_PAGE_SECONDS=0 and
    STATS_FRESH_SECONDS=0 as in the tests, nothing listens.)"""
    if app.config.get("CACHE_PAGE_SECONDS", 0) <= 0 and app.config.get("STATS_FRESH_SECONDS", 0) <= 0:
        return
    app.extensions[FOLLOWED] = True
    store = backend(app)
    with app.app_context():
        from marketplace.extensions import db

        engine = db.engine

    def before_cursor_execute(conn, _cursor, statement, _parameters, _context, _executemany):
        if not conn.info.get(_WROTE) and writes_public(statement):
            conn.info[_WROTE] = True

    def commit(conn):
        if conn.info.pop(_WROTE, False):
            conn.info[_COMMITTED] = True

    def rollback(conn):
        conn.info.pop(_WROTE, None)

    def checkin(_dbapi_connection, record):
        # The connection is back in the pool: its transaction ended, committed or not.
        if record.info.pop(_COMMITTED, False):
            bump(store)
        record.info.pop(_WROTE, None)

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    event.listen(engine.pool, "checkin", checkin)
    # A connection kept open across transactions (commands, benchmarks) renews it when its next one begins.
    event.listen(engine, "begin", functools.partial(_committed_before, store))


def _committed_before(store, conn) -> None:
    if conn.info.pop(_COMMITTED, False):
        bump(store)


class LocalCopy:
    """A per-process copy of something rarely changed (e.g. the regions table), with a version in the shared cache:
    `announce()` after changing it; `stale()` says (at most every `check_seconds`) that another process did."""

    def __init__(self, name: str, check_seconds: float = 5.0) -> None:
        self.key = f"copy:{name}"
        self.check_seconds = check_seconds
        self.version: str | None = None
        self.checked = 0.0

    def _shared(self) -> str | None:
        if not usable():
            return self.version
        try:
            return backend().get(self.key)
        except Exception:  # no shared cache right now: keep the copy
            failed(f"reading {self.key}")
            return self.version

    def loaded(self) -> None:
        """The copy was (re)loaded: remember which version it is."""
        self.version = self._shared()
        self.checked = time.monotonic()

    def stale(self) -> bool:
        now = time.monotonic()
        if now - self.checked < self.check_seconds:
            return False
        self.checked = now
        return self._shared() != self.version

    def announce(self) -> None:
        try:
            backend().set(self.key, uuid.uuid4().hex[:16], timeout=0)
        except Exception:
            log.warning("cache: could not announce %s", self.key, exc_info=True)
