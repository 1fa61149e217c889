"""Who may do what: small composable requirements (after flaskbb's `utils/requirements.py`).

One place answers "may this actor do this to that object?" for services, views, the API and templates alike
(templates call `can(requirement, obj)`). Requirements read only the object's ids, so this module imports no
feature: a request has `enterprise_id`; an order `enterprise_id` and `agency_id`; an agency `id` and `user_id`.

    IsAdmin(actor)                    the platform's administrator
    OwnsRequest(actor, req)           the enterprise that posted the request
    ManagesRequest(actor, req)        its owner, or an administrator (sees drafts, the opened bids)
    IsOrderParty(actor, order)        the order's enterprise, its agency, or an administrator
    IsOrderEnterprise / IsOrderAgency exactly that side of the order
    SeesAgencyPrivate(actor, agency)  the agency itself or an administrator (contacts, scans)
    IsStaff(actor)                    any staff account (administrator, operator, department, supervisor)
    ActsAs(role)(actor, obj)          acts as that staff role, and obj (a region code or anything with
                                      `region_code`) lies inside the account's area

Staff scope: a staff account has a GB/T 2260 `region_code` (None = the whole market area) and a department its
trade; `acts_in` is the one answer to "may this account act as ROLE on something located in REGION of TRADE?".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, true

from marketplace.auth.models import STAFF_ROLES, Role
from marketplace.common.areas import prefix, within


class Requirement:
    """A yes/no question about an actor and, optionally, an object. Combine with &, | and ~."""

    def fulfilled(self, actor, obj: Any = None) -> bool:
        raise NotImplementedError

    def __call__(self, actor, obj: Any = None) -> bool:
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.allows_anonymous(obj)
        return self.fulfilled(actor, obj)

    def allows_anonymous(self, obj: Any = None) -> bool:
        return False

    def __and__(self, other: Requirement) -> Requirement:
        return _And(self, other)

    def __or__(self, other: Requirement) -> Requirement:
        return _Or(self, other)

    def __invert__(self) -> Requirement:
        return _Not(self)

    def __repr__(self) -> str:
        return type(self).__name__


class _And(Requirement):
    def __init__(self, *parts: Requirement):
        self.parts = parts

    def __call__(self, actor, obj: Any = None) -> bool:
        return all(p(actor, obj) for p in self.parts)


class _Or(Requirement):
    def __init__(self, *parts: Requirement):
        self.parts = parts

    def __call__(self, actor, obj: Any = None) -> bool:
        return any(p(actor, obj) for p in self.parts)


class _Not(Requirement):
    def __init__(self, part: Requirement):
        self.part = part

    def __call__(self, actor, obj: Any = None) -> bool:
        return not self.part(actor, obj)


class IsAuthenticated(Requirement):
    def fulfilled(self, actor, obj: Any = None) -> bool:
        return True


class HasRole(Requirement):
    def __init__(self, *roles: Role):
        self.roles = roles

    def fulfilled(self, actor, obj: Any = None) -> bool:
        return actor.role in self.roles


class _OwnsRequest(Requirement):
    def fulfilled(self, actor, req: Any = None) -> bool:
        enterprise = actor.enterprise if actor.role == Role.ENTERPRISE else None
        return enterprise is not None and req is not None and enterprise.id == req.enterprise_id


class _OrderEnterprise(Requirement):
    def fulfilled(self, actor, order: Any = None) -> bool:
        enterprise = actor.enterprise if actor.role == Role.ENTERPRISE else None
        return enterprise is not None and order is not None and enterprise.id == order.enterprise_id


class _OrderAgency(Requirement):
    def fulfilled(self, actor, order: Any = None) -> bool:
        agency = actor.agency if actor.role == Role.AGENCY else None
        return agency is not None and order is not None and agency.id == order.agency_id


class _IsTheAgency(Requirement):
    def fulfilled(self, actor, agency: Any = None) -> bool:
        return agency is not None and actor.role == Role.AGENCY and agency.user_id == actor.id


def acts_in(actor, role: Role, region_code: str | None = None, department: str | None = None) -> bool:
    """May `actor` act as staff `role` on something in `region_code` (None: anywhere) of trade `department`?"""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.holds(role):
        return False
    if actor.role == Role.ADMIN:
        return True
    if region_code is not None and not within(region_code, actor.region_code):
        return False
    return not (role == Role.DEPARTMENT and department is not None and actor.department != department)


def located(region_code: str | None) -> str:
    """An object's region for `acts_in`: one without a region lies in no area, so only accounts acting over the
    whole market area reach it ("" is inside no area; None would mean "anywhere")."""
    return region_code or ""


def reads_in(actor, role: Role, region_code: str | None = None, department: str | None = None) -> bool:
    """May `actor` see `role`'s desk there? Whoever acts as the role, and the supervisor, who reads everything in
    its area (read-only: the services still refuse it every action)."""
    return acts_in(actor, role, region_code, department) or acts_in(actor, Role.SUPERVISOR, region_code)


def scope_condition(
    actor, role: Role, region_column, department_column=None, *, read: bool = False
) -> ColumnElement[bool]:
    """The SQL twin of `acts_in` for lists: rows whose `region_column` lies in the account's area (and, for a
    department, whose `department_column` is its trade). `read=True` also lets the supervisor see the rows.
    A row without a region shows only to accounts over the whole market area."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return false()
    if actor.role == Role.ADMIN:
        return true()
    if not (actor.holds(role) or (read and actor.holds(Role.SUPERVISOR))):
        return false()
    condition = true() if not actor.region_code else region_column.like(prefix(actor.region_code) + "%")
    if actor.role == Role.DEPARTMENT and department_column is not None:
        condition = condition & (department_column == actor.department)
    return condition


class ActsAs(Requirement):
    def __init__(self, role: Role):
        self.role = role

    def fulfilled(self, actor, obj: Any = None) -> bool:
        region = obj if isinstance(obj, str) or obj is None else located(getattr(obj, "region_code", None))
        return acts_in(actor, self.role, region)


IsAdmin = HasRole(Role.ADMIN)
IsStaff = HasRole(*STAFF_ROLES)
IsOperator = ActsAs(Role.OPERATOR)
IsDepartment = ActsAs(Role.DEPARTMENT)
IsSupervisor = ActsAs(Role.SUPERVISOR)
IsEnterprise = HasRole(Role.ENTERPRISE)
IsAgency = HasRole(Role.AGENCY)
OwnsRequest = _OwnsRequest()
ManagesRequest = OwnsRequest | IsAdmin
IsOrderEnterprise = _OrderEnterprise()
IsOrderAgency = _OrderAgency()
IsOrderParty = IsOrderEnterprise | IsOrderAgency | IsAdmin
SeesAgencyPrivate = _IsTheAgency() | IsAdmin


def order_role(actor, order: Any) -> str | None:
    """Which side of the order the actor is on: "enterprise", "agency", "admin", or None."""
    if IsOrderAgency(actor, order):
        return "agency"
    if IsOrderEnterprise(actor, order):
        return "enterprise"
    return "admin" if IsAdmin(actor) else None


# Templates: `can("ManagesRequest", req)`.
TEMPLATE_REQUIREMENTS = {
    "IsAdmin": IsAdmin,
    "OwnsRequest": OwnsRequest,
    "ManagesRequest": ManagesRequest,
    "IsOrderParty": IsOrderParty,
    "SeesAgencyPrivate": SeesAgencyPrivate,
    "IsStaff": IsStaff,
    "IsOperator": IsOperator,
    "IsDepartment": IsDepartment,
    "IsSupervisor": IsSupervisor,
}
