"""The order after a selection: confirm (the service clock starts), progress, deliver, accept or dispute.

Orders sit below requests: an order reaches its request through `Order.request` and tells it what happened
through events (order_declined, winner_withdrawn), never by importing it; the request's award reaches the order
desk as `publicity_ended` (orders/subscribers.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import selectinload

from marketplace import events
from marketplace.agencies.models import Agency, AgencyStatus
from marketplace.audit.services import record
from marketplace.audit.transitions import move
from marketplace.auth.models import Role, User
from marketplace.auth.policy import IsOrderParty, acts_in, located, scope_condition
from marketplace.auth.services import require_role, require_user
from marketplace.catalogue.models import ServiceItem
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotFound, WrongState
from marketplace.common.messages import N_, Money, message
from marketplace.common.money import MAX_FEN
from marketplace.common.sql import count_of, epoch_seconds
from marketplace.credit import scores as credit_scores
from marketplace.extensions import db
from marketplace.orders.models import LIVE, TRANSITIONS, Order, OrderEvent, OrderStatus

if TYPE_CHECKING:
    from marketplace.requests.bids import Bid

UPLOAD_KIND = "deliveries"
YELLOW_AT = 0.8  # share of the promised time elapsed

# What the order records for people (stored as message keys, shown in the viewer's language).
AMENDED = N_("%(before)s → %(after)s: %(reason)s")
AUTO_ACCEPTED = N_("The acceptance period ended without an objection; the system accepted the delivery.")
WINNER_UNAVAILABLE = N_("The selected agency has been suspended or expelled")
WINNER_REPLACED = N_(
    "The selected agency has been suspended or expelled; the next in the ranking takes its place."
)


def _move(order: Order, action: str, actor, **values) -> None:
    move(order, TRANSITIONS, action, actor, audit_prefix="order", **values)


def create_order(req, bid: Bid, actor) -> Order:
    order = Order(
        request_id=req.id,
        bid_id=bid.id,
        enterprise_id=req.enterprise_id,
        agency_id=bid.agency_id,
        amount_fen=bid.price_fen,
        promised_days=bid.promised_days,
        status=OrderStatus.AWAITING,
    )
    db.session.add(order)
    db.session.flush()
    record(
        actor,
        "order.create",
        order,
        after={"request_id": req.id, "bid_id": bid.id, "amount_fen": bid.price_fen},
    )
    events.order_created.send(order, actor=actor)
    return order


# --- reading ---------------------------------------------------------------------------------------------


def is_party(actor: User | None, order: Order) -> bool:
    """Its enterprise, its agency or an administrator (see auth/policy.py)."""
    return IsOrderParty(actor, order)


def staff_sees(actor: User | None, order: Order) -> bool:
    """Staff read the orders of requests inside their area (a department: of its trade's items)."""
    if not getattr(actor, "is_staff", False):
        return False
    req = order.request
    return acts_in(actor, actor.role, located(req.region_code), req.service_item.department or "")


def _staff_scope(actor: User):
    """`staff_sees` as a condition on Order, for the staff's "All orders" list."""
    requests = db.metadata.tables["service_request"]  # the requests feature sits above orders
    in_scope = (
        select(requests.c.id)
        .join(ServiceItem, ServiceItem.id == requests.c.service_item_id)
        .where(scope_condition(actor, actor.role, requests.c.region_code, ServiceItem.department))
    )
    return Order.request_id.in_(in_scope)


def get_order(actor: User | None, order_id: int) -> Order:
    actor = require_user(actor)
    order = db.session.get(Order, order_id)
    if order is None or not (is_party(actor, order) or staff_sees(actor, order)):
        raise NotFound(_l("No such order."))
    return order


# The payment status of orders (待付款 / 在途 / 已付清) for the order lists: the payments feature sits above orders
# and fills these in (payments/lists.py: condition(kind, at), statuses(order_ids), labels).
PAYMENT_FILTERS = ("due", "pending", "paid")
PAYMENT_HOOKS: dict[str, Any] = {}


def payment_statuses(order_ids: list[int]) -> dict[int, dict]:
    """`{order_id: {status, paid_fen, awaiting_fen, due_fen}}` of the accepted ones (empty without payments)."""
    statuses = PAYMENT_HOOKS.get("statuses")
    return statuses(order_ids) if statuses else {}


def orders_query(actor: User | None, status: str | None = None, payment: str | None = None):
    """The actor's orders, newest first; `payment` is one of PAYMENT_FILTERS (checked by the caller)."""
    actor = require_user(actor)
    stmt = select(Order).order_by(Order.id.desc())
    if actor.role == Role.AGENCY:
        stmt = stmt.where(Order.agency_id == (actor.agency.id if actor.agency else -1))
    elif actor.role == Role.ENTERPRISE:
        stmt = stmt.where(Order.enterprise_id == (actor.enterprise.id if actor.enterprise else -1))
    elif actor.role != Role.ADMIN:
        stmt = stmt.where(_staff_scope(actor))
    if status == "live":
        stmt = stmt.where(Order.status.in_(list(LIVE)))
    elif status in set(OrderStatus):
        stmt = stmt.where(Order.status == status)
    if payment is not None and "condition" in PAYMENT_HOOKS:
        stmt = stmt.where(PAYMENT_HOOKS["condition"](payment))
    return stmt


def live_due_soonest(actor: User | None, limit: int) -> tuple[list[Order], int]:
    """(the actor's `limit` live orders due soonest, with their requests and agencies; how many are live): a desk's
    panel, however many orders a busy client has under way."""
    live = orders_query(actor, "live").order_by(None)
    shown = db.session.scalars(
        live.order_by(Order.due_at.is_(None), Order.due_at, Order.id.desc())
        .options(selectinload(Order.request), selectinload(Order.agency))
        .limit(limit)
    )
    return list(shown), count_of(live)


def unstarted_orders_of(agency_id: int) -> list[Order]:
    stmt = select(Order).where(Order.agency_id == agency_id, Order.status == OrderStatus.AWAITING)
    return list(db.session.scalars(stmt.with_for_update()))


def order_for_request(request_id: int) -> Order | None:
    """The request's current order (declined or cancelled ones are history)."""
    stmt = select(Order).where(Order.request_id == request_id).order_by(Order.id.desc())
    return db.session.scalars(stmt).first()


def deadline_status(order: Order, at: datetime | None = None) -> str:
    """ok / yellow (80% of the promised time used) / red (overdue). Delivery stops the agency's clock."""
    if order.started_at is None or order.due_at is None:
        return "ok"
    end = order.delivered_at or at or now()
    if end > order.due_at:
        return "red"
    if order.delivered_at is not None:
        return "ok"
    used = (end - order.started_at) / (order.due_at - order.started_at)
    return "yellow" if used >= YELLOW_AT else "ok"


def days_left(order: Order) -> float | None:
    if order.due_at is None or order.delivered_at is not None:
        return None
    return round((order.due_at - now()).total_seconds() / 86400, 1)


# --- the parties' actions ---------------------------------------------------------------------------------


def _agency_order(actor: User | None, order_id: int) -> Order:
    return get_order(require_role(actor, Role.AGENCY), order_id)


def _enterprise_order(actor: User | None, order_id: int) -> Order:
    actor = require_role(actor, Role.ENTERPRISE)
    return get_order(actor, order_id)


def _event(
    order: Order, kind: str, actor, text: str | None = None, percent: int | None = None, files=None
) -> OrderEvent:
    event = OrderEvent(
        order=order, kind=kind, author_id=getattr(actor, "id", None), text=text, percent=percent, files=files
    )
    db.session.add(event)
    return event


def _text(text: str | None, low: int, high: int, field: str = "text") -> str:
    text = (text or "").strip()
    if not low <= len(text) <= high:
        message = _l("%(low)d to %(high)d characters.", low=low, high=high)
        raise Invalid(message, {field: [message]})
    return text


def contract_step() -> bool:
    """Does this market sign contracts on the platform (MARKET_CONTRACT_STEP, default on)?"""
    return bool(current_app.config.get("MARKET_CONTRACT_STEP", True))


def start(order: Order, actor, kind: str = "confirm") -> Order:
    """The service clock starts now: due after the promised days (the date the on-time rate counts against).
    `kind` names the history line: the agency's confirmation, or the signed contract's (contract_confirmed)."""
    at = now()
    due = at + timedelta(days=order.promised_days)
    _move(order, "confirm", actor, started_at=at, due_at=due, original_due_at=due, reckoned_due_at=due)
    _event(order, kind, actor)
    events.order_started.send(order, actor=actor)
    return order


def confirm(actor: User | None, order_id: int) -> Order:
    """The agency confirms the contract: the service clock starts now. With the contract step on, the clock
    starts instead when the signed contract is confirmed (orders/contracts.py)."""
    order = _agency_order(actor, order_id)
    if contract_step():
        raise WrongState(
            _l(
                "This market signs the contract on the platform: upload the signed contract or confirm the one uploaded."
            )
        )
    return start(order, actor)


def decline(actor: User | None, order_id: int, reason: str) -> Order:
    """Before starting, the agency may decline; the next-ranked bid takes its place (the request listens)."""
    order = _agency_order(actor, order_id)
    reason = _text(reason, 4, 500, "reason")
    _move(order, "decline", actor, status_reason=reason)
    _event(order, "decline", actor, text=reason)
    events.order_declined.send(order, reason=reason, actor=actor)
    return order


def report_progress(actor: User | None, order_id: int, text: str, percent: int | None = None) -> OrderEvent:
    order = _agency_order(actor, order_id)
    if order.status not in (OrderStatus.IN_PROGRESS, OrderStatus.DISPUTED):
        raise WrongState(_l("Progress can be reported only while the work is under way."))
    text = _text(text, 2, 2000)
    if percent is not None and (
        not isinstance(percent, int) or isinstance(percent, bool) or not 0 <= percent <= 100
    ):
        raise Invalid(_l("Progress is a percentage from 0 to 100."), {"percent": [_l("0 to 100.")]})
    event = _event(order, "progress", actor, text=text, percent=percent)
    db.session.flush()
    record(actor, "order.progress", order, after={"text": text, "percent": percent})
    return event


def deliver(
    actor: User | None, order_id: int, text: str, files: list[tuple[Any, str]] | None = None
) -> Order:
    """Hand over the work (with files): the acceptance window starts."""
    order = _agency_order(actor, order_id)
    text = _text(text, 2, 2000)
    # Check every file first and change the state before writing anything, so a refused delivery leaves no files.
    checked = [
        (*uploads.read_upload(stream, "files", uploads.DELIVERABLES), name) for stream, name in (files or [])
    ]
    _move(order, "deliver", actor, delivered_at=now())
    stored = [uploads.store(data, mime, name, UPLOAD_KIND) for data, mime, name in checked]
    _event(order, "deliver", actor, text=text, files=[s.__dict__ for s in stored])
    events.order_delivered.send(order, actor=actor)
    return order


def accept(actor: User | None, order_id: int) -> Order:
    order = _enterprise_order(actor, order_id)
    _move(order, "accept", actor, accepted_at=now())
    _event(order, "accept", actor)
    events.order_accepted.send(order, actor=actor, automatic=False)
    return order


def amend_contract(actor: User | None, order_id: int, amount_fen: int, reason: str) -> Order:
    """A supplementary agreement (补充协议) changes the contract amount. It is allowed — scopes change — but it is
    shown in the order's history and checked by the fee audit against the winning bid, the ceiling, the guide
    range and the money already paid, because this is where hidden fees hide."""
    order = _enterprise_order(actor, order_id)
    if order.status not in LIVE | {OrderStatus.ACCEPTED}:
        raise WrongState(_l("This order's contract can no longer be changed."))
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or not 0 < amount_fen <= MAX_FEN:
        error = _l("Enter the new contract amount.")
        raise Invalid(error, {"amount_fen": [error]})
    if amount_fen == order.amount_fen:
        error = _l("The new amount is the same as the current one.")
        raise Invalid(error, {"amount_fen": [error]})
    reason = _text(reason, 4, 500, "reason")
    before = order.amount_fen
    changed = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.amount_fen == before)
        .values(amount_fen=amount_fen, updated_at=now())
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise WrongState(_l("Someone else changed this at the same moment; please reload and try again."))
    db.session.refresh(order)
    line = message(AMENDED, before=Money(before), after=Money(amount_fen), reason=reason)
    _event(order, "amend", actor, text=line.encode())
    record(
        actor,
        "order.amend",
        order,
        before={"amount_fen": before},
        after={"amount_fen": amount_fen, "reason": reason},
    )
    events.contract_amended.send(order, before_fen=before, after_fen=amount_fen)
    return order


def dispute(actor: User | None, order_id: int, reason: str) -> Order:
    order = _enterprise_order(actor, order_id)
    reason = _text(reason, 4, 2000, "reason")
    _move(order, "dispute", actor, status_reason=reason, delivered_at=None)
    _event(order, "dispute", actor, text=reason)
    return order


def delivery_file(actor: User | None, order_id: int, key: str) -> dict:
    order = get_order(actor, order_id)
    for event in order.events:
        for f in event.files or []:
            if f["key"] == key:
                return f
    raise NotFound(_l("No such file."))


# --- the clock ------------------------------------------------------------------------------------------------


def auto_accept(order: Order, actor=None) -> bool:
    """Silence for the acceptance window after delivery means acceptance."""
    if order.status != OrderStatus.DELIVERED or order.delivered_at is None:
        return False
    limit = order.delivered_at + timedelta(seconds=current_app.config["MARKET_ACCEPTANCE_SECONDS"])
    if now() < limit:
        return False
    _move(order, "accept", actor, accepted_at=limit, auto_accepted=True)
    _event(order, "accept", actor, text=message(AUTO_ACCEPTED).encode())
    events.order_accepted.send(order, actor=actor, automatic=True)
    return True


def replace_unavailable_winner(order: Order, actor=None) -> bool:
    """A winner suspended or expelled (or blacklisted, credit grade E) before starting: the order is cancelled
    and the request moves on."""
    if order.status != OrderStatus.AWAITING:
        return False
    if order.agency.status == AgencyStatus.ACTIVE and credit_scores.barred(order.agency_id) is None:
        return False
    _move(order, "cancel", actor, status_reason=message(WINNER_UNAVAILABLE).encode())
    events.winner_withdrawn.send(order.request, order=order, why=message(WINNER_REPLACED), actor=actor)
    return True


def record_light(order: Order, actor=None) -> bool:
    """Record the yellow / red light that time has lit (statistics listen: red counts against on-time)."""
    flag = deadline_status(order)
    if flag == order.deadline_flag:
        return False
    before = order.deadline_flag
    record(
        actor,
        f"order.deadline_{flag}",
        order,
        before={"deadline_flag": before},
        after={"deadline_flag": flag},
    )
    order.deadline_flag = flag
    events.order_light_changed.send(order, before=before, after=flag)
    return True


def advance(order: Order, actor=None) -> bool:
    """Apply every transition time has made due for this order. Returns True if any. The caller commits."""
    changed = auto_accept(order, actor)
    changed = replace_unavailable_winner(order, actor) or changed
    return record_light(order, actor) or changed


def light_condition(at: datetime):
    """`deadline_status(order, at)` as an SQL expression ('ok' / 'yellow' / 'red'), the same rules."""
    started, due, delivered = Order.started_at, Order.due_at, Order.delivered_at
    red = or_(delivered.is_not(None) & (delivered > due), delivered.is_(None) & (due < at))
    used = epoch_seconds(started) + YELLOW_AT * (epoch_seconds(due) - epoch_seconds(started))
    return case(
        (started.is_(None) | due.is_(None), "ok"),
        (red, "red"),
        (delivered.is_not(None), "ok"),
        (used <= at.timestamp(), "yellow"),
        else_="ok",
    )


def due_order_ids() -> list[int]:
    """Orders the clock must act on now: deliveries past the acceptance window, unstarted orders whose winner
    became unavailable (suspended, expelled, black-listed or graded E), and work under way whose deadline light
    time has changed.

    Judged by the database, so that a pass costs the same with 15,000 orders under way and hundreds unstarted as
    with none (it read every order under way and locked every unstarted one on every pass: ~1 s of the clock's
    CPU each 5 s at 1,000,000 orders). `apply_due` judges each again, exactly, under the order's lock."""
    at = now()
    limit = at - timedelta(seconds=current_app.config["MARKET_ACCEPTANCE_SECONDS"])
    unavailable = select(Agency.id).where(
        Agency.id == Order.agency_id,
        or_(Agency.status != AgencyStatus.ACTIVE, credit_scores.barred_condition(Agency.id)),
    )
    # Three statements: on PostgreSQL the deliveries and the orders under way are each judged from
    # ix_service_order_status_due alone (its columns), an index-only scan; ORed together they were a bitmap scan
    # reading every delivered order's row (~5,000 at 1,000,000 orders, ~75 ms a pass).
    delivered = select(Order.id).where(Order.status == OrderStatus.DELIVERED, Order.delivered_at <= limit)
    stranded = select(Order.id).where(Order.status == OrderStatus.AWAITING, unavailable.exists())
    under_way = select(Order.id).where(
        Order.status.in_([OrderStatus.IN_PROGRESS, OrderStatus.DISPUTED]),
        Order.deadline_flag != light_condition(at),
    )
    return sorted({id_ for stmt in (delivered, stranded, under_way) for id_ in db.session.scalars(stmt)})


def apply_due(order_id: int) -> bool:
    """The clock's step for one order, under its row lock."""
    order = db.session.scalar(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    )
    return order is not None and advance(order)
