"""Membership: an agency fills in its profile and qualifications, applies, and is reviewed.

The status changes only in `_transition`, against the table in agencies/models.py; an agency account's draft
membership is opened when the account is registered (`open_agency`, announced by auth as `account_registered`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import events
from marketplace.agencies import changes, practitioners
from marketplace.agencies.models import (
    STATUS_LABELS,
    TRANSITIONS,
    Agency,
    AgencyStatus,
    Qualification,
)
from marketplace.agencies.services import UPLOAD_KIND, my_agency
from marketplace.agencies.validation import (
    BANK_FIELDS,
    PROFILE_FIELDS,
    QUALIFICATION_FIELDS,
    clean_authorised,
    clean_bank,
    clean_categories,
    clean_profile,
    clean_qualification,
)
from marketplace.audit.services import record, snapshot
from marketplace.auth.models import Role, User
from marketplace.auth.policy import located
from marketplace.auth.services import USCC_TAKEN, require_acting, require_staff
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotAllowed, NotFound, WrongState, invalid_fields
from marketplace.extensions import db

# --- the applicant's actions ---------------------------------------------------------------------


def open_agency(user: User, org_name: str, uscc: str) -> Agency | None:
    """A new agency account's organisation: a draft member, until it applies. Refused when another agency
    already has the credit code (the registration is then rolled back as a whole)."""
    if user.role != Role.AGENCY:
        return None
    if db.session.scalar(select(Agency.id).where(Agency.uscc == uscc)):
        raise Invalid(USCC_TAKEN, {"uscc": [USCC_TAKEN]})
    # the contact person and phone typed at registration start the profile (the agency edits them there)
    agency = Agency(
        user=user,
        name=org_name,
        uscc=uscc,
        status=AgencyStatus.DRAFT,
        contact_name=user.contact_name,
        contact_phone=user.phone,
    )
    db.session.add(agency)
    return agency


def _editable(agency: Agency) -> None:
    if agency.status in (AgencyStatus.EXPELLED,):
        raise WrongState(_l("An expelled agency cannot change its membership data."))


def update_profile(actor: User | None, data: dict[str, Any]) -> Agency:
    """Save profile and categories (categories only before approval: afterwards they are reviewed data).

    A member's new legal representative is not saved here: it becomes a change under review
    (agencies/changes.py) and the old one stays in force until an operator approves it."""
    agency = my_agency(actor)
    _editable(agency)
    errors: dict[str, list] = {}
    profile = clean_profile(data, errors, agency.service_area_codes)
    if changes.is_member(agency) and profile.get("legal_rep") and profile["legal_rep"] != agency.legal_rep:
        if not errors:
            changes.propose_legal_rep(actor, profile["legal_rep"])
        profile["legal_rep"] = agency.legal_rep
    categories = None
    if "category_ids" in data:
        if agency.status in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED):
            if {int(c) for c in data["category_ids"] or []} != {c.id for c in agency.categories}:
                errors.setdefault("category_ids", []).append(
                    _l("Service categories of a member are changed by the administrators.")
                )
        else:
            categories = clean_categories(data["category_ids"], errors)
    if errors:
        raise invalid_fields(errors)
    before = snapshot(agency, PROFILE_FIELDS) | {"category_ids": [c.id for c in agency.categories]}
    for field, value in profile.items():
        setattr(agency, field, value)
    if categories is not None:
        agency.categories = categories
    after = snapshot(agency, PROFILE_FIELDS) | {"category_ids": [c.id for c in agency.categories]}
    record(actor, "agency.update_profile", agency, before=before, after=after)
    return agency


def add_qualification(
    actor: User | None, data: dict[str, Any], file=None, filename: str | None = None
) -> Qualification:
    agency = my_agency(actor)
    _editable(agency)
    if changes.is_member(agency):
        raise WrongState(
            _l("A member's new qualification goes through change review (POST /api/v1/agencies/me/changes).")
        )
    clean, errors = clean_qualification(data)
    if errors:
        raise invalid_fields(errors)
    stored = uploads.save_upload(file, filename, UPLOAD_KIND) if file is not None else None
    qual = Qualification(agency=agency, **clean)
    if stored:
        qual.file_key, qual.file_name, qual.file_mime, qual.file_size = (
            stored.key,
            stored.name,
            stored.mime,
            stored.size,
        )
    db.session.add(qual)
    db.session.flush()
    record(actor, "qualification.add", qual, after=snapshot(qual, QUALIFICATION_FIELDS + ("file_name",)))
    return qual


def _own_qualification(actor: User | None, qualification_id: int) -> Qualification:
    agency = my_agency(actor)
    qual = db.session.get(Qualification, qualification_id)
    if qual is None or qual.agency_id != agency.id:
        raise NotFound(_l("No such qualification."))
    return qual


def attach_qualification_file(
    actor: User | None, qualification_id: int, file, filename: str | None
) -> Qualification:
    qual = _own_qualification(actor, qualification_id)
    _editable(qual.agency)
    stored = uploads.save_upload(file, filename, UPLOAD_KIND)
    old_key = qual.file_key
    before = {"file_name": qual.file_name}
    qual.file_key, qual.file_name, qual.file_mime, qual.file_size = (
        stored.key,
        stored.name,
        stored.mime,
        stored.size,
    )
    record(actor, "qualification.attach_file", qual, before=before, after={"file_name": stored.name})
    uploads.discard(UPLOAD_KIND, old_key)
    return qual


def remove_qualification(actor: User | None, qualification_id: int) -> None:
    qual = _own_qualification(actor, qualification_id)
    agency = qual.agency
    _editable(agency)
    if agency.status == AgencyStatus.PENDING:
        raise WrongState(
            _l("The application is under review; wait for the decision before removing qualifications.")
        )
    if changes.is_member(agency):
        raise WrongState(_l("A member removes a qualification through change review."))
    key = qual.file_key
    record(actor, "qualification.remove", qual, before=snapshot(qual, QUALIFICATION_FIELDS))
    db.session.delete(qual)
    uploads.discard(UPLOAD_KIND, key)


def application_problems(agency: Agency) -> list:
    """What is still missing before the application can be submitted (empty when complete)."""
    problems = []
    if not agency.legal_rep or not agency.region_code:
        problems.append(_l("Fill in the profile (legal representative and region)."))
    if not agency.categories:
        problems.append(_l("Choose at least one service category."))
    if not agency.qualifications:
        problems.append(_l("Add at least one qualification."))
    elif any(q.file_key is None for q in agency.qualifications):
        problems.append(_l("Upload the scanned file of every qualification."))
    return problems + practitioners.evidence_problems(agency)


def _transition(agency: Agency, action: str, actor: User | None, reason: str | None = None) -> None:
    """The one place membership status changes: checks the transition table and writes the audit log."""
    allowed_from, target = TRANSITIONS[action]
    if agency.status not in allowed_from:
        raise WrongState(
            _l(
                "This agency is %(status)s; it cannot be changed this way.",
                status=STATUS_LABELS[agency.status],
            )
        )
    before = {"status": agency.status.value, "status_reason": agency.status_reason}
    agency.status = target
    agency.status_reason = reason
    if action == "apply":
        agency.submitted_at = now()
        agency.review_due_at = changes.review_due(agency.submitted_at)
    if action == "approve":
        agency.approved_at = now()
        for qual in agency.qualifications:  # the review checked them (已核验)
            qual.verified_at = qual.verified_at or agency.approved_at
    record(
        actor,
        f"agency.{action}",
        agency,
        before=before,
        after={"status": target.value, "status_reason": reason},
    )
    if before["status"] != target.value:
        events.member_status_changed.send(agency, before=before["status"], after=target.value, actor=actor)


def submit_application(actor: User | None) -> Agency:
    agency = my_agency(actor)
    problems = application_problems(agency)
    if problems:
        raise Invalid(_l("The application is not complete yet."), {"application": problems})
    _transition(agency, "apply", actor)
    return agency


def apply_with(actor: User | None, data: dict[str, Any]) -> Agency:
    """The API's one-call application: profile, categories and qualifications, then submit.

    Qualifications listed with an `id` keep their uploaded file; the scans themselves are uploaded
    separately (`POST /agencies/me/qualifications/{id}/file`), so a file is not required here.
    """
    agency = my_agency(actor)
    if agency.status not in TRANSITIONS["apply"][0]:
        raise WrongState(
            _l("This agency is %(status)s; it cannot apply now.", status=STATUS_LABELS[agency.status])
        )
    errors: dict[str, list] = {}
    profile = clean_profile(data, errors, agency.service_area_codes)
    categories = clean_categories(data.get("category_ids"), errors)
    quals_in = data.get("qualifications")
    cleaned = []
    if not isinstance(quals_in, list) or not quals_in:
        errors.setdefault("qualifications", []).append(_l("Add at least one qualification."))
        quals_in = []
    existing = {q.id: q for q in agency.qualifications}
    for i, raw in enumerate(quals_in):
        if not isinstance(raw, dict):
            errors.setdefault(f"qualifications.{i}", []).append(_l("Must be an object."))
            continue
        clean, qerrors = clean_qualification(raw, prefix=f"qualifications.{i}.")
        errors.update(qerrors)
        if raw.get("id") is not None and raw.get("id") not in existing:
            errors.setdefault(f"qualifications.{i}.id", []).append(_l("No such qualification."))
        cleaned.append((raw.get("id"), clean))
    authorised = None
    if data.get("authorised_person") is not None:
        authorised, aerrors = clean_authorised(data["authorised_person"])
        errors.update({f"authorised_person.{k}": v for k, v in aerrors.items()})
    if errors:
        raise invalid_fields(errors)

    for field, value in profile.items():
        setattr(agency, field, value)
    for field, value in (authorised or {}).items():
        setattr(agency, field, value)
    practitioners.require_evidence(agency)
    agency.categories = categories
    keep_ids = {qid for qid, _ in cleaned if qid is not None}
    removed_keys = []
    for qual in list(agency.qualifications):
        if qual.id not in keep_ids:
            removed_keys.append(qual.file_key)
            agency.qualifications.remove(qual)
    for qid, clean in cleaned:
        qual = existing.get(qid) if qid is not None else None
        if qual is None:
            qual = Qualification(**clean)
            agency.qualifications.append(qual)
        else:
            for field, value in clean.items():
                setattr(qual, field, value)
    db.session.flush()
    record(
        actor,
        "agency.update_application",
        agency,
        after=snapshot(agency, PROFILE_FIELDS)
        | {
            "category_ids": [c.id for c in categories],
            "qualifications": [snapshot(q, QUALIFICATION_FIELDS) for q in agency.qualifications],
        },
    )
    _transition(agency, "apply", actor)
    for key in removed_keys:
        uploads.discard(UPLOAD_KIND, key)
    return agency


# --- the administrators' decisions ---------------------------------------------------------------


def _reason(reason: str | None, required: bool) -> str | None:
    reason = (reason or "").strip()
    if required and not reason:
        raise Invalid(_l("A reason is required."), {"reason": [_l("A reason is required.")]})
    if len(reason) > 500:
        raise Invalid(
            _l("At most %(n)d characters.", n=500), {"reason": [_l("At most %(n)d characters.", n=500)]}
        )
    return reason or None


def decide(actor: User | None, agency_id: int, action: str, reason: str | None = None) -> Agency:
    """approve / reject / suspend / reinstate / expel — every one but approve and reinstate needs a reason."""
    require_staff(actor)
    if action not in ("approve", "reject", "suspend", "reinstate", "expel"):
        raise NotAllowed(_l("Unknown action."))
    # Lock the row so two administrators deciding at once cannot both pass the state check.
    agency = db.session.scalar(select(Agency).where(Agency.id == agency_id).with_for_update())
    if agency is None:
        raise NotFound(_l("No such agency."))
    require_acting(actor, Role.OPERATOR, located(agency.region_code))  # the operator of its registered area
    reason = _reason(reason, required=action in ("reject", "suspend", "expel"))
    if action == "approve":
        missing = [q.name for q in agency.qualifications if q.file_key is None]
        if missing:
            message = _l(
                "Cannot approve: no scanned certificate for %(names)s. Ask the agency to upload it first.",
                names="、".join(missing),
            )
            raise WrongState(message, {"qualifications": [message]})
    _transition(agency, action, actor, reason)
    if action == "approve":
        practitioners.admit_practitioners(agency)
    if action == "expel":  # an expelled member's store closes for good
        for offer in agency.offers:
            offer.active = False
    return agency


def suspend_by_decision(agency_id: int, actor: User | None, reason: str) -> Agency | None:
    """A supervisor's decision elsewhere (an upheld complaint) suspends the member: the same transition as the
    operator's, without the operator's desk. A member that is no longer active is left as it is."""
    agency = db.session.scalar(select(Agency).where(Agency.id == agency_id).with_for_update())
    if agency is None or agency.status not in TRANSITIONS["suspend"][0]:
        return None
    _transition(agency, "suspend", actor, reason[:500])
    return agency


def update_bank_details(actor: User | None, data: dict[str, Any]) -> Agency:
    """The account the owners pay into (开户行 / 户名 / 账号), shown to an order's enterprise when it pays."""
    agency = my_agency(actor)
    _editable(agency)
    errors: dict[str, list] = {}
    clean = clean_bank(data, errors)
    if errors:
        raise invalid_fields(errors)
    before = snapshot(agency, BANK_FIELDS)
    for field, value in clean.items():
        setattr(agency, field, value)
    record(actor, "agency.bank_details", agency, before=before, after=snapshot(agency, BANK_FIELDS))
    return agency
