"""The market's summary rows: counts kept rather than counted, for the front page and the public statistics.

- `market_count`: named running counts (the active members, and per category), for the front page;
- `market_month`: per month (Beijing time) × the project's region × its item's category: requests published,
  deals (orders created and not void) with their amounts, completions, ratings, and orders due (on-time);
- `market_members`: active members per month of admission × seat region × category (0: the agency itself);
- `market_agency_month`: deals per month × region × category × agency (the top agencies).

The tally keeps them inside the transaction of every change (marketplace/tally/summary.py) and rebuilds them
from the records (`flask stats rebuild`); pages only read them — small rows, never a scan of orders.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db

ACTIVE_AGENCIES = "agencies.active"
CATEGORY_AGENCIES = "agencies.active.category."  # + the category's id


class MarketCount(db.Model):
    __tablename__ = "market_count"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


MONTH_TOTALS = (
    "requests", "deals", "amount_fen", "ceiling_fen", "guided_deals", "guided_amount_fen", "guide_mid_fen",
    "completed", "completed_seconds", "standard_days_sum", "ratings", "rating_sum", "good_ratings",
    "due_delivered", "due_on_time", "due_overdue",
)  # fmt: skip


def _total() -> Mapped[int]:
    return mapped_column(BigInteger, default=0)


class MarketMonth(db.Model):
    """One month (YYYY-MM, Beijing time) × the project's region (GB/T 2260, '' when none) × category."""

    __tablename__ = "market_month"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requests: Mapped[int] = _total()  # published in the month
    deals: Mapped[int] = _total()  # orders created in the month, not void
    amount_fen: Mapped[int] = _total()
    ceiling_fen: Mapped[int] = _total()
    guided_deals: Mapped[int] = _total()
    guided_amount_fen: Mapped[int] = _total()
    guide_mid_fen: Mapped[int] = _total()
    completed: Mapped[int] = _total()  # orders accepted in the month
    completed_seconds: Mapped[int] = _total()  # start → delivery
    standard_days_sum: Mapped[int] = _total()
    ratings: Mapped[int] = _total()  # given in the month
    rating_sum: Mapped[int] = _total()
    good_ratings: Mapped[int] = _total()  # overall ≥ 4
    due_delivered: Mapped[int] = _total()  # started orders due in the month (not void), delivered
    due_on_time: Mapped[int] = _total()  # … delivered by the due date
    due_overdue: Mapped[int] = _total()  # … not delivered and past due (the clock's red light)


class MarketMembers(db.Model):
    """Active members by month of admission × seat region ('' when none) × category (0: the agency)."""

    __tablename__ = "market_members"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = _total()


class MarketAgencyMonth(db.Model):
    """Deals (orders created, not void) per month × project region × category × agency."""

    __tablename__ = "market_agency_month"
    __table_args__ = (
        Index("ix_market_agency_month_category", "category_id", "month"),
        # a division's top agencies (reports/figures.py top_agencies; the clock remakes each division's view):
        # its own rows, not every row of the period, from the index alone (SQLite has no INCLUDE: all in the key)
        Index(
            "ix_market_agency_month_region",
            *("region_code", "month", "category_id", "agency_id", "deals", "amount_fen"),
        ),
    )

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deals: Mapped[int] = _total()
    amount_fen: Mapped[int] = _total()


def count(name: str) -> int:
    return db.session.scalar(select(MarketCount.n).where(MarketCount.name == name)) or 0


def category_member_counts() -> dict[int, int]:
    """Active members per category (an agency in several categories counts in each)."""
    rows = db.session.execute(
        select(MarketCount.name, MarketCount.n).where(MarketCount.name.startswith(CATEGORY_AGENCIES))
    )
    return {int(name[len(CATEGORY_AGENCIES) :]): n for name, n in rows}
