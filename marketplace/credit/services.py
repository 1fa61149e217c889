"""What people do with credit: a supervisor records conduct and lists or lifts an agency; the clock lifts what has
expired and moves the window on. The engine (recording, sums, grades, automatic lists) is credit/scores.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from marketplace.agencies.models import Agency
from marketplace.audit.services import record, snapshot
from marketplace.auth.models import Role, User
from marketplace.auth.policy import located
from marketplace.auth.services import require_acting, require_staff
from marketplace.common.clock import LOCAL_TZ, now
from marketplace.common.errors import Invalid, NotFound, WrongState
from marketplace.common.messages import N_, message
from marketplace.credit import rules, scores
from marketplace.credit.models import AgencyCredit, CreditEvent, CreditListEntry, ListKind
from marketplace.extensions import db

EXPIRED = N_("The listing period ended")
LIFTED_BY = N_("Lifted by a supervisor: %(why)s")
ENTRY_FIELDS = ("agency_id", "kind", "reason", "basis", "starts_at", "until", "lifted_at", "lifted_why")


def _agency(agency_id: Any) -> Agency:
    agency = db.session.get(Agency, agency_id) if isinstance(agency_id, int) else None
    if agency is None:
        raise Invalid(_l("No such agency."), {"agency_id": [_l("No such agency.")]})
    return agency


def _text(value: Any, field: str, low: int, high: int, label) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not low <= len(text) <= high:
        msg = _l("%(what)s: %(low)d to %(high)d characters.", what=label, low=low, high=high)
        raise Invalid(msg, {field: [msg]})
    return text


def _until(value: Any) -> datetime:
    """A listing's last day (a date, Beijing time) → the moment it ends (the next midnight), in UTC."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, date):
        raise Invalid(
            _l("Give the last day of the period."), {"until": [_l("Give the last day of the period.")]}
        )
    if isinstance(value, datetime):
        value = value.date()
    end = datetime.combine(value + timedelta(days=1), time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
    if end <= now():
        raise Invalid(
            _l("The period must end in the future."), {"until": [_l("The period must end in the future.")]}
        )
    return end


# --- a supervisor's decisions ------------------------------------------------------------------------------------


def list_agency(actor: User | None, data: dict[str, Any]) -> CreditListEntry:
    """A supervisor (acting in the agency's region) puts an agency on the red or black list for a period, with a
    reason and a legal basis."""
    actor = require_staff(actor)
    agency = _agency(data.get("agency_id"))
    require_acting(actor, Role.SUPERVISOR, located(agency.region_code))
    errors: dict[str, list] = {}
    kind = data.get("list")
    if kind not in ("red", "black"):
        errors["list"] = [_l("Choose the red or the black list.")]
    values = {}
    for name, label, low, high in (
        ("reason", _l("Reason"), 4, 1000),
        ("basis", _l("Legal basis"), 4, 500),
    ):
        try:
            values[name] = _text(data.get(name), name, low, high, label)
        except Invalid as exc:
            errors.update(exc.errors)
    try:
        values["until"] = _until(data.get("until"))
    except Invalid as exc:
        errors.update(exc.errors)
    if errors:
        raise Invalid(next(iter(errors.values()))[0], errors)
    kind = ListKind(kind)
    if scores.entries_in_force(agency.id, kind):
        raise WrongState(_l("This agency is already on that list."))
    entry = scores.open_list(
        agency.id,
        kind,
        values["reason"],
        basis=values["basis"],
        until=values["until"],
        decided_by=actor,
        actor=actor,
    )
    record(actor, "credit.list", entry, after=snapshot(entry, ENTRY_FIELDS))
    return entry


def lift_entry(actor: User | None, entry_id: int, why: str) -> CreditListEntry:
    actor = require_staff(actor)
    entry = db.session.get(CreditListEntry, entry_id)
    if entry is None:
        raise NotFound(_l("No such list entry."))
    require_acting(actor, Role.SUPERVISOR, located(entry.agency.region_code))
    why = _text(why, "why", 4, 500, _l("Reason"))
    if not entry.in_force():
        raise WrongState(_l("This entry is not in force."))
    scores.lift(entry, message(LIFTED_BY, why=why).encode(), actor)
    record(actor, "credit.unlist", entry, after=snapshot(entry, ENTRY_FIELDS))
    return entry


def record_conduct(actor: User | None, data: dict[str, Any]) -> CreditEvent:
    """A supervisor records conduct found in review (a false statement, a forged certificate, collusion …) with
    evidence: a manual credit event."""
    actor = require_staff(actor)
    agency = _agency(data.get("agency_id"))
    require_acting(actor, Role.SUPERVISOR, located(agency.region_code))
    errors: dict[str, list] = {}
    rule = data.get("rule")
    if rule not in rules.MANUAL_RULES:
        errors["rule"] = [_l("Choose a conduct rule.")]
    evidence = (data.get("evidence") or "").strip() if isinstance(data.get("evidence"), str) else ""
    if not (evidence.startswith("/") and 2 <= len(evidence) <= 300):
        errors["evidence"] = [_l("Give the evidence as a path on this site, e.g. /requests/12.")]
    try:
        note = _text(data.get("note"), "note", 4, 1000, _l("Finding"))
    except Invalid as exc:
        errors.update(exc.errors)
    if errors:
        raise Invalid(next(iter(errors.values()))[0], errors)
    # one record per finding: the subject is the audit's own sequence of manual records for this agency
    n = db.session.scalar(
        select(CreditEvent.subject_id)
        .where(CreditEvent.agency_id == agency.id, CreditEvent.subject_type == "finding")
        .order_by(CreditEvent.subject_id.desc())
        .limit(1)
    )
    event = scores.record_event(
        agency.id, rule, "finding", (n or 0) + 1, evidence=evidence, note=note, actor=actor
    )
    record(
        actor,
        "credit.conduct",
        event,
        after=snapshot(event, ("agency_id", "rule", "points", "evidence", "note")),
    )
    return event


# --- reading ------------------------------------------------------------------------------------------------------


def list_query(kind: ListKind):
    """The entries in force of one list, newest first (public)."""
    return (
        select(CreditListEntry)
        .where(CreditListEntry.kind == kind, scores.in_force_condition())
        # each row names its agency: its name in the same statement (a lazy load per row otherwise)
        .options(joinedload(CreditListEntry.agency, innerjoin=True).load_only(Agency.id, Agency.name))
        .order_by(CreditListEntry.starts_at.desc(), CreditListEntry.id.desc())
    )


def entries_query(actor: User | None):
    """Every entry (in force or not) for the supervisor's desk, newest first."""
    from marketplace.auth.policy import scope_condition

    require_staff(actor)
    return (
        select(CreditListEntry)
        .join(Agency, Agency.id == CreditListEntry.agency_id)
        .where(scope_condition(actor, Role.SUPERVISOR, Agency.region_code, read=True))
        .order_by(CreditListEntry.starts_at.desc(), CreditListEntry.id.desc())
    )


# --- the clock -------------------------------------------------------------------------------------------------


def due_ids() -> list[int]:
    """Agencies whose credit time has moved on (a list entry expired, events left the window): for the clock."""
    t = now()
    expired = select(CreditListEntry.agency_id).where(
        CreditListEntry.lifted_at.is_(None), CreditListEntry.until.is_not(None), CreditListEntry.until <= t
    )
    stale = select(AgencyCredit.agency_id).where(AgencyCredit.window_start < rules.window_start(t))
    return sorted(set(db.session.scalars(expired)) | set(db.session.scalars(stale)))


def apply_due(agency_id: int) -> bool:
    """The clock's step for one agency. Returns True if anything changed. The caller commits."""
    t = now()
    changed = False
    stmt = select(CreditListEntry).where(
        CreditListEntry.agency_id == agency_id,
        CreditListEntry.lifted_at.is_(None),
        CreditListEntry.until.is_not(None),
        CreditListEntry.until <= t,
    )
    for entry in db.session.scalars(stmt.with_for_update()).all():
        scores.lift(entry, message(EXPIRED).encode())
        record(None, "credit.expire", entry, after={"lifted_at": entry.lifted_at.isoformat()})
        changed = True
    row = db.session.get(AgencyCredit, agency_id, with_for_update=True)
    if row is not None and row.window_start < rules.window_start(t):
        changed = scores.recount(agency_id) or changed
    return changed


def agencies_named(ids: list[int]) -> dict[int, Agency]:
    return {a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(ids or [0])))}


def search_agencies(q: str, limit: int = 20) -> list[Agency]:
    q = (q or "").strip()
    if not q:
        return []
    return list(
        db.session.scalars(
            select(Agency)
            .where(or_(Agency.name.contains(q), Agency.uscc == q))
            .order_by(Agency.name)
            .limit(limit)
        )
    )
