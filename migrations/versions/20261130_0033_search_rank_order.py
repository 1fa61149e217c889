"""search_document: the static-rank order as an index, and the titles' own tsvector (PostgreSQL)

A search keeps the top N by the static rank: a broad query walks ix_search_document_rank from the top and stops
after N matches; a title match is found through its own GIN index (title_tsv) rather than rechecking the
weights of every candidate row.

Revision ID: 0033
Revises: 0028
Create Date: 2026-11-30 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0033"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    # walked backwards: rank DESC, doc_id (the order of search hits)
    op.create_index(
        "ix_search_document_rank", "search_document", ["rank", sa.text("doc_id DESC")], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE search_document ADD COLUMN title_tsv tsvector GENERATED ALWAYS AS ("
            "to_tsvector('simple', title_lexemes)) STORED"
        )
        op.execute("CREATE INDEX ix_search_document_title_tsv ON search_document USING gin (title_tsv)")
        op.execute("ANALYZE search_document")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_document_title_tsv")
        op.execute("ALTER TABLE search_document DROP COLUMN IF EXISTS title_tsv")
    op.drop_index("ix_search_document_rank", table_name="search_document")
