"""What the market paid per service item over the last 12 months, kept as small rows (收费公示 at any size).

One row per service item and scope: the whole market (scope "") and every division a deal's project lies in, at
each level of GB/T 2260 (its significant prefix: "32" for 320000, "3205" for 320500, "320506"), so that a region
filter of any level reads one row per item. A row holds the same figures `fees.reports.price_summary` computes
from the deals — count, median, quartiles, lowest and highest, the sums behind the savings rate, the deals above
and below the guide range — and the median and count of every month. They are EXACT, not estimates: the fee
audit's listeners (fees/summary.py) recompute an item's rows from its deals after every change of its deals (an
order made, declined, cancelled or amended): in production the clock does it at its first pass
FEES_FIGURES_DELAY_SECONDS after the change (`FeeItemDue` holds the items waiting), so a busy item's deals share
one recompute and no deal waits for one; with a negative delay (the tests' default) inside the deal's own
transaction. The clock also recomputes an item whose oldest deal has left the 12-month window (`valid_until`) or
whose guide range changed since.

The pages read here (fees/reports.py, requests/item_facts.py) and never compute from the orders: a row whose
oldest deal has left the window since (the clock recomputes it within its next pass) is shown with the moment
its figures were exact (`as_of`: "the 12 months up to <time>"), so a GET costs two small indexed reads at any
size. A department's edit of the guide range recomputes the item's rows in its own transaction. This module sits low (beside the agency statistics) so that the request
form's item facts can read the same figure as the fee page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Row, String, select
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.catalogue.models import ServiceItem
from marketplace.common import areas
from marketplace.common.clock import now
from marketplace.common.types import UTCDateTime
from marketplace.extensions import db

MARKET = ""  # the scope of the whole market


class FeeItemSummary(db.Model):
    """The last 12 months' winning prices of one service item inside one scope (see the module's docstring)."""

    __tablename__ = "fee_item_summary"
    __table_args__ = (Index("ix_fee_item_summary_scope", "scope", "service_item_id"),)

    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(6), primary_key=True)  # "" or a division's significant prefix
    count: Mapped[int] = mapped_column(default=0)
    median_fen: Mapped[int | None] = mapped_column(BigInteger)
    min_fen: Mapped[int | None] = mapped_column(BigInteger)
    max_fen: Mapped[int | None] = mapped_column(BigInteger)
    p25_fen: Mapped[int | None] = mapped_column(BigInteger)
    p75_fen: Mapped[int | None] = mapped_column(BigInteger)
    amount_sum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    ceiling_sum_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    above_guide: Mapped[int] = mapped_column(default=0)
    below_guide: Mapped[int] = mapped_column(default=0)
    # the guide range the marks were counted against: a row counted against another range is not current
    guide_min_fen: Mapped[int | None] = mapped_column(BigInteger)
    guide_max_fen: Mapped[int | None] = mapped_column(BigInteger)
    monthly: Mapped[dict] = mapped_column(JSON, default=dict)  # {"YYYY-MM": [count, median_fen]}
    # when the oldest deal counted leaves the 12-month window (None: no deal); after it the row is recomputed
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


FIGURES = tuple(
    getattr(FeeItemSummary, c.key) for c in FeeItemSummary.__table__.columns if c.key != "monthly"
)  # a kept row's columns but the months


def scopes_of(region_code: str | None) -> list[str]:
    """The scopes a deal in `region_code` counts in: the market and each division it lies inside."""
    out = [MARKET]
    if region_code and areas.is_code(region_code):
        out += [region_code[: 2 * lvl] for lvl in range(1, areas.level(region_code) + 1)]
    return out


def scope_for(region: str | None) -> str:
    """The scope a region filter reads (None: the whole market)."""
    return areas.prefix(region) if region else MARKET


def is_current(row: FeeItemSummary | None, item: ServiceItem, at: datetime | None = None) -> bool:
    """A market row counts as the item's figures now while no deal has left its window and the guide is the same
    (the clock's `due_ids` recomputes the others)."""
    if row is None:
        return False
    if (row.guide_min_fen, row.guide_max_fen) != (item.guide_min_fen, item.guide_max_fen):
        return False
    return row.valid_until is None or (at or now()) <= row.valid_until


def as_of(row: FeeItemSummary | None, at: datetime | None = None) -> datetime | None:
    """None while the row's figures are those of the 12 months up to now; else the last moment they were (its
    oldest deal left the window then, and the clock recomputes it within its next pass)."""
    if row is None or row.valid_until is None:
        return None
    return row.valid_until if row.valid_until < (at or now()) else None


def kept_rows(
    items: list[ServiceItem], region: str | None = None, months: bool = True
) -> dict[int, FeeItemSummary | Row | None]:
    """{item id: its kept row in the region's scope, None when it has no deal there} for every item: the pages
    read only these (two indexed reads), never the orders; `as_of` says when a row is behind the clock. An item
    without a market row has had no deal since the rows were built (a deal writes them in its transaction).
    `months=False`: plain rows of the figures without the months (the list pages: no JSON to decode, nothing mapped)."""
    ids = [i.id for i in items]
    scope = scope_for(region)
    where = (FeeItemSummary.scope == scope, FeeItemSummary.service_item_id.in_(ids))
    found = (
        db.session.scalars(select(FeeItemSummary).where(*where))
        if months
        else db.session.execute(select(*FIGURES).where(*where))
    )
    rows = {r.service_item_id: r for r in found}
    return {i: (rows[i] if i in rows and rows[i].count else None) for i in ids}


NO_PRICES = {
    "count": 0,
    "median_fen": None,
    "min_fen": None,
    "max_fen": None,
    "p25_fen": None,
    "p75_fen": None,
}
"""The price summary of an item with no deal (shared with fees.reports.price_summary)."""


def summary_of(row: FeeItemSummary | None) -> dict:
    """A kept row as `fees.reports.price_summary` returns it (the same keys and the same numbers)."""
    if row is None or not row.count:
        out = dict(NO_PRICES)
        above = below = 0
    else:
        out = {
            "count": row.count,
            "median_fen": row.median_fen,
            "min_fen": row.min_fen,
            "max_fen": row.max_fen,
            "p25_fen": row.p25_fen,
            "p75_fen": row.p75_fen,
        }
        if row.ceiling_sum_fen:
            out["savings_rate"] = round(1 - row.amount_sum_fen / row.ceiling_sum_fen, 4)
        above, below = row.above_guide, row.below_guide
    return out | {"above_guide": above, "below_guide": below, "outside_guide": bool(above or below)}


class FeeItemDue(db.Model):
    """A service item whose kept rows wait for the clock: a deal of it changed at `since` (the first such change
    since its rows were last recomputed; later ones join the same recompute)."""

    __tablename__ = "fee_item_due"

    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime())
