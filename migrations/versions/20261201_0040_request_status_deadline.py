"""service_request (status, bid_deadline): the announcements still bidding by status whose deadline has passed.

The open announcements' count (`/requests/?status=bidding`, `/api/v1/requests?status=bidding`, and the
evaluating phase's) is the kept count of the status (request_count) corrected by these few, where counting the
open announcements themselves read every one of them: ~3,300 rows and 5–8 ms for each page at 100,000 agencies.
On PostgreSQL the index carries the other columns the count reads: the planner takes `bid_deadline <= now` for no
filter at all (nearly every request's deadline is past, but not the open ones'), and with a plain index it read the
3,300 rows through the status index instead (3.4 ms); with the covering one it reads the index alone (0.1 ms).

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-01 17:00:00

"""

from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_service_request_status_deadline",
        "service_request",
        ["status", "bid_deadline"],
        postgresql_include=["published_at", "service_item_id"],  # the count reads the index alone
    )


def downgrade():
    op.drop_index("ix_service_request_status_deadline", table_name="service_request")
