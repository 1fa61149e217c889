"""Keeps `stats.fees.FeeItemSummary` (the public fee figures per service item and division) exact.

An item's rows are recomputed from its deals of the last 12 months — the same deals and the same arithmetic as
`reports.price_summary` — after every change of those deals (subscribers.py: an order made, declined, cancelled
or amended; `item_changed`):

- with FEES_FIGURES_DELAY_SECONDS ≥ 0 (production) the change only marks the item (`FeeItemDue`), and the clock
  recomputes it at its first pass that many seconds later. A recompute reads the item's whole year of deals
  (~250 ms for a busy item at 100,000 agencies): done inside each selection's transaction it made every
  selection of the item wait for it and for each other (the item's row lock), and recomputed a busy item once
  per deal where one recompute serves every deal of the last seconds. The clock takes the mark away *before*
  it reads the deals, and a deal that marks an item already marked locks that mark (an upsert that rewrites
  it), so a deal committing while the clock recomputes either is read by it or leaves its mark for the next
  pass: never neither.
- with a negative delay (the tests' default) the rows are recomputed inside the deal's own transaction, under
  the item's row lock so that two deals of one item never write at once.

The clock (`due_ids` / `apply_due`) also recomputes an item when its oldest deal leaves the window or its guide
range changed; `rebuild()` recomputes every item from the orders (`flask stats rebuild`, the benchmark's
builder). The public pages read only the kept rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from statistics import median

from flask import current_app
from sqlalchemy import delete, or_, select

from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import local, now
from marketplace.extensions import db
from marketplace.fees.checks import YEAR
from marketplace.fees.reports import price_summary
from marketplace.orders.models import VOID, Order
from marketplace.requests.models import ServiceRequest
from marketplace.stats.fees import MARKET, NO_PRICES, FeeItemDue, FeeItemSummary, scopes_of

Deal = tuple[
    int, str | None, int, int, datetime
]  # item, region code, contract amount, ceiling, contract date


def _deals(item_id: int | None = None) -> list[Deal]:
    stmt = (
        select(
            ServiceRequest.service_item_id,
            ServiceRequest.region_code,
            Order.amount_fen,
            ServiceRequest.ceiling_fen,
            Order.created_at,
        )
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(Order.status.not_in(list(VOID)), Order.created_at >= now() - YEAR)
    )
    if item_id is not None:
        stmt = stmt.where(ServiceRequest.service_item_id == item_id)
    return [tuple(r) for r in db.session.execute(stmt)]  # type: ignore[misc]


def _rows(item: ServiceItem, deals: list[Deal]) -> list[dict]:
    """The item's rows: its market row (always) and one per division its deals lie in."""
    by_scope: dict[str, list[Deal]] = defaultdict(list)
    by_scope[MARKET] = []
    for deal in deals:
        for scope in scopes_of(deal[1]):
            by_scope[scope].append(deal)
    guide = (item.guide_min_fen, item.guide_max_fen)
    rows = []
    for scope, these in by_scope.items():
        s = price_summary([d[2] for d in these], [d[3] for d in these], guide)
        months: dict[str, list[int]] = defaultdict(list)
        for d in these:
            months[local(d[4]).strftime("%Y-%m")].append(d[2])
        rows.append(
            {
                "service_item_id": item.id,
                "scope": scope,
                "count": s["count"],
                "median_fen": s["median_fen"],
                "min_fen": s["min_fen"],
                "max_fen": s["max_fen"],
                "p25_fen": s["p25_fen"],
                "p75_fen": s["p75_fen"],
                "amount_sum_fen": sum(d[2] for d in these),
                "ceiling_sum_fen": sum(d[3] for d in these),
                "above_guide": s["above_guide"],
                "below_guide": s["below_guide"],
                "guide_min_fen": item.guide_min_fen,
                "guide_max_fen": item.guide_max_fen,
                "monthly": {m: [len(p), round(median(p))] for m, p in sorted(months.items())},
                "valid_until": min(d[4] for d in these) + YEAR if these else None,
            }
        )
    return rows


# On PostgreSQL the rows are computed by the database in one grouped read (percentile_cont interpolates as
# reports._quantile does, in the same double precision; the rounding is Python's, as in price_summary), so
# that a recompute costs a grouped scan of the item's deals rather than a Python pass per deal × scope.
# SQLite has no percentile_cont: there the rows are computed in Python by `_rows` (tests compare the two).
_SQL_ROWS = """
WITH d AS (
    SELECT r.service_item_id AS item, o.amount_fen AS amount, r.ceiling_fen AS ceiling, o.created_at AS at,
           to_char(o.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
           i.guide_min_fen AS gmin, i.guide_max_fen AS gmax,
           CASE WHEN r.region_code ~ '^[0-9]{6}$' AND left(r.region_code, 2) <> '00' THEN r.region_code END AS code
    FROM service_order o
    JOIN service_request r ON o.request_id = r.id
    JOIN service_item i ON i.id = r.service_item_id
    WHERE o.status <> ALL(:void) AND o.created_at >= :since {only}
), s AS (
    SELECT d.*, sc.scope FROM d CROSS JOIN LATERAL (VALUES
        (''),
        (left(d.code, 2)),
        (CASE WHEN d.code NOT LIKE '%0000' THEN left(d.code, 4) END),
        (CASE WHEN d.code NOT LIKE '%00' THEN d.code END)
    ) AS sc(scope)
    WHERE sc.scope IS NOT NULL
)
SELECT item, scope, month, GROUPING(month) AS whole, count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS median,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY amount) AS p25,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY amount) AS p75,
       min(amount) AS low, max(amount) AS high, sum(amount)::bigint AS amounts, sum(ceiling)::bigint AS ceilings,
       min(at) AS oldest,
       count(*) FILTER (WHERE gmin IS NOT NULL AND gmax IS NOT NULL AND amount > gmax) AS above,
       count(*) FILTER (WHERE gmin IS NOT NULL AND gmax IS NOT NULL AND amount < gmin) AS below
FROM s
GROUP BY GROUPING SETS ((item, scope), (item, scope, month))
"""


def _empty_row(item: ServiceItem, scope: str = MARKET) -> dict:
    return {
        "service_item_id": item.id,
        "scope": scope,
        **NO_PRICES,
        "amount_sum_fen": 0,
        "ceiling_sum_fen": 0,
        "above_guide": 0,
        "below_guide": 0,
        "guide_min_fen": item.guide_min_fen,
        "guide_max_fen": item.guide_max_fen,
        "monthly": {},
        "valid_until": None,
    }


def _rows_by_sql(items: list[ServiceItem], only_item: int | None = None) -> list[dict]:
    """The rows of `items` (every item's market row, and one per division its deals lie in), computed by
    PostgreSQL from the year's deals (of `only_item` alone when given)."""
    from sqlalchemy import text

    stmt = text(_SQL_ROWS.replace("{only}", "AND r.service_item_id = :item" if only_item is not None else ""))
    params = {"void": [v.value for v in VOID], "since": now() - YEAR}
    if only_item is not None:
        params["item"] = only_item
    by_id = {item.id: item for item in items}
    rows: dict[tuple[int, str], dict] = {(item.id, MARKET): _empty_row(item) for item in items}
    months: dict[tuple[int, str], dict[str, list[int]]] = defaultdict(dict)
    for r in db.session.execute(stmt, params):
        if r.item not in by_id:
            continue
        if not r.whole:
            months[(r.item, r.scope)][r.month] = [r.n, round(r.median)]
            continue
        rows[(r.item, r.scope)] = _empty_row(by_id[r.item], r.scope) | {
            "count": r.n,
            "median_fen": round(r.median),
            "min_fen": r.low,
            "max_fen": r.high,
            "p25_fen": round(r.p25),
            "p75_fen": round(r.p75),
            "amount_sum_fen": r.amounts,
            "ceiling_sum_fen": r.ceilings,
            "above_guide": r.above,
            "below_guide": r.below,
            "valid_until": r.oldest + YEAR,
        }
    for key, row in rows.items():
        row["monthly"] = dict(sorted(months.get(key, {}).items()))
    return list(rows.values())


def _by_sql() -> bool:
    return db.engine.dialect.name == "postgresql"


def refresh_item(item_id: int) -> None:
    """Recompute one item's rows from its deals (inside the caller's transaction)."""
    item = db.session.execute(
        select(ServiceItem).where(ServiceItem.id == item_id).with_for_update(key_share=True)
    ).scalar_one_or_none()
    if item is None:
        return
    rows = _rows_by_sql([item], item_id) if _by_sql() else _rows(item, _deals(item_id))
    db.session.execute(delete(FeeItemSummary).where(FeeItemSummary.service_item_id == item_id))
    db.session.execute(FeeItemSummary.__table__.insert(), rows)


def _delay() -> int:
    return int(current_app.config.get("FEES_FIGURES_DELAY_SECONDS", -1))


def item_changed(item_id: int) -> None:
    """A deal of the item was made, amended, declined or cancelled (in the current transaction): its rows are
    recomputed now, or marked for the clock (see the module's docstring)."""
    if _delay() < 0:
        refresh_item(item_id)
        return
    table = FeeItemDue.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # On an existing mark the upsert rewrites it (keeping its first moment): the row lock it takes makes the
    # clock's claim of the mark wait for this transaction, whose deal it then reads (see the docstring).
    stmt = insert(table).values(service_item_id=item_id, since=now())
    db.session.execute(
        stmt.on_conflict_do_update(index_elements=[table.c.service_item_id], set_={"since": table.c.since})
    )


def rebuild() -> int:
    """Recompute every item's rows from the orders (one read of the year's deals); returns the rows kept."""
    # The marks go before the read: a deal committed meanwhile is read by it or marks its item again.
    db.session.execute(delete(FeeItemDue))
    items = list(db.session.scalars(select(ServiceItem)))
    if _by_sql():
        rows = _rows_by_sql(items)
    else:
        deals: dict[int, list[Deal]] = defaultdict(list)
        for deal in _deals():
            deals[deal[0]].append(deal)
        rows = [row for item in items for row in _rows(item, deals[item.id])]
    db.session.execute(delete(FeeItemSummary))
    if rows:
        db.session.execute(FeeItemSummary.__table__.insert(), rows)
    return len(rows)


def snapshot() -> dict:
    """Every kept row, for comparing the incremental rows with rebuilt ones."""
    columns = [c.name for c in FeeItemSummary.__table__.columns]
    return {
        f"{r.service_item_id}:{r.scope}": {c: getattr(r, c) for c in columns}
        for r in db.session.scalars(select(FeeItemSummary))
    }


# --- the clock ------------------------------------------------------------------------------------------------


def due_ids() -> list[int]:
    """Items marked by a deal at least FEES_FIGURES_DELAY_SECONDS ago, and those whose market row is missing, has a
    deal past the window, or counted against another guide range."""
    row = FeeItemSummary
    marked = select(FeeItemDue.service_item_id).where(
        FeeItemDue.since <= now() - timedelta(seconds=max(_delay(), 0))
    )
    stmt = (
        select(ServiceItem.id)
        .outerjoin(row, (row.service_item_id == ServiceItem.id) & (row.scope == MARKET))
        .where(
            or_(
                row.service_item_id.is_(None),
                row.valid_until < now(),
                row.guide_min_fen.is_distinct_from(ServiceItem.guide_min_fen),
                row.guide_max_fen.is_distinct_from(ServiceItem.guide_max_fen),
            )
        )
        .order_by(ServiceItem.id)
    )
    return sorted(set(db.session.scalars(stmt)) | set(db.session.scalars(marked)))


def apply_due(item_id: int) -> bool:
    # The mark goes first, in its own statement: the deals are read after it (see the module's docstring).
    db.session.execute(delete(FeeItemDue).where(FeeItemDue.service_item_id == item_id))
    refresh_item(item_id)
    return True
