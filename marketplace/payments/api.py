"""/api/v1/orders/{id}/payments, /api/v1/payments/…: paying an accepted order, and Stripe's webhook."""

import marshmallow as ma
from flask import request, send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.common import uploads
from marketplace.common.errors import Invalid, NotFound, invalid_fields
from marketplace.extensions import limiter
from marketplace.payments import services, webhooks
from marketplace.payments.schemas import (
    PaymentIn,
    PaymentMultipartIn,
    PaymentOut,
    RejectIn,
    WebhookOut,
)

bp = Blueprint("payments-api", __name__, url_prefix="/api/v1", description="Payments")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


def _payment_input() -> tuple[dict, tuple | None]:
    """JSON, or multipart/form-data when a voucher file comes along."""
    if request.mimetype == "multipart/form-data":
        raw = {k: request.form[k] for k in ("method", "reference", "amount_fen") if request.form.get(k)}
        raw.setdefault("method", "offline")
        if "amount_fen" in raw and raw["amount_fen"].strip().lstrip("-").isdigit():
            raw["amount_fen"] = int(raw["amount_fen"])
        upload = request.files.get("voucher")
        voucher = (upload.stream, upload.filename) if upload is not None and upload.filename else None
    else:
        raw, voucher = request.get_json(silent=True), None
        if not isinstance(raw, dict):
            raise Invalid(_l("Send a JSON object (or multipart/form-data with a voucher file)."))
    try:
        return PaymentIn().load(raw), voucher
    except ma.ValidationError as exc:
        raise invalid_fields(exc.messages) from exc


@bp.post("/orders/<int:order_id>/payments")
@bp.response(201, PaymentOut)
@bp.doc(
    security=BEARER,
    requestBody={
        "content": {
            "application/json": {"schema": PaymentIn},
            "multipart/form-data": {"schema": PaymentMultipartIn},
        }
    },
)
def pay(order_id):
    """Enterprise: pay an accepted order. `offline`: a bank transfer with its reference (and a voucher file,
    sent as multipart/form-data), awaiting the agency's confirmation. `stripe`: opens a Stripe Checkout Session;
    send the payer to `checkout_url` (409 when online payment is not enabled). The amount defaults to what is
    still payable and may never exceed it (422)."""
    data, voucher = _payment_input()
    if data["method"] == "stripe":
        return services.start_checkout(api_actor(), order_id, data["amount_fen"])
    return services.record_offline(
        api_actor(), order_id, reference=data["reference"], amount_fen=data["amount_fen"], voucher=voucher
    )


@bp.get("/orders/<int:order_id>/payments")
@bp.response(200, PaymentOut(many=True))
@bp.doc(security=BEARER)
def order_payments(order_id):
    """The order's payments, oldest first (the two parties and administrators)."""
    return services.order_payments(api_actor(), order_id)[1]


class PayeeOut(ma.Schema):
    agency_name = ma.fields.String()
    bank_name = ma.fields.String(allow_none=True, metadata={"description": "开户行"})
    account_name = ma.fields.String(allow_none=True, metadata={"description": "户名"})
    account_no = ma.fields.String(allow_none=True, metadata={"description": "账号"})


@bp.get("/orders/<int:order_id>/payee")
@bp.response(200, PayeeOut)
@bp.doc(security=BEARER)
def payee(order_id):
    """The order's enterprise only: the agency's bank details for a transfer (null where not yet given)."""
    return services.payee(api_actor(), order_id)


@bp.get("/payments/<int:payment_id>")
@bp.response(200, PaymentOut)
@bp.doc(security=BEARER)
def get(payment_id):
    return services.get_payment(api_actor(), payment_id)


@bp.post("/payments/<int:payment_id>/confirm")
@bp.response(200, PaymentOut)
@bp.doc(security=BEARER)
def confirm(payment_id):
    """Agency: the bank transfer arrived; the payment counts as received."""
    return services.confirm_offline(api_actor(), payment_id)


@bp.post("/payments/<int:payment_id>/reject")
@bp.arguments(RejectIn)
@bp.response(200, PaymentOut)
@bp.doc(security=BEARER)
def reject(data, payment_id):
    """Agency: the bank transfer did not arrive (reason, 4–500 characters); the amount is payable again."""
    return services.reject_offline(api_actor(), payment_id, data["reason"])


@bp.get("/payments/<int:payment_id>/voucher")
@bp.doc(security=BEARER)
def voucher(payment_id):
    """The transfer voucher file (the two parties and administrators)."""
    meta = services.voucher_file(api_actor(), payment_id)
    path = uploads.upload_path(services.UPLOAD_KIND, meta["key"])
    if not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=meta["mime"], download_name=meta["name"], as_attachment=True)


@bp.post("/payments/stripe/webhook")
@limiter.exempt
@bp.response(200, WebhookOut)
@bp.doc(security=[])
def stripe_webhook():
    """Stripe's events, verified with the `Stripe-Signature` header (400 when it is missing or wrong) and
    applied once: a replay is acknowledged and changes nothing."""
    outcome = webhooks.receive(request.get_data(), request.headers.get("Stripe-Signature"))
    return {"received": True, "outcome": outcome}
