"""Open data kept per month: each month's OCDS release package is written by the clock to the storage path and
described by its `ocds_month` row (generated time, releases, bytes, SHA-256, file key, and whether a change
dated in it waits for the next generation); a failed or cancelled request keeps the moment it ended
(`service_request.ended_at`, the tenderCancellation release's date), so that no release is dated by
`updated_at`.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-01 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def _month(bind, column: str) -> str:
    if bind.dialect.name == "postgresql":
        return f"to_char(timezone('Asia/Shanghai', {column}), 'YYYY-MM')"
    return f"strftime('%Y-%m', {column}, '+8 hours')"


def upgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_service_request_ended_at", ["ended_at"], unique=False)
        batch_op.create_index("ix_service_request_selected_at", ["selected_at"], unique=False)
    # the moment each failed or cancelled request ended: its audit entry, else its last update
    op.execute(
        "UPDATE service_request SET ended_at = COALESCE(("
        "SELECT MAX(a.at) FROM audit_log a WHERE a.object_type = 'service_request' AND a.object_id = service_request.id"
        " AND a.action IN ('request.fail', 'request.cancel')), updated_at)"
        " WHERE status IN ('failed', 'cancelled')"
    )
    with op.batch_alter_table("ocds_month", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dirty", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("generated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("releases", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("bytes", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("file_key", sa.String(length=80), nullable=True))
    # the months of the stamps 0034 did not keep: an award made final, a request that failed or was cancelled
    bind = op.get_bind()
    parts = [
        f"SELECT {_month(bind, 'publicity_ends_at')} AS month FROM service_request"
        " WHERE publicity_ends_at IS NOT NULL AND published_at IS NOT NULL AND status = 'awarded'",
        f"SELECT {_month(bind, 'ended_at')} AS month FROM service_request"
        " WHERE ended_at IS NOT NULL AND published_at IS NOT NULL",
    ]
    op.execute(
        "INSERT INTO ocds_month (month) SELECT DISTINCT month FROM ("
        + " UNION ".join(parts)
        + ") AS m WHERE month IS NOT NULL AND month NOT IN (SELECT month FROM ocds_month)"
    )


def downgrade():
    with op.batch_alter_table("ocds_month", schema=None) as batch_op:
        for name in ("file_key", "sha256", "bytes", "releases", "generated_at", "dirty"):
            batch_op.drop_column(name)
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index("ix_service_request_selected_at")
        batch_op.drop_index("ix_service_request_ended_at")
        batch_op.drop_column("ended_at")
