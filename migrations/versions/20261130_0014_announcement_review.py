"""announcements reviewed before they go public; the project's approval document on requests

Requests gain two statuses, `review` (审核中: submitted, waiting for the operator) and `returned` (已退回: sent back
with an opinion), the time of the last submission, and the project's approval/filing document (a private
upload). Every submission, approval and return is kept in `request_review`. Service items say whether they serve
an investment project's approval (then a request names the project code and carries the approval document):
every item but those that serve an operating permit, a registration or a check of something already running.

Existing requests keep their status: they were published before review existed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 06:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OLD = ('draft', 'bidding', 'evaluating', 'publicity', 'awarded', 'failed', 'cancelled')
NEW = ('draft', 'review', 'returned') + OLD[1:]

# Items whose request is not about an investment project being approved (an operating permit, a registration,
# a check of a running plant or of equipment, an audit of money already spent): no approval document needed.
NOT_PROJECT_ITEMS = (
    'C02-02',  # 能源审计
    'C03-04', 'C03-05', 'C03-06', 'C03-08',  # 环境监测, 排污许可, 清洁生产审核, 环境应急预案
    'C04-03', 'C04-05',  # 安全现状评价, 生产安全事故应急预案
    'C05-04',  # 职业病危害因素检测
    'C11-04',  # 政府采购代理
    'C12-06',  # 房屋安全鉴定
    'C13-02', 'C13-03', 'C13-04', 'C13-05',  # 消防设施检测、维保, 电气防火检测, 消防安全评估
    'C15-01', 'C15-02', 'C15-03', 'C15-04', 'C15-05',  # 特种设备检验
    'C16-01', 'C16-02', 'C16-03', 'C16-04', 'C16-05',  # 估价与评估
    'C17-01', 'C17-02', 'C17-04',  # 财务审计, 验资, 专项资金审计
)


def _status(values):
    return sa.Enum(*values, name='requeststatus', native_enum=False, create_constraint=True, length=20)


def upgrade():
    with op.batch_alter_table('service_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('approval_document', sa.JSON(), nullable=True))
        batch_op.alter_column('status', existing_type=_status(OLD), type_=_status(NEW), existing_nullable=False)
    op.create_table(
        'request_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column(
            'action',
            sa.Enum('submit', 'approve', 'return', name='reviewaction', native_enum=False, create_constraint=True,
                    length=20),
            nullable=False,
        ),
        sa.Column('opinion', sa.Text(), nullable=True),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_request_review_actor_id_user')),
        sa.ForeignKeyConstraint(
            ['request_id'], ['service_request.id'], name=op.f('fk_request_review_request_id_service_request'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_review')),
    )
    with op.batch_alter_table('request_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_review_request_id'), ['request_id'], unique=False)
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('needs_project_approval', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    item = sa.table('service_item', sa.column('code', sa.String), sa.column('needs_project_approval', sa.Boolean))
    op.execute(item.update().where(item.c.code.not_in(NOT_PROJECT_ITEMS)).values(needs_project_approval=True))


def downgrade():
    op.execute(sa.text("UPDATE service_request SET status = 'draft' WHERE status IN ('review', 'returned')"))
    with op.batch_alter_table('service_item', schema=None) as batch_op:
        batch_op.drop_column('needs_project_approval')
    with op.batch_alter_table('request_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_review_request_id'))
    op.drop_table('request_review')
    with op.batch_alter_table('service_request', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_status(NEW), type_=_status(OLD), existing_nullable=False)
        batch_op.drop_column('approval_document')
        batch_op.drop_column('submitted_at')
