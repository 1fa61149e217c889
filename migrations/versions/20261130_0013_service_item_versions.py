"""service items versioned (a department edits its trade's items; requests keep the version they used), and
the items of the national 中介服务事项清单 the first catalogue lacked (使用林地可行性报告)

Every existing item gets version 1 (as shipped); every existing request points at version 1 of its item.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 07:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FIELDS = ('legal_basis', 'approval', 'fee_regime', 'guide_min_fen', 'guide_max_fen', 'fee_basis', 'standard_days',
          'qualification')

# Items that real 中介服务事项清单 carry nationally and catalogue_v1.json lacks: (category code, item).
NEW_ITEMS = [
    ('C09', {
        'code': 'C09-08',
        'name': '使用林地可行性报告编制',
        'aliases': ['林地可研', '使用林地可研', '占用林地可研', '使用林地可行性报告', '占用征收林地可行性报告',
                    '林地现状调查表'],
        'legal_basis': '《中华人民共和国森林法》第三十七条；《建设项目使用林地审核审批管理办法》第六条',
        'approval': '建设项目使用林地审核审批',
        'department': '市林业和草原局',
        'fee_regime': 'market',
        'guide_min_fen': None,
        'guide_max_fen': None,
        'fee_basis': '按使用林地面积及林地保护等级计费',
        'standard_days': 20,
        'qualification': None,
    }),
]
# An alias the first catalogue lacked on an item it has.
NEW_ALIASES = {'C06-01': ['水资源论证报告', '水资源论证报告书'], 'C05-01': ['职业病预评价']}


def _fee_regime():
    return sa.Enum('guided', 'market', name='feeregime', native_enum=False, create_constraint=True, length=20)


item = sa.table(
    'service_item',
    sa.column('id', sa.Integer),
    sa.column('category_id', sa.Integer),
    sa.column('code', sa.String),
    sa.column('name', sa.String),
    sa.column('aliases', sa.JSON),
    sa.column('department', sa.String),
    sa.column('sort_order', sa.Integer),
    sa.column('legal_basis', sa.Text),
    sa.column('approval', sa.String),
    sa.column('fee_regime', sa.String),
    sa.column('guide_min_fen', sa.Integer),
    sa.column('guide_max_fen', sa.Integer),
    sa.column('fee_basis', sa.String),
    sa.column('standard_days', sa.Integer),
    sa.column('qualification', sa.String),
)
category = sa.table('category', sa.column('id', sa.Integer), sa.column('code', sa.String))


def upgrade():
    bind = op.get_bind()
    for code, data in NEW_ITEMS:
        category_id = bind.execute(sa.select(category.c.id).where(category.c.code == code)).scalar()
        exists = bind.execute(sa.select(item.c.id).where(item.c.code == data['code'])).scalar()
        if category_id is None or exists is not None:
            continue
        last = bind.execute(
            sa.select(sa.func.max(item.c.sort_order)).where(item.c.category_id == category_id)
        ).scalar()
        bind.execute(item.insert().values(category_id=category_id, sort_order=(last or 0) + 1, **data))
    for code, extra in NEW_ALIASES.items():
        row = bind.execute(sa.select(item.c.id, item.c.aliases).where(item.c.code == code)).first()
        if row is not None:
            aliases = list(row.aliases or [])
            bind.execute(
                item.update().where(item.c.id == row.id).values(aliases=aliases + [a for a in extra if a not in aliases])
            )

    op.create_table(
        'service_item_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_item_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('legal_basis', sa.Text(), nullable=True),
        sa.Column('approval', sa.String(length=200), nullable=True),
        sa.Column('fee_regime', _fee_regime(), nullable=False),
        sa.Column('guide_min_fen', sa.Integer(), nullable=True),
        sa.Column('guide_max_fen', sa.Integer(), nullable=True),
        sa.Column('fee_basis', sa.String(length=200), nullable=True),
        sa.Column('standard_days', sa.Integer(), nullable=False),
        sa.Column('qualification', sa.String(length=100), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_service_item_version_author_id_user')),
        sa.ForeignKeyConstraint(['service_item_id'], ['service_item.id'],
                                name=op.f('fk_service_item_version_service_item_id_service_item')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_item_version')),
        sa.UniqueConstraint('service_item_id', 'version',
                            name=op.f('uq_service_item_version_service_item_id')),
    )
    with op.batch_alter_table('service_item_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_item_version_service_item_id'), ['service_item_id'], unique=False)

    version = sa.table(
        'service_item_version',
        sa.column('id', sa.Integer),
        sa.column('service_item_id', sa.Integer),
        sa.column('version', sa.Integer),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('note', sa.Text),
        *(sa.column(f) for f in FIELDS),
    )
    bind.execute(
        version.insert().from_select(
            ['service_item_id', 'version', 'created_at', 'note', *FIELDS],
            sa.select(
                item.c.id,
                sa.literal_column('1'),
                sa.func.current_timestamp(),
                sa.null(),
                *(item.c[f] for f in FIELDS),
            ),
        )
    )

    with op.batch_alter_table('service_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_item_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_service_request_service_item_version_id_service_item_version'),
            'service_item_version', ['service_item_version_id'], ['id'],
        )
    request = sa.table('service_request', sa.column('service_item_id', sa.Integer),
                       sa.column('service_item_version_id', sa.Integer))
    bind.execute(
        request.update().values(
            service_item_version_id=sa.select(version.c.id)
            .where(version.c.service_item_id == request.c.service_item_id, version.c.version == 1)
            .scalar_subquery()
        )
    )


def downgrade():
    with op.batch_alter_table('service_request', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_service_request_service_item_version_id_service_item_version'), type_='foreignkey'
        )
        batch_op.drop_column('service_item_version_id')
    op.drop_table('service_item_version')
    # The added items stay only if something uses them.
    codes = [data['code'] for _, data in NEW_ITEMS]
    used = sa.text(
        'SELECT 1 FROM service_request r JOIN service_item i ON i.id = r.service_item_id WHERE i.code = :code'
    )
    bind = op.get_bind()
    for code in codes:
        if bind.execute(used, {'code': code}).first() is None:
            bind.execute(sa.text('DELETE FROM offer WHERE service_item_id IN (SELECT id FROM service_item WHERE code = :code)'), {'code': code})
            bind.execute(item.delete().where(item.c.code == code))
