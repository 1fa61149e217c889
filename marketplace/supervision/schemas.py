import marshmallow as ma


class BoardQuery(ma.Schema):
    state = ma.fields.String(load_default=None, metadata={"enum": ["red", "yellow", "ok"]})
    service_item_id = ma.fields.Integer(load_default=None)
    section = ma.fields.String(
        load_default="orders",
        metadata={
            "enum": ["orders", "objections", "memberships"],
            "description": "objections: 逾期未处理的异议; memberships: 审核超时的入驻申请和变更",
        },
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


class MembershipBoardRowOut(ma.Schema):
    kind = ma.fields.String(metadata={"enum": ["application", "change"]})
    agency_id = ma.fields.Function(lambda r: r["agency"].id)
    agency_name = ma.fields.Function(lambda r: r["agency"].name)
    region_code = ma.fields.Function(lambda r: r["agency"].region_code)
    change_id = ma.fields.Function(lambda r: r["change"].id if r["change"] else None)
    change_kind = ma.fields.Function(lambda r: r["change"].kind.value if r["change"] else None)
    review_due_at = ma.fields.AwareDateTime()
    days_overdue = ma.fields.Float()
    deadline_status = ma.fields.Function(lambda r: "red")
