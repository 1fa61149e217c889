"""agency_keywords: the list's keyword filter reads one kept text per active agency (name, introduction,
category names, offered items' names and aliases) instead of four tables per listed row; on PostgreSQL a GIN
index over the text's bigrams (function agency_bigrams) finds a keyword's candidates. Filled here from the
agencies (and kept by tally/listing.py; `flask stats rebuild` rebuilds it).

Also ANALYZE offer on PostgreSQL: 0034 added expression indexes (coalesce(price_fen, price_min_fen)) whose
statistics exist only after an ANALYZE; without them the planner took a price band for a few thousand offers
(it holds hundreds of thousands at 1M) and hashed them all on every list page with a band.

Revision ID: 0037
Revises: 0035
Create Date: 2026-12-01 00:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0035"
branch_labels = None
depends_on = None

SEP = "\x1f"

BIGRAMS = r"""
CREATE OR REPLACE FUNCTION agency_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}')
  FROM (SELECT substr(lower(t), i, 2) AS g FROM generate_series(1, length(t) - 1) AS i) AS s
  WHERE g !~ '\s'
$$
"""


def upgrade():
    op.create_table(
        "agency_keywords",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_agency_keywords_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_agency_keywords")),
    )
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    agg = "string_agg({}, :sep ORDER BY {})" if postgres else "group_concat({}, :sep)"
    cats = agg.format("c.name", "c.name")
    items = agg.format("w", "w")
    bind.execute(
        sa.text(
            f"""
            INSERT INTO agency_keywords (agency_id, words)
            SELECT a.id,
                   coalesce(a.name, '') || :sep || coalesce(a.intro, '')
                   || coalesce((SELECT :sep || {cats} FROM agency_category ac JOIN category c ON c.id = ac.category_id
                                WHERE ac.agency_id = a.id), '')
                   || coalesce((SELECT :sep || {items} FROM (
                                  SELECT si.name AS w FROM offer o JOIN service_item si ON si.id = o.service_item_id
                                  WHERE o.agency_id = a.id AND o.active
                                  UNION
                                  SELECT CAST(si.aliases AS VARCHAR) FROM offer o JOIN service_item si ON si.id = o.service_item_id
                                  WHERE o.agency_id = a.id AND o.active AND si.aliases IS NOT NULL) AS ws), '')
            FROM agency a WHERE a.status = 'active'
            """
        ),
        {"sep": SEP},
    )
    if postgres:
        op.execute(BIGRAMS)
        op.execute(
            "CREATE INDEX ix_agency_keywords_bigrams ON agency_keywords USING gin (agency_bigrams(words))"
        )
        op.execute("ANALYZE offer")
        op.execute("ANALYZE agency_keywords")


def downgrade():
    op.drop_table("agency_keywords")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS agency_bigrams(text)")
