"""The hash chain over the audit log: each entry's hash covers its content and the hash of the entry before it.

Entries get their place in the chain when their transaction commits (`seal`, a session hook), under the lock of
the one-row `audit_head` table: two transactions auditing at once queue there for the few milliseconds of the
linking, never for their whole length (a lock taken at the first `record` and held to the commit would meet the
row locks the services take afterwards, and deadlock). The database triggers let a stored entry be changed only
from unsealed to sealed, once, and never be deleted. `verify` walks the chain and names the first entry that
disagrees; `daily_heads` gives each day's last hash, published so that a rewritten history shows from outside.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, case, event, func, inspect, literal_column, select, update
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditEntry, AuditHead
from marketplace.common.clock import LOCAL_TZ

GENESIS = "0" * 64
PENDING = "audit_unsealed"
CONTENT = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "ip",
)
_table = AuditEntry.__table__
_columns = [_table.c[name] for name in (*CONTENT, "seq", "prev_hash", "hash")]


def canonical(row: Any, seq: int, prev_hash: str) -> bytes:
    """The bytes an entry's hash is taken of: its content as the database returns it, its place and its
    predecessor's hash, as sorted compact JSON. Never change this: every stored hash depends on it."""
    content = {name: getattr(row, name) for name in CONTENT}
    content["at"] = content["at"].astimezone(UTC).isoformat(timespec="microseconds")
    content |= {"seq": seq, "prev_hash": prev_hash}
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(row: Any, seq: int, prev_hash: str) -> str:
    return hashlib.sha256(canonical(row, seq, prev_hash)).hexdigest()


def pending(session: Session, entry: AuditEntry) -> None:
    """Note an entry to be linked when the session commits."""
    session.info.setdefault(PENDING, []).append(entry)


def link(session: Session, ids: list[int]) -> int:
    """Give the unsealed entries with these ids their places after the chain's head, in id order; return how
    many. Locks the head row until the transaction ends.

    The head is read (and locked) in the same statement as the entries: the lock is held for as few round trips
    as possible — this, the two updates and the commit."""
    head = AuditHead.__table__
    rows = session.execute(
        select(*_columns, head.c.seq.label("head_seq"), head.c.hash.label("head_hash"))
        .select_from(_table.join(head, head.c.id == 1))
        .where(_table.c.id.in_(ids), _table.c.hash.is_(None))
        .order_by(_table.c.id)
        .with_for_update(of=head)
    ).all()
    if not rows:
        unsealed = session.scalar(select(func.count()).where(_table.c.id.in_(ids), _table.c.hash.is_(None)))
        if not unsealed or session.scalar(select(func.count()).select_from(head)):
            return 0  # rolled back with a savepoint, or sealed already
        session.execute(head.insert().values(id=1, seq=0, hash=GENESIS))  # a database made without 0024's row
        return link(session, ids)
    seq, last = rows[0].head_seq, rows[0].head_hash
    values = []
    for row in rows:
        seq += 1
        digest = entry_hash(row, seq, last)
        values.append({"b_id": row.id, "b_seq": seq, "b_prev": last, "b_hash": digest})
        last = digest
    session.execute(
        _table.update()
        .where(_table.c.id == bindparam("b_id"))
        .values(seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")),
        values,
    )
    session.execute(update(head).where(head.c.id == 1).values(seq=seq, hash=last))
    return len(values)


@event.listens_for(Session, "before_commit")
def seal(session: Session) -> None:
    """At the transaction's commit (SQLAlchemy calls this for a savepoint released too: its entries wait for the
    transaction's own commit, which seals them with the others, the chain's head locked once)."""
    if session.get_nested_transaction() is not None:
        return
    entries = session.info.get(PENDING)
    if not entries:
        return
    session.flush()
    session.info.pop(PENDING, None)
    ids = [e.id for e in entries if e.id is not None and inspect(e).persistent]  # not those rolled back
    if ids:
        link(session, ids)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    """A savepoint rolled back (SQLAlchemy calls this for one too) undoes only the entries made inside it, which
    `seal` leaves out; the entries the transaction recorded before it still commit and must be sealed."""
    if session.get_nested_transaction() is not None:
        return
    session.info.pop(PENDING, None)


# --- checking --------------------------------------------------------------------------------------------


@dataclass
class Finding:
    """The outcome of a walk: how many entries agree, and the first one that does not (with why)."""

    agreed: int
    bad_id: int | None = None
    bad_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _walk(session: Session, batch: int = 2000) -> Iterator[Any]:
    after = 0
    while True:
        rows = session.execute(
            select(*_columns).where(_table.c.seq > after).order_by(_table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


def verify(session: Session) -> Finding:
    """Walk the chain in order; stop at the first entry whose content, place or link disagrees."""
    expected_seq, last, agreed, last_id = 1, GENESIS, 0, None
    for row in _walk(session):
        if row.seq != expected_seq:
            return Finding(
                agreed,
                row.id,
                expected_seq,
                f"entry no. {expected_seq} of the chain is missing (removed): the chain jumps from "
                f"no. {expected_seq - 1} (id {last_id}) to no. {row.seq} (id {row.id})",
            )
        if row.prev_hash != last:
            return Finding(
                agreed,
                row.id,
                row.seq,
                f"entry no. {row.seq} (id {row.id}) does not follow the entry before it: "
                "that one was changed, removed or replaced",
            )
        if entry_hash(row, row.seq, row.prev_hash) != row.hash:
            return Finding(agreed, row.id, row.seq, f"entry no. {row.seq} (id {row.id}) was changed")
        expected_seq, last, last_id, agreed = row.seq + 1, row.hash, row.id, agreed + 1
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    if head is not None and (head.seq != agreed or (agreed and head.hash != last)):
        return Finding(
            agreed,
            None,
            agreed + 1,
            f"the chain ends at no. {agreed} but its head says no. {head.seq}: "
            f"entries from no. {agreed + 1} on were removed",
        )
    unsealed = session.scalar(select(func.count()).select_from(_table).where(_table.c.hash.is_(None)))
    if unsealed:
        first = session.scalar(select(func.min(_table.c.id)).where(_table.c.hash.is_(None)))
        return Finding(agreed, first, None, f"{unsealed} entries are outside the chain, the first id {first}")
    return Finding(agreed)


# --- publishing ------------------------------------------------------------------------------------------


@dataclass
class DayHead:
    day: date
    seq: int
    hash: str
    entries: int


def daily_heads(session: Session, first: date, last: date) -> list[DayHead]:
    """For each day (Beijing time) from `first` to `last` with entries: the hash of its last entry in the chain,
    and how many entries the day had. Newest first.

    One statement whatever the span (it was two per day: 34 for the public page's month): see `_heads_by_day`."""
    days = (last - first).days + 1
    if days < 1:
        return []
    starts = {f"day_{i}": datetime.combine(first + timedelta(days=i), time(), LOCAL_TZ) for i in range(days)}
    starts[f"day_{days}"] = starts[f"day_{days - 1}"] + timedelta(days=1)
    rows = session.execute(_heads_by_day(days), starts)
    return [DayHead(first + timedelta(days=int(r.day)), r.seq, r.hash, r.entries) for r in rows]


@functools.lru_cache(maxsize=8)
def _heads_by_day(days: int):
    """The sealed entries from day_0 to day_<days> numbered by day — a balanced tree of CASEs over the days'
    starts, a dozen comparisons a row for a year, the same SQL on PostgreSQL and SQLite — counted per day, and
    each day's highest seq joined back to its hash (the unique index on seq). Kept per span, so that its cache
    key is not worked out again on every request."""
    start = [bindparam(f"day_{i}", type_=_table.c.at.type) for i in range(days + 1)]

    def number(lo: int, hi: int):  # the i (lo <= i < hi) with start[i] <= at < start[i + 1]
        if hi - lo == 1:
            return literal_column(str(lo), Integer)
        middle = (lo + hi) // 2
        return case((_table.c.at < start[middle], number(lo, middle)), else_=number(middle, hi))

    in_span = (_table.c.at >= start[0], _table.c.at < start[days], _table.c.seq.is_not(None))
    numbered = select(number(0, days).label("day"), _table.c.seq).where(*in_span).subquery()
    per_day = (
        select(numbered.c.day, func.count().label("entries"), func.max(numbered.c.seq).label("top"))
        .group_by(numbered.c.day)
        .subquery()
    )
    return (
        select(per_day.c.day, per_day.c.entries, _table.c.seq, _table.c.hash)
        .join_from(per_day, _table, _table.c.seq == per_day.c.top)
        .order_by(per_day.c.day.desc())
    )


def current_head(session: Session) -> tuple[int, str]:
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    return (head.seq, head.hash) if head else (0, GENESIS)
