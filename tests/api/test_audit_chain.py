"""The audit log's hash chain: a normal market verifies; an entry edited or removed in the database is named;
the `audit verify` command says so with its exit status; the daily heads are published."""

from __future__ import annotations

from sqlalchemy import func, select, text

from marketplace.audit import chain
from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from tests import factories as f
from tests import market


def _unguard() -> None:
    """Let this test's transaction change the log behind the application's back (rolled back after the test)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER audit_log_no_update"))
        db.session.execute(text("DROP TRIGGER audit_log_no_delete"))


def _entries() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def test_a_normal_market_verifies():
    market.build()
    db.session.commit()  # as the boundary would
    entries = _entries()
    assert len(entries) > 30
    assert all(e.hash and e.seq for e in entries)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    finding = chain.verify(db.session())
    assert finding.ok, finding.problem
    assert finding.agreed == len(entries)
    assert chain.current_head(db.session()) == (entries[-1].seq, entries[-1].hash)


def test_an_entry_edited_in_the_database_is_named():
    f.accepted_order()
    victim = _entries()[5]
    _unguard()
    db.session.execute(
        text("UPDATE audit_log SET after = :a WHERE id = :id"), {"a": '{"status": "forged"}', "id": victim.id}
    )
    finding = chain.verify(db.session())
    assert not finding.ok
    assert finding.bad_id == victim.id
    assert finding.agreed == victim.seq - 1
    assert "changed" in finding.problem


def test_an_entry_rehashed_after_editing_breaks_the_next_link():
    f.accepted_order()
    entries = _entries()
    victim, follower = entries[3], entries[4]
    _unguard()
    db.session.execute(text("UPDATE audit_log SET actor_label = 'nobody' WHERE id = :id"), {"id": victim.id})
    row = db.session.execute(select(*chain._columns).where(AuditEntry.id == victim.id)).one()
    forged = chain.entry_hash(row, row.seq, row.prev_hash)
    db.session.execute(text("UPDATE audit_log SET hash = :h WHERE id = :id"), {"h": forged, "id": victim.id})
    finding = chain.verify(db.session())
    assert finding.bad_id == follower.id and "does not follow" in finding.problem


def test_a_removed_entry_is_named():
    f.accepted_order()
    entries = _entries()
    removed = entries[7]
    _unguard()
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": removed.id})
    finding = chain.verify(db.session())
    assert not finding.ok
    assert finding.bad_seq == removed.seq
    assert finding.bad_id == entries[8].id
    assert "removed" in finding.problem


def test_removing_the_last_entries_is_seen_against_the_head():
    f.accepted_order()
    last = _entries()[-1]
    _unguard()
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": last.id})
    finding = chain.verify(db.session())
    assert not finding.ok and finding.bad_seq == last.seq and "removed" in finding.problem


def test_the_database_refuses_changes_to_sealed_entries():
    f.accepted_order()
    entry = _entries()[0]
    for statement in (
        "UPDATE audit_log SET action = 'x' WHERE id = :id",
        "DELETE FROM audit_log WHERE id = :id",
    ):
        nested = db.session.begin_nested()
        try:
            db.session.execute(text(statement), {"id": entry.id})
        except Exception:  # noqa: BLE001 (either database's error)
            nested.rollback()
        else:
            raise AssertionError(f"{statement} was allowed")
    assert chain.verify(db.session()).ok


def test_a_rolled_back_transaction_leaves_no_gap():
    f.accepted_order()
    before = db.session.scalar(select(func.max(AuditEntry.seq)))
    from marketplace.audit.services import record

    nested = db.session.begin_nested()
    record(None, "test.ghost", object_type="x", object_id=1)
    db.session.flush()
    nested.rollback()
    f.user("enterprise")  # commits something audited after the ghost
    assert chain.verify(db.session()).ok
    assert db.session.scalar(select(func.max(AuditEntry.seq))) >= before


def test_a_savepoint_rolled_back_keeps_the_entries_recorded_before_it_in_the_chain():
    """A service's savepoint that fails (a unique row inserted by a simultaneous request, caught and retried) rolls
    back only what was done inside it: the entries the transaction recorded before it are still sealed at its
    commit, and a savepoint released is not the transaction's commit (the entries wait for that one)."""
    from marketplace.audit.services import record

    f.user("enterprise")  # the chain has a head and entries
    kept = record(None, "test.before_the_savepoint", object_type="x", object_id=1)
    try:
        with db.session.begin_nested():
            record(None, "test.inside_the_savepoint", object_type="x", object_id=2)
            db.session.flush()
            raise RuntimeError("a unique row inserted meanwhile")
    except RuntimeError:
        pass
    with db.session.begin_nested():  # released: nothing sealed yet
        later = record(None, "test.in_a_released_savepoint", object_type="x", object_id=3)
    assert db.session.scalar(select(AuditEntry.hash).where(AuditEntry.id == later.id)) is None
    db.session.commit()
    actions = {e.action: e for e in _entries()}
    assert "test.inside_the_savepoint" not in actions
    assert actions["test.before_the_savepoint"].hash and actions["test.in_a_released_savepoint"].hash
    assert actions["test.before_the_savepoint"].id == kept.id
    finding = chain.verify(db.session())
    assert finding.ok, finding.problem


def test_verify_command(app):
    f.accepted_order()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    count = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert f"{count} entries agree" in result.output
    victim = _entries()[2]
    _unguard()
    db.session.execute(text("UPDATE audit_log SET after = NULL WHERE id = :id"), {"id": victim.id})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"(id {victim.id}) was changed" in result.output


def _heads_day_by_day(first, last) -> list[chain.DayHead]:
    """The daily heads as they were read before (two statements a day): the reference for the one statement."""
    from datetime import datetime, time, timedelta

    from marketplace.common.clock import LOCAL_TZ

    out, day = [], last
    while day >= first:
        start = datetime.combine(day, time(), LOCAL_TZ)
        in_day = (
            AuditEntry.at >= start,
            AuditEntry.at < start + timedelta(days=1),
            AuditEntry.seq.is_not(None),
        )
        top = db.session.execute(
            select(AuditEntry.seq, AuditEntry.hash).where(*in_day).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        if top is not None:
            count = db.session.scalar(select(func.count()).select_from(AuditEntry).where(*in_day))
            out.append(chain.DayHead(day, top.seq, top.hash, count))
        day -= timedelta(days=1)
    return out


def test_the_daily_heads_take_one_statement_and_cut_the_days_at_beijing_midnight():
    """Entries at a Beijing midnight, a microsecond before it, unsealed ones, days without any: each day's head
    and count are those of the day-by-day reading, for spans of one day to a year."""
    from datetime import date, datetime, timedelta

    from sqlalchemy import event

    from marketplace.common.clock import LOCAL_TZ

    midnight = datetime(2021, 3, 10, tzinfo=LOCAL_TZ)
    times = [
        midnight - timedelta(days=3, hours=5),
        midnight - timedelta(microseconds=1),
        midnight,
        midnight + timedelta(hours=23, minutes=59, seconds=59, microseconds=999999),
        midnight + timedelta(days=1),
        midnight + timedelta(days=2, hours=1),
        midnight + timedelta(days=2, hours=2),
        midnight + timedelta(days=40),
        midnight + timedelta(days=200, hours=12),
    ]
    sealed = []
    for n, at in enumerate(times):
        entry = AuditEntry(at=at, actor_label="test", action="test.heads", object_type="test", object_id=n)
        db.session.add(entry)
        db.session.flush()
        if n != 5:  # one stays unsealed: not counted
            sealed.append(entry.id)
    chain.link(db.session(), sealed)
    engine, statements = db.session.get_bind(), []
    note = lambda *args: statements.append(args[2])  # noqa: E731
    spans = [(date(2021, 3, 10), date(2021, 3, 10)), (date(2021, 3, 1), date(2021, 3, 31))]
    spans += [(date(2021, 3, 5), date(2022, 3, 4)), (date(2021, 3, 12), date(2021, 3, 11))]
    for first, last in spans:
        statements.clear()
        event.listen(engine, "before_cursor_execute", note)
        try:
            heads = chain.daily_heads(db.session(), first, last)
        finally:
            event.remove(engine, "before_cursor_execute", note)
        assert len(statements) <= 1
        assert heads == _heads_day_by_day(first, last)
    year = chain.daily_heads(db.session(), date(2021, 3, 5), date(2022, 3, 4))
    assert [(h.day.isoformat(), h.entries) for h in year] == [
        ("2021-09-26", 1),
        ("2021-04-19", 1),
        ("2021-03-12", 1),  # the 02:00 entry; the 01:00 one is unsealed
        ("2021-03-11", 1),
        ("2021-03-10", 2),
        ("2021-03-09", 1),
        ("2021-03-06", 1),
    ]
