"""Change review (变更审核): an active member's changes to its qualifications, legal representative or
practitioners are proposed here and count only once an operator of the member's region approves them; until
then the old values stay in force (bidding reads only approved values). Approval applies the payload in the
approving transaction, with an audit entry; rejection keeps the old values and shows the reason.

Payloads, by kind:
- legal_rep:     {"action": "set", "legal_rep": new, "before": old}
- qualification: {"action": "add", "qualification": {fields…}, "file": {key, name, mime, size} | null}
                 {"action": "remove", "qualification_id": id, "name": …, "number": …}
- practitioner:  {"action": "add", "practitioner_id": id, "name": …, "certificate_no": …}  (a pending row)
                 {"action": "remove", "practitioner_id": id, "name": …, "certificate_no": …}
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.agencies.models import Agency, AgencyStatus, Qualification
from marketplace.agencies.roster import (
    ChangeKind,
    ChangeStatus,
    MembershipChange,
    Practitioner,
    PractitionerStatus,
)
from marketplace.agencies.services import UPLOAD_KIND, my_agency
from marketplace.agencies.validation import clean_practitioner, clean_qualification
from marketplace.audit.services import record, snapshot
from marketplace.auth.models import Role, User
from marketplace.auth.policy import acts_in, located, reads_in, scope_condition
from marketplace.auth.services import require_acting, require_user
from marketplace.common import uploads
from marketplace.common.clock import as_utc, now
from marketplace.common.errors import Invalid, NotAllowed, NotFound, WrongState, invalid_fields
from marketplace.common.workdays import due_after
from marketplace.extensions import db

MEMBER_STATES = (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED)
CHANGE_FIELDS = ("kind", "status", "reason", "payload")


def review_due(moment: datetime) -> datetime:
    """The end of the MARKET_REVIEW_WORKING_DAYS-th working day after `moment`."""
    return due_after(moment, current_app.config["MARKET_REVIEW_WORKING_DAYS"])


def is_member(agency: Agency) -> bool:
    """Changes of members go through review; before admission the applicant edits its data freely."""
    return agency.status in MEMBER_STATES


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _pending(agency: Agency, kind: ChangeKind) -> list[MembershipChange]:
    stmt = select(MembershipChange).where(
        MembershipChange.agency_id == agency.id,
        MembershipChange.kind == kind,
        MembershipChange.status == ChangeStatus.PENDING,
    )
    return list(db.session.scalars(stmt))


def open_change(
    actor: User | None, agency: Agency, kind: ChangeKind, payload: dict[str, Any]
) -> MembershipChange:
    at = now()
    change = MembershipChange(
        agency=agency, kind=kind, payload=payload, status=ChangeStatus.PENDING, submitted_at=at
    )
    change.review_due_at = review_due(at)
    db.session.add(change)
    db.session.flush()
    record(actor, "membership_change.submit", change, after=snapshot(change, CHANGE_FIELDS))
    return change


# --- the member proposes -----------------------------------------------------------------------------------


def _member(actor: User | None) -> Agency:
    agency = my_agency(actor)
    if not is_member(agency):
        raise WrongState(
            _l("Only members file changes for review; before admission edit your application directly.")
        )
    return agency


def propose_legal_rep(actor: User | None, legal_rep: Any) -> MembershipChange:
    agency = _member(actor)
    value = legal_rep.strip() if isinstance(legal_rep, str) else ""
    if not value or len(value) > 50:
        message = _l("The legal representative is required (at most 50 characters).")
        raise Invalid(message, {"legal_rep": [message]})
    if value == agency.legal_rep:
        message = _l("This is already your legal representative.")
        raise Invalid(message, {"legal_rep": [message]})
    if _pending(agency, ChangeKind.LEGAL_REP):
        raise WrongState(_l("A change of the legal representative is already under review."))
    return open_change(
        actor, agency, ChangeKind.LEGAL_REP, {"action": "set", "legal_rep": value, "before": agency.legal_rep}
    )


def propose_qualification(
    actor: User | None,
    data: dict[str, Any],
    file=None,
    filename: str | None = None,
    prefix: str = "qualification.",
) -> MembershipChange:
    """A new qualification for review; its scan is stored now and kept only if the change is approved. Field
    errors are keyed `prefix + field` (the changes API nests the qualification; its own endpoint does not)."""
    agency = _member(actor)
    clean, errors = clean_qualification(data, prefix=prefix)
    if errors:
        raise invalid_fields(errors)
    stored = uploads.save_upload(file, filename, UPLOAD_KIND) if file is not None else None
    payload = {
        "action": "add",
        "qualification": {k: _plain(v) for k, v in clean.items()},
        "file": {"key": stored.key, "name": stored.name, "mime": stored.mime, "size": stored.size}
        if stored
        else None,
    }
    return open_change(actor, agency, ChangeKind.QUALIFICATION, payload)


def attach_change_file(actor: User | None, change_id: int, file, filename: str | None) -> MembershipChange:
    """Upload (or replace) the scan of a proposed qualification or practitioner."""
    change = own_change(actor, change_id)
    if change.status != ChangeStatus.PENDING or change.action != "add":
        raise WrongState(_l("Only a pending addition takes a scan."))
    if change.kind == ChangeKind.PRACTITIONER:
        practitioner = db.session.get(Practitioner, change.payload["practitioner_id"])
        stored = uploads.save_upload(file, filename, UPLOAD_KIND)
        old = practitioner.file_key
        practitioner.file_key, practitioner.file_name = stored.key, stored.name
        practitioner.file_mime, practitioner.file_size = stored.mime, stored.size
        uploads.discard(UPLOAD_KIND, old)
        record(actor, "membership_change.attach_file", change, after={"file_name": stored.name})
        return change
    if change.kind != ChangeKind.QUALIFICATION:
        raise WrongState(_l("Only a pending addition takes a scan."))
    stored = uploads.save_upload(file, filename, UPLOAD_KIND)
    old = (change.payload.get("file") or {}).get("key")
    change.payload = change.payload | {
        "file": {"key": stored.key, "name": stored.name, "mime": stored.mime, "size": stored.size}
    }
    uploads.discard(UPLOAD_KIND, old)
    record(actor, "membership_change.attach_file", change, after={"file_name": stored.name})
    return change


def propose_qualification_removal(actor: User | None, qualification_id: Any) -> MembershipChange:
    agency = _member(actor)
    qual = db.session.get(Qualification, qualification_id) if isinstance(qualification_id, int) else None
    if qual is None or qual.agency_id != agency.id:
        raise NotFound(_l("No such qualification."), {"qualification_id": [_l("No such qualification.")]})
    if any(c.payload.get("qualification_id") == qual.id for c in _pending(agency, ChangeKind.QUALIFICATION)):
        raise WrongState(_l("The removal of this qualification is already under review."))
    if len(agency.qualifications) <= 1:
        raise WrongState(_l("A member must keep at least one qualification."))
    payload = {"action": "remove", "qualification_id": qual.id, "name": qual.name, "number": qual.number}
    return open_change(actor, agency, ChangeKind.QUALIFICATION, payload)


def new_practitioner(
    agency: Agency, clean: dict[str, Any], file=None, filename: str | None = None
) -> Practitioner:
    practitioner = Practitioner(agency=agency, status=PractitionerStatus.PENDING, **clean)
    if file is not None:
        stored = uploads.save_upload(file, filename, UPLOAD_KIND)
        practitioner.file_key, practitioner.file_name = stored.key, stored.name
        practitioner.file_mime, practitioner.file_size = stored.mime, stored.size
    db.session.add(practitioner)
    db.session.flush()
    return practitioner


def propose_practitioner(
    actor: User | None, data: dict[str, Any], file=None, filename: str | None = None
) -> MembershipChange:
    """A new practitioner of a member: a pending row that no bid may name until the change is approved."""
    agency = _member(actor)
    clean, errors = clean_practitioner(data, prefix="practitioner.")
    if errors:
        raise invalid_fields(errors)
    practitioner = new_practitioner(agency, clean, file, filename)
    payload = {
        "action": "add",
        "practitioner_id": practitioner.id,
        "name": practitioner.name,
        "certificate_no": practitioner.certificate_no,
    }
    return open_change(actor, agency, ChangeKind.PRACTITIONER, payload)


def propose_practitioner_removal(actor: User | None, practitioner_id: Any) -> MembershipChange:
    agency = _member(actor)
    practitioner = db.session.get(Practitioner, practitioner_id) if isinstance(practitioner_id, int) else None
    if practitioner is None or practitioner.agency_id != agency.id or not practitioner.is_approved:
        raise NotFound(_l("No such practitioner."), {"practitioner_id": [_l("No such practitioner.")]})
    if any(
        c.payload.get("practitioner_id") == practitioner.id for c in _pending(agency, ChangeKind.PRACTITIONER)
    ):
        raise WrongState(_l("A change of this practitioner is already under review."))
    payload = {
        "action": "remove",
        "practitioner_id": practitioner.id,
        "name": practitioner.name,
        "certificate_no": practitioner.certificate_no,
    }
    return open_change(actor, agency, ChangeKind.PRACTITIONER, payload)


def propose(actor: User | None, data: dict[str, Any]) -> MembershipChange:
    """The API's one entry: `{kind, action, …}` (see the module docstring)."""
    kind, action = data.get("kind"), data.get("action") or "add"
    if kind == ChangeKind.LEGAL_REP.value:
        return propose_legal_rep(actor, data.get("legal_rep"))
    if kind == ChangeKind.QUALIFICATION.value and action == "add":
        if not isinstance(data.get("qualification"), dict):
            raise Invalid(_l("Give the qualification."), {"qualification": [_l("Must be an object.")]})
        return propose_qualification(actor, data["qualification"])
    if kind == ChangeKind.QUALIFICATION.value and action == "remove":
        return propose_qualification_removal(actor, data.get("qualification_id"))
    if kind == ChangeKind.PRACTITIONER.value and action == "add":
        return propose_practitioner(actor, data.get("practitioner"))
    if kind == ChangeKind.PRACTITIONER.value and action == "remove":
        return propose_practitioner_removal(actor, data.get("practitioner_id"))
    message = _l("Unknown kind or action of change.")
    raise Invalid(message, {"kind": [message]})


def own_change(actor: User | None, change_id: int) -> MembershipChange:
    agency = my_agency(actor)
    change = db.session.get(MembershipChange, change_id)
    if change is None or change.agency_id != agency.id:
        raise NotFound(_l("No such change."))
    return change


def my_changes(actor: User | None) -> list[MembershipChange]:
    agency = my_agency(actor)
    stmt = (
        select(MembershipChange)
        .where(MembershipChange.agency_id == agency.id)
        .order_by(MembershipChange.id.desc())
    )
    return list(db.session.scalars(stmt))


# --- the operator decides ------------------------------------------------------------------------------------


def _in_scope(stmt, actor: User):
    """Only the agencies inside the actor's area (operators act there, the supervisor reads there; an agency
    registered outside every area reaches only accounts over the whole market area)."""
    return stmt.where(scope_condition(actor, Role.OPERATOR, Agency.region_code, read=True))


def changes_query(actor: User | None, status: ChangeStatus | None = ChangeStatus.PENDING):
    """The review desk's changes, oldest first, inside the operator's region."""
    actor = require_user(actor)
    if not reads_in(actor, Role.OPERATOR):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    stmt = (
        select(MembershipChange)
        .join(Agency, Agency.id == MembershipChange.agency_id)
        .options(selectinload(MembershipChange.agency))
    )
    if status is not None:
        stmt = stmt.where(MembershipChange.status == status)
    return _in_scope(stmt, actor).order_by(MembershipChange.submitted_at, MembershipChange.id)


def change_for_review(actor: User | None, change_id: int) -> MembershipChange:
    change = db.session.get(MembershipChange, change_id)
    if change is None:
        raise NotFound(_l("No such change."))
    actor = require_user(actor)
    if not reads_in(actor, Role.OPERATOR, located(change.agency.region_code)):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    return change


def _locked(actor: User | None, change_id: int) -> MembershipChange:
    change = db.session.scalar(
        select(MembershipChange)
        .where(MembershipChange.id == change_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if change is None:
        raise NotFound(_l("No such change."))
    require_acting(actor, Role.OPERATOR, located(change.agency.region_code))
    if change.status != ChangeStatus.PENDING:
        raise WrongState(_l("This change was already decided."))
    return change


def _apply(actor: User | None, change: MembershipChange) -> None:
    agency, payload = change.agency, change.payload
    if change.kind == ChangeKind.LEGAL_REP:
        before = {"legal_rep": agency.legal_rep}
        agency.legal_rep = payload["legal_rep"]
        record(actor, "agency.change_legal_rep", agency, before=before, after={"legal_rep": agency.legal_rep})
    elif change.kind == ChangeKind.QUALIFICATION and payload.get("action") == "add":
        file = payload.get("file")
        if not file:
            message = _l(
                "Cannot approve: the scanned certificate is missing. Ask the agency to upload it first."
            )
            raise WrongState(message, {"file": [message]})
        clean, errors = clean_qualification(payload["qualification"])
        if errors:
            raise Invalid(_l("The proposed qualification is no longer valid (e.g. it has expired)."), errors)
        qual = Qualification(agency=agency, verified_at=now(), **clean)
        qual.file_key, qual.file_name, qual.file_mime, qual.file_size = (
            file["key"],
            file["name"],
            file["mime"],
            file["size"],
        )
        db.session.add(qual)
        db.session.flush()
        record(
            actor, "qualification.add", qual, after=snapshot(qual, ("name", "level", "number", "valid_until"))
        )
    elif change.kind == ChangeKind.QUALIFICATION:
        qual = db.session.get(Qualification, payload["qualification_id"])
        if qual is not None and qual.agency_id == agency.id:
            if len(agency.qualifications) <= 1:
                raise WrongState(_l("A member must keep at least one qualification."))
            key = qual.file_key
            record(actor, "qualification.remove", qual, before=snapshot(qual, ("name", "number")))
            agency.qualifications.remove(qual)
            db.session.delete(qual)
            uploads.discard(UPLOAD_KIND, key)
    else:
        practitioner = db.session.get(Practitioner, payload["practitioner_id"])
        if payload.get("action") == "add":
            if practitioner.file_key is None:
                message = _l(
                    "Cannot approve: the certificate scan is missing. Ask the agency to upload it first."
                )
                raise WrongState(message, {"file": [message]})
            practitioner.status = PractitionerStatus.APPROVED
        else:
            practitioner.status = PractitionerStatus.REMOVED
        record(
            actor,
            f"practitioner.{payload.get('action')}",
            practitioner,
            after={"status": practitioner.status.value},
        )


def approve(actor: User | None, change_id: int) -> MembershipChange:
    change = _locked(actor, change_id)
    _apply(actor, change)
    change.status, change.decided_at, change.decided_by = ChangeStatus.APPROVED, now(), actor
    record(actor, "membership_change.approve", change, after=snapshot(change, ("status",)))
    return change


def reject(actor: User | None, change_id: int, reason: Any) -> MembershipChange:
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 500:
        message = _l("A reason is required (at most 500 characters).")
        raise Invalid(message, {"reason": [message]})
    change = _locked(actor, change_id)
    payload = change.payload
    if change.kind == ChangeKind.QUALIFICATION and payload.get("action") == "add":
        uploads.discard(UPLOAD_KIND, (payload.get("file") or {}).get("key"))
    if change.kind == ChangeKind.PRACTITIONER and payload.get("action") == "add":
        practitioner = db.session.get(Practitioner, payload["practitioner_id"])
        practitioner.status = PractitionerStatus.REMOVED
    change.status, change.reason = ChangeStatus.REJECTED, reason
    change.decided_at, change.decided_by = now(), actor
    record(actor, "membership_change.reject", change, after=snapshot(change, ("status", "reason")))
    return change


# --- deadlines --------------------------------------------------------------------------------------------------


def overdue_reviews(actor: User | None) -> list[dict[str, Any]]:
    """Applications and changes undecided past their review deadline, inside the actor's region, the longest
    overdue first: `{kind: "application"|"change", agency, change, review_due_at, days_overdue}`. For the
    supervisor's deadline board (operators and administrators see it too)."""
    actor = require_user(actor)
    if not (acts_in(actor, Role.SUPERVISOR) or acts_in(actor, Role.OPERATOR)):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    at = now()
    rows: list[dict[str, Any]] = []
    apps = select(Agency).where(Agency.status == AgencyStatus.PENDING, Agency.review_due_at < at)
    for agency in db.session.scalars(_in_scope(apps, actor)):
        rows.append(
            {"kind": "application", "agency": agency, "change": None, "review_due_at": agency.review_due_at}
        )
    changes = (
        select(MembershipChange)
        .join(Agency, Agency.id == MembershipChange.agency_id)
        .where(MembershipChange.status == ChangeStatus.PENDING, MembershipChange.review_due_at < at)
    )
    for change in db.session.scalars(_in_scope(changes, actor)):
        rows.append(
            {
                "kind": "change",
                "agency": change.agency,
                "change": change,
                "review_due_at": change.review_due_at,
            }
        )
    for row in rows:
        row["days_overdue"] = round((at - as_utc(row["review_due_at"])).total_seconds() / 86400, 1)
    rows.sort(key=lambda r: r["review_due_at"])
    return rows


def is_overdue(due: datetime | None) -> bool:
    return due is not None and as_utc(due) < now()
