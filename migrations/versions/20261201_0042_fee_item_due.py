"""fee_item_due: the service items whose public fee figures wait for the clock after a deal changed.

A deal made, amended, declined or cancelled recomputed its item's kept fee rows (fee_item_summary) inside its
own transaction: a read of the item's whole year of deals, ~250 ms for a busy item at 100,000 agencies, which
every selection of the item waited for, one after the other. With FEES_FIGURES_DELAY_SECONDS ≥ 0 (production)
the deal marks the item here and the clock recomputes it once for all the deals of the last seconds
(fees/summary.py).

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-01 19:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "fee_item_due",
        sa.Column("service_item_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_item.id"],
            name=op.f("fk_fee_item_due_service_item_id_service_item"),
        ),
        sa.PrimaryKeyConstraint("service_item_id", name=op.f("pk_fee_item_due")),
    )


def downgrade():
    op.drop_table("fee_item_due")
