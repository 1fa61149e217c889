"""agency category covering index

The list's category filter (`agency.id IN (SELECT agency_id FROM agency_category WHERE category_id = ?)`) reads
a category's members from (category_id, agency_id) alone, without visiting the table; the old one-column
index on category_id is a prefix of it and goes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 05:36:06.101438

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_agency_category_category_id_agency_id', 'agency_category', ['category_id', 'agency_id'], unique=False
    )
    op.drop_index('ix_agency_category_category_id', table_name='agency_category')


def downgrade():
    op.create_index('ix_agency_category_category_id', 'agency_category', ['category_id'], unique=False)
    op.drop_index('ix_agency_category_category_id_agency_id', table_name='agency_category')
