"""Migration 0008 on a database that already holds objections from the old rules (anyone could object, any number
of times): their text is kept as the facts, they get the ground "other" and a decide-by time, and they name an
agency only where it was a bidder of the round, once; then the new rule holds for them too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy.exc import IntegrityError

from marketplace.common.types import UTCDateTime
from marketplace.extensions import db
from tests import factories as f

OLD = sa.table(
    "objection",
    sa.column("id", sa.Integer),
    sa.column("request_id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("reason", sa.Text),
    sa.column("status", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)


def test_old_objections_survive_the_migration(committed_app):
    with committed_app.app_context():
        enterprise, admin = f.user("enterprise"), f.admin()
        bidder, stranger = f.active_agency("C03", reviewer=admin), f.active_agency("C03", reviewer=admin)
        req = f.published_request(enterprise)
        f.bid(bidder, req)
        req_id, who = req.id, {"bidder": bidder.id, "stranger": stranger.id, "enterprise": enterprise.id}
        parties = {"bidder": bidder.agency.id}
        db.session.remove()

        script = ScriptDirectory.from_config(committed_app.extensions["migrate"].migrate.get_config())
        downgrade(revision=script.get_revision("0008").down_revision)  # the revision before this one
        lodged = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
        rows = [
            ("bidder", "投标人第一次提出的异议，内容完整。"),
            ("bidder", "投标人第二次提出的异议（旧规则允许重复）。"),
            ("stranger", "无关机构提出的异议。"),
            ("enterprise", "业主自己提出的异议。"),
        ]
        with db.engine.begin() as conn:
            for i, (name, text) in enumerate(rows):
                at = lodged + timedelta(hours=i)
                conn.execute(
                    OLD.insert().values(
                        request_id=req_id,
                        user_id=who[name],
                        reason=text,
                        status="open",
                        created_at=at,
                        updated_at=at,
                    )
                )
        upgrade()

        from marketplace.requests.models import Objection

        got = db.session.scalars(sa.select(Objection).order_by(Objection.id)).all()
        assert [o.facts for o in got] == [text for _, text in rows]
        assert [o.agency_id for o in got] == [parties["bidder"], None, None, None]
        assert {o.ground.value for o in got} == {"other"}
        assert [o.decide_by for o in got] == [lodged + timedelta(hours=i, days=3) for i in range(4)]
        assert all(o.overdue for o in got)  # lodged long ago, never decided
        # The bidder's party already has its objection in this round.
        with pytest.raises(IntegrityError):
            db.session.add(
                Objection(
                    request_id=req_id,
                    user_id=who["bidder"],
                    agency_id=parties["bidder"],
                    ground="rules",
                    facts="再次提出的异议，应被唯一约束拒绝。",
                    decide_by=lodged,
                )
            )
            db.session.flush()
        db.session.rollback()
