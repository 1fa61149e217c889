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

import string

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    and_,
    bindparam,
    exists,
    func,
    intersect,
    literal_column,
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
BIGRAMS = "agency_bigrams"  # PostgreSQL only (migration 0037): the lowered text's bigrams
# PostgreSQL only (migration 0039, not in the model): agency_bigrams(words) stored, GIN-indexed — a row checked
# along the list's order reads it instead of computing it over the agency's whole text
BIGRAM_SET = literal_column("agency_keywords.bigrams")


class AgencyKeywords(db.Model):
    """What the list's keyword filter looks in, per active agency, kept in one row: its name, introduction,
    category names and the names and aliases of the service items it offers (active offers), joined by SEP.
    On PostgreSQL a GIN index over the stored column `bigrams` = `agency_bigrams(words)` (the distinct lowered
    two-character pieces without whitespace) finds the candidates of a keyword; the substring match then checks
    them (`matching`). On SQLite the same pieces are kept as rows of GRAMS (below)."""

    __tablename__ = "agency_keywords"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True)
    words: Mapped[str] = mapped_column(Text)


# SQLite only (migration 0038, not in the models' metadata): each kept text's two-character pieces as integers
# (`grams`), one row per (piece, agency), WITHOUT ROWID: a keyword's candidates are an index range of it.
GRAMS = Table(
    "agency_keyword_grams",
    MetaData(),
    Column("gram", BigInteger, primary_key=True),
    Column("agency_id", Integer, primary_key=True),
)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# A piece with at most this many agencies is read as a list of candidates; a broader one is checked per listed row
# (the list then stops after a few hundred matches): about sqrt(LIST_COUNT_CAP × agencies) at 100k.
RARE_GRAM = 4000


def grams(text: str) -> set[int]:
    """The distinct two-character pieces of `text` without whitespace (SEP counts as whitespace), lowered as
    SQLite's LIKE compares them (ASCII letters only), each as one integer (two code points of 21 bits)."""
    low = text.translate(_ASCII_LOWER)
    return {
        (ord(a) << 21) | ord(b)
        for a, b in zip(low, low[1:], strict=False)
        if not (a.isspace() or b.isspace())
    }


def matching(q: str, dialect: str, agency_id):
    """A condition on `agency_id` (a column of the caller's rows): the active agency's kept words contain `q`
    (case-insensitive, as `contains`). On PostgreSQL a keyword of two characters or more is first looked up in
    the bigram index (every bigram of the keyword lies in a text that contains it, so no match is lost), on
    SQLite in agency_keyword_grams (`_matching_sqlite`); a keyword without such a piece scans the kept words."""
    K = AgencyKeywords
    if dialect == "sqlite" and grams(q.strip()):
        return _matching_sqlite(q, agency_id)
    stmt = select(K.agency_id).where(contains(K.words, q))
    text = q.strip()
    pairs = [text[i : i + 2] for i in range(len(text) - 1)]
    if dialect == "postgresql" and any(not (a.isspace() or b.isspace()) for a, b in pairs):
        # (with no such bigram the array would be empty, contained in every row: the index would read them all)
        wanted = func.agency_bigrams(bindparam("keyword", text, type_=Text))
        stmt = stmt.where(BIGRAM_SET.op("@>")(wanted))
    return agency_id.in_(stmt)


def _matching_sqlite(q: str, agency_id):
    """The keyword's pieces narrow the rows: the rare ones (≤ RARE_GRAM agencies, found by one short probe each)
    give a list of candidates (their intersection), else each listed row is checked for every piece by its
    primary key. A two-character keyword is its one piece (lowered as LIKE compares): the pieces are the answer;
    a longer one is then checked against the kept words."""
    text = q.strip()
    wanted = sorted(grams(text))
    g = GRAMS.c
    rare = [
        gram
        for gram in wanted
        if db.session.execute(select(g.agency_id).where(g.gram == gram).limit(1).offset(RARE_GRAM)).first()
        is None
    ]
    if rare:
        found = [select(g.agency_id).where(g.gram == gram) for gram in rare]
        out = [agency_id.in_(found[0] if len(found) == 1 else intersect(*found))]
    else:
        out = [exists().where(g.gram == gram, g.agency_id == agency_id) for gram in wanted]
    if len(text) > 2:
        K = AgencyKeywords
        out.append(exists().where(K.agency_id == agency_id, contains(K.words, q)))
    return and_(*out)
