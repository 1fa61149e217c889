"""English names for the standard catalogue (name_en on categories, service items and qualification kinds);
ratings' moderation columns (reported_at, report_reason, moderated_at)

Filled from migrations/data/catalogue_en_v1.json by code (rows added later keep NULL: the English UI then shows
the Chinese name). The Chinese UI is unchanged.

Revision ID: 0027
Revises: 0024
Create Date: 2026-11-30 12:20:00

"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

DATA = Path(__file__).resolve().parent.parent / "data" / "catalogue_en_v1.json"
TABLES = {"category": "categories", "service_item": "items", "qualification_kind": "qualification_kinds"}


def upgrade():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name_en", sa.String(length=200), nullable=True))
    with op.batch_alter_table("rating") as batch:
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("report_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    for table, key in TABLES.items():
        t = sa.table(table, sa.column("code", sa.String), sa.column("name_en", sa.String))
        for code, name_en in data[key].items():
            bind.execute(t.update().where(t.c.code == code).values(name_en=name_en))


def downgrade():
    with op.batch_alter_table("rating") as batch:
        for column in ("moderated_at", "report_reason", "reported_at"):
            batch.drop_column(column)
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("name_en")
