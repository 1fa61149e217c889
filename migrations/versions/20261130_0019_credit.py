"""credit: itemised credit events, each agency's running credit (score, grade A–E), the red and black lists,
appeals (异议申诉) and credit repair (信用修复); the statistics' old credit_score column goes (credit owns it now)

Existing members start with no events: the base score (80, grade B) until the market's events reach them.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 09:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agency_credit',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_points', sa.Integer(), nullable=False),
    sa.Column('department_points', sa.Integer(), nullable=False),
    sa.Column('market_points', sa.Integer(), nullable=False),
    sa.Column('veto_count', sa.Integer(), nullable=False),
    sa.Column('negative_count', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('grade', sa.String(length=1), nullable=False),
    sa.Column('grade_rank', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agency_credit_agency_id_agency')),
    sa.PrimaryKeyConstraint('agency_id', name=op.f('pk_agency_credit'))
    )
    with op.batch_alter_table('agency_credit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_credit_grade_rank'), ['grade_rank'], unique=False)

    op.create_table('credit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.Enum('enterprise', 'department', 'market', name='source', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.String(length=300), nullable=True),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('counted', 'reversed', 'repaired', 'withdrawn', name='eventstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_credit_event_actor_id_user')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_credit_event_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_event')),
    sa.UniqueConstraint('agency_id', 'rule', 'subject_type', 'subject_id', name='uq_credit_event_subject')
    )
    with op.batch_alter_table('credit_event', schema=None) as batch_op:
        batch_op.create_index('ix_credit_event_agency_at', ['agency_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_event_status'), ['status'], unique=False)

    op.create_table('credit_list_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('red', 'black', name='listkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_why', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_credit_list_entry_agency_id_agency')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_credit_list_entry_decided_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_list_entry'))
    )
    with op.batch_alter_table('credit_list_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_list_entry_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index('ix_credit_list_entry_kind_lifted', ['kind', 'lifted_at'], unique=False)

    op.create_table('credit_appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'upheld', 'rejected', name='decision', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_credit_appeal_agency_id_agency')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_credit_appeal_decided_by_id_user')),
    sa.ForeignKeyConstraint(['event_id'], ['credit_event.id'], name=op.f('fk_credit_appeal_event_id_credit_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_appeal'))
    )
    with op.batch_alter_table('credit_appeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_appeal_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_appeal_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_appeal_status'), ['status'], unique=False)

    op.create_table('credit_repair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('letter', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'upheld', 'rejected', name='decision', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opinion', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_credit_repair_agency_id_agency')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_credit_repair_decided_by_id_user')),
    sa.ForeignKeyConstraint(['entry_id'], ['credit_list_entry.id'], name=op.f('fk_credit_repair_entry_id_credit_list_entry')),
    sa.ForeignKeyConstraint(['event_id'], ['credit_event.id'], name=op.f('fk_credit_repair_event_id_credit_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_repair'))
    )
    with op.batch_alter_table('credit_repair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_repair_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_repair_status'), ['status'], unique=False)

    with op.batch_alter_table('agency_stats', schema=None) as batch_op:
        batch_op.drop_column('credit_score')



def downgrade():
    with op.batch_alter_table('agency_stats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credit_score', sa.FLOAT(), nullable=True))

    with op.batch_alter_table('credit_repair', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_repair_status'))
        batch_op.drop_index(batch_op.f('ix_credit_repair_agency_id'))

    op.drop_table('credit_repair')
    with op.batch_alter_table('credit_appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_appeal_status'))
        batch_op.drop_index(batch_op.f('ix_credit_appeal_event_id'))
        batch_op.drop_index(batch_op.f('ix_credit_appeal_agency_id'))

    op.drop_table('credit_appeal')
    with op.batch_alter_table('credit_list_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_list_entry_kind_lifted')
        batch_op.drop_index(batch_op.f('ix_credit_list_entry_agency_id'))

    op.drop_table('credit_list_entry')
    with op.batch_alter_table('credit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_event_status'))
        batch_op.drop_index('ix_credit_event_agency_at')

    op.drop_table('credit_event')
    with op.batch_alter_table('agency_credit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_credit_grade_rank'))

    op.drop_table('agency_credit')
