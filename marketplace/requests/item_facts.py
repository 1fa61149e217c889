"""What an enterprise should know when it picks a service item for a request: the standard time limit, the
government guide range, and what the market actually paid for it.

"What the market paid" is the same figure as on the public fee page (收费公示): the median contract amount of the
item's real orders (not declined or cancelled) made in the last 12 months, so the two pages never disagree.
Read from the fee page's kept rows (stats/fees.py), never from the orders. Read-only: used by the request form and GET /api/v1/catalogue/items/{id}/facts.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.catalogue.models import ServiceItem
from marketplace.common.errors import NotFound
from marketplace.extensions import db
from marketplace.stats import fees as kept_fees


def item_facts(item_id: int) -> dict:
    """Standard days, fee regime and guide range, and the median deal price over the last 12 months (None when
    there was no deal)."""
    item = db.session.get(ServiceItem, item_id)
    if item is None:
        raise NotFound(_l("No such service item."))
    row = kept_fees.kept_rows([item], months=False)[
        item.id
    ]  # the fee page's kept row (stats.fees): never the orders
    median_fen, count = (row.median_fen, row.count) if row is not None else (None, 0)
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
