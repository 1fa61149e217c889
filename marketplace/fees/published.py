"""/api/v1/fees read as rows: every service item's guide range and its kept winning prices, as JSON-ready dicts.

`reports.overview` maps every item (with its category) and every kept row (with its monthly JSON, which the
overview does not show) as ORM objects, and the API then dumped them through marshmallow: ~10 ms at any market
size. Here the items' few columns are a per-process copy (common/cache.py `TableCopy`, dropped by any committed
write to service_item) and the kept rows' figures are read as plain rows on every request — they change with
every deal, so they are never kept. The figures go through the same `summary_of` and `as_of` as the overview's,
and the dicts are what `ItemFeesSummaryOut` dumps (tests/api/test_fees_published.py compares them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace.catalogue.models import ServiceItem
from marketplace.common.cache import TableCopy
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.fees.schemas import PriceSummaryOut
from marketplace.stats import fees as kept_fees
from marketplace.stats.fees import FeeItemSummary

_PRICE_FIELDS = tuple(PriceSummaryOut().fields)


def _items() -> tuple[tuple[int, str, str, int | None, int | None], ...]:
    rows = db.session.execute(
        select(
            ServiceItem.id,
            ServiceItem.name,
            ServiceItem.fee_regime,
            ServiceItem.guide_min_fen,
            ServiceItem.guide_max_fen,
        ).order_by(ServiceItem.category_id, ServiceItem.sort_order, ServiceItem.id)  # the overview's order
    )
    return tuple((r.id, r.name, r.fee_regime.value, r.guide_min_fen, r.guide_max_fen) for r in rows)


_ITEMS = TableCopy("fee-overview-items", {"service_item"}, _items)

# What summary_of and as_of read of a kept row (not its monthly figures).
_FIGURES = (
    FeeItemSummary.service_item_id,
    FeeItemSummary.count,
    FeeItemSummary.median_fen,
    FeeItemSummary.min_fen,
    FeeItemSummary.max_fen,
    FeeItemSummary.p25_fen,
    FeeItemSummary.p75_fen,
    FeeItemSummary.amount_sum_fen,
    FeeItemSummary.ceiling_sum_fen,
    FeeItemSummary.above_guide,
    FeeItemSummary.below_guide,
    FeeItemSummary.valid_until,
)


def overview(region: str | None = None) -> list[dict[str, Any]]:
    """`ItemFeesSummaryOut(many=True).dump(reports.overview(region))`, read as rows."""
    scope = kept_fees.scope_for(region)
    kept = {
        r.service_item_id: r
        for r in db.session.execute(select(*_FIGURES).where(FeeItemSummary.scope == scope))
        if r.count  # a row without deals reads as none (kept_rows)
    }
    at = now()
    out = []
    for item_id, name, regime, guide_min_fen, guide_max_fen in _ITEMS.get():
        row = kept.get(item_id)
        summary = kept_fees.summary_of(row)
        stamp = kept_fees.as_of(row, at)
        out.append(
            {
                "service_item_id": item_id,
                "service_item_name": name,
                "fee_regime": regime,
                "guide_min_fen": guide_min_fen,
                "guide_max_fen": guide_max_fen,
                "winning": {k: summary[k] for k in _PRICE_FIELDS if k in summary},
                "as_of": stamp.isoformat() if stamp is not None else None,
            }
        )
    return out
