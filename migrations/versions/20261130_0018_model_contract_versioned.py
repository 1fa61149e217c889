"""the model contract (合同示范文本) is one of the item's versioned rules, kept by its department

Every existing version gets the item's current text (no department has edited one yet).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 07:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("service_item_version", sa.Column("model_contract", sa.Text(), nullable=True))
    version = sa.table(
        "service_item_version", sa.column("service_item_id", sa.Integer), sa.column("model_contract", sa.Text)
    )
    item = sa.table("service_item", sa.column("id", sa.Integer), sa.column("model_contract", sa.Text))
    op.execute(
        version.update().values(
            model_contract=sa.select(item.c.model_contract)
            .where(item.c.id == version.c.service_item_id)
            .scalar_subquery()
        )
    )


def downgrade():
    op.drop_column("service_item_version", "model_contract")
