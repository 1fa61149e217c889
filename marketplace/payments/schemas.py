"""Payments' JSON, and the money fields of every order's JSON (registered with orders/schemas.py ORDER_FACTS
when this module is imported, which the app does when it registers the payments API)."""

import marshmallow as ma
from marshmallow.validate import OneOf

from marketplace.common.messages import Said
from marketplace.orders.schemas import order_facts
from marketplace.payments import lists
from marketplace.payments.services import ledger, payments_of

lists.register()  # the order lists' payment column and filter (orders/services.py PAYMENT_HOOKS)


class PaymentIn(ma.Schema):
    method = ma.fields.String(required=True, validate=OneOf(["offline", "stripe"]))
    reference = ma.fields.String(
        load_default=None, metadata={"description": "offline: the bank transfer reference (4–64 characters)"}
    )
    amount_fen = ma.fields.Integer(
        load_default=None,
        strict=True,
        metadata={"description": "default: everything still payable (contract − paid − awaiting)"},
    )


class PaymentMultipartIn(PaymentIn):
    voucher = ma.fields.Raw(metadata={"type": "string", "format": "binary", "description": "PDF, JPG or PNG"})


class RejectIn(ma.Schema):
    reason = ma.fields.String(required=True)


class PaymentOut(ma.Schema):
    id = ma.fields.Integer()
    payment_id = ma.fields.Function(lambda p: p.id, metadata={"description": "the same as id"})
    order_id = ma.fields.Integer()
    method = ma.fields.Function(lambda p: p.method.value)
    status = ma.fields.Function(lambda p: p.status.value)
    amount_fen = ma.fields.Integer()
    refunded_fen = ma.fields.Integer()
    reference = ma.fields.String(allow_none=True)
    voucher = ma.fields.Method("_voucher")
    checkout_url = ma.fields.Method(
        "_checkout_url",
        metadata={"description": "Stripe: the hosted payment page, while the session is open"},
    )
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    paid_at = ma.fields.AwareDateTime(allow_none=True)
    status_reason = Said(allow_none=True)
    created_at = ma.fields.AwareDateTime()

    def _voucher(self, payment):
        from flask import url_for

        if not payment.voucher:
            return None
        return {
            "name": payment.voucher["name"],
            "size": payment.voucher["size"],
            "mime": payment.voucher["mime"],
            "url": url_for("payments-api.voucher", payment_id=payment.id),
        }

    def _checkout_url(self, payment):
        return payment.checkout_url if payment.status.value == "pending" else None


class WebhookOut(ma.Schema):
    received = ma.fields.Boolean()
    outcome = ma.fields.String()


@order_facts
def order_money(order) -> dict:
    """The money fields of an order's JSON (orders/schemas.py OrderOut): what was paid, what is outstanding, and
    every payment."""
    payments = payments_of(order.id)
    book = ledger(order, payments)
    return {
        "paid_fen": book.paid_fen,
        "outstanding_fen": book.outstanding_fen,
        "payment_status": book.status,
        "payments": PaymentOut(many=True).dump(payments),
    }
