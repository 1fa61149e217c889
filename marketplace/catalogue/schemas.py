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
    qualification = ma.fields.String(
        allow_none=True,
        metadata={"description": "the rules' wording, for people; bidding checks the fields below"},
    )
    required_qualifications = ma.fields.Method(
        "_required",
        metadata={
            "description": "kinds of the register a bidder must hold: [{kind_code, kind_name, min_level}]"
        },
    )
    requires_no_qualification = ma.fields.Boolean(
        metadata={"description": "true when the rules require none: every member of the category may bid"}
    )

    def _required(self, item):
        return [
            {"kind_code": r.kind.code, "kind_name": r.kind.name, "min_level": r.min_level.value}
            for r in item.requirements
        ]


class CategoryOut(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    items = ma.fields.List(ma.fields.Nested(ServiceItemOut))


class ItemQuery(ma.Schema):
    category_id = ma.fields.Integer(load_default=None)


class ItemVersionOut(ma.Schema):
    id = ma.fields.Integer()
    service_item_id = ma.fields.Integer()
    version = ma.fields.Integer()
    legal_basis = ma.fields.String(allow_none=True)
    approval = ma.fields.String(allow_none=True)
    fee_regime = ma.fields.Function(lambda v: v.fee_regime.value, metadata={"description": "guided | market"})
    guide_min_fen = ma.fields.Integer(allow_none=True)
    guide_max_fen = ma.fields.Integer(allow_none=True)
    fee_basis = ma.fields.String(allow_none=True)
    standard_days = ma.fields.Integer()
    qualification = ma.fields.String(allow_none=True)
    model_contract = ma.fields.String(allow_none=True)
    author = ma.fields.Function(
        lambda v: v.author.org_name if v.author else None, metadata={"description": "null: as shipped"}
    )
    created_at = ma.fields.AwareDateTime()
    note = ma.fields.String(allow_none=True)


class ItemEditIn(ma.Schema):
    """Only what changes; `note` (why) is required. The service checks the values together."""

    class Meta:
        unknown = ma.RAISE

    legal_basis = ma.fields.Raw()
    approval = ma.fields.Raw(allow_none=True)
    fee_regime = ma.fields.Raw()
    guide_min_fen = ma.fields.Raw(allow_none=True)
    guide_max_fen = ma.fields.Raw(allow_none=True)
    fee_basis = ma.fields.Raw(allow_none=True)
    standard_days = ma.fields.Raw()
    qualification = ma.fields.Raw(allow_none=True)
    model_contract = ma.fields.Raw(
        allow_none=True, metadata={"description": "合同示范文本; null: the generic"}
    )
    note = ma.fields.Raw(required=True)


class QualificationKindOut(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    category_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "the trade; null across trades"}
    )
    category_name = ma.fields.Function(lambda k: k.category.name if k.category else None)
    department = ma.fields.String(allow_none=True)
    levels = ma.fields.List(ma.fields.String(), metadata={"description": "grades it is issued in, or 不分级"})
    issuer = ma.fields.String(allow_none=True)
    legal_basis = ma.fields.String(allow_none=True)
