"""the audit log becomes a hash chain: seq, prev_hash and hash on every entry, and the chain's head

Existing entries are chained in id order. The append-only triggers are replaced by ones that also allow the one
change the chain needs: an unsealed entry (hash NULL) getting its place and hashes, once.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 09:30:00

"""

import sqlalchemy as sa
from alembic import op

from marketplace.audit.chain import GENESIS, entry_hash
from marketplace.common.types import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_FIELDS = ("id", "at", "actor_id", "actor_label", "action", "object_type", "object_id", '"before"', '"after"', "ip")


def _row(alias: str) -> str:
    return "ROW(" + ", ".join(f"{alias}.{f}::text" if "fore" in f or "fter" in f else f"{alias}.{f}" for f in _FIELDS) + ")"


PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND {_row("NEW")} IS NOT DISTINCT FROM {_row("OLD")} THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql
"""
SQLITE_SEALING_ONLY = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.actor_id IS NOT OLD.actor_id
  OR NEW.actor_label IS NOT OLD.actor_label OR NEW.action IS NOT OLD.action
  OR NEW.object_type IS NOT OLD.object_type OR NEW.object_id IS NOT OLD.object_id
  OR NEW."before" IS NOT OLD."before" OR NEW."after" IS NOT OLD."after" OR NEW.ip IS NOT OLD.ip
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""
OLD_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END;
$$ LANGUAGE plpgsql
"""
OLD_SQLITE_UPDATE = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    op.add_column("audit_log", sa.Column("seq", sa.Integer(), nullable=True))
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(length=64), nullable=True))
    op.create_index("ix_audit_log_seq", "audit_log", ["seq"], unique=True)
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    if _postgresql():
        op.execute(PG_FUNCTION)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute(SQLITE_SEALING_ONLY)

    # Chain the existing entries in id order, in batches (the triggers above allow exactly this).
    log = sa.table(
        "audit_log",
        *(sa.column(n, sa.Integer) for n in ("id", "actor_id", "object_id", "seq")),
        sa.column("at", UTCDateTime()),
        *(sa.column(n, sa.String) for n in ("actor_label", "action", "object_type", "ip", "prev_hash", "hash")),
        sa.column("before", sa.JSON),
        sa.column("after", sa.JSON),
    )
    bind = op.get_bind()
    seq, last, after_id = 0, GENESIS, 0
    while True:
        rows = bind.execute(sa.select(log).where(log.c.id > after_id).order_by(log.c.id).limit(2000)).all()
        if not rows:
            break
        values = []
        for row in rows:
            seq += 1
            digest = entry_hash(row, seq, last)
            values.append({"b_id": row.id, "b_seq": seq, "b_prev": last, "b_hash": digest})
            last = digest
        bind.execute(
            log.update()
            .where(log.c.id == sa.bindparam("b_id"))
            .values(seq=sa.bindparam("b_seq"), prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash")),
            values,
        )
        after_id = rows[-1].id
    op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": last}])


def downgrade():
    if _postgresql():
        op.execute(OLD_PG_FUNCTION)
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute(OLD_SQLITE_UPDATE)
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_seq", table_name="audit_log")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), so that SQLite keeps the table and its triggers.
    for name in ("hash", "prev_hash", "seq"):
        op.execute(f"ALTER TABLE audit_log DROP COLUMN {name}")
