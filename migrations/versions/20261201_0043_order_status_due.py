"""service_order (status, due_at) in place of the status's own index: the clock's read of the orders under way.

`orders.services.due_order_ids` reads, on every pass of the clock, the orders under way with what their deadline
light is judged from. Through the index on the status alone that read fetched ~15,000 scattered rows at
1,000,000 orders (~100 ms of PostgreSQL a pass). On PostgreSQL this index carries those columns, so the read is
the index's alone; anything else looking orders up by status uses it as it used the old one.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-01 19:30:00

"""

from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_service_order_status_due",
        "service_order",
        ["status", "due_at"],
        postgresql_include=["id", "started_at", "delivered_at", "deadline_flag"],
    )
    op.drop_index("ix_service_order_status", table_name="service_order")


def downgrade():
    op.create_index("ix_service_order_status", "service_order", ["status"])
    op.drop_index("ix_service_order_status_due", table_name="service_order")
