"""seed the service catalogue (18 categories, 96 service items)

The data is frozen in migrations/data/catalogue_v1.json so that this migration gives every database the
same catalogue forever; later catalogue changes come as new migrations (or through the admin pages).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DATA = Path(__file__).resolve().parent.parent / "data" / "catalogue_v1.json"

category = sa.table(
    "category",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("description", sa.Text),
    sa.column("sort_order", sa.Integer),
)
service_item = sa.table(
    "service_item",
    sa.column("category_id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("aliases", sa.JSON),
    sa.column("legal_basis", sa.Text),
    sa.column("approval", sa.String),
    sa.column("department", sa.String),
    sa.column("fee_regime", sa.String),
    sa.column("guide_min_fen", sa.Integer),
    sa.column("guide_max_fen", sa.Integer),
    sa.column("fee_basis", sa.String),
    sa.column("standard_days", sa.Integer),
    sa.column("qualification", sa.String),
    sa.column("sort_order", sa.Integer),
)


def upgrade():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    bind = op.get_bind()
    for c_order, cat in enumerate(data["categories"], start=1):
        bind.execute(
            category.insert().values(
                code=cat["code"], name=cat["name"], description=cat.get("description"), sort_order=c_order
            )
        )
        category_id = bind.execute(sa.select(category.c.id).where(category.c.code == cat["code"])).scalar_one()
        bind.execute(
            service_item.insert(),
            [
                {
                    "category_id": category_id,
                    "code": item["code"],
                    "name": item["name"],
                    "aliases": item.get("aliases") or [],
                    "legal_basis": item.get("legal_basis"),
                    "approval": item.get("approval"),
                    "department": item.get("department"),
                    "fee_regime": item["fee_regime"],
                    "guide_min_fen": item.get("guide_min_fen"),
                    "guide_max_fen": item.get("guide_max_fen"),
                    "fee_basis": item.get("fee_basis"),
                    "standard_days": item["standard_days"],
                    "qualification": item.get("qualification"),
                    "sort_order": i_order,
                }
                for i_order, item in enumerate(cat["items"], start=1)
            ],
        )


def downgrade():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    codes = [c["code"] for c in data["categories"]]
    items = [i["code"] for c in data["categories"] for i in c["items"]]
    op.execute(service_item.delete().where(service_item.c.code.in_(items)))
    op.execute(category.delete().where(category.c.code.in_(codes)))
