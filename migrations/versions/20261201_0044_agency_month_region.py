"""market_agency_month (region_code, month): a division's top agencies read its own rows.

The statistics' top agencies of a division (/stats?region=…, and the clock remaking each division's view) read
every row of the period and kept the division's: ~500,000 rows for the last 12 months at 1,000,000 orders, ~300 ms
with two parallel workers, for each of the market's divisions at every remake. Through this index a division
reads its own rows, from the index alone (every column in the key: SQLite has no INCLUDE): ~120 ms on
PostgreSQL, one process.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-01 19:45:00

"""

from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_market_agency_month_region",
        "market_agency_month",
        ["region_code", "month", "category_id", "agency_id", "deals", "amount_fen"],
    )


def downgrade():
    op.drop_index("ix_market_agency_month_region", table_name="market_agency_month")
