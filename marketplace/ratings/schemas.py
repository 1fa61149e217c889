import marshmallow as ma


class RatingIn(ma.Schema):
    overall = ma.fields.Integer(required=True, strict=True)
    quality = ma.fields.Integer(required=True, strict=True, metadata={"description": "质量 1–5"})
    timeliness = ma.fields.Integer(required=True, strict=True, metadata={"description": "时效 1–5"})
    attitude = ma.fields.Integer(required=True, strict=True, metadata={"description": "态度 1–5"})
    fee = ma.fields.Integer(required=True, strict=True, metadata={"description": "收费 1–5"})
    compliance = ma.fields.Integer(required=True, strict=True, metadata={"description": "规范 1–5"})
    comment = ma.fields.String(load_default=None)


class RatingOut(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    agency_id = ma.fields.Integer()
    enterprise_name = ma.fields.Function(lambda r: r.enterprise.name)
    overall = ma.fields.Integer()
    quality = ma.fields.Integer()
    timeliness = ma.fields.Integer()
    attitude = ma.fields.Integer()
    fee = ma.fields.Integer()
    compliance = ma.fields.Integer()
    comment = ma.fields.Function(lambda r: None if r.hidden_reason else r.comment)
    comment_hidden = ma.fields.Function(lambda r: r.hidden_reason is not None)
    created_at = ma.fields.AwareDateTime()
    reply = ma.fields.String(allow_none=True)
    replied_at = ma.fields.AwareDateTime(allow_none=True)


class ReplyIn(ma.Schema):
    reply = ma.fields.String(required=True)


class DepartmentRatingIn(ma.Schema):
    quality = ma.fields.Integer(required=True, strict=True)
    timeliness = ma.fields.Integer(required=True, strict=True)
    comment = ma.fields.String(load_default=None)


class DepartmentRatingOut(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    agency_id = ma.fields.Integer()
    quality = ma.fields.Integer()
    timeliness = ma.fields.Integer()
    comment = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class HideIn(ma.Schema):
    reason = ma.fields.String(required=True)
