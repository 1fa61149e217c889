"""signed contracts (合同) and extensions (延期) on orders; model contract text per item; agencies' bank details

Orders gain the contract the parties upload and confirm (the service clock starts at the confirmation) and the
agency's extension requests decided by the enterprise; `original_due_at` keeps the due date the clock first set
and `reckoned_due_at` the one the on-time rate counts against (both backfilled from `due_at` for started orders).
Every service item gets the generic model contract (migrations/data/model_contract_v1.txt, frozen here) filled in
with its name, approval, legal basis, department and standard time limit. Agencies gain 开户行 / 户名 / 账号.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 06:15:38

"""
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

TEMPLATE = Path(__file__).resolve().parent.parent / 'data' / 'model_contract_v1.txt'

service_item = sa.table(
    'service_item',
    sa.column('id', sa.Integer),
    sa.column('name', sa.String),
    sa.column('approval', sa.String),
    sa.column('legal_basis', sa.Text),
    sa.column('department', sa.String),
    sa.column('standard_days', sa.Integer),
    sa.column('model_contract', sa.Text),
)
service_order = sa.table(
    'service_order',
    sa.column('due_at', sa.DateTime(timezone=True)),
    sa.column('original_due_at', sa.DateTime(timezone=True)),
    sa.column('reckoned_due_at', sa.DateTime(timezone=True)),
)


def _seed() -> None:
    conn = op.get_bind()
    template = TEMPLATE.read_text(encoding='utf-8')
    rows = conn.execute(
        sa.select(
            service_item.c.id,
            service_item.c.name,
            service_item.c.approval,
            service_item.c.legal_basis,
            service_item.c.department,
            service_item.c.standard_days,
        )
    ).all()
    for item_id, name, approval, legal_basis, department, days in rows:
        text = template.format(
            item=name,
            approval=approval or '相关行政审批',
            legal_basis=legal_basis or '国家和行业现行技术规范',
            department=department or '行业主管部门',
            standard_days=days,
        )
        conn.execute(service_item.update().where(service_item.c.id == item_id).values(model_contract=text))
    op.execute(
        service_order.update()
        .where(service_order.c.due_at.is_not(None))
        .values(original_due_at=service_order.c.due_at, reckoned_due_at=service_order.c.due_at)
    )


def upgrade():
    op.create_table('order_contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('file_key', sa.String(length=80), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('file_mime', sa.String(length=50), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=10), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'rejected', name='contractstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_order_contract_decided_by_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['service_order.id'], name=op.f('fk_order_contract_order_id_service_order')),
    sa.ForeignKeyConstraint(['uploader_id'], ['user.id'], name=op.f('fk_order_contract_uploader_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_contract'))
    )
    with op.batch_alter_table('order_contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_contract_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_contract_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_contract_status'), ['status'], unique=False)

    op.create_table('order_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('due_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='extensionstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('in_time', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_order_extension_decided_by_id_user')),
    sa.ForeignKeyConstraint(['order_id'], ['service_order.id'], name=op.f('fk_order_extension_order_id_service_order')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_order_extension_requested_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_extension'))
    )
    with op.batch_alter_table('order_extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_extension_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_extension_status'), ['status'], unique=False)

    with op.batch_alter_table('agency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('account_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('account_no', sa.String(length=30), nullable=True))

    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_contract', sa.Text(), nullable=True))

    with op.batch_alter_table('service_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reckoned_due_at', sa.DateTime(timezone=True), nullable=True))
    _seed()


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of these tables would have to drop tables that
    # other rows still reference.
    for table, column in (
        ('service_order', 'reckoned_due_at'),
        ('service_order', 'original_due_at'),
        ('service_item', 'model_contract'),
        ('agency', 'account_no'),
        ('agency', 'account_name'),
        ('agency', 'bank_name'),
    ):
        op.drop_column(table, column)
    for table, indexes in (
        ('order_extension', ('status', 'order_id')),
        ('order_contract', ('status', 'order_id', 'decided_at')),
    ):
        for column in indexes:
            op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
        op.drop_table(table)
