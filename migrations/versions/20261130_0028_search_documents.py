"""search_document: the documents of SEARCH_BACKEND=postgres; on PostgreSQL a generated tsvector with a GIN index

On SQLite the table exists (with its text columns only) so that both databases carry the same schema; the
PostgreSQL backend refuses to run there. The table starts empty: `flask search reindex` (or the clock) fills it.

Revision ID: 0028
Revises: 0024
Create Date: 2026-11-30 12:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_document",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("doc_type", sa.String(length=20), nullable=False),
        sa.Column("doc_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("subtitle", sa.Text(), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("rank", sa.Float(), nullable=False),
        sa.Column("title_lexemes", sa.Text(), nullable=False),
        sa.Column("lexemes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_search_document")),
    )
    op.create_index("ix_search_document_type_rank", "search_document", ["doc_type", "rank"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # jieba has segmented the text already: the 'simple' configuration only splits on spaces and lowercases.
        op.execute(
            "ALTER TABLE search_document ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('simple', title_lexemes), 'A') || to_tsvector('simple', lexemes)) STORED"
        )
        op.execute("CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_document_tsv")
    op.drop_index("ix_search_document_type_rank", table_name="search_document")
    op.drop_table("search_document")
