"""invitations to quote (邀请报价): an agency invited to bid on a request

New table only: existing data is untouched.

Revision ID: 0026
Revises: 0024
Create Date: 2026-11-30 12:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "request_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_request_invitation_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
            name=op.f("fk_request_invitation_request_id_service_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_invitation")),
        sa.UniqueConstraint("request_id", "agency_id", name="uq_request_invitation_pair"),
    )
    with op.batch_alter_table("request_invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_invitation_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_request_invitation_request_id"), ["request_id"], unique=False)


def downgrade():
    with op.batch_alter_table("request_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_invitation_request_id"))
        batch_op.drop_index(batch_op.f("ix_request_invitation_agency_id"))
    op.drop_table("request_invitation")
