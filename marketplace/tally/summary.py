"""Keeping the market's summary rows (stats/summary.py) as the records change, and rebuilding them.

Every figure is a sum of contributions: a published request adds one request to its month, an order adds a deal
(unless void), a completion and an order due, a rating adds a rating, an active agency adds a member. Each write
of an agency, request, order or rating row is followed per flush: the contributions of the rows it will update
or delete are read before it (one statement per model), the written rows' contributions after it, and the
difference is added with one atomic upsert per summary table (`x = x + n`); an UPDATE setting none of the
columns a row's contributions read (DEPENDS) is skipped. All inside the same transaction, whichever service,
event or clock step made the change, so a rolled-back change leaves nothing. Changes written behind the ORM's
back (bulk imports, the tests' time travel) are put right by `rebuild()` (`flask stats rebuild`).
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import delete, event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session

from marketplace.agencies.models import Agency, AgencyStatus, agency_category
from marketplace.catalogue.models import ServiceItem, ServiceItemVersion
from marketplace.common.clock import local
from marketplace.orders.models import VOID, Order, OrderStatus
from marketplace.ratings.models import Rating
from marketplace.requests.models import ServiceRequest
from marketplace.stats.summary import (
    ACTIVE_AGENCIES,
    CATEGORY_AGENCIES,
    MarketAgencyMonth,
    MarketCount,
    MarketMembers,
    MarketMonth,
)

Key = tuple  # (model, key tuple)
Deltas = dict[Key, dict[str, int]]

_TRACKED = (Agency, ServiceRequest, Order, Rating)


def _month(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return local(moment).strftime("%Y-%m")


def _add(out: Deltas, model, key: tuple, **values: int) -> None:
    row = out.setdefault((model, key), defaultdict(int))
    for name, n in values.items():
        row[name] += n


# --- the contributions, by SQL (for some ids, or for every row when `ids` is None) ------------------------------


def _where(stmt, column, ids):
    return stmt if ids is None else stmt.where(column.in_(list(ids)))


def _rules():
    """The item's rules the request was posted under (its kept version), else the item itself."""
    guide_min = func.coalesce(ServiceItemVersion.guide_min_fen, ServiceItem.guide_min_fen)
    guide_max = func.coalesce(ServiceItemVersion.guide_max_fen, ServiceItem.guide_max_fen)
    standard = func.coalesce(ServiceItemVersion.standard_days, ServiceItem.standard_days)
    return guide_min.label("guide_min"), guide_max.label("guide_max"), standard.label("standard_days")


def _with_request(stmt):
    return stmt.join(ServiceRequest, Order.request_id == ServiceRequest.id).join(
        ServiceItem, ServiceRequest.service_item_id == ServiceItem.id
    )


def requests_part(conn, ids, out: Deltas) -> None:
    stmt = select(ServiceRequest.published_at, ServiceRequest.region_code, ServiceItem.category_id).join(
        ServiceItem, ServiceRequest.service_item_id == ServiceItem.id
    )
    stmt = _where(stmt.where(ServiceRequest.published_at.is_not(None)), ServiceRequest.id, ids)
    for at, region, category in conn.execute(stmt):
        _add(out, MarketMonth, (_month(at), region or "", category), requests=1)


def orders_part(conn, ids, out: Deltas) -> None:
    due = func.coalesce(Order.reckoned_due_at, Order.due_at).label("due")
    stmt = _with_request(
        select(
            Order.status,
            Order.agency_id,
            Order.amount_fen,
            Order.created_at,
            Order.started_at,
            Order.delivered_at,
            Order.accepted_at,
            Order.deadline_flag,
            due,
            ServiceRequest.ceiling_fen,
            ServiceRequest.region_code,
            ServiceItem.category_id,
            *_rules(),
        )  # fmt: skip
    ).outerjoin(ServiceItemVersion, ServiceRequest.service_item_version_id == ServiceItemVersion.id)
    for o in conn.execute(_where(stmt, Order.id, ids)):
        if o.status in VOID:
            continue
        region, cat = o.region_code or "", o.category_id
        deal = {"deals": 1, "amount_fen": o.amount_fen, "ceiling_fen": o.ceiling_fen}
        if o.guide_min is not None and o.guide_max is not None:
            deal |= {
                "guided_deals": 1,
                "guided_amount_fen": o.amount_fen,
                "guide_mid_fen": (o.guide_min + o.guide_max) // 2,
            }
        _add(out, MarketMonth, (_month(o.created_at), region, cat), **deal)
        _add(
            out, MarketAgencyMonth, (_month(o.created_at), region, cat, o.agency_id),
            deals=1, amount_fen=o.amount_fen,
        )  # fmt: skip
        done = o.status == OrderStatus.ACCEPTED and o.accepted_at and o.started_at and o.delivered_at
        if done:
            seconds = int((_utc(o.delivered_at) - _utc(o.started_at)).total_seconds())
            _add(
                out, MarketMonth, (_month(o.accepted_at), region, cat),
                completed=1, completed_seconds=seconds, standard_days_sum=o.standard_days,
            )  # fmt: skip
        if o.started_at is not None and o.due is not None:
            if o.delivered_at is not None:
                kept = int(_utc(o.delivered_at) <= _utc(o.due))
                _add(out, MarketMonth, (_month(o.due), region, cat), due_delivered=1, due_on_time=kept)
            elif o.deadline_flag == "red":
                _add(out, MarketMonth, (_month(o.due), region, cat), due_overdue=1)


def ratings_part(conn, ids, out: Deltas) -> None:
    stmt = _with_request(
        select(Rating.created_at, Rating.overall, ServiceRequest.region_code, ServiceItem.category_id)
        .select_from(Rating)
        .join(Order, Rating.order_id == Order.id)
    )
    for at, overall, region, category in conn.execute(_where(stmt, Rating.id, ids)):
        _add(
            out, MarketMonth, (_month(at), region or "", category),
            ratings=1, rating_sum=overall, good_ratings=int(overall >= 4),
        )  # fmt: skip


def agencies_part(conn, ids, out: Deltas) -> None:
    admitted = func.coalesce(Agency.approved_at, Agency.created_at).label("admitted")
    stmt = (
        select(Agency.id, admitted, Agency.region_code, agency_category.c.category_id)
        .outerjoin(agency_category, agency_category.c.agency_id == Agency.id)
        .where(Agency.status == AgencyStatus.ACTIVE)
    )
    seen = set()
    for agency_id, at, region, category in conn.execute(_where(stmt, Agency.id, ids)):
        key = (_month(at), region or "")
        if agency_id not in seen:
            seen.add(agency_id)
            _add(out, MarketMembers, (*key, 0), n=1)
            _add(out, MarketCount, (ACTIVE_AGENCIES,), n=1)
        if category is not None:
            _add(out, MarketMembers, (*key, category), n=1)
            _add(out, MarketCount, (f"{CATEGORY_AGENCIES}{category}",), n=1)


PARTS = {Agency: agencies_part, ServiceRequest: requests_part, Order: orders_part, Rating: ratings_part}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def contributions(conn, ids_by_model: dict) -> Deltas:
    out: Deltas = {}
    for model, ids in ids_by_model.items():
        if ids is None or ids:
            PARTS[model](conn, ids, out)
    return out


# --- applying differences ---------------------------------------------------------------------------------------

_KEYS = {
    MarketCount: ("name",),
    MarketMonth: ("month", "region_code", "category_id"),
    MarketMembers: ("month", "region_code", "category_id"),
    MarketAgencyMonth: ("month", "region_code", "category_id", "agency_id"),
}


def _insert(conn, model):
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is None:  # pragma: no cover - the two databases we run on
        raise RuntimeError(f"summary rows: unsupported database {conn.dialect.name}")
    return dialect.insert(model.__table__)


def _upsert(conn, model, columns: tuple[str, ...]):
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET x = x + excluded.x` for these columns: one atomic statement per
    row, safe beside concurrent writers, whether the row exists or not."""
    stmt = _insert(conn, model)
    table = model.__table__
    return stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in _KEYS[model]],
        set_={c: table.c[c] + stmt.excluded[c] for c in columns},
    )


def apply(conn, deltas: Deltas) -> None:
    """Add each difference to its row (created when missing): one executemany of an upsert per table."""
    by_model: dict = defaultdict(list)
    for (model, key), values in deltas.items():
        values = {k: v for k, v in values.items() if v}
        if values:
            by_model[model].append((key, values))
    for model, rows in by_model.items():
        columns = tuple(sorted({c for _key, values in rows for c in values}))
        params = [
            {**dict(zip(_KEYS[model], key, strict=True)), **{c: values.get(c, 0) for c in columns}}
            for key, values in rows
        ]
        conn.execute(_upsert(conn, model, columns), params)


def _difference(after: Deltas, before: Deltas) -> Deltas:
    out: Deltas = {}
    for key in after.keys() | before.keys():
        a, b = after.get(key, {}), before.get(key, {})
        out[key] = {k: a.get(k, 0) - b.get(k, 0) for k in a.keys() | b.keys()}
    return out


def _merge(into: Deltas, more: Deltas) -> None:
    for key, values in more.items():
        row = into.setdefault(key, defaultdict(int))
        for name, n in values.items():
            row[name] += n


# --- the session hooks --------------------------------------------------------------------------------------
#
# Per flush, not per row: the rows a flush is about to change have their contributions read in ONE statement per
# model before it (before_flush), the written rows' contributions in one statement per model after it
# (after_flush), and the difference is added with one upsert per summary table. A row whose UPDATE sets none of
# the columns its contributions are made of is left out (its contribution cannot have changed).

# The columns of each tracked row that its contributions read (the rest of a contribution comes from other rows,
# which the row's own write does not change). Agency: also its categories (the agency_category rows).
DEPENDS = {
    Agency: frozenset({"status", "approved_at", "created_at", "region_code", "categories"}),
    ServiceRequest: frozenset({"published_at", "region_code", "service_item_id"}),
    Order: frozenset(
        {
            "status",
            "agency_id",
            "amount_fen",
            "created_at",
            "started_at",
            "delivered_at",
            "accepted_at",
            "deadline_flag",
            "reckoned_due_at",
            "due_at",
            "request_id",
        }
    ),  # fmt: skip
    Rating: frozenset({"created_at", "overall", "order_id"}),
}

_FLUSH = "summary_flush"  # session.info: the current flush's {"before": Deltas, "seen": keys, "after": {model: ids}}


def _changes_figures(obj) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in DEPENDS[type(obj)] if name in attrs)


def _tracked(obj) -> bool:
    return type(obj) in DEPENDS


def _before_flush(session: Session, _context, _instances) -> None:
    """Read, in one statement per model, the contributions of the rows this flush will update or delete."""
    pending = {"before": {}, "seen": set(), "after": defaultdict(set)}
    session.info[_FLUSH] = pending
    ids: dict = defaultdict(set)
    for obj in session.dirty:
        if _tracked(obj) and _changes_figures(obj):
            ids[type(obj)].add(inspect(obj).identity[0])
    for obj in session.deleted:
        if _tracked(obj):
            ids[type(obj)].add(inspect(obj).identity[0])
    if ids:
        pending["before"] = contributions(session.connection(), ids)
        pending["seen"] = {(model, i) for model, these in ids.items() for i in these}


def _pending(target):
    session = object_session(target)
    return None if session is None else session.info.get(_FLUSH)


def _before_update(mapper, connection, target) -> None:
    pending = _pending(target)
    key = (mapper.class_, target.id)
    if pending is None:  # a flush without our before_flush (cannot happen; kept exact anyway)
        return
    if key not in pending["seen"]:
        if not _changes_figures(target):
            return
        pending["seen"].add(key)  # changed during the flush itself: read its contribution now
        _merge(pending["before"], contributions(connection, {mapper.class_: {target.id}}))
    pending["after"][mapper.class_].add(target.id)


def _after_insert(mapper, connection, target) -> None:
    pending = _pending(target)
    if pending is not None:
        pending["after"][mapper.class_].add(target.id)


def _before_delete(mapper, connection, target) -> None:
    pending = _pending(target)
    key = (mapper.class_, target.id)
    if pending is not None and key not in pending["seen"]:
        pending["seen"].add(key)
        _merge(pending["before"], contributions(connection, {mapper.class_: {target.id}}))


def _after_flush(session: Session, _context) -> None:
    """The written rows' contributions now, minus the ones before: one upsert per summary table."""
    pending = session.info.pop(_FLUSH, None)
    if not pending or not (pending["before"] or pending["after"]):
        return
    conn = session.connection()
    after = contributions(conn, pending["after"]) if pending["after"] else {}
    apply(conn, _difference(after, pending["before"]))


def _forget(session: Session, *_args) -> None:
    session.info.pop(_FLUSH, None)


def sets_none_of(statement, names) -> bool:
    """A bulk UPDATE whose SET names none of these columns (it cannot change what they make)."""
    values = getattr(statement, "_values", None)
    return bool(values) and not any(getattr(k, "key", k) in names for k in values)


def _bulk_update(state):
    """`session.execute(update(Model)…)` (state moves, the tests' time travel) bypasses the flush: the matched
    rows' contributions are read before and after the statement, and the difference kept — unless it sets none
    of the columns they are made of."""
    if not state.is_update or state.bind_mapper is None or state.bind_mapper.class_ not in PARTS:
        return None
    model, where = state.bind_mapper.class_, state.statement.whereclause
    if where is None:
        return None
    if sets_none_of(state.statement, DEPENDS[model]):
        return None
    conn = state.session.connection()
    ids = set(conn.scalars(select(model.id).where(where)))
    if not ids:
        return None
    before = contributions(conn, {model: ids})
    result = state.invoke_statement()
    apply(conn, _difference(contributions(conn, {model: ids}), before))
    return result


_registered = [False]


def register_listeners() -> None:
    """Once per process: the tracked rows' contributions before and after each flush (and bulk UPDATE)."""
    if _registered[0]:
        return
    _registered[0] = True
    for model in PARTS:
        event.listen(model, "before_update", _before_update)
        event.listen(model, "after_insert", _after_insert)
        event.listen(model, "before_delete", _before_delete)
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_soft_rollback", _forget)
    event.listen(Session, "do_orm_execute", _bulk_update)


@contextmanager
def rewritten(session, model, ids):
    """Around a write behind the ORM's back (a bulk UPDATE: a data repair, the tests' time travel): the rows'
    contributions before and after it are taken, and the difference kept, as a flush would."""
    conn = session.connection()
    tracked = {model: set(ids)} if model in PARTS else {}
    before = contributions(conn, tracked)
    yield
    apply(conn, _difference(contributions(conn, tracked), before))


# --- rebuilding -------------------------------------------------------------------------------------------------


def rebuild(session) -> int:
    """Recompute every summary row from the records; returns the number of rows."""
    conn = session.connection()
    rows = contributions(conn, dict.fromkeys(PARTS))  # None: every row
    for model in _KEYS:
        conn.execute(delete(model.__table__))
    by_model: dict = defaultdict(list)
    for (model, key), values in rows.items():
        by_model[model].append({**dict(zip(_KEYS[model], key, strict=True)), **values})
    for model, batch in by_model.items():
        columns = {c.name for c in model.__table__.columns}
        full = [{c: r.get(c, 0) for c in columns} for r in batch]
        conn.execute(model.__table__.insert(), full)
    return sum(len(b) for b in by_model.values())


def snapshot(session) -> dict:
    """Every summary row (zeros left out), for comparing the kept rows with rebuilt ones."""
    out = {}
    for model, keys in _KEYS.items():
        for row in session.execute(select(model.__table__)).mappings():
            values = {k: v for k, v in row.items() if k not in keys and v}
            if values:
                out[f"{model.__tablename__}:{':'.join(str(row[k]) for k in keys)}"] = values
    return out
