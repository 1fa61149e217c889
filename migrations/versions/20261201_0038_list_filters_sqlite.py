"""The agency list's price band and keyword filters on SQLite at scale.

Both on SQLite only (nothing changes on PostgreSQL, whose planner has statistics):

ix_offer_agency_low (agency_id, active, coalesce(price_fen, price_min_fen)): a price band with a sort other than
price or speed asks of each listed agency whether it has an active offer in the band. Without statistics SQLite
answered that along ix_offer_low (the whole band's range, for each agency: seconds at 100k agencies); this index
answers it with one short range per agency. (PostgreSQL answers it along ix_offer_agency_id.)

agency_keyword_grams (PostgreSQL has the GIN index of 0037 instead): each kept text's distinct
two-character pieces without whitespace, ASCII letters lowered as LIKE compares them, each as one integer
(code point << 21 | code point), one row per (piece, agency), WITHOUT ROWID. A keyword's candidates are an
index range instead of a scan of every agency's words (stats/listing.py `matching`). Filled here from
agency_keywords, kept by tally/listing.py, rebuilt by `flask stats rebuild`.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-01 03:00:00

"""

import string

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None

_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_LOW = sa.text("coalesce(price_fen, price_min_fen)")


def _grams(text: str) -> set[int]:  # as stats/listing.py `grams` (a migration keeps its own copy)
    low = text.translate(_LOWER)
    return {
        (ord(a) << 21) | ord(b)
        for a, b in zip(low, low[1:], strict=False)
        if not (a.isspace() or b.isspace())
    }


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    op.create_index("ix_offer_agency_low", "offer", ["agency_id", "active", _LOW])
    op.execute(
        "CREATE TABLE agency_keyword_grams (gram BIGINT NOT NULL, agency_id INTEGER NOT NULL, "
        "PRIMARY KEY (gram, agency_id)) WITHOUT ROWID"
    )
    # appended to a temporary table 5,000 agencies at a time, then copied in key order (the index is written
    # front to back: inserting millions of rows at random places takes twice as long)
    op.execute("DROP TABLE IF EXISTS grams_load")
    op.execute("CREATE TEMP TABLE grams_load (gram INTEGER, agency_id INTEGER)")
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT agency_id, words FROM agency_keywords WHERE agency_id > :last ORDER BY agency_id LIMIT 5000"
            ),
            {"last": last},
        ).all()
        if not rows:
            break
        pairs = [(g, agency_id) for agency_id, words in rows for g in _grams(words)]
        if pairs:
            bind.exec_driver_sql("INSERT INTO grams_load (gram, agency_id) VALUES (?, ?)", pairs)
        last = rows[-1][0]
    op.execute(
        "INSERT INTO agency_keyword_grams (gram, agency_id) "
        "SELECT gram, agency_id FROM grams_load ORDER BY gram, agency_id"
    )
    op.execute("DROP TABLE grams_load")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE agency_keyword_grams")
        op.drop_index("ix_offer_agency_low", table_name="offer")
