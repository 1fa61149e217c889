"""Migration 0024 on a database that already holds audit entries: every entry is chained in id order, the chain
verifies, new entries continue it, and the database still refuses to change a sealed entry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from marketplace.audit import chain
from marketplace.audit.models import AuditEntry
from marketplace.common.types import UTCDateTime
from marketplace.common.uow import unit_of_work
from marketplace.extensions import db
from tests import factories as f

OLD = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("at", UTCDateTime()),
    sa.column("actor_id", sa.Integer),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.Integer),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
    sa.column("ip", sa.String),
)


def test_existing_entries_are_chained_in_id_order(committed_app):
    with committed_app.app_context():
        f.accepted_order()
        db.session.remove()
        script = ScriptDirectory.from_config(committed_app.extensions["migrate"].migrate.get_config())
        downgrade(revision=script.get_revision("0024").down_revision)
        with db.engine.begin() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("audit_log")}
            assert "hash" not in columns and not sa.inspect(conn).has_table("audit_head")
            conn.execute(
                OLD.insert().values(
                    at=datetime(2026, 11, 1, 1, 2, 3, 456789, tzinfo=UTC),
                    actor_label="旧系统",
                    action="legacy.import",
                    object_type="service_request",
                    object_id=7,
                    before={"状态": "草稿", "金额": [1, 2.5, None]},
                    after={"状态": "已发布", "嵌套": {"b": 1, "a": "二"}},
                    ip="10.0.0.1",
                )
            )
            old_count = conn.scalar(sa.select(sa.func.count()).select_from(OLD))
        upgrade()

        entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert len(entries) == old_count
        assert [e.seq for e in entries] == list(range(1, old_count + 1))  # id order
        assert entries[0].prev_hash == chain.GENESIS
        finding = chain.verify(db.session())
        assert finding.ok, finding.problem
        assert finding.agreed == old_count
        assert chain.current_head(db.session()) == (old_count, entries[-1].hash)

        with unit_of_work():  # new entries continue the backfilled chain
            f.user("enterprise")
        assert chain.verify(db.session()).ok
        assert chain.current_head(db.session())[0] > old_count

        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_log SET action = 'x' WHERE id = :id"), {"id": entries[0].id})
        db.session.remove()
