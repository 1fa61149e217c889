"""The inspector register (执法检查人员名录): kept by a supervisor (any body's inspectors in its area) or by a
department (its own inspectors only). The draw takes its inspectors from the active lines of this register."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from marketplace.audit.services import record
from marketplace.auth.models import Role, User
from marketplace.auth.policy import acts_in, located, scope_condition
from marketplace.auth.services import require_user
from marketplace.common.errors import NotAllowed, NotFound, invalid_fields
from marketplace.extensions import db
from marketplace.inspections.models import Inspector
from marketplace.regions import services as regions


def may_keep(actor, department: str | None, region_code: str | None) -> bool:
    """May `actor` keep an inspector of `department` working in `region_code` (None: the whole market)?"""
    return acts_in(actor, Role.SUPERVISOR, located(region_code)) or acts_in(
        actor, Role.DEPARTMENT, located(region_code), department or ""
    )


def may_open(actor) -> bool:
    """The register's desk: supervisors and departments (and the administrator)."""
    return acts_in(actor, Role.SUPERVISOR) or acts_in(actor, Role.DEPARTMENT)


def register_query(actor) -> Select:
    """The lines the account may see: its area's, and for a department its own body's only."""
    return (
        select(Inspector)
        .where(
            scope_condition(actor, Role.DEPARTMENT, Inspector.region_code, Inspector.department, read=True)
        )
        .order_by(Inspector.active.desc(), Inspector.department, Inspector.id)
    )


def _text(data: dict, name: str, low: int, high: int, errors: dict) -> str:
    value = data.get(name)
    value = value.strip() if isinstance(value, str) else ""
    if not low <= len(value) <= high:
        errors[name] = [_l("Between %(low)d and %(high)d characters.", low=low, high=high)]
    return value


def _checked(actor: User, data: dict) -> dict:
    errors: dict[str, list] = {}
    name = _text(data, "name", 2, 50, errors)
    department = _text(data, "department", 2, 100, errors)
    if actor.role == Role.DEPARTMENT and "department" not in errors and department != actor.department:
        errors["department"] = [_l("A department keeps only its own inspectors (%(d)s).", d=actor.department)]
    certificate_no = _text(data, "certificate_no", 4, 40, errors)
    region_code = data.get("region_code") or None
    if region_code is not None:
        problem = regions.region_problem(region_code)
        if problem is None and not regions.in_market(region_code):
            problem = _l("Choose a region inside this market's area.")
        if problem is not None:
            errors["region_code"] = [problem]
    if errors:
        raise invalid_fields(errors)
    return {
        "name": name,
        "department": department,
        "certificate_no": certificate_no,
        "region_code": region_code,
    }


def add_inspector(actor, data: dict) -> Inspector:
    actor = require_user(actor)
    if not may_open(actor):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    fields = _checked(actor, data)
    if fields["region_code"] is None and actor.region_code:  # no area given: the account's own
        fields["region_code"] = actor.region_code
    if not may_keep(actor, fields["department"], fields["region_code"]):
        raise invalid_fields({"region_code": [_l("Choose a region inside your own area.")]})
    taken = db.session.scalar(
        select(func.count())
        .select_from(Inspector)
        .where(func.upper(Inspector.certificate_no) == fields["certificate_no"].upper())
    )
    if taken:
        raise invalid_fields({"certificate_no": [_l("This certificate number is already in the register.")]})
    inspector = Inspector(**fields, active=bool(data.get("active", True)), created_by_id=actor.id)
    db.session.add(inspector)
    db.session.flush()
    record(actor, "inspector.add", inspector, after=fields)
    return inspector


def get_inspector(actor, inspector_id: int) -> Inspector:
    inspector = db.session.get(Inspector, inspector_id)
    if inspector is None or not may_keep(actor, inspector.department, inspector.region_code):
        raise NotFound(_l("No such inspector."))
    return inspector


def set_active(actor, inspector_id: int, active: bool) -> Inspector:
    """Take an inspector off the draw (left the body, no longer certified) or back on it; lines are never
    deleted because past draws name them."""
    inspector = get_inspector(require_user(actor), inspector_id)
    if inspector.active != bool(active):
        record(
            actor,
            "inspector.active",
            inspector,
            before={"active": inspector.active},
            after={"active": active},
        )
        inspector.active = bool(active)
        db.session.flush()
    return inspector
