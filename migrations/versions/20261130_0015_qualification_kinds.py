"""qualification kinds: a register of licences (per trade, with grades), items require kinds and a minimum grade
(or say the rules require none), agencies' qualifications name their kind

The register and the items' requirements are frozen in migrations/data/qualification_kinds_v1.json. Items are
matched by code (items added by other migrations are left unclassified: bidding then falls back to the old rule,
a valid qualification covering the category, until their department sets them). Agencies' qualifications get
their kind by name; those that match no kind (a business licence, an abolished licence) keep none and do not
count for items that require a kind. `service_item.qualification` stays as the rules' wording for people.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 06:40:00
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

DATA = Path(__file__).resolve().parent.parent / "data" / "qualification_kinds_v1.json"
LEVELS = ("甲级", "乙级", "丙级", "不分级")

category = sa.table("category", sa.column("id", sa.Integer), sa.column("code", sa.String))
service_item = sa.table(
    "service_item",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("requires_no_qualification", sa.Boolean),
)
kind = sa.table(
    "qualification_kind",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("category_id", sa.Integer),
    sa.column("department", sa.String),
    sa.column("levels", sa.JSON),
    sa.column("issuer", sa.String),
    sa.column("legal_basis", sa.Text),
    sa.column("sort_order", sa.Integer),
)
requirement = sa.table(
    "service_item_requirement",
    sa.column("service_item_id", sa.Integer),
    sa.column("kind_id", sa.Integer),
    sa.column("min_level", sa.String),
)
qualification = sa.table(
    "qualification",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("kind_id", sa.Integer),
)


def kind_for(name: str, kinds: list[dict]) -> str | None:
    """The code of the first kind whose name fragments all occur in `name` (the register's order decides)."""
    for k in kinds:
        if any(all(part in name for part in fragments) for fragments in k["match"]):
            return k["code"]
    return None


def upgrade():
    op.create_table(
        "qualification_kind",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("legal_basis", sa.Text(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_qualification_kind_category_id_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification_kind")),
        sa.UniqueConstraint("code", name=op.f("uq_qualification_kind_code")),
        sa.UniqueConstraint("name", name=op.f("uq_qualification_kind_name")),
    )
    op.create_index(
        op.f("ix_qualification_kind_category_id"), "qualification_kind", ["category_id"], unique=False
    )
    op.create_table(
        "service_item_requirement",
        sa.Column("service_item_id", sa.Integer(), nullable=False),
        sa.Column("kind_id", sa.Integer(), nullable=False),
        sa.Column(
            "min_level",
            sa.Enum(*LEVELS, name="qualificationlevel", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["kind_id"], ["qualification_kind.id"], name=op.f("fk_service_item_requirement_kind_id_qualification_kind")
        ),
        sa.ForeignKeyConstraint(
            ["service_item_id"],
            ["service_item.id"],
            name=op.f("fk_service_item_requirement_service_item_id_service_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_item_id", "kind_id", name=op.f("pk_service_item_requirement")),
    )
    op.create_index(
        op.f("ix_service_item_requirement_kind_id"), "service_item_requirement", ["kind_id"], unique=False
    )
    with op.batch_alter_table("service_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requires_no_qualification", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("qualification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_qualification_kind_id"), ["kind_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_qualification_kind_id_qualification_kind"), "qualification_kind", ["kind_id"], ["id"]
        )
    seed(op.get_bind())


def seed(bind) -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    categories = dict(bind.execute(sa.select(category.c.code, category.c.id)).all())
    for order, k in enumerate(data["kinds"], start=1):
        bind.execute(
            kind.insert().values(
                code=k["code"],
                name=k["name"],
                category_id=categories.get(k["category"]),
                department=k["department"],
                levels=k["levels"],
                issuer=k["issuer"],
                legal_basis=k["legal_basis"],
                sort_order=order,
            )
        )
    kinds = dict(bind.execute(sa.select(kind.c.code, kind.c.id)).all())
    items = dict(bind.execute(sa.select(service_item.c.code, service_item.c.id)).all())
    rows = [
        {"service_item_id": items[code], "kind_id": kinds[k], "min_level": level}
        for code, needs in data["requirements"].items()
        if code in items
        for k, level in needs
    ]
    if rows:
        bind.execute(requirement.insert(), rows)
    free = [items[code] for code in data["no_qualification"] if code in items]
    if free:
        bind.execute(
            service_item.update().where(service_item.c.id.in_(free)).values(requires_no_qualification=True)
        )
    for qid, name in bind.execute(sa.select(qualification.c.id, qualification.c.name)).all():
        code = kind_for(name or "", data["kinds"])
        if code is not None:
            bind.execute(qualification.update().where(qualification.c.id == qid).values(kind_id=kinds[code]))


def downgrade():
    with op.batch_alter_table("qualification", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_qualification_kind_id_qualification_kind"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_qualification_kind_id"))
        batch_op.drop_column("kind_id")
    with op.batch_alter_table("service_item", schema=None) as batch_op:
        batch_op.drop_column("requires_no_qualification")
    op.drop_index(op.f("ix_service_item_requirement_kind_id"), table_name="service_item_requirement")
    op.drop_table("service_item_requirement")
    op.drop_index(op.f("ix_qualification_kind_category_id"), table_name="qualification_kind")
    op.drop_table("qualification_kind")
