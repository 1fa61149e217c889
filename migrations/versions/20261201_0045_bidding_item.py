"""service_request (service_item_id, bid_deadline) where still bidding: an item's open announcements.

An agency's list of what it may bid on (`/api/v1/requests?status=bidding&service_item_id=…`, the load test's
most frequent read of announcements) read every open announcement of the market through the (status,
bid_deadline) index and kept the item's: ~3,240 rows and ~10 ms for ~40 of them at 100,000 agencies. The
planner took "still bidding and due in the future" for one row (nearly every request's deadline is past, but not
the open ones'), so an index on the item and the status alone was not used (session 15). This one holds the open
announcements only, keyed by item and deadline: the same list in ~0.4 ms.

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-01 22:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_service_request_bidding_item",
        "service_request",
        ["service_item_id", "bid_deadline"],
        postgresql_where=sa.text("status = 'bidding'"),
        sqlite_where=sa.text("status = 'bidding'"),
    )


def downgrade():
    op.drop_index("ix_service_request_bidding_item", table_name="service_request")
