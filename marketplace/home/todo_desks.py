"""The parties' to-do providers: what waits on the enterprise's and the agency's desks (see home/todo.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, not_, or_, select

from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.agencies.roster import CHANGE_KIND_LABELS, ChangeStatus, MembershipChange
from marketplace.auth.models import Role, User
from marketplace.common.clock import as_utc
from marketplace.common.money import format_fen
from marketplace.extensions import db
from marketplace.home.todo import (
    TOP,
    Entry,
    Todo,
    count_of,
    counted,
    enterprise_id_of,
    entry,
    latest_contract,
    order_rows,
    order_url,
    party_condition,
    provider,
    todo,
)
from marketplace.orders.models import Contract, ContractStatus, Extension, ExtensionStatus, Order, OrderStatus
from marketplace.orders.services import contract_step, deadline_status
from marketplace.payments import lists as payment_lists
from marketplace.payments.models import Payment, PaymentMethod, PaymentStatus
from marketplace.ratings.models import Rating
from marketplace.requests import queries as request_queries
from marketplace.requests.bids import Bid
from marketplace.requests.models import (
    Objection,
    ObjectionStatus,
    RequestStatus,
    SelectionMethod,
    ServiceRequest,
)

CLOSING_SOON = timedelta(days=3)  # an open announcement for the agency closing within this is a to-do
RETURNED_FOR = timedelta(days=30)  # a returned membership change stays on the agency's list this long
# Selection methods where the enterprise judges the bids itself (比选); the others run by rule.
JUDGED = frozenset({SelectionMethod.DIRECT, SelectionMethod.COMPOSITE})


# --- the enterprise's desk -----------------------------------------------------------------------------------


def _evaluating(actor: User, at: datetime):
    """The enterprise's requests whose bidding has closed (by the clock or by the time) awaiting a selection."""
    return select(ServiceRequest.id, ServiceRequest.title, ServiceRequest.bid_deadline).where(
        ServiceRequest.enterprise_id == enterprise_id_of(actor),
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
    latest = latest_contract()
    returned = select(Contract.id).where(Contract.id == latest, Contract.status == ContractStatus.REJECTED)
    stmt = order_rows(
        and_(
            party_condition(actor),
            Order.status == OrderStatus.AWAITING,
            or_(latest.is_(None), returned.exists()),
        ),
        Order.created_at,
    )
    count, rows = counted(stmt, Order.created_at, Order.id)
    entries = [entry(r.title, order_url(r.id)) for r in rows]
    url = url_for("orders.index", status=OrderStatus.AWAITING.value)
    return todo("contracts_to_sign", _l("Contracts to sign and upload"), count, url, entries)


@provider("contracts_to_confirm", Role.ENTERPRISE, Role.AGENCY)
def _contracts_to_confirm(actor: User, at: datetime) -> Todo | None:
    """Contracts the other party uploaded, waiting for this party's confirmation."""
    if not contract_step():
        return None
    side = "agency" if actor.role == Role.AGENCY else "enterprise"
    stmt = (
        order_rows(and_(party_condition(actor), Order.status == OrderStatus.AWAITING), Contract.created_at)
        .join(Contract, Contract.id == latest_contract())
        .where(Contract.status == ContractStatus.PENDING, Contract.uploaded_by != side)
    )
    count, rows = counted(stmt, Contract.created_at, Order.id)
    entries = [entry(r.title, order_url(r.id)) for r in rows]
    url = url_for("orders.index", status=OrderStatus.AWAITING.value)
    return todo("contracts_to_confirm", _l("Contracts to confirm"), count, url, entries)


@provider("deliveries_to_accept", Role.ENTERPRISE)
def _deliveries_to_accept(actor: User, at: datetime) -> Todo | None:
    """Delivered work to accept or dispute; the due date is the automatic acceptance."""
    window = timedelta(seconds=current_app.config["MARKET_ACCEPTANCE_SECONDS"])
    stmt = order_rows(
        and_(party_condition(actor), Order.status == OrderStatus.DELIVERED), Order.delivered_at, Agency.name
    ).join(Agency, Agency.id == Order.agency_id)
    count, rows = counted(stmt, Order.delivered_at, Order.id)
    entries = [
        Entry(
            label=r.title,
            url=order_url(r.id),
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
    stmt = order_rows(
        and_(party_condition(actor), payment_lists.condition("due", at)),
        Order.accepted_at,
        Order.amount_fen,
        payment_lists.paid_fen().label("paid_fen"),
    )
    count, rows = counted(stmt, Order.accepted_at, Order.id)
    entries = [entry(r.title, order_url(r.id), note=_outstanding(r.amount_fen - r.paid_fen)) for r in rows]
    url = url_for("orders.index", payment="due")
    return todo("payments_due", _l("Payments due"), count, url, entries)


def _outstanding(fen: int) -> str:
    return str(_l("%(amount)s to pay", amount=format_fen(fen)))


@provider("extensions_to_decide", Role.ENTERPRISE)
def _extensions_to_decide(actor: User, at: datetime) -> Todo | None:
    """Extensions asked by agencies; decide before the order's due date in force passes (approved after it, the
    on-time rate still counts the old date)."""
    stmt = order_rows(
        and_(party_condition(actor), Extension.status == ExtensionStatus.PENDING), Order.due_at
    ).join(Extension, Extension.order_id == Order.id)
    count, rows = counted(stmt, Order.due_at, Extension.id)
    entries = [entry(r.title, order_url(r.id), r.due_at, at) for r in rows]
    overdue = count_of(stmt.where(Order.due_at < at))
    url = url_for("orders.index", status="live")
    return todo("extensions_to_decide", _l("Extensions to decide"), count, url, entries, overdue)


@provider("ratings_to_give", Role.ENTERPRISE)
def _ratings_to_give(actor: User, at: datetime) -> Todo | None:
    """Accepted orders not rated yet, while the rating window is open (its end is the due date)."""
    window = timedelta(seconds=current_app.config["MARKET_RATING_WINDOW_SECONDS"])
    rated = select(Rating.id).where(Rating.order_id == Order.id).exists()
    stmt = order_rows(
        and_(
            party_condition(actor),
            Order.status == OrderStatus.ACCEPTED,
            Order.accepted_at > at - window,
            not_(rated),
        ),
        Order.accepted_at,
    )
    count, rows = counted(stmt, Order.accepted_at, Order.id)
    entries = [Entry(r.title, order_url(r.id), due_at=as_utc(r.accepted_at) + window) for r in rows]
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
            ServiceRequest.enterprise_id == enterprise_id_of(actor), Objection.status == ObjectionStatus.OPEN
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
        ServiceRequest.enterprise_id == enterprise_id_of(actor),
        ServiceRequest.status == RequestStatus.RETURNED,
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
    stmt = order_rows(and_(party_condition(actor), Order.status == OrderStatus.AWAITING), Order.created_at)
    count, rows = counted(stmt, Order.created_at, Order.id)
    entries = [entry(r.title, order_url(r.id)) for r in rows]
    url = url_for("orders.index", status=OrderStatus.AWAITING.value)
    return todo("orders_to_confirm", _l("Orders to confirm and start"), count, url, entries)


@provider("transfers_to_confirm", Role.AGENCY)
def _transfers_to_confirm(actor: User, at: datetime) -> Todo | None:
    """Bank transfers the enterprise registered, waiting for the agency to confirm the money arrived."""
    stmt = order_rows(
        and_(
            party_condition(actor),
            Payment.method == PaymentMethod.OFFLINE,
            Payment.status == PaymentStatus.SUBMITTED,
        ),
        Payment.created_at,
        Payment.amount_fen,
    ).join(Payment, Payment.order_id == Order.id)
    count, rows = counted(stmt, Payment.created_at, Payment.id)
    entries = [entry(r.title, order_url(r.id), note=format_fen(r.amount_fen)) for r in rows]
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
            party_condition(actor),
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
            order_url(o.id),
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
    for r in rows[: TOP - len(entries)]:
        entries.append(
            entry(str(CHANGE_KIND_LABELS.get(r.kind, r.kind)), url_for("agency_people.my_changes"))
        )
    url = url_for("agency_people.my_changes") if changes else url_for("agency_workspace.dashboard")
    return todo("membership_returned", _l("Membership matters returned"), count, url, entries)
