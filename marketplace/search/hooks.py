"""Keeping the index current: SQLAlchemy session events queue the documents a flush touched as
`search_queue` rows in the same transaction (a rolled-back change queues nothing); after a real commit the
queue is drained (see index.drain), unless SEARCH_INDEX_BY_CLOCK leaves that to the clock's next pass."""

from __future__ import annotations

import itertools
import logging
import time

from flask import current_app, has_app_context
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from marketplace.agencies.models import Agency, Offer, Qualification, agency_category
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.requests.models import RequestStatus, ServiceRequest
from marketplace.search import backends
from marketplace.search.index import REBUILD
from marketplace.search.models import SearchQueue
from marketplace.search.sessions import draining, is_external_transaction
from marketplace.stats.models import AgencyStats

log = logging.getLogger(__name__)

_PENDING = "search_pending"
_DELETING = "search_deleting"
_last_auto_drain = [0.0]


# AgencyStats: an agency's composite score is its static rank (documents.py)
_TRACKED = (Agency, Offer, Qualification, ServiceItem, Category, ServiceRequest, AgencyStats)


def _dependents(conn, items: set[int], categories: set[int]) -> set[tuple[str, int]]:
    """Documents that carry an item's or a category's name: its items, the agencies, the open requests."""
    targets: set[tuple[str, int]] = set()
    if categories:
        ids = conn.scalars(select(ServiceItem.id).where(ServiceItem.category_id.in_(categories))).all()
        items = items | set(ids)
        targets.update(("service", i) for i in ids)
        stmt = select(agency_category.c.agency_id).where(agency_category.c.category_id.in_(categories))
        targets.update(("agency", a) for a in conn.scalars(stmt))
    if items:
        stmt = select(Offer.agency_id).where(Offer.service_item_id.in_(items)).distinct()
        targets.update(("agency", a) for a in conn.scalars(stmt))
        stmt = select(ServiceRequest.id).where(
            ServiceRequest.service_item_id.in_(items), ServiceRequest.status == RequestStatus.BIDDING
        )
        targets.update(("request", r) for r in conn.scalars(stmt))
    return targets


def _target_of(obj) -> tuple[str, int] | None:
    if isinstance(obj, Agency):
        return ("agency", obj.id)
    if isinstance(obj, Offer | Qualification | AgencyStats):
        return ("agency", obj.agency_id)
    if isinstance(obj, ServiceItem):
        return ("service", obj.id)
    if isinstance(obj, ServiceRequest):
        return ("request", obj.id)
    return None


def _before_flush(session: Session, _flush_context, _instances) -> None:
    """Deleted rows cannot be read after the flush: note what they belong to while they still exist."""
    deleting = session.info.setdefault(_DELETING, set())
    for obj in session.deleted:
        if isinstance(obj, Category):
            deleting |= _dependents(session.connection(), set(), {obj.id})
        elif isinstance(obj, _TRACKED):
            deleting.add(_target_of(obj))


def _targets(session: Session) -> set[tuple[str, int]]:
    """The documents a flush touches (the session still shows its pre-flush state in after_flush)."""
    targets: set[tuple[str, int]] = session.info.pop(_DELETING, set())
    items: set[int] = set()
    categories: set[int] = set()
    changed = itertools.chain(
        ((o, True) for o in session.new),
        ((o, False) for o in session.dirty),
    )
    for obj, certain in changed:
        if not isinstance(obj, _TRACKED):
            continue
        if not certain and not session.is_modified(obj, include_collections=True):
            continue
        if isinstance(obj, Category):
            categories.add(obj.id)
            continue
        targets.add(_target_of(obj))
        if isinstance(obj, ServiceItem) and not certain:
            items.add(obj.id)
    if categories or items:
        targets |= _dependents(session.connection(), items, categories)
    return {t for t in targets if t is not None and t[1] is not None}


def _queue(session: Session, targets: set[tuple[str, int]]) -> None:
    """Queue rows in the session's own transaction: they commit, or roll back, with the change."""
    rows = [{"doc_type": t, "doc_id": i} for t, i in sorted(targets) if i is not None]
    if rows:
        session.connection().execute(insert(SearchQueue.__table__), rows)
        session.info[_PENDING] = True


def _after_flush(session: Session, _flush_context) -> None:
    _queue(session, _targets(session))


def _before_bulk(state) -> None:
    """`session.execute(update(Model)…)` / `delete(Model)…` bypass the flush: queue the rows they match.
    A bulk `insert(Model)` does not say which ids it makes: it queues a full rebuild."""
    if not (state.is_update or state.is_delete or state.is_insert) or state.bind_mapper is None:
        return
    model = state.bind_mapper.class_
    if not issubclass(model, _TRACKED):
        return
    if state.is_insert:
        _queue(state.session, {(REBUILD, 0)})
        return
    where = state.statement.whereclause
    ids: list[int] = []
    if where is None and isinstance(state.parameters, list):  # bulk UPDATE by primary key
        ids = [p["id"] for p in state.parameters if isinstance(p, dict) and "id" in p]
        if not ids:
            return
    conn = state.session.connection()
    column = model.agency_id if model in (Offer, Qualification, AgencyStats) else model.id
    stmt = select(column).distinct()
    if ids:
        stmt = stmt.where(model.id.in_(ids))
    elif where is not None:
        stmt = stmt.where(where)
    found = set(conn.scalars(stmt))
    kind = {
        Agency: "agency",
        Offer: "agency",
        Qualification: "agency",
        AgencyStats: "agency",
        ServiceRequest: "request",
    }
    if model in kind:
        targets = {(kind[model], i) for i in found}
    elif model is ServiceItem:
        targets = {("service", i) for i in found} | _dependents(conn, found, set())
    else:
        targets = _dependents(conn, set(), found)
    _queue(state.session, targets)


def _after_commit(session: Session) -> None:
    """After a real commit that queued something: index it now (at most every SEARCH_DRAIN_INTERVAL s)."""
    if not session.info.pop(_PENDING, False) or draining.get() or not has_app_context():
        return
    config = current_app.config
    if config.get("SEARCH_INDEX_BY_CLOCK") or not config.get("SEARCH_DRAIN_ON_COMMIT", True):
        return  # the clock indexes the queue (chronograph: "search queue")
    try:
        bind = session.get_bind()
        if is_external_transaction(bind):
            return  # nothing is committed yet: the enclosing transaction may still roll back
        interval = float(config.get("SEARCH_DRAIN_INTERVAL", 1.0))
        started = time.monotonic()
        if started - _last_auto_drain[0] < interval:
            return  # a burst of commits (imports, demo data): the next drain or search picks these up
        _last_auto_drain[0] = started
        # Before the index is built, leave the rows: its build covers them.
        backends.drain(timeout=float(config.get("SEARCH_WRITER_TIMEOUT", 0.2)), bind=bind)
    except Exception:  # the change is committed; indexing it later is fine, failing the caller is not
        log.exception("search: indexing after commit failed; the queue keeps the changes")


_registered = [False]


def register_listeners() -> None:
    """Once per process, on the Session class: catches Flask-SQLAlchemy's and any test session."""
    if _registered[0]:
        return
    _registered[0] = True
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _before_bulk)
    event.listen(Session, "after_commit", _after_commit)
