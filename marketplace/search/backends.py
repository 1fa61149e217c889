"""The configured search backend (SEARCH_BACKEND): whoosh (an index on disk, index.py) or postgres (a table
of the database, pg.py). Commands, the clock and the after-commit hook go through here."""

from __future__ import annotations

import logging
import threading

from flask import current_app

from marketplace.extensions import db
from marketplace.search import index, pg, topn
from marketplace.search.sessions import is_external_transaction

log = logging.getLogger(__name__)


def name() -> str:
    return current_app.config.get("SEARCH_BACKEND", "whoosh")


def is_postgres() -> bool:
    return name() == "postgres"


def _bind(bind=None):
    return bind if bind is not None else db.session.get_bind()


def reindex(timeout: float = 60.0, bind=None, progress: index.Progress | None = None):
    """Build the whole index from the database (counts per kind, seconds, where)."""
    if is_postgres():
        return pg.reindex(_bind(bind), progress)
    return index.reindex(timeout=timeout, bind=bind, progress=progress)


def drain(timeout: float = 0.2, bind=None) -> index.DrainReport:
    """Index the queued changes; nothing when there is no index yet (its build covers them)."""
    if is_postgres():
        bind = _bind(bind)
        if (
            bind.dialect.name != "postgresql"
        ):  # said by the search pages and `flask search`, not at every commit
            return index.DrainReport()
        return pg.drain(bind) if pg.is_built(bind) else index.DrainReport()
    return index.drain(timeout=timeout, bind=bind, build_missing=False)


def drain_all(timeout: float = 10.0) -> index.DrainReport:
    if not is_postgres():
        return index.drain_all(timeout=timeout)
    total = index.DrainReport()
    while (report := drain(timeout)).rows:
        total.rows += report.rows
        total.documents += report.documents
    return total


def document_counts(bind=None) -> dict[str, int] | None:
    """Documents per kind in the index; None when there is none yet."""
    return pg.document_counts(_bind(bind)) if is_postgres() else index.document_counts()


def is_built(bind=None) -> bool:
    if is_postgres():
        return pg.is_built(_bind(bind))
    return index.live_state(index.index_dir()) is not None


# --- the clock's step: build a missing index in the background (idempotent) ---------------------------------


def _outgrown() -> bool:
    """Whoosh: more documents changed since the last full rebuild than topn.DELTA_LIMIT (they are collected
    whole by every search, outside the rank-ordered segment): time for a rebuild."""
    if is_postgres():
        return False
    base = index.index_dir()
    state = index.live_state(base)
    return state is not None and topn.delta_documents(index.open_index(base, state), state) > topn.DELTA_LIMIT


def missing_ids() -> list[int]:
    """[1] when there is no index yet, or a Whoosh index has outgrown its rank order (the clock rebuilds it)."""
    try:
        return [] if is_built() and not _outgrown() else [1]
    except pg.BackendUnavailable:
        return []  # said by `flask search` and the search pages; the clock has other work


def _end_read() -> None:
    """End the clock session's read transaction, unless it is joined to one it does not own (tests)."""
    if not is_external_transaction(_bind()):
        db.session.rollback()


_background: dict = {"on": False, "thread": None}


def build_in_background(on: bool = True) -> None:
    """`flask clock` builds a missing or outgrown index beside its passes, not inside one: at 100k agencies a
    build takes minutes, and a pass that waited for it closed no bidding and lit no deadline meanwhile. (`tick`
    and the tests build it inside the pass.)"""
    _background["on"] = on


def building() -> threading.Thread | None:
    """The clock's background build while it runs."""
    thread = _background["thread"]
    return thread if thread is not None and thread.is_alive() else None


def _build() -> bool:
    try:
        report = reindex(timeout=1.0)
    except index.IndexBusy:
        return False  # someone else is building it
    log.info("search: built the missing or outgrown index (%s)", report.counts)
    return True


def _build_beside(app) -> None:
    with app.app_context():
        try:
            _build()
        except Exception:  # the next pass tries again
            log.exception("search: building the index beside the clock failed")
        finally:
            db.session.remove()


def build_missing(_unused: int) -> bool:
    """Build the index if it is still missing or outgrown (another process may have rebuilt it meanwhile)."""
    _end_read()  # as drain_queued: the build clears the queue from a session of its own
    if building() is not None or (is_built() and not _outgrown()):
        return False
    if _background["on"]:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        thread = threading.Thread(target=_build_beside, args=(app,), name="search-build", daemon=True)
        _background["thread"] = thread
        thread.start()
        return True
    return _build()


# --- the clock's step: index the queued changes --------------------------------------------------------------


def queued_ids() -> list[int]:
    """[1] when changes wait in the queue of a built index. With SEARCH_INDEX_BY_CLOCK (production) this is how
    they are indexed: neither a write nor a search waits for the index. Otherwise it catches what a burst of
    commits left for later (a writer indexes at most every SEARCH_DRAIN_INTERVAL seconds)."""
    bind = _bind()
    if is_external_transaction(bind):
        return []  # a session joined to a transaction it does not own (tests): nothing is committed to index
    try:
        return [1] if is_built() and index.has_pending(bind) else []
    except pg.BackendUnavailable:
        return []


def drain_queued(_unused: int) -> bool:
    """Index what is queued (up to a batch); False when nothing was done (another process holds the index)."""
    # End the clock session's read first (nothing is written in this step): on SQLite a read left open would keep
    # the drain's own delete of the queue rows waiting for the whole busy timeout.
    _end_read()
    report = drain(timeout=float(current_app.config.get("SEARCH_CLOCK_WRITER_TIMEOUT", 2.0)))
    return bool(report.rows)
