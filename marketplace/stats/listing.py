"""The intermediary-services list as kept rows: one row per active agency and list scope, carrying its sort keys.

A scope is what the list is narrowed to before any other filter: the whole list (ALL), one category
(CATEGORY), one service item (ITEM: agencies with an active offer of it) or one item among the members of its
category (ITEM_IN_CATEGORY: the web list always narrows so). Each sort has a composite index
(kind, ref, its keys…, agency_id), so a page is an index range read in order, a deep page a keyset seek
(`after` the last row's keys), and the number of agencies in a scope is kept in `agency_listing_count`.

Keys are stored so that ascending order is the list's order (descending figures are negated; a missing
best price or promised time is BIG, i.e. last). The tally keeps the rows (tally/listing.py: refreshed from the
agency's own rows inside the transaction that changed them, rebuilt by `flask stats rebuild`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import db

ALL, CATEGORY, ITEM, ITEM_IN_CATEGORY = 0, 1, 2, 3
BIG = 2**62  # no offer: such agencies come last in the price and speed sorts


class AgencyListing(db.Model):
    __tablename__ = "agency_listing"
    __table_args__ = (
        Index("ix_agency_listing_composite", "kind", "ref", "k_grade", "k_composite", "agency_id"),
        Index("ix_agency_listing_sales", "kind", "ref", "k_sales", "agency_id"),
        Index("ix_agency_listing_rating", "kind", "ref", "k_rating", "agency_id"),
        Index("ix_agency_listing_price", "kind", "ref", "k_price", "agency_id"),
        Index("ix_agency_listing_speed", "kind", "ref", "k_days", "agency_id"),
    )

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    ref: Mapped[int] = mapped_column(Integer, primary_key=True)  # category or service item id; 0 for ALL
    k_grade: Mapped[int] = mapped_column(Integer)  # credit grade rank, A = 0
    k_composite: Mapped[float] = mapped_column(Float)  # − composite
    k_sales: Mapped[int] = mapped_column(Integer)  # − completed orders
    k_rating: Mapped[float] = mapped_column(Float)  # − shrunk rating
    k_price: Mapped[int] = mapped_column(BigInteger)  # lowest price of the scope's active offers, fen
    k_days: Mapped[int] = mapped_column(BigInteger)  # shortest promised days of the scope's active offers


class AgencyListingCount(db.Model):
    """How many agencies each scope lists (kept with the rows, so the list never counts)."""

    __tablename__ = "agency_listing_count"

    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    ref: Mapped[int] = mapped_column(Integer, primary_key=True)
    agencies: Mapped[int] = mapped_column(Integer, default=0)


SORT_KEYS = {
    "composite": ("k_grade", "k_composite"),
    "sales": ("k_sales",),
    "rating": ("k_rating",),
    "price": ("k_price",),
    "speed": ("k_days",),
}
