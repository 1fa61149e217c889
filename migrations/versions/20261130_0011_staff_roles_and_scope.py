"""staff roles (operator, department, supervisor), each scoped to a region and a department to its trade

Agencies, enterprises and requests gain a GB/T 2260 `region_code`, filled from the city names the first
release stored (the thirteen prefecture-level cities of Jiangsu).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 06:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD = ('enterprise', 'agency', 'admin')
NEW = OLD + ('operator', 'department', 'supervisor')


def _role(values):
    return sa.Enum(*values, name='role', native_enum=False, create_constraint=True, length=20)


CITY_CODES = {
    '南京市': '320100', '无锡市': '320200', '徐州市': '320300', '常州市': '320400', '苏州市': '320500',
    '南通市': '320600', '连云港市': '320700', '淮安市': '320800', '盐城市': '320900', '扬州市': '321000',
    '镇江市': '321100', '泰州市': '321200', '宿迁市': '321300',
}
REGIONAL = ('agency', 'enterprise', 'service_request')


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_code', sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column('department', sa.String(length=100), nullable=True))
        batch_op.alter_column('role', existing_type=_role(OLD), type_=_role(NEW), existing_nullable=False)
    for table in REGIONAL:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('region_code', sa.String(length=6), nullable=True))
            if table != 'enterprise':
                batch_op.create_index(batch_op.f(f'ix_{table}_region_code'), ['region_code'], unique=False)
        t = sa.table(table, sa.column('region', sa.String), sa.column('region_code', sa.String))
        for name, code in CITY_CODES.items():
            op.execute(t.update().where(t.c.region == name).values(region_code=code))


def downgrade():
    # Staff accounts other than administrators cannot exist in the old schema.
    op.execute(sa.text("DELETE FROM \"user\" WHERE role IN ('operator', 'department', 'supervisor')"))
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of `agency` would have to drop a table
    # that other rows still reference.
    for table in REGIONAL:
        if table != 'enterprise':
            op.drop_index(op.f(f'ix_{table}_region_code'), table_name=table)
        op.drop_column(table, 'region_code')
    op.drop_column('user', 'department')
    op.drop_column('user', 'region_code')
    if op.get_bind().dialect.name != 'sqlite':  # SQLite would have to copy `user`, which other rows reference
        op.drop_constraint(op.f('ck_user_role'), 'user', type_='check')
        op.create_check_constraint('role', 'user', sa.column('role').in_(OLD))
