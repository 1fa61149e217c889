"""The order page's payment panel and its forms: record a bank transfer, pay online, confirm or reject."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from marketplace.auth.current import web_actor
from marketplace.auth.models import Role
from marketplace.common import uploads
from marketplace.common.clock import now
from marketplace.common.errors import DomainError
from marketplace.common.money import fen_to_yuan, format_fen, yuan_to_fen
from marketplace.common.web import ask_confirmation, confirmed, form_errors_from
from marketplace.extensions import db
from marketplace.orders.forms import ActionForm, ReasonForm
from marketplace.orders.models import OrderStatus
from marketplace.orders.views import render_detail
from marketplace.payments import services
from marketplace.payments.forms import OfflinePaymentForm
from marketplace.payments.models import METHOD_LABELS, STATUS_LABELS, PaymentMethod, PaymentStatus
from marketplace.payments.services import LEDGER_LABELS

bp = Blueprint("payments", __name__)


def blueprints():
    return [bp]


def _role(actor, order) -> str | None:
    if actor is None:
        return None
    if actor.role == Role.ENTERPRISE and actor.enterprise and actor.enterprise.id == order.enterprise_id:
        return "enterprise"
    if actor.role == Role.AGENCY and actor.agency and actor.agency.id == order.agency_id:
        return "agency"
    return "admin" if actor.is_admin else None


@bp.app_template_global()
def payment_panel(order) -> dict:
    """What the order page shows and offers about paying it, for the current user."""
    payments = services.payments_of(order.id)
    book = services.ledger(order, payments)
    role = _role(web_actor(), order)
    form = g.get("offline_payment_form")
    if form is None:
        form = OfflinePaymentForm(formdata=None)
        form.amount.data = f"{fen_to_yuan(book.payable_fen)}" if book.payable_fen else ""
    return {
        "ledger": book,
        "payments": payments,
        "role": role,
        "can_pay": role == "enterprise" and order.status == OrderStatus.ACCEPTED and book.payable_fen > 0,
        # the agency's bank details, for the paying enterprise's transfer only (never anyone else)
        "payee": services.payee_of(order) if role == "enterprise" else None,
        "stripe": services.stripe_enabled(),
        "form": form,
        "action": ActionForm(formdata=None),
        "reject_form": ReasonForm(formdata=None),
        "status_labels": STATUS_LABELS,
        "method_labels": METHOD_LABELS,
        "panel_status": services.panel_status(book, payments),
        "ledger_label": LEDGER_LABELS[services.panel_status(book, payments)],
        "stripe_return": request.args.get("stripe"),
        "now": now(),
    }


def _back(order_id: int):
    return redirect(url_for("orders.detail", order_id=order_id) + "#payments")


@bp.route("/orders/<int:order_id>/payments/offline", methods=["POST"])
@login_required
def record_offline(order_id: int):
    form = OfflinePaymentForm()
    if form.validate_on_submit():
        amount = None
        raw = (form.amount.data or "").strip()
        try:
            amount = yuan_to_fen(raw) if raw else None
        except ValueError:
            form.amount.errors = [*form.amount.errors, _("Enter an amount in yuan, e.g. 12000 or 12,000.50.")]
        if not form.amount.errors:
            upload = form.voucher.data
            voucher = (upload.stream, upload.filename) if upload and upload.filename else None
            try:
                services.record_offline(
                    web_actor(), order_id, reference=form.reference.data, amount_fen=amount, voucher=voucher
                )
            except DomainError as exc:
                db.session.rollback()  # release the order row before the page is drawn again
                form_errors_from(exc, form, {"amount_fen": "amount"})
                flash(str(exc.message), "danger")
            else:
                flash(_("Transfer recorded. The agency confirms it when the money arrives."), "success")
                return _back(order_id)
    g.offline_payment_form = form
    return render_detail(order_id)


@bp.route("/orders/<int:order_id>/payments/stripe", methods=["POST"])
@login_required
def pay_online(order_id: int):
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return _back(order_id)
    try:
        payment = services.start_checkout(web_actor(), order_id)
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _back(order_id)
    return redirect(payment.checkout_url, code=303)


@bp.route("/payments/<int:payment_id>/confirm", methods=["POST"])
@login_required
def confirm(payment_id: int):
    payment = services.get_payment(web_actor(), payment_id)
    if ActionForm().validate_on_submit():
        if not confirmed() and _confirmable(payment):
            return _confirm_receipt(payment)
        try:
            services.confirm_offline(web_actor(), payment_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("Receipt confirmed."), "success")
    return _back(payment.order_id)


def _confirmable(payment) -> bool:
    """Only the payee confirms a transfer awaiting confirmation; anyone else is refused by the service."""
    actor = web_actor()
    return (
        payment.method == PaymentMethod.OFFLINE
        and payment.status == PaymentStatus.SUBMITTED
        and actor.agency is not None
        and payment.order.agency_id == actor.agency.id
    )


def _confirm_receipt(payment):
    """确认收款 asks first: the amount, the payer, the transfer's reference, and that it counts at once."""
    facts = [
        (_("Order"), _("Order #%(id)d", id=payment.order_id)),
        (_("Payer"), payment.order.enterprise.name),
        (_("Payment method"), str(METHOD_LABELS[payment.method])),
        (_("Amount"), format_fen(payment.amount_fen)),
    ]
    if payment.reference:
        facts.append((_("Transfer reference"), payment.reference))
    return ask_confirmation(
        title=_("Confirm that %(amount)s arrived?", amount=format_fen(payment.amount_fen)),
        facts=facts,
        consequences=[
            _(
                "The amount counts as received at once and is shown as paid to the owner and in the fee audit."
            ),
            _("A confirmed receipt cannot be withdrawn; check your bank account first."),
        ],
        back_url=url_for("orders.detail", order_id=payment.order_id),
        button=_("Confirm receipt of %(amount)s", amount=format_fen(payment.amount_fen)),
    )


@bp.route("/payments/<int:payment_id>/reject", methods=["POST"])
@login_required
def reject(payment_id: int):
    payment = services.get_payment(web_actor(), payment_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            services.reject_offline(web_actor(), payment_id, form.reason.data)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("The transfer is marked as not received; the owner sees your reason."), "success")
    return _back(payment.order_id)


@bp.route("/payments/<int:payment_id>/voucher")
@login_required
def voucher(payment_id: int):
    meta = services.voucher_file(web_actor(), payment_id)
    try:
        path = uploads.upload_path(services.UPLOAD_KIND, meta["key"])
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=meta.get("mime"), download_name=meta.get("name"), as_attachment=True)
