"""Public pages at scale: the months with open-data releases kept (ocds_month), the admission list read along
an index, and the offers walked in price / promised-days order for a price band.

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-30 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

STAMPS = {
    "service_request": ("published_at", "selected_at"),
    "service_order": ("created_at", "started_at", "delivered_at", "accepted_at"),
    "payment": ("paid_at",),
}


def _month(bind, column: str) -> str:
    if bind.dialect.name == "postgresql":
        return f"to_char(timezone('Asia/Shanghai', {column}), 'YYYY-MM')"
    return f"strftime('%Y-%m', {column}, '+8 hours')"


def upgrade():
    op.create_table(
        "ocds_month",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    bind = op.get_bind()
    parts = []
    for table, columns in STAMPS.items():
        for column in columns:
            where = f"{column} IS NOT NULL" + (
                " AND published_at IS NOT NULL" if table == "service_request" else ""
            )
            parts.append(f"SELECT {_month(bind, column)} AS month FROM {table} WHERE {where}")
    op.execute(
        f"INSERT INTO ocds_month (month) SELECT DISTINCT month FROM ({' UNION '.join(parts)}) AS m WHERE month IS NOT NULL"
    )
    op.create_index("ix_agency_status_approved", "agency", ["status", "approved_at", "id"], unique=False)
    low = sa.text("coalesce(price_fen, price_min_fen)")
    op.create_index("ix_offer_low", "offer", ["active", low, "agency_id"], unique=False)
    op.create_index(
        "ix_offer_item_low", "offer", ["service_item_id", "active", low, "agency_id"], unique=False
    )
    op.create_index("ix_offer_days", "offer", ["active", "promised_days", "agency_id"], unique=False)
    op.create_index(
        "ix_offer_item_active_days",
        "offer",
        ["service_item_id", "active", "promised_days", "agency_id"],
        unique=False,
    )

    if bind.dialect.name == "postgresql":
        # kind and ref together pick a scope: without these statistics PostgreSQL takes their selectivities as
        # independent, guesses a scope ten times too small and sorts the band's offers instead of walking them
        op.execute(
            "CREATE STATISTICS IF NOT EXISTS st_agency_listing_scope (dependencies, mcv) ON kind, ref FROM agency_listing"
        )
        op.execute("ANALYZE agency_listing")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_agency_listing_scope")
    for name in ("ix_offer_item_active_days", "ix_offer_days", "ix_offer_item_low", "ix_offer_low"):
        op.drop_index(name, table_name="offer")
    op.drop_index("ix_agency_status_approved", table_name="agency")
    op.drop_table("ocds_month")
