from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow.validate import OneOf

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


class ContractOut(ma.Schema):
    """The contract as its parties (and staff) see it, with the link to the signed file."""

    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    code = ma.fields.String()
    amount_fen = ma.fields.Integer()
    start_date = ma.fields.Date()
    end_date = ma.fields.Date()
    uploaded_by = ma.fields.String(metadata={"description": "enterprise or agency"})
    status = ma.fields.Function(
        lambda c: c.status.value, metadata={"description": "pending, confirmed, rejected"}
    )
    reason = ma.fields.String(allow_none=True)
    uploaded_at = ma.fields.AwareDateTime(attribute="created_at")
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    confirmed_at = ma.fields.AwareDateTime(allow_none=True)
    file_name = ma.fields.String()
    file_size = ma.fields.Integer()
    file_url = ma.fields.Method("_file_url")

    def _file_url(self, c):
        from flask import url_for

        return url_for("contracts-api.contract_file", order_id=c.order_id, contract_id=c.id)


class PublicContractOut(ma.Schema):
    """A line of the public 合同公告: the parties, the amount and the dates — never the file."""

    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    request_id = ma.fields.Function(lambda c: c.order.request_id)
    request_title = ma.fields.Function(lambda c: c.order.request.title)
    service_item = ma.fields.Function(lambda c: c.order.request.service_item.name)
    enterprise_name = ma.fields.Function(lambda c: c.order.enterprise.name)
    agency_id = ma.fields.Function(lambda c: c.order.agency_id)
    agency_name = ma.fields.Function(lambda c: c.order.agency.name)
    code = ma.fields.String()
    amount_fen = ma.fields.Integer()
    start_date = ma.fields.Date()
    end_date = ma.fields.Date()
    confirmed_at = ma.fields.AwareDateTime()


class ExtensionOut(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    due_before = ma.fields.AwareDateTime(metadata={"description": "the due date in force when it was asked"})
    due_at = ma.fields.AwareDateTime(metadata={"description": "the new due date asked for"})
    reason = ma.fields.String()
    status = ma.fields.Function(
        lambda e: e.status.value, metadata={"description": "pending, approved, rejected"}
    )
    decision_reason = ma.fields.String(allow_none=True)
    requested_at = ma.fields.AwareDateTime(attribute="created_at")
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    in_time = ma.fields.Boolean(
        allow_none=True,
        metadata={
            "description": "approved before the due date in force passed (on-time counts the new date)"
        },
    )


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
    due_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "the current due date"})
    original_due_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "before any extension"}
    )
    on_time_due_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "the due date the on-time rate counts against"}
    )
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    auto_accepted = ma.fields.Boolean()
    deadline_status = ma.fields.Method("_deadline")
    days_left = ma.fields.Method("_days_left")
    events = ma.fields.List(ma.fields.Nested(EventOut))
    contract = ma.fields.Nested(
        ContractOut, allow_none=True, metadata={"description": "the latest one uploaded"}
    )
    contracts = ma.fields.List(ma.fields.Nested(ContractOut), metadata={"description": "with rejected ones"})
    extensions = ma.fields.List(ma.fields.Nested(ExtensionOut))
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
    payment = ma.fields.String(
        load_default=None,
        validate=OneOf(
            ["due", "pending", "paid"], error="Payment filter must be one of: due, pending, paid."
        ),
        metadata={
            "description": "due (待付款: accepted, something neither received nor on its way), "
            "pending (在途: a transfer awaiting confirmation or an open online payment), paid (已付清)"
        },
    )


class TextIn(ma.Schema):
    text = ma.fields.String(required=True)
    percent = ma.fields.Integer(load_default=None, strict=True)


class OrderReasonIn(ma.Schema):
    reason = ma.fields.String(required=True)


class AmendIn(ma.Schema):
    amount_fen = ma.fields.Integer(required=True, strict=True)
    reason = ma.fields.String(required=True)


class ContractIn(ma.Schema):
    """multipart/form-data beside the `file` (the signed contract, PDF)."""

    class Meta:
        unknown = ma.EXCLUDE

    code = ma.fields.String(load_default=None, metadata={"description": "the contract's number"})
    amount_fen = ma.fields.Integer(load_default=None, metadata={"description": "must be the awarded price"})
    start_date = ma.fields.Date(load_default=None)
    end_date = ma.fields.Date(load_default=None)


class ExtensionIn(ma.Schema):
    due_date = ma.fields.Date(
        required=True, metadata={"description": "the new due date (end of that day, Beijing)"}
    )
    reason = ma.fields.String(required=True)


class OptionalReasonIn(ma.Schema):
    reason = ma.fields.String(load_default=None)
