"""public pages at scale: the fee figures (收费公示) kept per service item and division (fee_item_summary), the
public announcements counted per item and status (request_count), indexes for the newest announcements, an
announcement's next round and an item's fastest offers

The fee audit's listeners keep fee_item_summary, the clock moves its 12-month window; move_request keeps
request_count; `flask stats rebuild` recomputes both.

Revision ID: 0030
Revises: 0028
Create Date: 2026-11-30 15:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "fee_item_summary",
        sa.Column("service_item_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=6), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("median_fen", sa.BigInteger(), nullable=True),
        sa.Column("min_fen", sa.BigInteger(), nullable=True),
        sa.Column("max_fen", sa.BigInteger(), nullable=True),
        sa.Column("p25_fen", sa.BigInteger(), nullable=True),
        sa.Column("p75_fen", sa.BigInteger(), nullable=True),
        sa.Column("amount_sum_fen", sa.BigInteger(), nullable=False),
        sa.Column("ceiling_sum_fen", sa.BigInteger(), nullable=False),
        sa.Column("above_guide", sa.Integer(), nullable=False),
        sa.Column("below_guide", sa.Integer(), nullable=False),
        sa.Column("guide_min_fen", sa.BigInteger(), nullable=True),
        sa.Column("guide_max_fen", sa.BigInteger(), nullable=True),
        sa.Column("monthly", sa.JSON(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_item.id"],
            name=op.f("fk_fee_item_summary_service_item_id_service_item"),
        ),
        sa.PrimaryKeyConstraint("service_item_id", "scope", name=op.f("pk_fee_item_summary")),
    )
    op.create_index(
        "ix_fee_item_summary_scope", "fee_item_summary", ["scope", "service_item_id"], unique=False
    )
    # The public announcements, newest first, read with a LIMIT along an index instead of sorting every row.
    op.create_index("ix_service_request_published", "service_request", ["published_at", "id"], unique=False)
    op.create_index(
        "ix_service_request_status_published", "service_request", ["status", "published_at", "id"], unique=False
    )
    op.create_index(
        "ix_service_request_item_published",
        "service_request",
        ["service_item_id", "published_at", "id"],
        unique=False,
    )
    op.create_table(
        "request_count",
        sa.Column("service_item_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_item_id"], ["service_item.id"], name=op.f("fk_request_count_service_item_id_service_item")
        ),
        sa.PrimaryKeyConstraint("service_item_id", "status", name=op.f("pk_request_count")),
    )
    op.execute(
        "INSERT INTO request_count (service_item_id, status, count) SELECT service_item_id, status, COUNT(*)"
        " FROM service_request WHERE status NOT IN ('draft', 'review', 'returned') AND published_at IS NOT NULL"
        " GROUP BY service_item_id, status"
    )
    op.create_index("ix_offer_item_days", "offer", ["service_item_id", "promised_days", "id"], unique=False)
    # an announcement's page links its next round (the request whose previous_id it is)
    op.create_index("ix_service_request_previous_id", "service_request", ["previous_id"], unique=False)
    # An item without deals gets its (empty) market row now; an item with deals is computed by the clock's first
    # pass or `flask stats rebuild` (until then its pages compute it from the orders, as before).
    op.execute(
        "INSERT INTO fee_item_summary (service_item_id, scope, count, amount_sum_fen, ceiling_sum_fen, above_guide,"
        " below_guide, guide_min_fen, guide_max_fen, monthly)"
        " SELECT i.id, '', 0, 0, 0, 0, 0, i.guide_min_fen, i.guide_max_fen, '{}' FROM service_item i"
        " WHERE NOT EXISTS (SELECT 1 FROM service_order o JOIN service_request r ON r.id = o.request_id"
        " WHERE r.service_item_id = i.id AND o.status NOT IN ('declined', 'cancelled'))"
    )


def downgrade():
    op.drop_index("ix_offer_item_days", table_name="offer")
    op.drop_table("request_count")
    op.drop_index("ix_service_request_previous_id", table_name="service_request")
    op.drop_index("ix_service_request_item_published", table_name="service_request")
    op.drop_index("ix_service_request_status_published", table_name="service_request")
    op.drop_index("ix_service_request_published", table_name="service_request")
    op.drop_index("ix_fee_item_summary_scope", table_name="fee_item_summary")
    op.drop_table("fee_item_summary")
