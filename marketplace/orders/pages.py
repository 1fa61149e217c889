"""The order page, drawn for its own route and again by the POSTs that failed (with their form and errors)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template

from marketplace.auth.current import web_actor
from marketplace.auth.models import User
from marketplace.auth.policy import order_role
from marketplace.common.money import fen_to_yuan
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.forms import (
    ActionForm,
    ContractForm,
    DeliverForm,
    ExtensionForm,
    ProgressForm,
    ReasonForm,
)
from marketplace.orders.models import (
    CONTRACT_STATUS_LABELS,
    EXTENSION_STATUS_LABELS,
    LIVE,
    ContractStatus,
    ExtensionStatus,
    Order,
    OrderStatus,
)


def party_role(actor, order: Order) -> str | None:
    return order_role(actor, order)


def _contract_form(order: Order) -> ContractForm:
    form = ContractForm(formdata=None)
    form.amount.data = f"{fen_to_yuan(order.amount_fen)}"
    return form


def contract_context(order: Order, forms: dict) -> dict:
    """What the contract and extension panels show and offer."""
    contract = order.contract
    can_upload = (
        services.contract_step()
        and order.status == OrderStatus.AWAITING
        and (contract is None or contract.status == ContractStatus.REJECTED)
    )
    pending_extension = next((e for e in order.extensions if e.status == ExtensionStatus.PENDING), None)
    return {
        "contract_step": services.contract_step(),
        "contract": contract,
        "contract_history": [c for c in order.contracts if c is not contract],
        "contract_labels": CONTRACT_STATUS_LABELS,
        "can_upload_contract": can_upload,
        "contract_form": forms.get("contract") or _contract_form(order),
        "contract_reject_form": forms.get("contract_reject") or ReasonForm(formdata=None),
        "extension_labels": EXTENSION_STATUS_LABELS,
        "pending_extension": pending_extension,
        "extension_form": forms.get("extension") or ExtensionForm(formdata=None),
        "extension_reject_form": forms.get("extension_reject") or ReasonForm(formdata=None),
        "extended": order.original_due_at is not None and order.due_at != order.original_due_at,
    }


def render_detail(order_id: int, forms: dict | None = None):
    """The order page; failed POSTs re-render it with their form and its errors."""
    actor = web_actor()
    order = services.get_order(actor, order_id)
    forms = forms or {}
    authors = {
        e.author_id: (db.session.get(User, e.author_id).org_name if e.author_id else None)
        for e in order.events
    }
    progress = [e.percent for e in order.events if e.kind == "progress" and e.percent is not None]
    auto_accept_at = (
        order.delivered_at + timedelta(seconds=current_app.config["MARKET_ACCEPTANCE_SECONDS"])
        if order.status == OrderStatus.DELIVERED and order.delivered_at
        else None
    )
    return render_template(
        "orders/detail.html",
        order=order,
        req=order.request,
        role=party_role(actor, order),
        flag=services.deadline_status(order),
        days=services.days_left(order),
        authors=authors,
        percent=100
        if order.status in (OrderStatus.DELIVERED, OrderStatus.ACCEPTED)
        else (progress[-1] if progress else None),
        auto_accept_at=auto_accept_at,
        live=order.status in LIVE,
        action=ActionForm(formdata=None),
        decline_form=forms.get("decline") or ReasonForm(formdata=None),
        dispute_form=forms.get("dispute") or ReasonForm(formdata=None),
        progress_form=forms.get("progress") or ProgressForm(formdata=None),
        deliver_form=forms.get("deliver") or DeliverForm(formdata=None),
        **contract_context(order, forms),
    )
