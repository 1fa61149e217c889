"""What waits for a person (待办): the to-do list that opens every desk and `GET /api/v1/todo`.

The list is made by small providers, one per kind of thing to do. Each provider is a function of the viewer
and the current time that returns a `Todo` (a count, the most urgent few entries with links and due dates) or
None when nothing waits; it runs a COUNT and a LIMIT query or two, never one query per row. `todo_for` runs
the providers the viewer's role has and puts what is overdue first.

Adding a kind (e.g. the complaints feature's "complaints to answer"):

    @provider("complaints_to_answer", Role.AGENCY)
    def _complaints_to_answer(actor: User, at: datetime) -> Todo | None:
        base = select(Complaint).where(Complaint.agency_id == actor.agency.id, Complaint.status == ...)
        count, rows = counted(base, Complaint.answer_due_at)
        return todo(
            "complaints_to_answer",
            _l("Complaints to answer"),
            count,
            url_for("complaints.mine"),
            [entry(c.subject, url_for("complaints.detail", complaint_id=c.id), c.answer_due_at, at) for c in rows],
        )

Register it with the roles it is for (staff roles: the administrator holds them all; scope staff lists with
`auth.policy.scope_condition`). Nothing else changes: the desks, the staff home and the API show it. Home sits
above every feature, so a provider may import any of them. Reads only: a provider never writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, not_, or_, select

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.agencies.roster import ChangeStatus, MembershipChange
from marketplace.auth.models import Role, User
from marketplace.auth.policy import scope_condition
from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import as_utc, now
from marketplace.extensions import db
from marketplace.fees.models import FeeFlag, FlagStatus
from marketplace.fees.services import in_scope as fee_scope
from marketplace.orders.models import Contract, ContractStatus, Extension, ExtensionStatus, Order, OrderStatus
from marketplace.orders.services import contract_step, deadline_status
from marketplace.payments import lists as payment_lists
from marketplace.payments.models import Payment, PaymentMethod, PaymentStatus
from marketplace.ratings.models import DepartmentRating, Rating
from marketplace.requests import queries as request_queries
from marketplace.requests.bids import Bid
from marketplace.requests.models import (
    Objection,
    ObjectionStatus,
    RequestStatus,
    SelectionMethod,
    ServiceRequest,
)

TOP = 3  # entries shown per kind: the most urgent few
SOON = timedelta(days=3)  # a kind with an entry due within this comes before the others (after the overdue)
CLOSING_SOON = timedelta(days=3)  # an open announcement for the agency closing within this is a to-do
RETURNED_FOR = timedelta(days=30)  # a returned membership change stays on the agency's list this long
# Selection methods where the enterprise judges the bids itself (比选); the others run by rule.
JUDGED = frozenset({SelectionMethod.DIRECT, SelectionMethod.COMPOSITE})


@dataclass
class Entry:
    """One thing to do: what it is, where to do it, and by when."""

    label: str
    url: str
    due_at: datetime | None = None
    overdue: bool = False
    note: str | None = None


@dataclass
class Todo:
    """One kind of thing to do: how many, and the most urgent few."""

    kind: str
    title: str
    count: int
    url: str
    entries: list[Entry] = field(default_factory=list)
    overdue: int = 0  # how many of `count` are overdue (0 when the kind has no deadline or none passed)

    @property
    def due_at(self) -> datetime | None:
        dues = [e.due_at for e in self.entries if e.due_at is not None]
        return min(dues) if dues else None


Provider = Callable[[User, datetime], "Todo | None"]
PROVIDERS: list[tuple[str, frozenset[Role], Provider]] = []


def provider(kind: str, *roles: Role) -> Callable[[Provider], Provider]:
    """Register a provider of one kind for the viewers holding one of `roles` (see `User.holds`)."""

    def register(fn: Provider) -> Provider:
        PROVIDERS[:] = [p for p in PROVIDERS if p[0] != kind]
        PROVIDERS.append((kind, frozenset(roles), fn))
        return fn

    return register


def _holds(user: User, roles: frozenset[Role]) -> bool:
    return any(user.role == role or user.holds(role) for role in roles)


def todo_for(user: Any) -> list[Todo]:
    """Everything waiting for `user`: overdue kinds first, then those due within SOON, then the rest, each group
    in the providers' order (the order of the steps of a deal)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    at = now()
    items = []
    for _kind, roles, fn in PROVIDERS:
        if _holds(user, roles):
            item = fn(user, at)
            if item is not None and item.count > 0:
                items.append(item)
    soon = at + SOON

    def rank(pair: tuple[int, Todo]) -> tuple:
        position, item = pair
        due = as_utc(item.due_at)
        return (item.overdue == 0, not (due is not None and due <= soon), position)

    return [item for _, item in sorted(enumerate(items), key=rank)]


# --- helpers for providers ----------------------------------------------------------------------------------


def counted(stmt, *order_by) -> tuple[int, list]:
    """The number of rows `stmt` selects and its first TOP rows in `order_by` order (two queries)."""
    count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(db.session.execute(stmt.order_by(*order_by).limit(TOP))) if count else []
    return count or 0, rows


def entry(
    label: str, url: str, due_at: datetime | None = None, at: datetime | None = None, note=None
) -> Entry:
    due_at = as_utc(due_at)
    overdue = due_at is not None and at is not None and due_at < at
    return Entry(label=label, url=url, due_at=due_at, overdue=overdue, note=note)


def todo(kind: str, title, count: int, url: str, entries: list[Entry], overdue: int | None = None) -> Todo:
    if overdue is None:
        overdue = sum(1 for e in entries if e.overdue)
    return Todo(kind=kind, title=str(title), count=count, url=url, entries=entries, overdue=overdue)


def _order_url(order_id: int) -> str:
    return url_for("orders.detail", order_id=order_id)


def _enterprise_id(actor: User) -> int:
    return actor.enterprise.id if actor.enterprise is not None else -1


def _agency_id(actor: User) -> int:
    return actor.agency.id if actor.agency is not None else -1


def _orders(condition, *extra):
    """Order id, its request's title and the other party's name, for entries (one joined query)."""
    return (
        select(Order.id, ServiceRequest.title, *extra)
        .join(ServiceRequest, ServiceRequest.id == Order.request_id)
        .where(condition)
    )


def _latest_contract():
    """The order's latest contract (the one in force or under confirmation), as a correlated id."""
    return (
        select(func.max(Contract.id)).where(Contract.order_id == Order.id).correlate(Order).scalar_subquery()
    )


def _party_condition(actor: User):
    if actor.role == Role.AGENCY:
        return Order.agency_id == _agency_id(actor)
    return Order.enterprise_id == _enterprise_id(actor)


# --- the enterprise's desk -----------------------------------------------------------------------------------


def _evaluating(actor: User, at: datetime):
    """The enterprise's requests whose bidding has closed (by the clock or by the time) awaiting a selection."""
    return select(ServiceRequest.id, ServiceRequest.title, ServiceRequest.bid_deadline).where(
        ServiceRequest.enterprise_id == _enterprise_id(actor),
        or_(
            ServiceRequest.status == RequestStatus.EVALUATING,
            and_(ServiceRequest.status == RequestStatus.BIDDING, ServiceRequest.bid_deadline <= at),
        ),
    )


def _request_entries(rows) -> list[Entry]:
    return [entry(r.title, url_for("requests.compare", request_id=r.id)) for r in rows]


@provider("bids_to_compare", Role.ENTERPRISE)
def _bids_to_compare(actor: User, at: datetime) -> Todo | None:
    count, rows = counted(
        _evaluating(actor, at).where(ServiceRequest.selection_method.in_(list(JUDGED))),
        ServiceRequest.bid_deadline,
    )
    url = url_for("enterprise.dashboard", status=RequestStatus.EVALUATING.value)
    return todo("bids_to_compare", _l("Bids to compare"), count, url, _request_entries(rows))


@provider("selections_to_run", Role.ENTERPRISE)
def _selections_to_run(actor: User, at: datetime) -> Todo | None:
    count, rows = counted(
        _evaluating(actor, at).where(ServiceRequest.selection_method.not_in(list(JUDGED))),
        ServiceRequest.bid_deadline,
    )
    url = url_for("enterprise.dashboard", status=RequestStatus.EVALUATING.value)
    return todo("selections_to_run", _l("Selections to run"), count, url, _request_entries(rows))


@provider("contracts_to_sign", Role.ENTERPRISE, Role.AGENCY)
def _contracts_to_sign(actor: User, at: datetime) -> Todo | None:
    """Orders awaiting their signed contract that nobody has uploaded yet (or whose last one was returned):
    either party may upload it."""
    if not contract_step():
        return None
    latest = _latest_contract()
    returned = select(Contract.id).where(Contract.id == latest, Contract.status == ContractStatus.REJECTED)
    stmt = _orders(
        and_(
            _party_condition(actor),
            Order.status == OrderStatus.AWAITING,
            or_(latest.is_(None), returned.exists()),
        ),
        Order.created_at,
    )
    count, rows = counted(stmt, Order.created_at, Order.id)
    entries = [entry(r.title, _order_url(r.id)) for r in rows]
    url = url_for("orders.index", status=OrderStatus.AWAITING.value)
    return todo("contracts_to_sign", _l("Contracts to sign and upload"), count, url, entries)


@provider("contracts_to_confirm", Role.ENTERPRISE, Role.AGENCY)
def _contracts_to_confirm(actor: User, at: datetime) -> Todo | None:
    """Contracts the other party uploaded, waiting for this party's confirmation."""
    if not contract_step():
        return None
    side = "agency" if actor.role == Role.AGENCY else "enterprise"
    stmt = (
        _orders(and_(_party_condition(actor), Order.status == OrderStatus.AWAITING), Contract.created_at)
        .join(Contract, Contract.id == _latest_contract())
        .where(Contract.status == ContractStatus.PENDING, Contract.uploaded_by != side)
    )
    count, rows = counted(stmt, Contract.created_at, Order.id)
    entries = [entry(r.title, _order_url(r.id)) for r in rows]
    url = url_for("orders.index", status=OrderStatus.AWAITING.value)
    return todo("contracts_to_confirm", _l("Contracts to confirm"), count, url, entries)


@provider("deliveries_to_accept", Role.ENTERPRISE)
def _deliveries_to_accept(actor: User, at: datetime) -> Todo | None:
    """Delivered work to accept or dispute; the due date is the automatic acceptance."""
    window = timedelta(seconds=current_app.config["MARKET_ACCEPTANCE_SECONDS"])
    stmt = _orders(
        and_(_party_condition(actor), Order.status == OrderStatus.DELIVERED), Order.delivered_at, Agency.name
    ).join(Agency, Agency.id == Order.agency_id)
    count, rows = counted(stmt, Order.delivered_at, Order.id)
    entries = [
        Entry(
            label=r.title,
            url=_order_url(r.id),
            due_at=as_utc(r.delivered_at) + window if r.delivered_at else None,
            note=str(_l("Accepted automatically on this date if you do nothing")),
        )
        for r in rows
    ]
    url = url_for("orders.index", status=OrderStatus.DELIVERED.value)
    return todo("deliveries_to_accept", _l("Deliveries to accept"), count, url, entries, overdue=0)


@provider("payments_due", Role.ENTERPRISE)
def _payments_due(actor: User, at: datetime) -> Todo | None:
    """Accepted orders with money still to pay (neither received nor on its way)."""
    stmt = _orders(
        and_(_party_condition(actor), payment_lists.condition("due", at)),
        Order.accepted_at,
        Order.amount_fen,
        payment_lists.paid_fen().label("paid_fen"),
    )
    count, rows = counted(stmt, Order.accepted_at, Order.id)
    entries = [entry(r.title, _order_url(r.id), note=_outstanding(r.amount_fen - r.paid_fen)) for r in rows]
    url = url_for("orders.index", payment="due")
    return todo("payments_due", _l("Payments due"), count, url, entries)


def _outstanding(fen: int) -> str:
    from marketplace.common.money import format_fen

    return str(_l("%(amount)s to pay", amount=format_fen(fen)))


@provider("extensions_to_decide", Role.ENTERPRISE)
def _extensions_to_decide(actor: User, at: datetime) -> Todo | None:
    """Extensions asked by agencies; decide before the order's due date in force passes (approved after it, the
    on-time rate still counts the old date)."""
    stmt = _orders(
        and_(_party_condition(actor), Extension.status == ExtensionStatus.PENDING), Order.due_at
    ).join(Extension, Extension.order_id == Order.id)
    count, rows = counted(stmt, Order.due_at, Extension.id)
    entries = [entry(r.title, _order_url(r.id), r.due_at, at) for r in rows]
    overdue = _count(stmt.where(Order.due_at < at))
    url = url_for("orders.index", status="live")
    return todo("extensions_to_decide", _l("Extensions to decide"), count, url, entries, overdue)


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


@provider("ratings_to_give", Role.ENTERPRISE)
def _ratings_to_give(actor: User, at: datetime) -> Todo | None:
    """Accepted orders not rated yet, while the rating window is open (its end is the due date)."""
    window = timedelta(seconds=current_app.config["MARKET_RATING_WINDOW_SECONDS"])
    rated = select(Rating.id).where(Rating.order_id == Order.id).exists()
    stmt = _orders(
        and_(
            _party_condition(actor),
            Order.status == OrderStatus.ACCEPTED,
            Order.accepted_at > at - window,
            not_(rated),
        ),
        Order.accepted_at,
    )
    count, rows = counted(stmt, Order.accepted_at, Order.id)
    entries = [Entry(r.title, _order_url(r.id), due_at=as_utc(r.accepted_at) + window) for r in rows]
    url = url_for("orders.index", status=OrderStatus.ACCEPTED.value)
    return todo("ratings_to_give", _l("Ratings to give"), count, url, entries)


@provider("objections_lodged", Role.ENTERPRISE)
def _objections_lodged(actor: User, at: datetime) -> Todo | None:
    """Objections lodged against the enterprise's selections: the operator decides them by `decide_by`; the
    enterprise follows them (its result and its order wait on the decision)."""
    stmt = (
        select(ServiceRequest.id, ServiceRequest.title, Objection.decide_by)
        .join(Objection, Objection.request_id == ServiceRequest.id)
        .where(
            ServiceRequest.enterprise_id == _enterprise_id(actor), Objection.status == ObjectionStatus.OPEN
        )
    )
    count, rows = counted(stmt, Objection.decide_by)
    entries = [
        Entry(r.title, url_for("requests.detail", request_id=r.id), due_at=as_utc(r.decide_by)) for r in rows
    ]
    url = url_for("enterprise.dashboard", status=RequestStatus.PUBLICITY.value)
    return todo("objections_lodged", _l("Objections to your results"), count, url, entries, overdue=0)


@provider("announcements_returned", Role.ENTERPRISE)
def _announcements_returned(actor: User, at: datetime) -> Todo | None:
    stmt = select(ServiceRequest.id, ServiceRequest.title).where(
        ServiceRequest.enterprise_id == _enterprise_id(actor), ServiceRequest.status == RequestStatus.RETURNED
    )
    count, rows = counted(stmt, ServiceRequest.updated_at.desc())
    entries = [entry(r.title, url_for("enterprise.edit_request", request_id=r.id)) for r in rows]
    url = url_for("enterprise.dashboard", status=RequestStatus.RETURNED.value)
    return todo("announcements_returned", _l("Announcements returned: fix and resubmit"), count, url, entries)


# --- the agency's desk ---------------------------------------------------------------------------------------


@provider("orders_to_confirm", Role.AGENCY)
def _orders_to_confirm(actor: User, at: datetime) -> Todo | None:
    """Without the contract step the agency confirms the order to start the clock (else: contracts above)."""
    if contract_step():
        return None
    stmt = _orders(and_(_party_condition(actor), Order.status == OrderStatus.AWAITING), Order.created_at)
    count, rows = counted(stmt, Order.created_at, Order.id)
    entries = [entry(r.title, _order_url(r.id)) for r in rows]
    url = url_for("orders.index", status=OrderStatus.AWAITING.value)
    return todo("orders_to_confirm", _l("Orders to confirm and start"), count, url, entries)


@provider("transfers_to_confirm", Role.AGENCY)
def _transfers_to_confirm(actor: User, at: datetime) -> Todo | None:
    """Bank transfers the enterprise registered, waiting for the agency to confirm the money arrived."""
    stmt = _orders(
        and_(
            _party_condition(actor),
            Payment.method == PaymentMethod.OFFLINE,
            Payment.status == PaymentStatus.SUBMITTED,
        ),
        Payment.created_at,
        Payment.amount_fen,
    ).join(Payment, Payment.order_id == Order.id)
    count, rows = counted(stmt, Payment.created_at, Payment.id)
    from marketplace.common.money import format_fen

    entries = [entry(r.title, _order_url(r.id), note=format_fen(r.amount_fen)) for r in rows]
    url = url_for("orders.index", payment="pending")
    return todo("transfers_to_confirm", _l("Transfers to confirm"), count, url, entries)


@provider("orders_due", Role.AGENCY)
def _orders_due(actor: User, at: datetime) -> Todo | None:
    """Work under way whose time is 80 % used (yellow) or past (red): one query over the agency's orders at
    work, the lights computed as everywhere else (orders.services.deadline_status)."""
    stmt = (
        select(Order, ServiceRequest.title)
        .join(ServiceRequest, ServiceRequest.id == Order.request_id)
        .where(
            _party_condition(actor),
            Order.status.in_([OrderStatus.IN_PROGRESS, OrderStatus.DISPUTED]),
            Order.due_at.is_not(None),
        )
        .order_by(Order.due_at)
    )
    lit = []
    for order, title in db.session.execute(stmt):
        light = deadline_status(order, at)
        if light != "ok":
            lit.append((order, title, light))
    if not lit:
        return None
    entries = [
        entry(
            title,
            _order_url(o.id),
            o.due_at,
            at,
            note=str(_l("Overdue") if light == "red" else _l("Due soon")),
        )
        for o, title, light in lit[:TOP]
    ]
    overdue = sum(1 for _o, _t, light in lit if light == "red")
    url = url_for("orders.index", status=OrderStatus.IN_PROGRESS.value)
    return todo("orders_due", _l("Orders near or past their due date"), len(lit), url, entries, overdue)


@provider("requests_closing", Role.AGENCY)
def _requests_closing(actor: User, at: datetime) -> Todo | None:
    """Open announcements in the agency's categories and area closing soon that it has not bid on."""
    if actor.agency is None or actor.agency.status != AgencyStatus.ACTIVE:
        return None
    placed = (
        select(Bid.id).where(Bid.request_id == ServiceRequest.id, Bid.agency_id == actor.agency.id).exists()
    )
    base = request_queries.inbox_query(actor).where(ServiceRequest.bid_deadline <= at + CLOSING_SOON, ~placed)
    stmt = base.with_only_columns(ServiceRequest.id, ServiceRequest.title, ServiceRequest.bid_deadline)
    count, rows = counted(stmt, ServiceRequest.bid_deadline)
    entries = [entry(r.title, url_for("requests.detail", request_id=r.id), r.bid_deadline, at) for r in rows]
    url = url_for("agency_bidding.inbox")
    return todo("requests_closing", _l("Announcements for you closing soon"), count, url, entries, overdue=0)


@provider("membership_returned", Role.AGENCY)
def _membership_returned(actor: User, at: datetime) -> Todo | None:
    """A rejected application (fix and apply again) and membership changes rejected lately."""
    agency = actor.agency
    if agency is None:
        return None
    entries = []
    count = 0
    if agency.status == AgencyStatus.REJECTED:
        count += 1
        entries.append(entry(str(_l("Membership application")), url_for("agency_workspace.dashboard")))
    stmt = select(MembershipChange.id, MembershipChange.kind).where(
        MembershipChange.agency_id == agency.id,
        MembershipChange.status == ChangeStatus.REJECTED,
        MembershipChange.decided_at > at - RETURNED_FOR,
    )
    changes, rows = counted(stmt, MembershipChange.decided_at.desc())
    count += changes
    from marketplace.agencies.roster import CHANGE_KIND_LABELS

    for r in rows[: TOP - len(entries)]:
        entries.append(
            entry(str(CHANGE_KIND_LABELS.get(r.kind, r.kind)), url_for("agency_people.my_changes"))
        )
    url = url_for("agency_people.my_changes") if changes else url_for("agency_workspace.dashboard")
    return todo("membership_returned", _l("Membership matters returned"), count, url, entries)


# --- staff, each inside its area (and a department inside its trade) -----------------------------------------


@provider("memberships_to_review", Role.OPERATOR)
def _memberships_to_review(actor: User, at: datetime) -> Todo | None:
    stmt = select(Agency.id, Agency.name, Agency.review_due_at).where(
        Agency.status == AgencyStatus.PENDING, scope_condition(actor, Role.OPERATOR, Agency.region_code)
    )
    count, rows = counted(stmt, Agency.review_due_at, Agency.id)
    entries = [
        entry(r.name, url_for("agency_admin.review", agency_id=r.id), r.review_due_at, at) for r in rows
    ]
    overdue = _count(stmt.where(Agency.review_due_at < at))
    url = url_for("agency_admin.applications")
    return todo(
        "memberships_to_review", _l("Membership applications to review"), count, url, entries, overdue
    )


@provider("changes_to_review", Role.OPERATOR)
def _changes_to_review(actor: User, at: datetime) -> Todo | None:
    stmt = (
        select(MembershipChange.id, Agency.name, MembershipChange.review_due_at)
        .join(Agency, Agency.id == MembershipChange.agency_id)
        .where(
            MembershipChange.status == ChangeStatus.PENDING,
            scope_condition(actor, Role.OPERATOR, Agency.region_code),
        )
    )
    count, rows = counted(stmt, MembershipChange.review_due_at, MembershipChange.id)
    entries = [
        entry(r.name, url_for("change_admin.change_detail", change_id=r.id), r.review_due_at, at)
        for r in rows
    ]
    overdue = _count(stmt.where(MembershipChange.review_due_at < at))
    url = url_for("change_admin.change_list")
    return todo("changes_to_review", _l("Membership changes to review"), count, url, entries, overdue)


@provider("announcements_to_review", Role.OPERATOR)
def _announcements_to_review(actor: User, at: datetime) -> Todo | None:
    stmt = select(ServiceRequest.id, ServiceRequest.title, ServiceRequest.submitted_at).where(
        ServiceRequest.status == RequestStatus.REVIEW,
        scope_condition(actor, Role.OPERATOR, ServiceRequest.region_code),
    )
    count, rows = counted(stmt, ServiceRequest.submitted_at, ServiceRequest.id)
    entries = [entry(r.title, url_for("announcement_admin.detail", request_id=r.id)) for r in rows]
    url = url_for("announcement_admin.queue")
    return todo("announcements_to_review", _l("Announcements to review"), count, url, entries)


@provider("objections_to_decide", Role.OPERATOR)
def _objections_to_decide(actor: User, at: datetime) -> Todo | None:
    stmt = (
        select(ServiceRequest.id, ServiceRequest.title, Objection.decide_by)
        .join(Objection, Objection.request_id == ServiceRequest.id)
        .where(
            Objection.status == ObjectionStatus.OPEN,
            scope_condition(actor, Role.OPERATOR, ServiceRequest.region_code),
        )
    )
    count, rows = counted(stmt, Objection.decide_by, Objection.id)
    entries = [entry(r.title, url_for("request_admin.objections"), r.decide_by, at) for r in rows]
    overdue = _count(stmt.where(Objection.decide_by < at))
    url = url_for("request_admin.objections")
    return todo("objections_to_decide", _l("Objections to decide"), count, url, entries, overdue)


@provider("department_ratings", Role.DEPARTMENT)
def _department_ratings(actor: User, at: datetime) -> Todo | None:
    """双评价: accepted orders of the department's trade in its area without its rating yet."""
    rated = select(DepartmentRating.id).where(DepartmentRating.order_id == Order.id).exists()
    stmt = (
        _orders(
            and_(
                Order.status == OrderStatus.ACCEPTED,
                not_(rated),
                scope_condition(actor, Role.DEPARTMENT, ServiceRequest.region_code, ServiceItem.department),
            ),
            Order.accepted_at,
        )
    ).join(ServiceItem, ServiceItem.id == ServiceRequest.service_item_id)
    count, rows = counted(stmt, Order.accepted_at, Order.id)
    entries = [entry(r.title, _order_url(r.id)) for r in rows]
    url = url_for("orders.index", status=OrderStatus.ACCEPTED.value)
    return todo("department_ratings", _l("Department ratings to give"), count, url, entries)


@provider("catalogue_gaps", Role.DEPARTMENT)
def _catalogue_gaps(actor: User, at: datetime) -> Todo | None:
    """The trade's service items without their legal basis (设立依据): the catalogue must name it."""
    stmt = select(ServiceItem.id, ServiceItem.name).where(
        or_(ServiceItem.legal_basis.is_(None), ServiceItem.legal_basis == "")
    )
    if actor.role != Role.ADMIN:
        stmt = stmt.where(ServiceItem.department == actor.department)
    count, rows = counted(stmt, ServiceItem.sort_order, ServiceItem.id)
    entries = [entry(r.name, url_for("catalogue_admin.edit", item_id=r.id)) for r in rows]
    url = url_for("catalogue_admin.items")
    return todo("catalogue_gaps", _l("Service items missing their legal basis"), count, url, entries)


@provider("fee_flags", Role.SUPERVISOR)
def _fee_flags(actor: User, at: datetime) -> Todo | None:
    stmt = (
        select(FeeFlag.id, ServiceItem.name, FeeFlag.occurred_at)
        .join(ServiceItem, ServiceItem.id == FeeFlag.service_item_id)
        .where(FeeFlag.status == FlagStatus.OPEN, fee_scope(actor))
    )
    count, rows = counted(stmt, FeeFlag.occurred_at.desc(), FeeFlag.id.desc())
    entries = [entry(r.name, url_for("fee_admin.flag", flag_id=r.id)) for r in rows]
    url = url_for("fee_admin.audit", status=FlagStatus.OPEN.value)
    return todo("fee_flags", _l("Fee flags to review"), count, url, entries)


@provider("overdue_orders", Role.SUPERVISOR)
def _overdue_orders(actor: User, at: datetime) -> Todo | None:
    """Red lights on the deadline board: work under way past its due date, inside the area."""
    stmt = _orders(
        and_(
            Order.status.in_([OrderStatus.IN_PROGRESS, OrderStatus.DISPUTED]),
            Order.delivered_at.is_(None),
            Order.due_at < at,
            scope_condition(actor, Role.SUPERVISOR, ServiceRequest.region_code),
        ),
        Order.due_at,
    )
    count, rows = counted(stmt, Order.due_at, Order.id)
    entries = [entry(r.title, _order_url(r.id), r.due_at, at) for r in rows]
    url = url_for("order_admin.deadlines", state="red")
    return todo(
        "overdue_orders", _l("Overdue orders on the deadline board"), count, url, entries, overdue=count
    )
