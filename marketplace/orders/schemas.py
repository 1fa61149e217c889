from collections.abc import Callable
from typing import Any

import marshmallow as ma

from marketplace.common.messages import Said

# What features above orders add to an order's JSON, each a function of the order returning fields (payments adds
# its ledger: payments/schemas.py). Orders sit below payments, so the payments feature registers itself here.
ORDER_FACTS: list[Callable[[Any], dict]] = []


def order_facts(provide: Callable[[Any], dict]) -> Callable[[Any], dict]:
    """Register `provide(order) -> dict` as a source of fields for OrderOut (once)."""
    if provide not in ORDER_FACTS:
        ORDER_FACTS.append(provide)
    return provide


class EventOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    text = Said(allow_none=True)
    percent = ma.fields.Integer(allow_none=True)
    files = ma.fields.Method("_files")
    at = ma.fields.AwareDateTime()

    def _files(self, event):
        from flask import url_for

        return [
            {
                "name": f["name"],
                "size": f["size"],
                "url": url_for("orders-api.file", order_id=event.order_id, key=f["key"]),
            }
            for f in event.files or []
        ]


class OrderOut(ma.Schema):
    id = ma.fields.Integer()
    request_id = ma.fields.Integer()
    request_title = ma.fields.Function(lambda o: o.request.title)
    bid_id = ma.fields.Integer()
    enterprise_id = ma.fields.Integer()
    enterprise_name = ma.fields.Function(lambda o: o.enterprise.name)
    agency_id = ma.fields.Integer()
    agency_name = ma.fields.Function(lambda o: o.agency.name)
    amount_fen = ma.fields.Integer()
    promised_days = ma.fields.Integer()
    status = ma.fields.Function(lambda o: o.status.value)
    status_reason = Said(allow_none=True)
    started_at = ma.fields.AwareDateTime(allow_none=True)
    due_at = ma.fields.AwareDateTime(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    auto_accepted = ma.fields.Boolean()
    deadline_status = ma.fields.Method("_deadline")
    days_left = ma.fields.Method("_days_left")
    events = ma.fields.List(ma.fields.Nested(EventOut))
    # Filled in from ORDER_FACTS (the payments feature's ledger, from one read of the order's payments); the
    # nested schema is named, not imported, because payments sits above orders.
    paid_fen = ma.fields.Integer(dump_only=True, metadata={"description": "received, net of refunds"})
    outstanding_fen = ma.fields.Integer(dump_only=True, metadata={"description": "contract − paid"})
    payment_status = ma.fields.String(dump_only=True, metadata={"description": "unpaid, partial or paid"})
    payments = ma.fields.List(ma.fields.Nested("PaymentOut"), dump_only=True)

    @ma.post_dump(pass_original=True)
    def _facts(self, data, order, **kwargs):
        for provide in ORDER_FACTS:
            data.update(provide(order))
        return data

    def _deadline(self, o):
        from marketplace.orders.services import deadline_status

        return deadline_status(o)

    def _days_left(self, o):
        from marketplace.orders.services import days_left

        return days_left(o)


class OrderListQuery(ma.Schema):
    status = ma.fields.String(load_default=None, metadata={"description": "live, or one status"})


class TextIn(ma.Schema):
    text = ma.fields.String(required=True)
    percent = ma.fields.Integer(load_default=None, strict=True)


class OrderReasonIn(ma.Schema):
    reason = ma.fields.String(required=True)


class AmendIn(ma.Schema):
    amount_fen = ma.fields.Integer(required=True, strict=True)
    reason = ma.fields.String(required=True)
