"""monthly reports (月度运行报告): one per area and month, figures as JSON and the PDF

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 09:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monthly_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=6), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('pdf_problem', sa.Text(), nullable=True),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_report')),
    sa.UniqueConstraint('area_code', 'month', name=op.f('uq_monthly_report_area_code'))
    )
    with op.batch_alter_table('monthly_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_report_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_monthly_report_month'), ['month'], unique=False)


def downgrade():
    with op.batch_alter_table('monthly_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monthly_report_month'))
        batch_op.drop_index(batch_op.f('ix_monthly_report_area_code'))
    op.drop_table('monthly_report')
