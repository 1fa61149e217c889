import marshmallow as ma


class BoardQuery(ma.Schema):
    state = ma.fields.String(load_default=None, metadata={"enum": ["red", "yellow", "ok"]})
    service_item_id = ma.fields.Integer(load_default=None)
    section = ma.fields.String(
        load_default="orders",
        metadata={"enum": ["orders", "objections"], "description": "objections: 逾期未处理的异议"},
    )


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
