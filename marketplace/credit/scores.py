"""The credit engine: recording events, the running sums, the score and grade, the automatic list entries, and
what other features read (an agency's credit, whether it is barred from bidding).

Every write happens inside the caller's transaction (a listener runs in the sender's): the sums are moved with
atomic `x = x + n` updates, so concurrent events never lose each other's points; the score and grade follow from
the sums by credit/rules.py. `ledger.rebuild` recomputes the same values by a separate path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, column, func, literal, null, or_, select, table, union_all, update
from sqlalchemy.exc import IntegrityError

from marketplace import events
from marketplace.common.clock import now
from marketplace.common.messages import N_, Message, message
from marketplace.credit import rules
from marketplace.credit.models import AgencyCredit, CreditEvent, CreditListEntry, EventStatus, ListKind
from marketplace.extensions import db

AUTO_BLACK = N_("Automatic: credit score %(score)s or %(vetoes)d veto items in the window")
AUTO_RED = N_("Automatic: credit score %(score)s with no negative event in the window")
THRESHOLD_GONE = N_("The threshold is no longer met")
BLACKLISTED = N_(
    "Your agency is on the black list (失信名单) until %(until)s and may not bid or be selected."
)
BLACKLISTED_OPEN = N_("Your agency is on the black list (失信名单) and may not bid or be selected.")
GRADE_E = N_("Your credit grade is E (失信): agencies of this grade may not bid or be selected.")

SUM_COLUMNS = {
    rules.Source.ENTERPRISE: "enterprise_points",
    rules.Source.DEPARTMENT: "department_points",
    rules.Source.MARKET: "market_points",
}

# --- the running credit ----------------------------------------------------------------------------------------


def _ensure(agency_id: int) -> None:
    if db.session.get(AgencyCredit, agency_id) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                AgencyCredit(
                    agency_id=agency_id,
                    enterprise_points=0,
                    department_points=0,
                    market_points=0,
                    veto_count=0,
                    negative_count=0,
                    score=float(rules.BASE),
                    grade=rules.grade(rules.BASE),
                    grade_rank=rules.GRADE_RANK[rules.grade(rules.BASE)],
                    window_start=rules.window_start(now()),
                )
            )
    except IntegrityError:  # created by a concurrent transaction: we only add to it
        pass


def counts(event: CreditEvent, window_start: datetime) -> bool:
    return event.status == EventStatus.COUNTED and event.at >= window_start


def _move(event: CreditEvent, sign: int, actor=None) -> None:
    """Add (+1) or take away (−1) one event's points from its agency's running sums, then re-derive."""
    _ensure(event.agency_id)
    row = db.session.get(AgencyCredit, event.agency_id)
    if event.at < row.window_start:
        return  # outside the window: it never counted
    column = getattr(AgencyCredit, SUM_COLUMNS[rules.Source(event.source)])
    values = {column.key: column + sign * event.points}
    if event.rule in rules.VETO_RULES:
        values["veto_count"] = AgencyCredit.veto_count + sign
    if event.points < 0:
        values["negative_count"] = AgencyCredit.negative_count + sign
    db.session.execute(
        update(AgencyCredit)
        .where(AgencyCredit.agency_id == event.agency_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(row)
    derive(row, actor)


def points_of(row: AgencyCredit) -> dict[str, int]:
    return {s.value: getattr(row, c) for s, c in SUM_COLUMNS.items()}


def derive(row: AgencyCredit, actor=None) -> None:
    """Score and grade from the sums; announce a grade change; keep the automatic list entries in step."""
    before = row.grade
    row.score = rules.score(points_of(row))
    row.grade = rules.grade(row.score, row.veto_count)
    row.grade_rank = rules.GRADE_RANK[row.grade]
    db.session.flush()
    if before != row.grade:
        events.credit_grade_changed.send(row.agency_id, before=before, after=row.grade)
    _automatic_lists(row, actor)


def record_event(
    agency_id: int,
    rule: str,
    subject_type: str,
    subject_id: int,
    *,
    points: int | None = None,
    source: str | None = None,
    evidence: str | None = None,
    at: datetime | None = None,
    note: str | None = None,
    actor=None,
) -> CreditEvent | None:
    """Record one credit event; None when this subject was already recorded under this rule (a replay)."""
    spec = rules.RULES[rule]
    key = dict(agency_id=agency_id, rule=rule, subject_type=subject_type, subject_id=subject_id)
    if db.session.scalar(select(CreditEvent.id).filter_by(**key)) is not None:
        return None
    event = CreditEvent(
        **key,
        source=rules.Source(source or spec.source),
        points=spec.points if points is None else int(points),
        evidence=evidence,
        at=at or now(),
        note=note,
        status=EventStatus.COUNTED,
        actor_id=getattr(actor, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(event)
    except IntegrityError:  # recorded by a concurrent transaction
        return None
    _move(event, +1, actor)
    events.credit_event_recorded.send(event, actor=actor)
    return event


def find_event(agency_id: int, rule: str, subject_type: str, subject_id: int) -> CreditEvent | None:
    return db.session.scalar(
        select(CreditEvent).filter_by(
            agency_id=agency_id, rule=rule, subject_type=subject_type, subject_id=subject_id
        )
    )


def set_status(event: CreditEvent, status: EventStatus, actor=None) -> bool:
    """Reverse, repair, withdraw or count again one event: its points leave or rejoin the sums."""
    if event.status == status:
        return False
    was = event.status == EventStatus.COUNTED
    event.status = status
    db.session.flush()
    if was != (status == EventStatus.COUNTED):
        _move(event, -1 if was else +1, actor)
    return True


def recount(agency_id: int, actor=None) -> bool:
    """Sums from the events of the current window (used when the window moves on). True if anything changed."""
    _ensure(agency_id)
    row = db.session.get(AgencyCredit, agency_id)
    start = rules.window_start(now())
    counted = select(CreditEvent).where(
        CreditEvent.agency_id == agency_id,
        CreditEvent.status == EventStatus.COUNTED,
        CreditEvent.at >= start,
    )
    sums = {c: 0 for c in SUM_COLUMNS.values()}
    vetoes = negatives = 0
    for event in db.session.scalars(counted):
        sums[SUM_COLUMNS[rules.Source(event.source)]] += event.points
        vetoes += event.rule in rules.VETO_RULES
        negatives += event.points < 0
    before = (points_of(row), row.veto_count, row.negative_count, row.window_start, row.score, row.grade)
    for name, value in sums.items():
        setattr(row, name, value)
    row.veto_count, row.negative_count, row.window_start = vetoes, negatives, start
    derive(row, actor)
    return before != (
        points_of(row),
        row.veto_count,
        row.negative_count,
        row.window_start,
        row.score,
        row.grade,
    )


# --- lists -----------------------------------------------------------------------------------------------------


def in_force_condition(at: datetime | None = None):
    at = at or now()
    return (
        CreditListEntry.lifted_at.is_(None)
        & (CreditListEntry.starts_at <= at)
        & (CreditListEntry.until.is_(None) | (CreditListEntry.until > at))
    )


def entries_in_force(agency_id: int, kind: ListKind | None = None) -> list[CreditListEntry]:
    stmt = select(CreditListEntry).where(CreditListEntry.agency_id == agency_id, in_force_condition())
    if kind is not None:
        stmt = stmt.where(CreditListEntry.kind == kind)
    return list(db.session.scalars(stmt.order_by(CreditListEntry.starts_at)))


def open_list(
    agency_id: int,
    kind: ListKind,
    reason: str,
    *,
    basis: str | None = None,
    until: datetime | None = None,
    decided_by=None,
    actor=None,
) -> CreditListEntry:
    entry = CreditListEntry(
        agency_id=agency_id,
        kind=kind,
        reason=reason,
        basis=basis,
        starts_at=now(),
        until=until,
        decided_by_id=getattr(decided_by, "id", None),
    )
    db.session.add(entry)
    db.session.flush()
    events.credit_listed.send(entry, agency_id=agency_id, kind=kind.value, actor=actor)
    return entry


def lift(entry: CreditListEntry, why: str, actor=None) -> None:
    entry.lifted_at, entry.lifted_why = now(), why
    db.session.flush()
    events.credit_unlisted.send(entry, agency_id=entry.agency_id, kind=entry.kind.value, why=why, actor=actor)


def _automatic_lists(row: AgencyCredit, actor=None) -> None:
    want = rules.automatic_list(row.score, row.veto_count, row.negative_count)
    current = entries_in_force(row.agency_id)
    for entry in current:
        if entry.automatic and entry.kind.value != want:
            lift(entry, message(THRESHOLD_GONE).encode(), actor)
    if want is None or any(e.automatic and e.kind.value == want for e in current):
        return
    if want == "red" and any(e.kind == ListKind.BLACK for e in current):
        return  # never on both lists
    template = AUTO_BLACK if want == "black" else AUTO_RED
    reason = message(template, score=f"{row.score:.1f}", vetoes=row.veto_count).encode()
    open_list(row.agency_id, ListKind(want), reason, basis=None, actor=actor)


# --- reading -----------------------------------------------------------------------------------------------------


def _fresh(agency_id: int) -> dict:
    return {
        "score": float(rules.BASE),
        "grade": rules.grade(rules.BASE),
        "points": {s.value: 0 for s in rules.Source},
        "vetoes": 0,
        "negatives": 0,
    }


def credit_rows(agency_ids: list[int]) -> dict[int, dict]:
    """{agency_id: {score, grade, points, vetoes, negatives}}; a member without events has the base score."""
    ids = list(set(agency_ids))
    rows = (
        {
            r.agency_id: r
            for r in db.session.scalars(select(AgencyCredit).where(AgencyCredit.agency_id.in_(ids)))
        }
        if ids
        else {}
    )
    return {a: _credit_of(a, rows.get(a)) for a in agency_ids}


def _credit_of(agency_id: int, r: AgencyCredit | None) -> dict:
    if r is None:
        return _fresh(agency_id)
    return {
        "score": r.score,
        "grade": r.grade,
        "points": points_of(r),
        "vetoes": r.veto_count,
        "negatives": r.negative_count,
    }


def figure_columns(agency_id) -> list:
    """The columns of `figures_for` for a column of agency ids, to read beside other figures in one statement
    (stats/figures.py `stats_for`): the running score and grade, and whether it is on the black list now."""
    return [
        select(AgencyCredit.score)
        .where(AgencyCredit.agency_id == agency_id)
        .scalar_subquery()
        .label("c_score"),
        select(AgencyCredit.grade)
        .where(AgencyCredit.agency_id == agency_id)
        .scalar_subquery()
        .label("c_grade"),
        select(CreditListEntry.id)
        .where(
            CreditListEntry.agency_id == agency_id,
            CreditListEntry.kind == ListKind.BLACK,
            in_force_condition(),
        )
        .exists()
        .label("c_black"),
    ]


def figures_of(row) -> dict:
    """`figures_for`'s figures from a row with `figure_columns`; the base ones for an agency with no credit row
    yet, or none at all (`row` None)."""
    if row is None or row.c_score is None:
        base = _fresh(0)
        return {
            "credit_score": base["score"],
            "credit_grade": base["grade"],
            "credit_blacklisted": bool(row is not None and row.c_black),
        }
    return {"credit_score": row.c_score, "credit_grade": row.c_grade, "credit_blacklisted": bool(row.c_black)}


def figures_for(agency_ids: list[int]) -> dict[int, dict]:
    """What the statistics show beside each agency: credit_score, credit_grade and whether it is on the black
    list now — one statement (`stats_for` reads the same columns with the statistics instead)."""
    ids = sorted(set(agency_ids))
    if not ids:
        return {}
    # the agencies' own table (by name: credit does not import the agencies' models)
    asked = table("agency", column("id")).alias("asked")
    stmt = select(asked.c.id.label("agency_id"), *figure_columns(asked.c.id)).where(asked.c.id.in_(ids))
    rows = {r.agency_id: r for r in db.session.execute(stmt)}
    return {a: figures_of(rows.get(a)) for a in agency_ids}


def listed_ids(kind: ListKind) -> set[int]:
    """The agencies on a list now (`figures_for` asks for given agencies along with their credit)."""
    return set(
        db.session.scalars(
            select(CreditListEntry.agency_id).where(CreditListEntry.kind == kind, in_force_condition())
        )
    )


def barred(agency_id: int) -> Message | None:
    """Why this agency may not bid or be selected now (black list in force, or grade E); None when it may."""
    return barred_all([agency_id])[agency_id]


def barred_condition(agency_id):
    """`barred(agency_id) is not None` as an SQL condition on a column of agency ids: a black-list entry in force
    or the barred grade (the clock asks which unstarted orders' winners may no longer take them)."""
    return or_(
        select(CreditListEntry.id)
        .where(
            CreditListEntry.agency_id == agency_id,
            CreditListEntry.kind == ListKind.BLACK,
            in_force_condition(),
        )
        .exists(),
        select(AgencyCredit.agency_id)
        .where(AgencyCredit.agency_id == agency_id, AgencyCredit.grade == rules.BARRED_GRADE)
        .exists(),
    )


def barred_all(agency_ids: list[int]) -> dict[int, Message | None]:
    """`barred` for many agencies in one statement (a bid; a request's bids, checked when it closes and at
    selection): the black-list entries in force and the barred grade, one row each."""
    from marketplace.common.clock import local

    ids = sorted(set(agency_ids))
    if not ids:
        return {}
    black: dict[int, list[datetime | None]] = {}
    bottom: set[int] = set()
    entries = select(
        CreditListEntry.agency_id, CreditListEntry.until, literal(True, Boolean).label("listed")
    ).where(CreditListEntry.agency_id.in_(ids), CreditListEntry.kind == ListKind.BLACK, in_force_condition())
    graded = select(
        AgencyCredit.agency_id, null().label("until"), literal(False, Boolean).label("listed")
    ).where(AgencyCredit.agency_id.in_(ids), AgencyCredit.grade == rules.BARRED_GRADE)
    for agency_id, until, listed in db.session.execute(union_all(entries, graded)):
        if listed:
            black.setdefault(agency_id, []).append(until)
        else:
            bottom.add(agency_id)
    out: dict[int, Message | None] = {}
    for agency_id in ids:
        ends = black.get(agency_id)
        if ends and any(u is None for u in ends):
            out[agency_id] = message(BLACKLISTED_OPEN)
        elif ends:
            out[agency_id] = message(BLACKLISTED, until=local(max(ends)).strftime("%Y-%m-%d"))
        else:
            out[agency_id] = message(GRADE_E) if agency_id in bottom else None
    return out


def grade_order(stmt, agency_id_column):
    """Join the running credit to a list query: (stmt, a sort key, top grade first; new members as grade B)."""
    stmt = stmt.outerjoin(AgencyCredit, AgencyCredit.agency_id == agency_id_column)
    return stmt, func.coalesce(AgencyCredit.grade_rank, rules.GRADE_RANK[rules.grade(rules.BASE)])


def events_query(agency_id: int):
    return (
        select(CreditEvent)
        .where(CreditEvent.agency_id == agency_id)
        .order_by(CreditEvent.at.desc(), CreditEvent.id.desc())
    )


def explained(agency_id: int) -> dict:
    """The score item by item: each event with its points, whether it counts, and its contribution."""
    row = db.session.get(AgencyCredit, agency_id)  # (one read: credit_rows' object is gone by now)
    credit = _credit_of(agency_id, row)
    start = row.window_start if row else rules.window_start(now())
    items = []
    for e in db.session.scalars(events_query(agency_id)):
        counting = counts(e, start)
        items.append(
            {
                "event": e,
                "counts": counting,
                "contribution": rules.contribution(e.source, e.points) if counting else 0.0,
            }
        )
    subs = {s: rules.sub_score(p) for s, p in credit["points"].items()}
    return credit | {"window_start": start, "sub_scores": subs, "items": items}
