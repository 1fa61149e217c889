"""Entry evidence (入驻材料) besides qualifications: the signed pledge (承诺书), the authorised person
(被授权人) with the power of attorney (授权委托书), and the practitioners (执业人员).

ID numbers are stored in full and shown masked (3205**********1234) to everyone but staff, the agency itself
included: once saved, a full ID number leaves the platform only to the reviewers.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.agencies import changes
from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.agencies.roster import MembershipChange, Practitioner, PractitionerStatus, mask_id
from marketplace.agencies.services import UPLOAD_KIND, can_see_private, my_agency
from marketplace.agencies.validation import clean_authorised, clean_practitioner
from marketplace.audit.services import record
from marketplace.auth.models import User
from marketplace.common import uploads
from marketplace.common.errors import Invalid, NotFound, WrongState, invalid_fields
from marketplace.extensions import db

DOCUMENTS = {"pledge": _l("Signed pledge (承诺书)"), "authorisation": _l("Power of attorney (授权委托书)")}


def sees_full_ids(actor: User | None) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False) and actor.is_staff)


def shown_id(actor: User | None, number: str | None) -> str | None:
    return number if sees_full_ids(actor) else mask_id(number)


def _open_for_entry(agency: Agency) -> None:
    if agency.status == AgencyStatus.EXPELLED:
        raise WrongState(_l("An expelled agency cannot change its membership data."))
    if agency.status == AgencyStatus.PENDING:
        raise WrongState(
            _l("The application is under review; wait for the decision before changing its evidence.")
        )


# --- the pledge and the authorised person ---------------------------------------------------------------


def save_document(actor: User | None, kind: str, file, filename: str | None) -> Agency:
    """Upload the signed pledge or the power of attorney (PDF, JPG or PNG, checked by content)."""
    agency = my_agency(actor)
    if kind not in DOCUMENTS:
        raise NotFound(_l("No such document."))
    _open_for_entry(agency)
    stored = uploads.save_upload(file, filename, UPLOAD_KIND)
    old = getattr(agency, f"{kind}_file_key")
    setattr(agency, f"{kind}_file_key", stored.key)
    setattr(agency, f"{kind}_file_name", stored.name)
    setattr(agency, f"{kind}_file_mime", stored.mime)
    record(actor, f"agency.upload_{kind}", agency, after={f"{kind}_file_name": stored.name})
    uploads.discard(UPLOAD_KIND, old)
    return agency


def save_authorised_person(actor: User | None, data: dict[str, Any]) -> Agency:
    agency = my_agency(actor)
    _open_for_entry(agency)
    clean, errors = clean_authorised(data)
    if errors:
        raise invalid_fields(errors)
    for field, value in clean.items():
        setattr(agency, field, value)
    record(
        actor,
        "agency.authorised_person",
        agency,
        after={
            "authorised_name": agency.authorised_name,
            "authorised_id_number": mask_id(agency.authorised_id_number),
        },
    )
    return agency


def document_for_download(actor: User | None, agency_id: int, kind: str) -> tuple[str, str, str]:
    """(key, name, mime) of a private entry document: the agency itself and staff only (404 for others)."""
    agency = db.session.get(Agency, agency_id)
    if (
        agency is None
        or kind not in DOCUMENTS
        or not (can_see_private(actor, agency) or sees_full_ids(actor))
    ):
        raise NotFound(_l("No such file."))
    key = getattr(agency, f"{kind}_file_key")
    if key is None:
        raise NotFound(_l("No such file."))
    return key, getattr(agency, f"{kind}_file_name"), getattr(agency, f"{kind}_file_mime")


# --- practitioners -------------------------------------------------------------------------------------------


def add_practitioner(
    actor: User | None, data: dict[str, Any], file=None, filename: str | None = None
) -> tuple[Practitioner, MembershipChange | None]:
    """An applicant adds a practitioner to its application (approved with the membership); a member's new
    practitioner is a change under review (pending until an operator approves it)."""
    agency = my_agency(actor)
    if changes.is_member(agency):
        change = changes.propose_practitioner(actor, data, file, filename)
        return db.session.get(Practitioner, change.payload["practitioner_id"]), change
    _open_for_entry(agency)
    clean, errors = clean_practitioner(data)
    if errors:
        raise invalid_fields(errors)
    practitioner = changes.new_practitioner(agency, clean, file, filename)
    record(actor, "practitioner.add", practitioner, after={"name": practitioner.name})
    return practitioner, None


def _own(actor: User | None, practitioner_id: int) -> Practitioner:
    agency = my_agency(actor)
    practitioner = db.session.get(Practitioner, practitioner_id)
    if practitioner is None or practitioner.agency_id != agency.id:
        raise NotFound(_l("No such practitioner."))
    return practitioner


def attach_practitioner_file(
    actor: User | None, practitioner_id: int, file, filename: str | None
) -> Practitioner:
    """The registration certificate's scan: before admission, or while the practitioner is pending."""
    practitioner = _own(actor, practitioner_id)
    agency = practitioner.agency
    if practitioner.status != PractitionerStatus.PENDING or agency.status == AgencyStatus.PENDING:
        raise WrongState(_l("Only a practitioner not yet reviewed takes a new scan."))
    stored = uploads.save_upload(file, filename, UPLOAD_KIND)
    old = practitioner.file_key
    practitioner.file_key, practitioner.file_name = stored.key, stored.name
    practitioner.file_mime, practitioner.file_size = stored.mime, stored.size
    record(actor, "practitioner.attach_file", practitioner, after={"file_name": stored.name})
    uploads.discard(UPLOAD_KIND, old)
    return practitioner


def remove_practitioner(actor: User | None, practitioner_id: int) -> MembershipChange | None:
    """An applicant drops a practitioner at once; a member asks for it (a change under review)."""
    practitioner = _own(actor, practitioner_id)
    agency = practitioner.agency
    if changes.is_member(agency):
        return changes.propose_practitioner_removal(actor, practitioner.id)
    _open_for_entry(agency)
    record(actor, "practitioner.remove", practitioner, before={"name": practitioner.name})
    key = practitioner.file_key
    db.session.delete(practitioner)
    uploads.discard(UPLOAD_KIND, key)
    return None


def practitioners_of(agency: Agency, include_removed: bool = False) -> list[Practitioner]:
    stmt = select(Practitioner).where(Practitioner.agency_id == agency.id)
    if not include_removed:
        stmt = stmt.where(Practitioner.status != PractitionerStatus.REMOVED)
    return list(db.session.scalars(stmt.order_by(Practitioner.id)))


def my_practitioners(actor: User | None) -> list[Practitioner]:
    return practitioners_of(my_agency(actor))


def approved_practitioners(agency: Agency) -> list[Practitioner]:
    """The practitioners a bid may name: approved ones only (pending changes do not count)."""
    stmt = select(Practitioner).where(
        Practitioner.agency_id == agency.id, Practitioner.status == PractitionerStatus.APPROVED
    )
    return list(db.session.scalars(stmt.order_by(Practitioner.id)))


def admit_practitioners(agency: Agency) -> None:
    """The membership was approved: the practitioners entered with the application count from now on."""
    for practitioner in practitioners_of(agency):
        if practitioner.status == PractitionerStatus.PENDING:
            practitioner.status = PractitionerStatus.APPROVED


def practitioner_file_for_download(actor: User | None, practitioner_id: int) -> Practitioner:
    practitioner = db.session.get(Practitioner, practitioner_id)
    if (
        practitioner is None
        or practitioner.file_key is None
        or not (can_see_private(actor, practitioner.agency) or sees_full_ids(actor))
    ):
        raise NotFound(_l("No such file."))
    return practitioner


def evidence_problems(agency: Agency) -> list:
    """What entry evidence is still missing before the application can be submitted."""
    problems = []
    if agency.pledge_file_key is None:
        problems.append(_l("Upload the signed pledge (承诺书)."))
    if not (agency.authorised_name and agency.authorised_id_number and agency.authorised_phone):
        problems.append(_l("Name the authorised person (被授权人): name, ID number and phone."))
    if agency.authorisation_file_key is None:
        problems.append(_l("Upload the power of attorney (授权委托书) for the authorised person."))
    people = practitioners_of(agency)
    if not people:
        problems.append(_l("Add at least one practitioner (执业人员)."))
    elif any(p.file_key is None for p in people):
        problems.append(_l("Upload the registration certificate scan of every practitioner."))
    return problems


def require_evidence(agency: Agency) -> None:
    problems = evidence_problems(agency)
    if problems:
        raise Invalid(problems[0], {"application": problems})
