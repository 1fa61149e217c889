"""clock lease

One row per running clock job (today: the market clock): which process may act, and until when.

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'clock_lease',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('holder', sa.String(length=120), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_clock_lease')),
    )


def downgrade():
    op.drop_table('clock_lease')
