"""Checking what an agency enters about itself: its profile, its service categories, its qualifications."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.agencies.models import QualificationLevel
from marketplace.catalogue.models import Category, QualificationKind
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.regions import services as regions

PROFILE_FIELDS = (
    "legal_rep", "region_code", "service_area_codes", "address", "contact_name", "contact_phone", "intro",
)  # fmt: skip
TEXT_FIELDS = ("legal_rep", "address", "contact_name", "contact_phone", "intro")
QUALIFICATION_FIELDS = ("kind_id", "name", "level", "number", "issuer", "valid_until", "category_id")


def clean_profile(
    data: dict[str, Any], errors: dict[str, list], current_areas: list[str] | None = None
) -> dict[str, Any]:
    """The profile's fields. The registered region may be anywhere in China; the service areas are codes of any
    level. Without service areas the current ones stay, or a new member serves its registered province
    (一地入驻、全省通行)."""
    out: dict[str, Any] = {}
    limits = {
        "legal_rep": 50,
        "address": 200,
        "contact_name": 50,
        "contact_phone": 30,
        "intro": 2000,
    }
    for field in TEXT_FIELDS:
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
    code = data.get("region_code")
    code = code.strip() if isinstance(code, str) else code
    old_name = data.get("region")  # what clients sent before codes: a region's name (one more release)
    if not code and isinstance(old_name, str) and old_name.strip():
        code = regions.code_for_name(data["region"])
        if code is None:
            errors.setdefault("region_code", []).append(
                _l(
                    "No single region is called %(name)s; choose one from the list.",
                    name=data["region"].strip()[:50],
                )
            )
    problem = regions.region_problem(code) if "region_code" not in errors else None
    if problem:
        errors.setdefault("region_code", []).append(problem)
    out["region_code"] = code
    codes = regions.parse_codes(data.get("service_area_codes"))
    if not codes:  # none given (or left empty on the form)
        codes = list(current_areas or []) or ([code[:2] + "0000"] if not problem and code else [])
    problem = regions.service_areas_problem(codes)
    if problem:
        errors.setdefault("service_area_codes", []).append(problem)
    out["service_area_codes"] = codes
    return out


def clean_categories(category_ids: Any, errors: dict[str, list]) -> list[Category]:
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

    kind = _kind(data, err)
    out["kind_id"] = kind.id if kind else None
    if kind is not None and not (isinstance(data.get("name"), str) and data["name"].strip()):
        data = {**data, "name": kind.name}  # the certificate's name defaults to its kind's
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
    else:
        if kind is not None and out["level"].value not in kind.levels:
            err(
                "level",
                _l("%(kind)s is issued as: %(levels)s.", kind=kind.name, levels="、".join(kind.levels)),
            )
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
        out["category_id"] = kind.category_id if kind else None
    else:
        try:
            category_id = int(category_id)
        except (TypeError, ValueError):
            category_id = -1
        if db.session.get(Category, category_id) is None:
            err("category_id", _l("Unknown category."))
        out["category_id"] = category_id
    return out, errors


# --- people: practitioners (执业人员) and the authorised person (被授权人) ------------------------------------

PRACTITIONER_FIELDS = ("name", "id_number", "registration", "certificate_no", "years", "is_lead")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """The check character of a resident ID number (GB 11643)."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def is_id_number(value: str) -> bool:
    return (
        len(value) == 18
        and value[:17].isdigit()
        and value[17] in "0123456789X"
        and id_check_digit(value[:17]) == value[17]
    )


def clean_id_number(value: Any, field: str, errors: dict[str, list]) -> str | None:
    value = value.strip().upper() if isinstance(value, str) else ""
    if not value:
        errors.setdefault(field, []).append(_l("The ID number is required."))
        return None
    if not is_id_number(value):
        errors.setdefault(field, []).append(
            _l("Enter a valid 18-character resident ID number (the last character checks the others).")
        )
        return None
    return value


def _text(
    data: dict[str, Any], field: str, limit: int, errors: dict[str, list], required: bool, prefix: str = ""
):
    value = data.get(field)
    if value is not None and not isinstance(value, str):
        errors.setdefault(prefix + field, []).append(_l("Must be text."))
        return None
    value = (value or "").strip()
    if required and not value:
        errors.setdefault(prefix + field, []).append(_l("Required."))
    elif len(value) > limit:
        errors.setdefault(prefix + field, []).append(_l("At most %(n)d characters.", n=limit))
    return value or None


def clean_practitioner(data: Any, prefix: str = "") -> tuple[dict[str, Any], dict[str, list]]:
    """Validate a practitioner's fields; returns (clean values, errors keyed by prefixed field)."""
    errors: dict[str, list] = {}
    if not isinstance(data, dict):
        return {}, {prefix.rstrip(".") or "practitioner": [_l("Must be an object.")]}
    out: dict[str, Any] = {
        "name": _text(data, "name", 50, errors, True, prefix),
        "id_number": clean_id_number(data.get("id_number"), prefix + "id_number", errors),
        "registration": _text(data, "registration", 50, errors, False, prefix),
        "certificate_no": _text(data, "certificate_no", 60, errors, True, prefix),
    }
    years = data.get("years", 0)
    if isinstance(years, str) and years.strip().isdigit():
        years = int(years.strip())
    if years in (None, ""):
        years = 0
    if not isinstance(years, int) or isinstance(years, bool) or not 0 <= years <= 60:
        errors.setdefault(prefix + "years", []).append(_l("Years in practice: a whole number from 0 to 60."))
    out["years"] = years
    is_lead = data.get("is_lead", False)
    if not isinstance(is_lead, bool):
        errors.setdefault(prefix + "is_lead", []).append(_l("Must be true or false."))
    out["is_lead"] = bool(is_lead)
    return out, errors


def clean_authorised(data: Any) -> tuple[dict[str, Any], dict[str, list]]:
    """The authorised person (被授权人): name, ID number, phone."""
    errors: dict[str, list] = {}
    if not isinstance(data, dict):
        return {}, {"authorised_person": [_l("Must be an object.")]}
    out = {
        "authorised_name": _text(data, "name", 50, errors, True),
        "authorised_id_number": clean_id_number(data.get("id_number"), "id_number", errors),
        "authorised_phone": _text(data, "phone", 30, errors, True),
    }
    phone = out["authorised_phone"]
    if phone and not all(c.isdigit() or c in "-+ " for c in phone):
        errors.setdefault("phone", []).append(_l("Enter a phone number (digits only)."))
    return out, errors


def _kind(data: dict[str, Any], err) -> QualificationKind | None:
    """The register's kind named by `kind_id` or `kind_code`; None for a licence outside the register."""
    kind_id, code = data.get("kind_id"), data.get("kind_code")
    if kind_id in (None, "", 0, "0") and code in (None, ""):
        return None
    kind = None
    if kind_id not in (None, "", 0, "0"):
        try:
            kind = db.session.get(QualificationKind, int(kind_id))
        except (TypeError, ValueError):
            kind = None
    elif isinstance(code, str):
        kind = db.session.scalar(select(QualificationKind).where(QualificationKind.code == code.strip()))
    if kind is None:
        err("kind_id", _l("Choose a qualification kind from the register."))
    return kind


BANK_FIELDS = ("bank_name", "account_name", "account_no")


def clean_bank(data: dict[str, Any], errors: dict[str, list]) -> dict[str, str | None]:
    """开户行, 户名 and 账号 — all three, or none (to clear them). The number: digits only, 8 to 30 of them
    (spaces and dashes typed for readability are dropped)."""
    out: dict[str, str | None] = {}
    for field in BANK_FIELDS:
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            errors.setdefault(field, []).append(_l("Must be text."))
            value = None
        out[field] = (value or "").strip() or None
    if out["account_no"]:
        out["account_no"] = out["account_no"].replace(" ", "").replace("-", "")
    if not any(out.values()):
        return out
    for field in ("bank_name", "account_name"):
        if not out[field]:
            errors.setdefault(field, []).append(_l("Required."))
        elif not 2 <= len(out[field]) <= 100:
            errors.setdefault(field, []).append(_l("2 to 100 characters."))
    number = out["account_no"]
    if not number:
        errors.setdefault("account_no", []).append(_l("Required."))
    elif not (number.isascii() and number.isdigit() and 8 <= len(number) <= 30):
        errors.setdefault("account_no", []).append(_l("The account number is 8 to 30 digits."))
    return out
