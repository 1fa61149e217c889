"""favourites (收藏: an enterprise user's kept agencies) and the qualifications' verification date (已核验)

A new table, and one nullable column: the qualifications of members already admitted count as verified on the
day their agency was approved (the membership review checked them).

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-30 12:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "favourite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_favourite_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_favourite_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_favourite")),
        sa.UniqueConstraint("user_id", "agency_id", name="uq_favourite_user_agency"),
    )
    with op.batch_alter_table("favourite", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_favourite_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_favourite_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("qualification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE qualification SET verified_at = (SELECT agency.approved_at FROM agency"
        " WHERE agency.id = qualification.agency_id) WHERE verified_at IS NULL"
    )


def downgrade():
    with op.batch_alter_table("qualification", schema=None) as batch_op:
        batch_op.drop_column("verified_at")
    with op.batch_alter_table("favourite", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_favourite_user_id"))
        batch_op.drop_index(batch_op.f("ix_favourite_agency_id"))
    op.drop_table("favourite")
