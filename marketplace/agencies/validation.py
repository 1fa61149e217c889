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
