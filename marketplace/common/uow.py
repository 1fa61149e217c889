"""One transaction per unit of work: services change state and flush; the boundary commits once.

The boundaries are: every view and API resource (wrapped by `wrap_views` when the app is built), every CLI
command and clock step (`unit_of_work()`), and the demo loader. A boundary commits when its work returned
normally and rolls back on any exception, so a refused action (a DomainError) leaves nothing behind — also
when a view catches the error to draw its form again (the error marks the request as refused).

Reads never write: during a GET or HEAD request the session refuses to flush changes or to run INSERT, UPDATE
or DELETE statements (`ReadOnlyRequest`), so a page can only compute what time has made due, never record it —
that is the clock's job.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from marketplace.common.errors import REFUSED_FLAG, DomainError
from marketplace.common.uploads import pending_files
from marketplace.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlyRequest(RuntimeError):
    """Something tried to write to the database while answering a read (a bug, never the user's fault)."""


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit what the block did, or roll it all back if it raised."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def _reading() -> bool:
    return has_request_context() and g.get("_uow_reading", False)


def _forbid_flush(session: Session, _context, _instances) -> None:
    if session.info.get("uow_exempt"):
        return
    if _reading() and (session.new or session.dirty or session.deleted):
        changed = [type(o).__name__ for o in (*session.new, *session.dirty, *session.deleted)]
        raise ReadOnlyRequest(f"{request.method} {request.path} tried to write: {sorted(set(changed))}")


def _forbid_statements(state) -> None:
    if state.session.info.get("uow_exempt"):
        return
    if _reading() and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlyRequest(f"{request.method} {request.path} ran a writing statement")


def register(app: Flask) -> None:
    """A GET or HEAD that writes fails loudly instead of writing — from the first before-request hook on, so
    register this before any other hook."""
    if not event.contains(Session, "before_flush", _forbid_flush):
        event.listen(Session, "before_flush", _forbid_flush)
        event.listen(Session, "do_orm_execute", _forbid_statements)

    @app.before_request
    def _mark_reads() -> None:
        g._uow_reading = request.method in SAFE_METHODS


# --- ending a refused unit of work that wrote nothing -----------------------------------------------------------
# On PostgreSQL a ROLLBACK makes psycopg forget every statement it prepared on the connection (DEALLOCATE ALL: it
# cannot know whether the transaction changed the schema). Under the load test a refusal (a bid after the
# deadline) came every second, so that no connection ran a statement the five times psycopg waits for before
# preparing it: PostgreSQL planned nearly every statement at every call (6.4 of its 28.5 CPU-seconds in a run).
# A refused unit of work that wrote nothing — only reads (locks included) ran on its connections, nothing waits
# to be flushed — ends with a COMMIT instead, which changes nothing either.

_WROTE = "mp_wrote"  # on a pooled connection's info: a statement of the current transaction may have written
_CONNECTIONS = "mp_connections"  # on a session's info: the connections its transaction uses
_READS = re.compile(r"\s*(SELECT|SAVEPOINT|RELEASE|SET|SHOW)\b", re.IGNORECASE)


def _transaction_begins(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)


def _statement_runs(conn: Connection, _cursor, statement: str, *_args) -> None:
    if not _READS.match(statement):  # anything else (WITH … INSERT among them) counts as a write
        conn.info[_WROTE] = True


def _session_uses(session: Session, _transaction, connection: Connection) -> None:
    session.info.setdefault(_CONNECTIONS, []).append(connection)


def _session_ends(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTIONS, None)


def follow_writes(engine: Engine) -> None:
    """Note which transactions write on this engine (PostgreSQL's; app.py registers it)."""
    if not event.contains(engine, "begin", _transaction_begins):
        event.listen(engine, "begin", _transaction_begins)
        event.listen(engine, "before_cursor_execute", _statement_runs)
    if not event.contains(Session, "after_begin", _session_uses):
        event.listen(Session, "after_begin", _session_uses)
        event.listen(Session, "after_transaction_end", _session_ends)


def wrote_nothing(session: Session) -> bool:
    """Whether the session's transaction ran only reads on connections that follow their writes, with nothing
    left to flush and no file waiting for its outcome (False when unsure)."""
    if session.new or session.dirty or session.deleted or pending_files(session):
        return False
    connections = session.info.get(_CONNECTIONS) or []
    return bool(connections) and all(
        event.contains(c.engine, "begin", _transaction_begins) and not c.info.get(_WROTE) for c in connections
    )


def end_refused() -> None:
    """End a refused unit of work: roll it back, or commit it when it wrote nothing (see above)."""
    session = db.session()
    if wrote_nothing(session):
        session.commit()
    else:
        session.rollback()


def transactional(view: Callable) -> Callable:
    """Wrap a view: its transaction commits once at the end (a read's has nothing to commit: the guard refuses
    its writes); a refused action or an exception rolls it back."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            rv = view(*args, **kwargs)
        except DomainError:
            end_refused()  # a refused action leaves nothing behind
            raise
        except BaseException:
            db.session.rollback()
            raise
        if g.get(REFUSED_FLAG, False):
            end_refused()
        else:
            # A read ends with a commit too: it has nothing to commit (the guard refuses its writes), and on
            # PostgreSQL a rollback makes psycopg forget every statement it had prepared on the connection, so
            # that, with most requests reads, nothing stayed prepared and every statement was planned each time.
            db.session.commit()
        return rv

    return wrapper


def wrap_views(app: Flask) -> None:
    """Make every registered view a unit of work (call after all blueprints are registered)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint == "static" or getattr(view, "_uow_wrapped", False):
            continue
        wrapped = transactional(view)
        wrapped._uow_wrapped = True
        app.view_functions[endpoint] = wrapped
