import marshmallow as ma


class EventOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    text = ma.fields.String(allow_none=True)
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
    status_reason = ma.fields.String(allow_none=True)
    started_at = ma.fields.AwareDateTime(allow_none=True)
    due_at = ma.fields.AwareDateTime(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    auto_accepted = ma.fields.Boolean()
    deadline_status = ma.fields.Method("_deadline")
    days_left = ma.fields.Method("_days_left")
    events = ma.fields.List(ma.fields.Nested(EventOut))

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


class BoardQuery(ma.Schema):
    state = ma.fields.String(load_default=None, metadata={"enum": ["red", "yellow", "ok"]})
    service_item_id = ma.fields.Integer(load_default=None)


class BoardOrderOut(ma.Schema):
    id = ma.fields.Integer()
    request_id = ma.fields.Integer()
    request_title = ma.fields.Function(lambda o: o.request.title)
    agency_id = ma.fields.Integer()
    agency_name = ma.fields.Function(lambda o: o.agency.name)
    amount_fen = ma.fields.Integer()
    promised_days = ma.fields.Integer()
    status = ma.fields.Function(lambda o: o.status.value)
    started_at = ma.fields.AwareDateTime(allow_none=True)
    due_at = ma.fields.AwareDateTime(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)


class BoardRowOut(ma.Schema):
    order = ma.fields.Nested(BoardOrderOut)
    deadline_status = ma.fields.String()
    days_left = ma.fields.Float(allow_none=True)
