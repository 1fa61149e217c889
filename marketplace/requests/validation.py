"""Checking what an enterprise types into a request, field by field, with messages for each."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.agencies.models import Agency, QualificationLevel
from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import as_utc, now
from marketplace.common.errors import invalid_fields
from marketplace.common.money import MAX_FEN, format_fen
from marketplace.extensions import db
from marketplace.regions import services as regions
from marketplace.requests.draw import DEFAULT_SHORTLIST, DEFAULT_WEIGHTS
from marketplace.requests.models import Funding, SelectionMethod

WEIGHT_KEYS = tuple(DEFAULT_WEIGHTS)
# The code the national investment project online approval platform (投资项目在线审批监管平台) gives a project:
# year (or year and month), the GB/T 2260 division, the industry, the kind (01 审批, 02 核准, 03 备案) and a serial.
PROJECT_CODE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$")


def fiscal_threshold_problem(funding: Funding | None, ceiling_fen: int | None):
    """The message refusing a fiscally funded request above the procurement threshold, or None."""
    threshold = current_app.config["MARKET_FISCAL_THRESHOLD_FEN"]
    if funding != Funding.FISCAL or not threshold or ceiling_fen is None or ceiling_fen <= threshold:
        return None
    return _l(
        "A fiscally funded purchase with a ceiling above %(limit)s must go through formal government "
        "procurement (政府采购), not the intermediary marketplace. Lower the ceiling to at most %(limit)s, or "
        "procure it under the Government Procurement Law.",
        limit=format_fen(threshold),
    )


def _text(data, field, errors, low, high, required=True):
    value = data.get(field)
    value = value.strip() if isinstance(value, str) else ""
    if (required or value) and not low <= len(value) <= high:
        errors[field] = [_l("%(low)d to %(high)d characters.", low=low, high=high)]
    return value or None


def _whole(data, field, errors, low, high, required=True):
    value = data.get(field)
    if value in (None, "") and not required:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        errors[field] = [_l("A whole number from %(low)d to %(high)d.", low=low, high=high)]
        return None
    return value


def _region_code(data: dict[str, Any], errors: dict[str, list]) -> str | None:
    """The project's location: a city- or county-level code inside the market's area. Old clients may still
    send `region`, a name inside the area, for one release."""
    code = data.get("region_code")
    if isinstance(code, str):
        code = code.strip()
    if not code and isinstance(data.get("region"), str) and data["region"].strip():
        code = regions.code_for_name(data["region"], regions.market_area())
        if code is None:
            errors["region_code"] = [
                _l(
                    "No single region called %(name)s inside this market's area; choose one from the list.",
                    name=data["region"].strip()[:50],
                )
            ]
            return None
    problem = regions.project_region_problem(code)
    if problem:
        errors["region_code"] = [problem]
        return None
    return code


def clean_request(data: dict[str, Any], *, publishing: bool) -> dict[str, Any]:
    """Valid request fields, or Invalid listing every problem. Exclusions come back as [(agency, reason)]."""
    errors: dict[str, list] = {}
    out: dict[str, Any] = {
        "title": _text(data, "title", errors, 4, 200),
        "project_code": _text(data, "project_code", errors, 1, 60),
        "scope": _text(data, "scope", errors, 10, 5000),
        "ceiling_fen": _whole(data, "ceiling_fen", errors, 1, MAX_FEN),
        "floor_fen": _whole(data, "floor_fen", errors, 1, MAX_FEN, required=False),
        "required_days": _whole(data, "required_days", errors, 1, 365),
    }
    item = (
        db.session.get(ServiceItem, data.get("service_item_id"))
        if isinstance(data.get("service_item_id"), int)
        else None
    )
    if item is None:
        errors["service_item_id"] = [_l("Choose a service item.")]
    out["service_item_id"] = item.id if item else None
    if (
        item is not None
        and item.needs_project_approval
        and out["project_code"]
        and not PROJECT_CODE.match(out["project_code"])
    ):
        errors["project_code"] = [
            _l(
                "This service item serves a project approval: give the project code from the investment "
                "project approval platform, e.g. 2026-320500-74-01-123456."
            )
        ]
    if out["floor_fen"] and out["ceiling_fen"] and out["floor_fen"] > out["ceiling_fen"]:
        errors["floor_fen"] = [_l("The floor must not be above the ceiling.")]
    out["region_code"] = _region_code(data, errors)
    for field, enum_cls in (("funding", Funding), ("selection_method", SelectionMethod)):
        try:
            out[field] = enum_cls(data.get(field))
        except ValueError:
            errors[field] = [_l("Choose one of: %(values)s.", values=", ".join(m.value for m in enum_cls))]
    problem = fiscal_threshold_problem(out.get("funding"), out["ceiling_fen"])
    if problem is not None:
        errors["ceiling_fen"] = [problem]
    level = data.get("required_level")
    try:
        out["required_level"] = QualificationLevel(level) if level not in (None, "") else None
    except ValueError:
        errors["required_level"] = [_l("Choose 甲级, 乙级, 丙级 or 不分级.")]

    method = out.get("selection_method")
    out["weights"] = None
    out["shortlist_size"] = None
    if method == SelectionMethod.COMPOSITE:
        weights = data.get("weights") or DEFAULT_WEIGHTS
        if (
            not isinstance(weights, dict)
            or set(weights) - set(WEIGHT_KEYS)
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in weights.values())
            or sum(weights.values()) != 100
        ):
            errors["weights"] = [
                _l("Weights for price, rating, on_time and credit: whole numbers adding up to 100.")
            ]
        else:
            out["weights"] = {k: weights.get(k, 0) for k in WEIGHT_KEYS}
    if method == SelectionMethod.CREDIT_SHORTLIST:
        out["shortlist_size"] = (
            _whole(data, "shortlist_size", errors, 2, 10, required=False) or DEFAULT_SHORTLIST
        )

    deadline = data.get("bid_deadline")
    if isinstance(deadline, str):
        try:
            deadline = datetime.fromisoformat(deadline)
        except ValueError:
            deadline = None
    if not isinstance(deadline, datetime) or deadline.tzinfo is None:
        errors["bid_deadline"] = [_l("A date and time with its time zone is required.")]
        deadline = None
    else:
        deadline = as_utc(deadline)
        earliest = now() + timedelta(seconds=current_app.config["MARKET_MIN_BIDDING_SECONDS"])
        if publishing and deadline < earliest:
            hours = current_app.config["MARKET_MIN_BIDDING_SECONDS"] / 3600
            errors["bid_deadline"] = [
                _l("The deadline must leave agencies at least %(h)s hours to bid.", h=f"{hours:g}")
            ]
        if deadline > now() + timedelta(days=180):
            errors["bid_deadline"] = [_l("The deadline must be within 180 days.")]
    out["bid_deadline"] = deadline

    exclusions = []
    raw = data.get("exclusions")
    if raw is None and data.get("excluded_agency_ids"):
        reason = data.get("exclusion_reason") or ""
        raw = [{"agency_id": a, "reason": reason} for a in data["excluded_agency_ids"]]
    for i, row in enumerate(raw or []):
        agency = (
            db.session.get(Agency, row.get("agency_id"))
            if isinstance(row, dict) and isinstance(row.get("agency_id"), int)
            else None
        )
        reason = (
            (row.get("reason") or "").strip()
            if isinstance(row, dict) and isinstance(row.get("reason"), str)
            else ""
        )
        if agency is None:
            errors[f"exclusions.{i}.agency_id"] = [_l("No such agency.")]
        elif any(a.id == agency.id for a, _ in exclusions):
            errors[f"exclusions.{i}.agency_id"] = [_l("This agency is already excluded.")]
        elif not 2 <= len(reason) <= 200:
            errors[f"exclusions.{i}.reason"] = [_l("Give the reason for excluding this agency (回避).")]
        else:
            exclusions.append((agency, reason))
    out["exclusions"] = exclusions
    if errors:
        raise invalid_fields(errors)
    return out
