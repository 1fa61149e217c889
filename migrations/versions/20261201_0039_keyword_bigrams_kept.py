"""agency_keywords.bigrams (PostgreSQL only): the kept text's bigrams as a stored generated column, GIN-indexed,
instead of a GIN index over the expression agency_bigrams(words).

A keyword found in many agencies (环境) is checked row by row along the list's order: with the expression index,
each check recomputed agency_bigrams over the agency's whole text (~0.3 ms a row, 25 ms for a page of 20 at
100,000 agencies); the stored column is read instead. The index finds a rare keyword's candidates as before.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-01 07:00:00

"""

from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE agency_keywords ADD COLUMN bigrams text[] GENERATED ALWAYS AS (agency_bigrams(words)) STORED"
    )
    op.execute("CREATE INDEX ix_agency_keywords_bigram_set ON agency_keywords USING gin (bigrams)")
    op.execute("DROP INDEX IF EXISTS ix_agency_keywords_bigrams")
    op.execute("ANALYZE agency_keywords")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_agency_keywords_bigrams ON agency_keywords USING gin (agency_bigrams(words))")
    op.execute("DROP INDEX ix_agency_keywords_bigram_set")
    op.execute("ALTER TABLE agency_keywords DROP COLUMN bigrams")
