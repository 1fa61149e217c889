"""Membership: an agency fills in its profile and qualifications, applies, and is reviewed."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.orm import selectinload

from marketplace import events
from marketplace.agencies.models import (
    TRANSITIONS,
    Agency,
    AgencyStatus,
    Offer,
    Qualification,
    QualificationLevel,
    agency_category,
)
from marketplace.audit.services import record, snapshot
from marketplace.auth.models import Role, User
from marketplace.auth.policy import SeesAgencyPrivate
from marketplace.auth.services import require_admin, require_role
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotAllowed, NotFound, WrongState, invalid_fields
from marketplace.common.regions import REGIONS
from marketplace.common.sql import contains
from marketplace.extensions import db
from marketplace.stats.models import AgencyStats
from marketplace.stats.services import NO_DATA_COMPOSITE, PRIOR_MEAN

PROFILE_FIELDS = ("legal_rep", "region", "address", "contact_name", "contact_phone", "intro")
QUALIFICATION_FIELDS = ("name", "level", "number", "issuer", "valid_until", "category_id")
UPLOAD_KIND = "qualifications"
LEVEL_ORDER = [
    QualificationLevel.A.value,
    QualificationLevel.B.value,
    QualificationLevel.C.value,
    QualificationLevel.NONE.value,
]

STATUS_LABELS = {
    AgencyStatus.DRAFT: _l("Not yet applied"),
    AgencyStatus.PENDING: _l("Under review"),
    AgencyStatus.ACTIVE: _l("Active member"),
    AgencyStatus.REJECTED: _l("Rejected"),
    AgencyStatus.SUSPENDED: _l("Suspended"),
    AgencyStatus.EXPELLED: _l("Expelled"),
}


# --- reading ---------------------------------------------------------------------------------------


def my_agency(actor: User | None) -> Agency:
    actor = require_role(actor, Role.AGENCY)
    if actor.agency is None:
        raise NotFound(_l("No agency belongs to this account."))
    return actor.agency


def get_agency(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(_l("No such agency."))
    return agency


def agency_for_review(actor: User | None, agency_id: int) -> Agency:
    require_admin(actor)
    return get_agency(agency_id)


def can_see_private(actor: User | None, agency: Agency) -> bool:
    """The agency itself and administrators see everything; others only an active member's public store."""
    return SeesAgencyPrivate(actor, agency)


def get_store(agency_id: int, actor: User | None = None) -> Agency:
    """An agency's store as the public (or the owner/admin) may see it; 404 for hidden ones."""
    agency = db.session.get(Agency, agency_id)
    if agency is None or (agency.status != AgencyStatus.ACTIVE and not can_see_private(actor, agency)):
        raise NotFound(_l("No such agency."))
    return agency


def public_agencies_query(
    category_id: int | None = None,
    region: str | None = None,
    q: str | None = None,
    service_item_id: int | None = None,
    sort: str = "composite",
    level: str | None = None,
    price_min_fen: int | None = None,
    price_max_fen: int | None = None,
):
    """The intermediary-services list: active members, filtered and sorted.

    composite (default), sales and rating sort by the running statistics (stats/services.py explains the
    formulas); price and speed by the agency's best offer (within the service item when one is chosen). A price
    band keeps agencies with an offer whose lowest price lies inside it; a level keeps agencies holding a valid
    qualification of that level or higher.
    """
    stmt = (
        select(Agency)
        .where(Agency.status == AgencyStatus.ACTIVE)
        # the cards show categories and offers (a discount offer's price needs its item's guide price)
        .options(selectinload(Agency.categories), selectinload(Agency.offers).joinedload(Offer.service_item))
    )
    if category_id:  # an IN over the category index: far cheaper than a correlated EXISTS per agency
        members = select(agency_category.c.agency_id).where(agency_category.c.category_id == category_id)
        stmt = stmt.where(Agency.id.in_(members))
    if region:
        stmt = stmt.where(Agency.region == region)
    if q:
        offered = (
            select(Offer.id)
            .join(ServiceItem)
            .where(
                Offer.agency_id == Agency.id,
                Offer.active.is_(True),
                or_(contains(ServiceItem.name, q), contains(cast(ServiceItem.aliases, String), q)),
            )
        )
        stmt = stmt.where(
            or_(
                contains(Agency.name, q),
                contains(Agency.intro, q),
                Agency.categories.any(contains(Category.name, q)),
                offered.exists(),
            )
        )
    if level in LEVEL_ORDER:
        allowed = LEVEL_ORDER[: LEVEL_ORDER.index(level) + 1]
        stmt = stmt.where(
            Agency.qualifications.any(
                and_(Qualification.level.in_(allowed), Qualification.valid_until >= now().date())
            )
        )
    offer_filter = [Offer.active.is_(True)]
    if service_item_id:
        offer_filter.append(Offer.service_item_id == service_item_id)
    low = func.coalesce(Offer.price_fen, Offer.price_min_fen)
    if price_min_fen is not None:
        offer_filter.append(low >= price_min_fen)
    if price_max_fen is not None:
        offer_filter.append(low <= price_max_fen)
    if len(offer_filter) > 1:
        stmt = stmt.where(Agency.offers.any(and_(*offer_filter)))
    if sort in ("price", "speed"):
        column = low if sort == "price" else Offer.promised_days
        best = (
            select(Offer.agency_id, func.min(column).label("best"))
            .where(*offer_filter)
            .group_by(Offer.agency_id)
            .subquery()
        )
        stmt = stmt.outerjoin(best, best.c.agency_id == Agency.id).order_by(
            best.c.best.asc().nulls_last(), Agency.id
        )
        return stmt
    stmt = stmt.outerjoin(AgencyStats, AgencyStats.agency_id == Agency.id)
    key = {
        "sales": func.coalesce(AgencyStats.completed_orders, 0),
        "rating": func.coalesce(AgencyStats.rating_rank, PRIOR_MEAN),
    }.get(sort, func.coalesce(AgencyStats.composite, NO_DATA_COMPOSITE))
    return stmt.order_by(key.desc(), Agency.id)


def public_agencies_page(stmt, page: int | None = None, per_page: int = 20):
    """One page of `public_agencies_query`, counted over its filters alone (the joins that sort it would
    only slow the count down)."""
    result = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=False)
    result.total = db.session.scalar(select(func.count(Agency.id)).where(stmt.whereclause))
    return result


def applications_query(actor: User | None, status: AgencyStatus | None = AgencyStatus.PENDING):
    """Agencies for the review desk (administrators only), oldest application first."""
    require_admin(actor)
    stmt = select(Agency).options(selectinload(Agency.categories), selectinload(Agency.qualifications))
    if status is not None:
        stmt = stmt.where(Agency.status == status)
    return stmt.order_by(Agency.submitted_at.asc().nulls_last(), Agency.id)


def count_by_status(actor: User | None) -> dict[AgencyStatus, int]:
    require_admin(actor)
    rows = db.session.execute(select(Agency.status, func.count()).group_by(Agency.status))
    return {status: n for status, n in rows}


def qualification_for_download(actor: User | None, qualification_id: int) -> Qualification:
    """Scans are private: only their agency and administrators may fetch them (404 for everyone else)."""
    qual = db.session.get(Qualification, qualification_id)
    if qual is None or qual.file_key is None or not can_see_private(actor, qual.agency):
        raise NotFound(_l("No such file."))
    return qual


# --- validation ------------------------------------------------------------------------------------


def _clean_profile(data: dict[str, Any], errors: dict[str, list]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    limits = {
        "legal_rep": 50,
        "region": 50,
        "address": 200,
        "contact_name": 50,
        "contact_phone": 30,
        "intro": 2000,
    }
    for field in PROFILE_FIELDS:
        value = data.get(field)
        value = value.strip() if isinstance(value, str) else value
        if value is not None and not isinstance(value, str):
            errors.setdefault(field, []).append(_l("Must be text."))
            continue
        if value and len(value) > limits[field]:
            errors.setdefault(field, []).append(_l("At most %(n)d characters.", n=limits[field]))
        out[field] = value or None
    if not out.get("legal_rep"):
        errors.setdefault("legal_rep", []).append(_l("The legal representative is required."))
    if out.get("region") not in REGIONS:
        errors.setdefault("region", []).append(_l("Choose a region from the list."))
    return out


def _clean_categories(category_ids: Any, errors: dict[str, list]) -> list[Category]:
    if not isinstance(category_ids, list | tuple) or not category_ids:
        errors.setdefault("category_ids", []).append(_l("Choose at least one service category."))
        return []
    try:
        ids = {int(x) for x in category_ids}
    except (TypeError, ValueError):
        errors.setdefault("category_ids", []).append(_l("Unknown category."))
        return []
    found = list(db.session.scalars(select(Category).where(Category.id.in_(ids))))
    if len(found) != len(ids):
        errors.setdefault("category_ids", []).append(_l("Unknown category."))
    return found


def clean_qualification(data: dict[str, Any], prefix: str = "") -> tuple[dict[str, Any], dict[str, list]]:
    """Validate one qualification's fields; returns (clean values, errors keyed by prefixed field)."""
    errors: dict[str, list] = {}
    out: dict[str, Any] = {}

    def err(field: str, message) -> None:
        errors.setdefault(prefix + field, []).append(message)

    for field, limit in (("name", 100), ("number", 60), ("issuer", 100)):
        value = data.get(field)
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            err(field, _l("Required."))
        elif len(value) > limit:
            err(field, _l("At most %(n)d characters.", n=limit))
        out[field] = value
    try:
        out["level"] = QualificationLevel(data.get("level"))
    except ValueError:
        err("level", _l("Choose 甲级, 乙级, 丙级 or 不分级."))
    valid_until = data.get("valid_until")
    if isinstance(valid_until, str):
        try:
            valid_until = date.fromisoformat(valid_until)
        except ValueError:
            valid_until = None
    if not isinstance(valid_until, date):
        err("valid_until", _l("A date like 2027-12-31 is required."))
    elif valid_until < now().date():
        err("valid_until", _l("This qualification has already expired."))
    out["valid_until"] = valid_until
    category_id = data.get("category_id")
    if category_id in (None, "", 0, "0"):
        out["category_id"] = None
    else:
        try:
            category_id = int(category_id)
        except (TypeError, ValueError):
            category_id = -1
        if db.session.get(Category, category_id) is None:
            err("category_id", _l("Unknown category."))
        out["category_id"] = category_id
    return out, errors


# --- the applicant's actions ---------------------------------------------------------------------


def _editable(agency: Agency) -> None:
    if agency.status in (AgencyStatus.EXPELLED,):
        raise WrongState(_l("An expelled agency cannot change its membership data."))


def update_profile(actor: User | None, data: dict[str, Any]) -> Agency:
    """Save profile and categories (categories only before approval: afterwards they are reviewed data)."""
    agency = my_agency(actor)
    _editable(agency)
    errors: dict[str, list] = {}
    profile = _clean_profile(data, errors)
    categories = None
    if "category_ids" in data:
        if agency.status in (AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED):
            if {int(c) for c in data["category_ids"] or []} != {c.id for c in agency.categories}:
                errors.setdefault("category_ids", []).append(
                    _l("Service categories of a member are changed by the administrators.")
                )
        else:
            categories = _clean_categories(data["category_ids"], errors)
    if errors:
        raise invalid_fields(errors)
    before = snapshot(agency, PROFILE_FIELDS) | {"category_ids": [c.id for c in agency.categories]}
    for field, value in profile.items():
        setattr(agency, field, value)
    if categories is not None:
        agency.categories = categories
    after = snapshot(agency, PROFILE_FIELDS) | {"category_ids": [c.id for c in agency.categories]}
    record(actor, "agency.update_profile", agency, before=before, after=after)
    db.session.commit()
    return agency


def add_qualification(
    actor: User | None, data: dict[str, Any], file=None, filename: str | None = None
) -> Qualification:
    agency = my_agency(actor)
    _editable(agency)
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
    db.session.commit()
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
    db.session.commit()
    return qual


def remove_qualification(actor: User | None, qualification_id: int) -> None:
    qual = _own_qualification(actor, qualification_id)
    agency = qual.agency
    _editable(agency)
    if agency.status == AgencyStatus.PENDING:
        raise WrongState(
            _l("The application is under review; wait for the decision before removing qualifications.")
        )
    if agency.status == AgencyStatus.ACTIVE and len(agency.qualifications) <= 1:
        raise WrongState(_l("A member must keep at least one qualification."))
    key = qual.file_key
    record(actor, "qualification.remove", qual, before=snapshot(qual, QUALIFICATION_FIELDS))
    db.session.delete(qual)
    uploads.discard(UPLOAD_KIND, key)
    db.session.commit()


def application_problems(agency: Agency) -> list:
    """What is still missing before the application can be submitted (empty when complete)."""
    problems = []
    if not agency.legal_rep or not agency.region:
        problems.append(_l("Fill in the profile (legal representative and region)."))
    if not agency.categories:
        problems.append(_l("Choose at least one service category."))
    if not agency.qualifications:
        problems.append(_l("Add at least one qualification."))
    elif any(q.file_key is None for q in agency.qualifications):
        problems.append(_l("Upload the scanned file of every qualification."))
    return problems


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
    if action == "approve":
        agency.approved_at = now()
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
    db.session.commit()
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
    profile = _clean_profile(data, errors)
    categories = _clean_categories(data.get("category_ids"), errors)
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
    if errors:
        raise invalid_fields(errors)

    for field, value in profile.items():
        setattr(agency, field, value)
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
    db.session.commit()
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
    require_admin(actor)
    if action not in ("approve", "reject", "suspend", "reinstate", "expel"):
        raise NotAllowed(_l("Unknown action."))
    reason = _reason(reason, required=action in ("reject", "suspend", "expel"))
    # Lock the row so two administrators deciding at once cannot both pass the state check.
    agency = db.session.scalar(select(Agency).where(Agency.id == agency_id).with_for_update())
    if agency is None:
        raise NotFound(_l("No such agency."))
    if action == "approve":
        missing = [q.name for q in agency.qualifications if q.file_key is None]
        if missing:
            message = _l(
                "Cannot approve: no scanned certificate for %(names)s. Ask the agency to upload it first.",
                names="、".join(missing),
            )
            raise WrongState(message, {"qualifications": [message]})
    _transition(agency, action, actor, reason)
    if action == "expel":  # an expelled member's store closes for good
        for offer in agency.offers:
            offer.active = False
    db.session.commit()
    return agency
