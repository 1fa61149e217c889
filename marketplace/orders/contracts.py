"""The signed contract (合同) between publicity and work, and extensions of the due date (延期).

With the contract step on (MARKET_CONTRACT_STEP, the default) an order created after publicity waits for its
contract: either party uploads the contract both signed (a PDF, with its code, amount and term), the other party
confirms it — the service clock starts at that moment — or rejects it with a reason, and a corrected one may be
uploaded. The agency may still decline the order before a contract is confirmed. The public sees confirmed
contracts' parties, amount and dates (合同公告), never the file.

An agency that needs more time asks for a new due date with a reason; the enterprise approves or refuses. The
original due date stays on the order; the on-time rate counts against it unless the extension was approved
before the due date then in force had passed (`Order.reckoned_due_at`). The deadline lights follow the current
due date.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import events
from marketplace.audit.services import record
from marketplace.audit.transitions import move
from marketplace.auth.models import Role, User
from marketplace.auth.policy import IsOrderParty, acts_in, order_role
from marketplace.auth.services import require_user
from marketplace.common import uploads
from marketplace.common.clock import LOCAL_TZ, now
from marketplace.common.errors import Invalid, NotAllowed, NotFound, WrongState, invalid_fields
from marketplace.common.money import MAX_FEN, format_fen
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import (
    CONTRACT_TRANSITIONS,
    EXTENSION_TRANSITIONS,
    SIDES,
    Contract,
    ContractStatus,
    Extension,
    ExtensionStatus,
    Order,
    OrderEvent,
    OrderStatus,
)

UPLOAD_KIND = "contracts"
PDF = "application/pdf"
MAX_TERM_DAYS = 5 * 366  # a contract's term longer than this is a typing mistake
MAX_EXTENSION_DAYS = 366
WORKING = frozenset(
    {OrderStatus.IN_PROGRESS, OrderStatus.DISPUTED}
)  # the clock runs; the work is not handed over


def _locked_order(actor: User | None, order_id: int) -> Order:
    """The order, if the actor is a party (or an administrator), under its row lock."""
    services.get_order(actor, order_id)
    return db.session.scalar(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    )


def _side(actor: User, order: Order) -> str:
    side = order_role(actor, order)
    if side not in SIDES:
        raise NotAllowed(_l("Only the owner and the agency of this order can do this."))
    return side


def _event(order: Order, kind: str, actor, text: str | None = None, files=None) -> None:
    db.session.add(
        OrderEvent(order=order, kind=kind, author_id=getattr(actor, "id", None), text=text, files=files)
    )


def _reason(reason: Any, field: str = "reason") -> str:
    return services._text(reason if isinstance(reason, str) else None, 4, 500, field)


# --- the contract -----------------------------------------------------------------------------------------------


def check_terms(order: Order, code: Any, amount_fen: Any, start_date: Any, end_date: Any) -> dict[str, Any]:
    """The contract's code, amount and term, or Invalid naming every wrong field."""
    errors: dict[str, list] = {}
    code = code.strip() if isinstance(code, str) else ""
    if not 2 <= len(code) <= 60:
        errors["code"] = [_l("Enter the contract's number (2 to 60 characters).")]
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or not 0 < amount_fen <= MAX_FEN:
        errors["amount_fen"] = [_l("Enter the contract amount.")]
    elif amount_fen > order.request.ceiling_fen:
        errors["amount_fen"] = [_l("The contract amount is above the ceiling price.")]
    elif amount_fen != order.amount_fen:
        # The contract carries the awarded price; a change of price is a supplementary agreement, recorded on the
        # order (and audited) before the contract that carries it is uploaded.
        errors["amount_fen"] = [
            _l(
                "The contract amount must be the awarded price, %(amount)s (a changed price is recorded first as a "
                "supplementary agreement).",
                amount=format_fen(order.amount_fen),
            )
        ]
    if not isinstance(start_date, date):
        errors["start_date"] = [_l("Enter the start date.")]
    if not isinstance(end_date, date):
        errors["end_date"] = [_l("Enter the end date.")]
    if isinstance(start_date, date) and isinstance(end_date, date):
        today = now().astimezone(LOCAL_TZ).date()
        if end_date < start_date:
            errors["end_date"] = [_l("The end date cannot be before the start date.")]
        elif (end_date - start_date).days > MAX_TERM_DAYS:
            errors["end_date"] = [_l("The contract's term is longer than five years.")]
        if abs((start_date - today).days) > 366:
            errors["start_date"] = [_l("The start date must be within a year of today.")]
    if errors:
        raise invalid_fields(errors)
    return {"code": code, "amount_fen": amount_fen, "start_date": start_date, "end_date": end_date}


def upload_contract(
    actor: User | None, order_id: int, terms: dict[str, Any], file: tuple[Any, str | None] | None
) -> Contract:
    """Either party uploads the contract both signed; the other party then confirms or rejects it."""
    actor = require_user(actor)
    order = _locked_order(actor, order_id)
    side = _side(actor, order)
    if not services.contract_step():
        raise WrongState(_l("This market signs contracts off the platform: the agency confirms the order."))
    if order.status != OrderStatus.AWAITING:
        raise WrongState(_l("The contract is uploaded before the work starts."))
    current = order.contract
    if current is not None and current.status != ContractStatus.REJECTED:
        raise WrongState(_l("A contract is already waiting for confirmation."))
    clean = check_terms(order, *(terms.get(k) for k in ("code", "amount_fen", "start_date", "end_date")))
    if file is None or file[0] is None:
        message = _l("Upload the signed contract (PDF).")
        raise Invalid(message, {"file": [message]})
    data, mime = uploads.read_upload(file[0], "file")
    if mime != PDF:
        message = _l("The signed contract must be a PDF file.")
        raise Invalid(message, {"file": [message]})
    stored = uploads.store(data, mime, file[1] or "contract.pdf", UPLOAD_KIND)
    contract = Contract(
        order=order,
        **clean,
        file_key=stored.key,
        file_name=stored.name,
        file_mime=stored.mime,
        file_size=stored.size,
        uploaded_by=side,
        uploader_id=actor.id,
        status=ContractStatus.PENDING,
    )
    db.session.add(contract)
    _event(order, "contract", actor, text=clean["code"])
    db.session.flush()
    record(
        actor,
        "contract.upload",
        contract,
        after={k: v.isoformat() if isinstance(v, date) else v for k, v in clean.items()} | {"side": side},
    )
    events.contract_uploaded.send(contract, actor=actor)
    return contract


def _pending_contract(actor: User | None, order_id: int) -> tuple[User, Order, Contract]:
    actor = require_user(actor)
    order = _locked_order(actor, order_id)
    side = _side(actor, order)
    contract = order.contract
    if contract is None or contract.status != ContractStatus.PENDING:
        raise WrongState(_l("There is no contract waiting for confirmation."))
    if side != contract.confirmer_side:
        raise NotAllowed(_l("The other party confirms the contract you uploaded."))
    return actor, order, contract


def confirm_contract(actor: User | None, order_id: int) -> Contract:
    """The other party confirms the uploaded contract: the order starts and the service clock runs from now."""
    actor, order, contract = _pending_contract(actor, order_id)
    if order.status != OrderStatus.AWAITING:
        raise WrongState(_l("The contract is uploaded before the work starts."))
    if contract.amount_fen != order.amount_fen:  # a supplementary agreement changed the price meanwhile
        raise WrongState(
            _l(
                "The order's amount changed after this contract was uploaded; reject it and upload one with the new amount."
            )
        )
    move(
        contract,
        CONTRACT_TRANSITIONS,
        "confirm",
        actor,
        audit_prefix="contract",
        decided_at=now(),
        decided_by_id=actor.id,
    )
    services.start(order, actor, kind="contract_confirmed")
    events.contract_confirmed.send(contract, actor=actor)
    return contract


def reject_contract(actor: User | None, order_id: int, reason: Any) -> Contract:
    """The other party refuses the uploaded contract with a reason; a corrected one may be uploaded."""
    actor, order, contract = _pending_contract(actor, order_id)
    reason = _reason(reason)
    move(
        contract,
        CONTRACT_TRANSITIONS,
        "reject",
        actor,
        audit_prefix="contract",
        reason=reason,
        decided_at=now(),
        decided_by_id=actor.id,
    )
    _event(order, "contract_rejected", actor, text=reason)
    events.contract_rejected.send(contract, reason=reason, actor=actor)
    return contract


def may_read_contract(actor: User | None, order: Order) -> bool:
    """The two parties, and staff who oversee the order's region (operators, supervisors)."""
    if IsOrderParty(actor, order):
        return True
    region = order.request.region_code
    return any(acts_in(actor, role, region) for role in (Role.OPERATOR, Role.SUPERVISOR))


def contract_file(actor: User | None, order_id: int, contract_id: int) -> Contract:
    actor = require_user(actor)
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.order_id != order_id or not may_read_contract(actor, contract.order):
        raise NotFound(_l("No such file."))
    return contract


def public_contracts_query():
    """The 合同公告: confirmed contracts, the latest first (parties, amount and dates; never the file)."""
    return (
        select(Contract)
        .where(Contract.status == ContractStatus.CONFIRMED)
        .order_by(Contract.decided_at.desc(), Contract.id.desc())
    )


# --- extensions (延期) --------------------------------------------------------------------------------------------


def end_of_day(day: date) -> datetime:
    """A due date typed as a day means the end of that day in Beijing."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL_TZ).astimezone(now().tzinfo)


def request_extension(actor: User | None, order_id: int, due_date: Any, reason: Any) -> Extension:
    """The agency asks for a later due date, with a reason; the owner decides."""
    actor = require_user(actor)
    order = _locked_order(actor, order_id)
    if _side(actor, order) != "agency":
        raise NotAllowed(_l("Only the agency asks for more time."))
    if order.status not in WORKING or order.due_at is None:
        raise WrongState(_l("More time can be asked for only while the work is under way."))
    if any(e.status == ExtensionStatus.PENDING for e in order.extensions):
        raise WrongState(_l("An extension request is already waiting for the owner."))
    errors: dict[str, list] = {}
    new_due = None
    if not isinstance(due_date, date):
        errors["due_date"] = [_l("Enter the new due date.")]
    else:
        new_due = end_of_day(due_date)
        if new_due <= order.due_at or new_due <= now():
            errors["due_date"] = [_l("The new due date must be later than the current one.")]
        elif new_due - order.due_at > timedelta(days=MAX_EXTENSION_DAYS):
            errors["due_date"] = [_l("An extension can add at most a year.")]
    try:
        reason = _reason(reason)
    except Invalid as exc:
        errors |= exc.errors
    if errors:
        raise invalid_fields(errors)
    extension = Extension(
        order=order,
        requested_by_id=actor.id,
        due_before=order.due_at,
        due_at=new_due,
        reason=reason,
        status=ExtensionStatus.PENDING,
    )
    db.session.add(extension)
    _event(order, "extension", actor, text=reason)
    db.session.flush()
    record(actor, "extension.request", extension, after={"due_at": new_due.isoformat(), "reason": reason})
    events.extension_requested.send(extension, actor=actor)
    return extension


def _pending_extension(actor: User | None, order_id: int, extension_id: int) -> tuple[User, Order, Extension]:
    actor = require_user(actor)
    order = _locked_order(actor, order_id)
    extension = db.session.get(Extension, extension_id)
    if extension is None or extension.order_id != order.id:
        raise NotFound(_l("No such extension request."))
    if _side(actor, order) != "enterprise":
        raise NotAllowed(_l("The owner decides on extensions."))
    if extension.status != ExtensionStatus.PENDING:
        raise WrongState(_l("This extension request has already been decided."))
    return actor, order, extension


def approve_extension(actor: User | None, order_id: int, extension_id: int) -> Extension:
    """The owner agrees: the due date moves. Approved before the date in force passed, the on-time rate counts
    against the new date too; approved later, the order stays late against the date it missed."""
    actor, order, extension = _pending_extension(actor, order_id, extension_id)
    if order.status not in WORKING:
        raise WrongState(_l("The work has been handed over; its due date no longer changes."))
    at = now()
    in_time = at <= order.on_time_due_at
    move(
        extension,
        EXTENSION_TRANSITIONS,
        "approve",
        actor,
        audit_prefix="extension",
        decided_at=at,
        decided_by_id=actor.id,
        in_time=in_time,
    )
    before = {"due_at": order.due_at.isoformat(), "reckoned_due_at": order.on_time_due_at.isoformat()}
    order.original_due_at = order.original_due_at or order.due_at
    order.reckoned_due_at = extension.due_at if in_time else order.on_time_due_at
    order.due_at = extension.due_at
    db.session.flush()
    record(
        actor,
        "order.extend",
        order,
        before=before,
        after={"due_at": order.due_at.isoformat(), "reckoned_due_at": order.reckoned_due_at.isoformat()},
    )
    _event(order, "extension_approved", actor)
    services.record_light(order, actor)  # the light follows the current due date at once
    events.extension_decided.send(extension, approved=True, actor=actor)
    return extension


def reject_extension(actor: User | None, order_id: int, extension_id: int, reason: Any = None) -> Extension:
    """The owner refuses (a reason is optional); the due date stays."""
    actor, order, extension = _pending_extension(actor, order_id, extension_id)
    reason = _reason(reason) if isinstance(reason, str) and reason.strip() else None
    move(
        extension,
        EXTENSION_TRANSITIONS,
        "reject",
        actor,
        audit_prefix="extension",
        decision_reason=reason,
        decided_at=now(),
        decided_by_id=actor.id,
    )
    _event(order, "extension_rejected", actor, text=reason)
    events.extension_decided.send(extension, approved=False, actor=actor)
    return extension
