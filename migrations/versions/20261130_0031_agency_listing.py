"""agency_listing: the intermediary-services list as kept rows (one per agency and scope, with its sort keys and
one covering index per sort) and agency_listing_count (agencies per scope). `flask stats rebuild` fills them
(tally/listing.py): run it once after this upgrade on an existing database.

Revision ID: 0031
Revises: 0028
Create Date: 2026-11-30 15:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agency_listing",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("k_grade", sa.Integer(), nullable=False),
        sa.Column("k_composite", sa.Float(), nullable=False),
        sa.Column("k_sales", sa.Integer(), nullable=False),
        sa.Column("k_rating", sa.Float(), nullable=False),
        sa.Column("k_price", sa.BigInteger(), nullable=False),
        sa.Column("k_days", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_agency_listing_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agency_id", "kind", "ref", name=op.f("pk_agency_listing")),
    )
    for name, keys in (
        ("composite", ["k_grade", "k_composite"]),
        ("sales", ["k_sales"]),
        ("rating", ["k_rating"]),
        ("price", ["k_price"]),
        ("speed", ["k_days"]),
    ):
        op.create_index(f"ix_agency_listing_{name}", "agency_listing", ["kind", "ref", *keys, "agency_id"])
    op.create_table(
        "agency_listing_count",
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("agencies", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "ref", name=op.f("pk_agency_listing_count")),
    )


def downgrade():
    op.drop_table("agency_listing_count")
    op.drop_table("agency_listing")
