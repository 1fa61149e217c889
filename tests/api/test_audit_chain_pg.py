"""Many transactions auditing at once on a real PostgreSQL server with real commits: one chain, no fork, no
loss, no failure (the head row's lock makes them take their places one after another)."""

import time

from sqlalchemy import func, select

from marketplace.audit import chain
from marketplace.audit.models import AuditEntry
from marketplace.audit.services import record
from marketplace.extensions import db
from tests import factories as f
from tests.racing import needs_postgresql, race

pytestmark = needs_postgresql


def test_concurrent_audits_keep_one_chain(committed_app):
    with committed_app.app_context():
        actor_id = f.user("enterprise").id
        db.session.remove()

    def audits(n):
        def call():
            from marketplace.auth.models import User

            actor = db.session.get(User, actor_id)
            for i in range(3):
                record(actor, "test.race", object_type="race", object_id=n * 10 + i, after={"n": n, "i": i})
                db.session.flush()
                time.sleep(0.02)  # hold the transaction open so that the others overlap it
            return n

        return call

    for _ in range(3):
        results = race(committed_app, *(audits(n) for n in range(8)))
        assert results == list(range(8)), results
    with committed_app.app_context():
        finding = chain.verify(db.session())
        assert finding.ok, finding.problem
        raced = db.session.scalar(select(func.count()).where(AuditEntry.action == "test.race"))
        assert raced == 3 * 8 * 3
        assert finding.agreed == db.session.scalar(select(func.count()).select_from(AuditEntry))
        # each transaction's entries are consecutive in the chain: the lock is held from linking to commit
        rows = db.session.execute(
            select(AuditEntry.seq, AuditEntry.object_id)
            .where(AuditEntry.action == "test.race")
            .order_by(AuditEntry.seq)
        ).all()
        for k in range(0, len(rows), 3):
            group = rows[k : k + 3]
            assert len({r.object_id // 10 for r in group}) == 1, group
            assert group[-1].seq - group[0].seq == 2
        db.session.remove()
