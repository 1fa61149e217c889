"""the market's summary rows (front page and public statistics): named counts, figures per month × region ×
category, members per month of admission, deals per agency and month — kept by the tally, filled here from
the records already there

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-30 16:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

MONTH_TOTALS = (
    "requests", "deals", "amount_fen", "ceiling_fen", "guided_deals", "guided_amount_fen", "guide_mid_fen",
    "completed", "completed_seconds", "standard_days_sum", "ratings", "rating_sum", "good_ratings",
    "due_delivered", "due_on_time", "due_overdue",
)  # fmt: skip


def _keys(*extra):
    return [
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        *extra,
    ]


def _n(name):
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade():
    op.create_table(
        "market_count",
        sa.Column("name", sa.String(length=80), nullable=False),
        _n("n"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_market_count")),
    )
    op.create_table(
        "market_month",
        *_keys(*(_n(c) for c in MONTH_TOTALS)),
        sa.PrimaryKeyConstraint("month", "region_code", "category_id", name=op.f("pk_market_month")),
    )
    op.create_table(
        "market_members",
        *_keys(_n("n")),
        sa.PrimaryKeyConstraint("month", "region_code", "category_id", name=op.f("pk_market_members")),
    )
    op.create_table(
        "market_agency_month",
        *_keys(sa.Column("agency_id", sa.Integer(), nullable=False), _n("deals"), _n("amount_fen")),
        sa.PrimaryKeyConstraint(
            "month", "region_code", "category_id", "agency_id", name=op.f("pk_market_agency_month")
        ),
    )
    with op.batch_alter_table("market_agency_month", schema=None) as batch_op:
        batch_op.create_index("ix_market_agency_month_category", ["category_id", "month"], unique=False)
    _fill()


def _fill():
    """Existing markets: the rows from the records (the tally's own rebuild, run once here)."""
    from sqlalchemy.orm import Session

    from marketplace.tally import summary

    session = Session(bind=op.get_bind())
    summary.rebuild(session)
    session.flush()


def downgrade():
    with op.batch_alter_table("market_agency_month", schema=None) as batch_op:
        batch_op.drop_index("ix_market_agency_month_category")
    op.drop_table("market_agency_month")
    op.drop_table("market_members")
    op.drop_table("market_month")
    op.drop_table("market_count")
