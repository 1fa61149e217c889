"""objections from interested parties only, once per round, with a ground, facts, evidence and a decide-by time

An objection now names the objecting agency (one per request and agency: a unique constraint), a ground from a
short list, the statement of facts (the old `reason`), optional evidence files and the time by which the
administrators must decide. Existing objections keep their text as the facts, get the ground "other" and a
decide-by time of their lodging plus MARKET_OBJECTION_DECISION_SECONDS (default three days); they name their
agency only where that agency bid in the round (the first such objection per agency), else none.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:00:00

"""
import os
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

GROUNDS = ('rules', 'qualification', 'calculation', 'procedure', 'other')

objection = sa.table(
    'objection',
    sa.column('id', sa.Integer),
    sa.column('request_id', sa.Integer),
    sa.column('user_id', sa.Integer),
    sa.column('agency_id', sa.Integer),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('decide_by', sa.DateTime(timezone=True)),
)
agency = sa.table('agency', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer))
bid = sa.table(
    'bid',
    sa.column('request_id', sa.Integer),
    sa.column('agency_id', sa.Integer),
    sa.column('status', sa.String),
)


def _backfill() -> None:
    conn = op.get_bind()
    seconds = int(os.environ.get('MARKET_OBJECTION_DECISION_SECONDS') or 3 * 24 * 3600)
    agency_of = dict(conn.execute(sa.select(agency.c.user_id, agency.c.id)).all())
    bidders = set(conn.execute(sa.select(bid.c.request_id, bid.c.agency_id).where(bid.c.status != 'withdrawn')).all())
    taken = set()
    rows = conn.execute(
        sa.select(objection.c.id, objection.c.request_id, objection.c.user_id, objection.c.created_at).order_by(
            objection.c.id
        )
    ).all()
    for objection_id, request_id, user_id, created_at in rows:
        party = agency_of.get(user_id)
        if (request_id, party) not in bidders or (request_id, party) in taken:
            party = None
        else:
            taken.add((request_id, party))
        conn.execute(
            objection.update()
            .where(objection.c.id == objection_id)
            .values(agency_id=party, decide_by=created_at + timedelta(seconds=seconds))
        )


def upgrade():
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.alter_column('reason', new_column_name='facts', existing_type=sa.Text(), existing_nullable=False)
        batch_op.add_column(sa.Column('agency_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                'ground',
                sa.Enum(*GROUNDS, name='objectionground', native_enum=False, create_constraint=True, length=20),
                nullable=False,
                server_default='other',
            )
        )
        batch_op.add_column(sa.Column('evidence', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('decide_by', sa.DateTime(timezone=True), nullable=True))
    _backfill()
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.alter_column(
            'ground',
            server_default=None,
            existing_type=sa.Enum(*GROUNDS, name='objectionground', native_enum=False, length=20),
            existing_nullable=False,
        )
        batch_op.alter_column('decide_by', nullable=False, existing_type=sa.DateTime(timezone=True))
        batch_op.create_foreign_key(batch_op.f('fk_objection_agency_id_agency'), 'agency', ['agency_id'], ['id'])
        batch_op.create_unique_constraint('uq_objection_request_agency', ['request_id', 'agency_id'])
        batch_op.create_index(batch_op.f('ix_objection_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objection_decide_by'), ['decide_by'], unique=False)


def downgrade():
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_decide_by'))
        batch_op.drop_index(batch_op.f('ix_objection_agency_id'))
        batch_op.drop_constraint('uq_objection_request_agency', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_objection_agency_id_agency'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_objection_objectionground'), type_='check')
        batch_op.drop_column('decide_by')
        batch_op.drop_column('evidence')
        batch_op.drop_column('ground')
        batch_op.drop_column('agency_id')
        batch_op.alter_column('facts', new_column_name='reason', existing_type=sa.Text(), existing_nullable=False)
