"""Keeps `stats.fees.FeeItemSummary` (the public fee figures per service item and division) exact.

An item's rows are recomputed from its deals of the last 12 months — the same deals and the same arithmetic as
`reports.price_summary` — inside the transaction of every change of those deals (subscribers.py: an order made,
declined, cancelled or amended), under the item's row lock so that two deals of one item never write at once.
The clock (`due_ids` / `apply_due`) recomputes an item when its oldest deal leaves the window or its guide range
changed; `rebuild()` recomputes every item from the orders (`flask stats rebuild`, the benchmark's builder).
A recompute reads one item's deals (an indexed read); the public pages read only the kept rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median

from sqlalchemy import delete, or_, select

from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import local, now
from marketplace.extensions import db
from marketplace.fees.checks import YEAR
from marketplace.fees.reports import price_summary
from marketplace.orders.models import VOID, Order
from marketplace.requests.models import ServiceRequest
from marketplace.stats.fees import MARKET, FeeItemSummary, scopes_of

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


def refresh_item(item_id: int) -> None:
    """Recompute one item's rows from its deals (inside the caller's transaction)."""
    item = db.session.execute(
        select(ServiceItem).where(ServiceItem.id == item_id).with_for_update(key_share=True)
    ).scalar_one_or_none()
    if item is None:
        return
    rows = _rows(item, _deals(item_id))
    db.session.execute(delete(FeeItemSummary).where(FeeItemSummary.service_item_id == item_id))
    db.session.execute(FeeItemSummary.__table__.insert(), rows)


def rebuild() -> int:
    """Recompute every item's rows from the orders (one read of the year's deals); returns the rows kept."""
    deals: dict[int, list[Deal]] = defaultdict(list)
    for deal in _deals():
        deals[deal[0]].append(deal)
    rows = [row for item in db.session.scalars(select(ServiceItem)) for row in _rows(item, deals[item.id])]
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
    """Items whose market row is missing, has a deal past the window, or counted against another guide range."""
    row = FeeItemSummary
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
    return list(db.session.scalars(stmt))


def apply_due(item_id: int) -> bool:
    refresh_item(item_id)
    return True
