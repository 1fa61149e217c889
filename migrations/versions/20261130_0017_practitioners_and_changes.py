"""membership evidence: practitioners (执业人员), membership changes under review, entry evidence on the agency
(承诺书, 被授权人 and 授权委托书, review deadline), practitioners a service item requires in a bid

Existing members keep working: their practitioners start empty (items that require practitioners then refuse
their bids until they add and have them approved); the seeded requirements follow the trades' signing rules.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 06:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


# Items whose reports must be signed by registered professionals (安全评价报告由两名以上安全评价师签字,
# 房地产估价报告由两名注册房地产估价师签名, 审计报告由两名注册会计师签名, 资产评估报告由两名资产评估师签名,
# 监理由注册监理工程师担任总监).
REQUIRED = {
    'C04-01': (2, '注册安全工程师'),
    'C04-02': (2, '注册安全工程师'),
    'C04-03': (2, '注册安全工程师'),
    'C11-05': (1, '注册监理工程师'),
    'C16-01': (2, '注册房地产估价师'),
    'C16-03': (2, '资产评估师'),
    'C17-01': (2, '注册会计师'),
}


def upgrade():
    op.create_table('membership_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('qualification', 'legal_rep', 'practitioner', name='changekind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='changestatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_membership_change_agency_id_agency'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_membership_change_decided_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership_change'))
    )
    with op.batch_alter_table('membership_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_change_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_change_status'), ['status'], unique=False)

    op.create_table('practitioner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('registration', sa.String(length=50), nullable=True),
    sa.Column('certificate_no', sa.String(length=60), nullable=False),
    sa.Column('years', sa.Integer(), nullable=False),
    sa.Column('is_lead', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'removed', name='practitionerstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('file_key', sa.String(length=80), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('file_mime', sa.String(length=50), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_practitioner_agency_id_agency'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practitioner'))
    )
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practitioner_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_practitioner_status'), ['status'], unique=False)

    op.create_table('bid_practitioner',
    sa.Column('bid_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bid_practitioner_bid_id_bid'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], name=op.f('fk_bid_practitioner_practitioner_id_practitioner')),
    sa.PrimaryKeyConstraint('bid_id', 'practitioner_id', name=op.f('pk_bid_practitioner'))
    )
    with op.batch_alter_table('bid_practitioner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bid_practitioner_practitioner_id'), ['practitioner_id'], unique=False)

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pledge_file_key', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('pledge_file_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('pledge_file_mime', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('authorised_name', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('authorised_id_number', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('authorised_phone', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('authorisation_file_key', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('authorisation_file_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('authorisation_file_mime', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('review_due_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_practitioners', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('practitioner_registration', sa.String(length=50), nullable=True))

    item = sa.table(
        'service_item',
        sa.column('code', sa.String),
        sa.column('required_practitioners', sa.Integer),
        sa.column('practitioner_registration', sa.String),
    )
    for code, (count, registration) in REQUIRED.items():
        op.execute(
            item.update()
            .where(item.c.code == code)
            .values(required_practitioners=count, practitioner_registration=registration)
        )


AGENCY_COLUMNS = (
    'review_due_at', 'authorisation_file_mime', 'authorisation_file_name', 'authorisation_file_key',
    'authorised_phone', 'authorised_id_number', 'authorised_name', 'pledge_file_mime', 'pledge_file_name',
    'pledge_file_key',
)


def downgrade():
    for column in ('practitioner_registration', 'required_practitioners'):
        op.drop_column('service_item', column)

    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of `agency` would have to drop a table that
    # other rows still reference.
    for column in AGENCY_COLUMNS:
        op.drop_column('agency', column)

    with op.batch_alter_table('bid_practitioner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bid_practitioner_practitioner_id'))

    op.drop_table('bid_practitioner')
    with op.batch_alter_table('practitioner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practitioner_status'))
        batch_op.drop_index(batch_op.f('ix_practitioner_agency_id'))

    op.drop_table('practitioner')
    with op.batch_alter_table('membership_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_change_status'))
        batch_op.drop_index(batch_op.f('ix_membership_change_agency_id'))

    op.drop_table('membership_change')
