"""What the market actually pays: winning prices per service item over the last 12 months (the public fee
page, 收费公示) and the administrators' charts of fees against guide prices and savings against ceilings."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from statistics import median

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from marketplace.catalogue import facts
from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import local, now
from marketplace.common.errors import NotFound
from marketplace.extensions import db
from marketplace.fees.checks import YEAR
from marketplace.orders.models import VOID
from marketplace.regions import services as regions
from marketplace.stats import fees as kept_fees


def _months(end: datetime, n: int = 12) -> list[str]:
    """The last n months as 'YYYY-MM' (Beijing time), oldest first."""
    t = local(end)
    year, month = t.year, t.month
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _deals(
    item_id: int | None = None,
    since: datetime | None = None,
    region: str | None = None,
    item_ids: list[int] | None = None,
) -> list[tuple[int, int, int, datetime]]:
    """(service item, contract amount, ceiling, contract date) of every real order in the period (of projects
    inside `region`, a GB/T 2260 code of any level, when given)."""
    from marketplace.orders.models import Order
    from marketplace.requests.models import ServiceRequest

    stmt = (
        select(ServiceRequest.service_item_id, Order.amount_fen, ServiceRequest.ceiling_fen, Order.created_at)
        .join(ServiceRequest, Order.request_id == ServiceRequest.id)
        .where(Order.status.not_in(list(VOID)), Order.created_at >= (since or now() - YEAR))
    )
    if item_id is not None:
        stmt = stmt.where(ServiceRequest.service_item_id == item_id)
    if item_ids is not None:
        stmt = stmt.where(ServiceRequest.service_item_id.in_(item_ids))
    if region is not None:
        stmt = stmt.where(regions.inside(ServiceRequest.region_code, region))
    return [tuple(row) for row in db.session.execute(stmt)]


def _quantile(values: list[int], q: float) -> int:
    """Linear interpolation between the closest ranks (values sorted)."""
    if len(values) == 1:
        return values[0]
    pos = q * (len(values) - 1)
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (pos - low))


def price_summary(
    prices: list[int], ceilings: list[int] | None = None, guide: tuple[int | None, int | None] = (None, None)
) -> dict:
    """Median, quartiles and range of the winning prices; with the ceilings, the savings (negative when the
    deals averaged above their ceilings); with a government guide range, how many deals lay above or below it
    (`above_guide`, `below_guide`, `outside_guide`: the fee page marks them)."""
    low, high = guide
    guided = low is not None and high is not None
    outside = {
        "above_guide": sum(1 for p in prices if p > high) if guided else 0,
        "below_guide": sum(1 for p in prices if p < low) if guided else 0,
    }
    outside["outside_guide"] = bool(outside["above_guide"] or outside["below_guide"])
    if not prices:
        return kept_fees.NO_PRICES | outside
    ordered = sorted(prices)
    summary = {
        "count": len(ordered),
        "median_fen": round(median(ordered)),
        "min_fen": ordered[0],
        "max_fen": ordered[-1],
        "p25_fen": _quantile(ordered, 0.25),
        "p75_fen": _quantile(ordered, 0.75),
    }
    if ceilings:
        summary["savings_rate"] = round(1 - sum(prices) / sum(ceilings), 4)
    return summary | outside


def region_filter(value: str | None) -> str | None:
    """The statistics' region: a known GB/T 2260 code (or a name inside the market's area); None for all."""
    return regions.resolve(value, regions.market_area())


def item_fees(item_id: int, region: str | None = None) -> dict:
    """The public fee page of one service item: guide range and the last 12 months' winning prices, from the kept
    row of stats.fees (never from the orders). `as_of`: None when the figures are those of the 12 months up to
    now, else the moment they were (the clock is recomputing the row); the months run up to that moment."""
    item = db.session.get(ServiceItem, item_id)
    if item is None:
        raise NotFound(_l("No such service item."))
    row = kept_fees.kept_rows([item], region)[item.id]
    stamp = kept_fees.as_of(row)
    by_month = row.monthly if row is not None else {}
    monthly = [
        {
            "month": m,
            "count": by_month[m][0] if m in by_month else 0,
            "median_fen": by_month[m][1] if m in by_month else None,
        }
        for m in _months(stamp or now())
    ]
    return {
        "item": item,
        "guide_min_fen": item.guide_min_fen,
        "guide_max_fen": item.guide_max_fen,
        "winning": kept_fees.summary_of(row),
        "monthly": monthly,
        "as_of": stamp,
    }


def overview(region: str | None = None) -> list[dict]:
    """Every service item with its guide range and the median/range of its winning prices, for the whole market
    or the projects inside `region`: the kept rows of stats.fees (two indexed reads at any size), each with its
    `as_of` (see item_fees)."""
    items = list(
        db.session.scalars(
            select(ServiceItem)
            .options(joinedload(ServiceItem.category))  # the page groups by category: no load per category
            .order_by(ServiceItem.category_id, ServiceItem.sort_order, ServiceItem.id)
        )
    )
    kept = kept_fees.kept_rows(items, region, months=False)
    at = now()
    return [
        {
            "item": item,
            "winning": kept_fees.summary_of(kept[item.id]),
            "as_of": kept_fees.as_of(kept[item.id], at),
        }
        for item in items
    ]


def overview_by_category(region: str | None = None) -> dict:
    """The public fee page: `overview`'s rows grouped by category (in category id order, the items in catalogue
    order), from the catalogue's kept facts (catalogue/facts.py) beside the kept figures: no item is mapped."""
    categories = sorted(facts.categories(), key=lambda c: c.id)
    kept = kept_fees.kept_rows([i for c in categories for i in c.items], region, months=False)
    at = now()
    return {
        c: [
            {
                "item": item,
                "winning": kept_fees.summary_of(kept[item.id]),
                "as_of": kept_fees.as_of(kept[item.id], at),
            }
            for item in c.items
        ]
        for c in categories
        if c.items
    }


def as_of(rows: list[dict]) -> datetime | None:
    """The page's stamp: the earliest moment its rows were exact at (None: every row is current)."""
    stamps = [r["as_of"] for r in rows if r["as_of"] is not None]
    return min(stamps) if stamps else None


# --- the administrators' charts -----------------------------------------------------------------------------


def busiest_guided_item() -> int | None:
    """The government-guided item with the most deals in the past year (the chart's default)."""
    guided = {
        i.id for i in db.session.scalars(select(ServiceItem).where(ServiceItem.guide_max_fen.is_not(None)))
    }
    counts: dict[int, int] = defaultdict(int)
    for item_id, *_ in _deals():
        if item_id in guided:
            counts[item_id] += 1
    return max(counts, key=lambda i: (counts[i], -i)) if counts else None


def fee_vs_guide(item_id: int) -> dict:
    """Average contract amount per month for one item, beside its guide range."""
    item = db.session.get(ServiceItem, item_id)
    if item is None:
        raise NotFound(_l("No such service item."))
    months = _months(now())
    amounts: dict[str, list[int]] = defaultdict(list)
    for _, amount, _, at in _deals(item_id, since=now() - timedelta(days=372)):
        amounts[local(at).strftime("%Y-%m")].append(amount)
    return {
        "item": item,
        "guide_min_fen": item.guide_min_fen,
        "guide_max_fen": item.guide_max_fen,
        "points": [
            {
                "month": m,
                "count": len(amounts[m]),
                "avg_fen": round(sum(amounts[m]) / len(amounts[m])) if amounts[m] else None,
            }
            for m in months
        ],
    }


def savings_by_month(item_id: int | None = None) -> list[dict]:
    """1 − Σ contract / Σ ceiling per month: how much below their ceilings enterprises bought."""
    months = _months(now())
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for _, amount, ceiling, at in _deals(item_id, since=now() - timedelta(days=372)):
        s = sums[local(at).strftime("%Y-%m")]
        s[0] += amount
        s[1] += ceiling
        s[2] += 1
    return [
        {
            "month": m,
            "count": sums[m][2] if m in sums else 0,
            "savings_rate": round(1 - sums[m][0] / sums[m][1], 4) if m in sums and sums[m][1] else None,
        }
        for m in months
    ]
