"""What an enterprise should know when it picks a service item for a request: the standard time limit, the
government guide range, and what the market actually paid for it.

"What the market paid" is the same figure as on the public fee page (收费公示): the median contract amount of the
item's real orders (not declined or cancelled) made in the last 12 months, so the two pages never disagree.
Read-only: used by the request form and GET /api/v1/catalogue/items/{id}/facts.
"""

from __future__ import annotations

from datetime import timedelta
from statistics import median

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import now
from marketplace.common.errors import NotFound
from marketplace.extensions import db
from marketplace.orders.models import VOID, Order
from marketplace.requests.models import ServiceRequest
from marketplace.stats import fees as kept_fees

PERIOD = timedelta(days=365)


def deal_prices(item_id: int) -> list[int]:
    """Contract amounts (fen) of the item's real orders made in the last 12 months."""
    stmt = (
        select(Order.amount_fen)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(
            ServiceRequest.service_item_id == item_id,
            Order.status.not_in(list(VOID)),
            Order.created_at >= now() - PERIOD,
        )
    )
    return list(db.session.scalars(stmt))


def item_facts(item_id: int) -> dict:
    """Standard days, fee regime and guide range, and the median deal price over the last 12 months (None when
    there was no deal)."""
    item = db.session.get(ServiceItem, item_id)
    if item is None:
        raise NotFound(_l("No such service item."))
    kept = kept_fees.fresh_rows([item])
    if item.id in kept:  # the fee page's kept row (stats.fees), while current
        row = kept[item.id]
        median_fen, count = (row.median_fen, row.count) if row is not None else (None, 0)
    else:
        prices = deal_prices(item.id)
        median_fen, count = (round(median(prices)) if prices else None), len(prices)
    return {
        "id": item.id,
        "name": item.name,
        "category_id": item.category_id,
        "standard_days": item.standard_days,
        "fee_regime": item.fee_regime.value,
        "guide_min_fen": item.guide_min_fen,
        "guide_max_fen": item.guide_max_fen,
        "median_fen": median_fen,
        "deal_count": count,
    }
