"""random inspections (双随机、一公开): the inspector register, tasks with their commit–reveal draw, the drawn
agencies with their inspectors, and the findings per checklist item

Four new tables; nothing existing changes.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 09:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inspection_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('agency_count', sa.Integer(), nullable=True),
    sa.Column('share_pct', sa.Integer(), nullable=True),
    sa.Column('inspectors_per_agency', sa.Integer(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'drawn', 'closed', name='taskstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('draw_seed', sa.String(length=64), nullable=False),
    sa.Column('draw_commitment', sa.String(length=64), nullable=False),
    sa.Column('seed_revealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('draw_details', sa.JSON(), nullable=True),
    sa.Column('drawn_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_inspection_task_category_id_category')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_inspection_task_closed_by_id_user')),
    sa.ForeignKeyConstraint(['drawn_by_id'], ['user.id'], name=op.f('fk_inspection_task_drawn_by_id_user')),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_inspection_task_owner_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_task'))
    )
    with op.batch_alter_table('inspection_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_task_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_task_status'), ['status'], unique=False)

    op.create_table('inspector',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('certificate_no', sa.String(length=40), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_inspector_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspector')),
    sa.UniqueConstraint('certificate_no', name=op.f('uq_inspector_certificate_no'))
    )
    with op.batch_alter_table('inspector', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspector_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspector_region_code'), ['region_code'], unique=False)

    op.create_table('inspection_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('inspector_ids', sa.JSON(), nullable=False),
    sa.Column('inspected_by', sa.JSON(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_inspection_target_agency_id_agency')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_inspection_target_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['task_id'], ['inspection_task.id'], name=op.f('fk_inspection_target_task_id_inspection_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_target')),
    sa.UniqueConstraint('task_id', 'agency_id', name='uq_inspection_target_task_agency')
    )
    with op.batch_alter_table('inspection_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_target_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_target_task_id'), ['task_id'], unique=False)

    op.create_table('inspection_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['inspection_target.id'], name=op.f('fk_inspection_finding_target_id_inspection_target')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_finding'))
    )
    with op.batch_alter_table('inspection_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_finding_target_id'), ['target_id'], unique=False)



def downgrade():
    with op.batch_alter_table('inspection_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_finding_target_id'))

    op.drop_table('inspection_finding')
    with op.batch_alter_table('inspection_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_target_task_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_target_agency_id'))

    op.drop_table('inspection_target')
    with op.batch_alter_table('inspector', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspector_region_code'))
        batch_op.drop_index(batch_op.f('ix_inspector_department'))

    op.drop_table('inspector')
    with op.batch_alter_table('inspection_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_task_status'))
        batch_op.drop_index(batch_op.f('ix_inspection_task_category_id'))

    op.drop_table('inspection_task')
