"""A unique index on lower(user.email): the log-in, the API token and the registration look an account up by it.

Without it each of them read every account (a sequential scan: ~100 ms at 100,000 agencies, the slowest statement
of the load test's log-ins). Unique as well: the registration already refuses an address that differs from an
existing one only in its case; the database now does too.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-01 18:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("uq_user_email_lower", "user", [sa.text("lower(email)")], unique=True)


def downgrade():
    op.drop_index("uq_user_email_lower", table_name="user")
