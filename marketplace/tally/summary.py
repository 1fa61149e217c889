"""Keeping the market's summary rows (stats/summary.py) as the records change, and rebuilding them.

Every figure is a sum of contributions: a published request adds one request to its month, an order adds a deal
(unless void), a completion and an order due, a rating adds a rating, an active agency adds a member. Each write
of an agency, request, order or rating row (mapper events, inside the flush) reads its contributions just before
and just after it (the same SQL as the rebuild, by id) and adds the difference with atomic `x = x + n` updates —
inside the same transaction, whichever service, event or clock step made the change, so a rolled-back change leaves
nothing. Changes written behind the ORM's back (bulk imports, the tests' time travel) are put right by
`rebuild()` (`flask stats rebuild`).
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

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


def apply(conn, deltas: Deltas) -> None:
    """Add each difference to its row (created when missing): `x = x + n`, safe beside concurrent writers."""
    for (model, key), values in deltas.items():
        values = {k: v for k, v in values.items() if v}
        if not values:
            continue
        where = dict(zip(_KEYS[model], key, strict=True))
        conn.execute(_insert(conn, model).values(**where).on_conflict_do_nothing())
        table = model.__table__
        conn.execute(
            update(table)
            .where(*(table.c[k] == v for k, v in where.items()))
            .values(**{k: table.c[k] + n for k, n in values.items()})
        )


def _difference(after: Deltas, before: Deltas) -> Deltas:
    out: Deltas = {}
    for key in after.keys() | before.keys():
        a, b = after.get(key, {}), before.get(key, {})
        out[key] = {k: a.get(k, 0) - b.get(k, 0) for k in a.keys() | b.keys()}
    return out


# --- the session hooks --------------------------------------------------------------------------------------


_PENDING = "summary_before"  # connection.info: {(model, id): contributions before the row's UPDATE}


def _before_update(mapper, connection, target) -> None:
    key = (mapper.class_, target.id)
    connection.info.setdefault(_PENDING, {})[key] = contributions(connection, {mapper.class_: {target.id}})


def _after_update(mapper, connection, target) -> None:
    before = connection.info.get(_PENDING, {}).pop((mapper.class_, target.id), {})
    after = contributions(connection, {mapper.class_: {target.id}})
    apply(connection, _difference(after, before))


def _after_insert(mapper, connection, target) -> None:
    apply(connection, contributions(connection, {mapper.class_: {target.id}}))


def _before_delete(mapper, connection, target) -> None:
    apply(connection, _difference({}, contributions(connection, {mapper.class_: {target.id}})))


def _bulk_update(state):
    """`session.execute(update(Model)…)` (state moves, the tests' time travel) bypasses the flush: the matched
    rows' contributions are read before and after the statement, and the difference kept."""
    if not state.is_update or state.bind_mapper is None or state.bind_mapper.class_ not in PARTS:
        return None
    model, where = state.bind_mapper.class_, state.statement.whereclause
    if where is None:
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
    """Once per process, on the tracked models: each row's contribution before and after it is written."""
    if _registered[0]:
        return
    _registered[0] = True
    for model in PARTS:
        event.listen(model, "before_update", _before_update)
        event.listen(model, "after_update", _after_update)
        event.listen(model, "after_insert", _after_insert)
        event.listen(model, "before_delete", _before_delete)
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
