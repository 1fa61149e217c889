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
import os
import re
import struct
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
        "fee_item_due",  # the clock's marks; the kept rows it then writes are public
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
        if _COPIES and not statement.lstrip()[:10].upper().startswith(_READS):
            _note_copy_write(conn, statement)

    def commit(conn):
        if conn.info.pop(_WROTE, False):
            conn.info[_COMMITTED] = True
        written = conn.info.pop(_COPY_WRITES, None)
        if written:
            conn.info.setdefault(_COPY_COMMITTED, set()).update(written)

    def rollback(conn):
        conn.info.pop(_WROTE, None)
        conn.info.pop(_COPY_WRITES, None)

    def checkin(_dbapi_connection, record):
        # The connection is back in the pool: its transaction ended, committed or not.
        if record.info.pop(_COMMITTED, False):
            bump(store)
        record.info.pop(_WROTE, None)
        record.info.pop(_COPY_WRITES, None)
        _drop_copies(app, record.info.pop(_COPY_COMMITTED, ()))

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    event.listen(engine.pool, "checkin", checkin)
    # A connection kept open across transactions (commands, benchmarks) renews it when its next one begins.
    event.listen(engine, "begin", functools.partial(_committed_before, store, app))


def _committed_before(store, app, conn) -> None:
    if conn.info.pop(_COMMITTED, False):
        bump(store)
    _drop_copies(app, conn.info.pop(_COPY_COMMITTED, ()))


class LocalCopy:
    """A per-process copy of something rarely changed (e.g. the regions table), with a version in the shared cache:
    `announce()` after changing it; `stale()` says (at most every `check_seconds`) that another process did."""

    def __init__(self, name: str, check_seconds: float = 5.0) -> None:
        self.key = f"copy:{name}"
        self.check_seconds = check_seconds
        self.version: str | None = None
        self.checked = 0.0

    def _shared(self, app: Flask | None = None) -> str | None:
        if not usable():
            return self.version
        try:
            return backend(app).get(self.key)
        except Exception:  # no shared cache right now: keep the copy
            failed(f"reading {self.key}")
            return self.version

    def loaded(self, app: Flask | None = None) -> None:
        """The copy was (re)loaded: remember which version it is."""
        self.version = self._shared(app)
        self.checked = time.monotonic()

    def stale(self, app: Flask | None = None) -> bool:
        now = time.monotonic()
        if now - self.checked < self.check_seconds:
            return False
        self.checked = now
        return self._shared(app) != self.version

    def announce(self) -> None:
        try:
            backend().set(self.key, uuid.uuid4().hex[:16], timeout=0)
        except Exception:
            log.warning("cache: could not announce %s", self.key, exc_info=True)


# --- per-process copies of rarely written tables, dropped by any committed write to them ----------------------

_COPIES: dict[str, list[TableCopy]] = {}  # table name -> the copies made from it
_COPY_WRITES = "mp_copy_writes"  # connection info: tables of a copy written in the current transaction
_COPY_COMMITTED = "mp_copy_commit"  # ... and that transaction committed
_COPY_STATE = "mp_table_copies"  # app.extensions: {copy name: _CopyState} (per app: tests make many apps)


def _note_copy_write(conn, statement: str) -> None:
    found = _WRITE.match(statement)
    tables = {found.group(1).lower()} if found else set(_COPIES)  # DDL or an unknown write: every copy
    tables &= _COPIES.keys()
    if tables:
        conn.info.setdefault(_COPY_WRITES, set()).update(tables)


def _drop_copies(app: Flask | None, tables) -> None:
    if not tables or app is None:
        return
    states = app.extensions.get(_COPY_STATE, {})
    for copy in {c for t in tables for c in _COPIES.get(t, ())}:
        state = states.get(copy.name)
        if state is not None:
            state.value = None
        try:
            backend(app).set(f"copy:{copy.name}", uuid.uuid4().hex[:16], timeout=0)
        except Exception:  # the other processes' copies then last at most CACHE_PAGE_SECONDS
            failed(f"announcing copy:{copy.name}")


class _CopyState:
    def __init__(self, name: str) -> None:
        self.value = None
        self.loaded_at = 0.0
        self.shared = LocalCopy(name)  # the version in the shared cache this value was loaded under


class TableCopy:
    """A per-process copy of what a few rarely written tables hold (e.g. the catalogue's names for the menus and
    filters), so that a page does not read and map them on every request.

    Any committed write to one of `tables` (seen at the driver, like the generation: ORM or not) drops the copy
    at once in the writing process and renews its version in the shared cache; every other process (other
    workers, other machines) compares that version at most every min(5 s, CACHE_STALE_SECONDS) and reloads,
    and no copy is older than CACHE_PAGE_SECONDS (60 s without a page cache) — never staler than the page cache
    may serve a page. When the app does not follow its writes (CACHE_PAGE_SECONDS=0 and STATS_FRESH_SECONDS=0,
    as in most tests), or the current transaction wrote one of the tables, `get()` loads afresh every time."""

    def __init__(self, name: str, tables: set[str] | frozenset[str], load) -> None:
        self.name = name
        self.load = load
        for table in tables:
            _COPIES.setdefault(table, []).append(self)

    def get(self):
        app = current_app._get_current_object()
        if not app.extensions.get(FOLLOWED):
            return self.load()
        from marketplace.extensions import db

        if db.session.connection().info.get(_COPY_WRITES):  # written, not yet committed: not for the others
            return self.load()
        states = app.extensions.setdefault(_COPY_STATE, {})
        state = states.get(self.name) or states.setdefault(self.name, _CopyState(self.name))
        state.shared.check_seconds = min(5.0, app.config.get("CACHE_STALE_SECONDS") or 0)
        clock = time.monotonic()
        if state.value is not None and (
            clock - state.loaded_at > max(1, app.config.get("CACHE_PAGE_SECONDS") or 60)
            or state.shared.stale(app)
        ):
            state.value = None
        if state.value is None:
            state.shared.loaded(app)  # the version read before loading: a change meanwhile is seen next time
            state.value = self.load()
            state.loaded_at = clock
        return state.value


# --- the one-machine folder: the clock removes what expired ------------------------------------------------------

PRUNE_SECONDS = 60.0  # how often the clock looks through the folder
_pruned_at = [float("-inf")]  # per process: the clock's own rhythm


def _folder_cache(app: Flask | None = None):
    from cachelib import FileSystemCache

    store = backend(app)
    return store if isinstance(store, FileSystemCache) else None


def prune_due_ids() -> list[int]:
    """[1] when the FileSystemCache folder was last looked through PRUNE_SECONDS ago or more (the clock's step).

    cachelib counts the folder's files on every write so that it can prune past CACHE_THRESHOLD; that count (a
    file read and rewritten beside each page kept) cost as much as keeping the page: ~6% of the workers' samples
    under load. With CACHE_THRESHOLD 0 (the default) nothing is counted and the clock prunes instead."""
    if current_app.config.get("CACHE_THRESHOLD", 0) or _folder_cache() is None:
        return []
    return [1] if time.monotonic() - _pruned_at[0] >= PRUNE_SECONDS else []


def prune_folder(_unused: int = 1) -> bool:
    """Remove the folder's expired entries and the leftovers of interrupted writes, then, beyond CACHE_MAX_FILES,
    the entries made longest ago (never those without expiry: the generation, the copies' versions). True when
    something was removed."""
    _pruned_at[0] = time.monotonic()
    store = _folder_cache()
    if store is None:
        return False
    folder, now, removed = current_app.config["CACHE_DIR"], time.time(), 0
    unfinished = getattr(store, "_fs_transaction_suffix", ".__wz_cache")
    dated: list[tuple[float, str]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                if entry.name.endswith(unfinished):
                    if now - entry.stat().st_mtime > PRUNE_SECONDS:  # a write that never finished
                        os.remove(entry.path)
                        removed += 1
                    continue
                with open(entry.path, "rb") as fh:
                    expires = struct.unpack("I", fh.read(4))[0]
                if expires == 0:
                    continue
                if expires < now:
                    os.remove(entry.path)
                    removed += 1
                else:
                    dated.append((entry.stat().st_mtime, entry.path))
            except (OSError, struct.error):  # removed by a reader meanwhile, or half-written: next time
                continue
    limit = int(current_app.config.get("CACHE_MAX_FILES", 20_000))
    if len(dated) > limit:
        dated.sort()
        for _, path in dated[: len(dated) - limit]:
            try:
                os.remove(path)
                removed += 1
            except OSError:
                continue
    return removed > 0
