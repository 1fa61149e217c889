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

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
    bindparam,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.common.sql import contains
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


# --- the keyword filter's text ---------------------------------------------------------------------------------

SEP = "\x1f"  # between the pieces of an agency's words: a keyword never matches across two of them
BIGRAMS = "agency_bigrams"  # PostgreSQL only (migration 0037): the lowered text's bigrams, GIN-indexed


class AgencyKeywords(db.Model):
    """What the list's keyword filter looks in, per active agency, kept in one row: its name, introduction,
    category names and the names and aliases of the service items it offers (active offers), joined by SEP.
    On PostgreSQL a GIN index over `agency_bigrams(words)` (the distinct lowered two-character pieces without
    whitespace) finds the candidates of a keyword; the substring match then checks them (`matching`)."""

    __tablename__ = "agency_keywords"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    words: Mapped[str] = mapped_column(Text)


def matching(q: str, dialect: str):
    """The ids of the active agencies whose kept words contain `q` (case-insensitive, as `contains`): a SELECT to
    use with IN. On PostgreSQL a keyword of two characters or more is first looked up in the bigram index (every
    bigram of the keyword lies in a text that contains it, so no match is lost)."""
    K = AgencyKeywords
    stmt = select(K.agency_id).where(contains(K.words, q))
    text = q.strip()
    pairs = [text[i : i + 2] for i in range(len(text) - 1)]
    if dialect == "postgresql" and any(not (a.isspace() or b.isspace()) for a, b in pairs):
        # (with no such bigram the array would be empty, contained in every row: the index would read them all)
        wanted = func.agency_bigrams(bindparam("keyword", text, type_=Text))
        stmt = stmt.where(func.agency_bigrams(K.words).op("@>")(wanted))
    return stmt
