import marshmallow as ma


class ServiceItemOut(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    category_id = ma.fields.Integer()
    aliases = ma.fields.List(ma.fields.String())
    legal_basis = ma.fields.String(allow_none=True)
    approval = ma.fields.String(allow_none=True)
    department = ma.fields.String(allow_none=True)
    fee_regime = ma.fields.Function(
        lambda item: item.fee_regime.value, metadata={"description": "guided | market"}
    )
    guide_min_fen = ma.fields.Integer(allow_none=True)
    guide_max_fen = ma.fields.Integer(allow_none=True)
    fee_basis = ma.fields.String(allow_none=True)
    standard_days = ma.fields.Integer()
    qualification = ma.fields.String(allow_none=True)


class CategoryOut(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(ServiceItemOut))


class ItemQuery(ma.Schema):
    category_id = ma.fields.Integer(load_default=None)
