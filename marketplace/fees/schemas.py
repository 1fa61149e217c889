import marshmallow as ma

from marketplace.fees.models import FlagRule, FlagStatus, Severity


class FlagQuery(ma.Schema):
    """Filters of the fee audit (all optional); dates are Beijing calendar days, inclusive."""

    rule = ma.fields.String(load_default=None, metadata={"enum": [r.value for r in FlagRule]})
    severity = ma.fields.String(load_default=None, metadata={"enum": [s.value for s in Severity]})
    status = ma.fields.String(load_default=None, metadata={"enum": [s.value for s in FlagStatus]})
    agency_id = ma.fields.String(load_default=None)
    service_item_id = ma.fields.String(load_default=None)
    date_from = ma.fields.String(load_default=None, data_key="from", metadata={"description": "YYYY-MM-DD"})
    date_to = ma.fields.String(load_default=None, data_key="to", metadata={"description": "YYYY-MM-DD"})


class FlagOut(ma.Schema):
    id = ma.fields.Integer()
    rule = ma.fields.Function(lambda f: f.rule.value)
    rule_label = ma.fields.Method("_rule_label")
    severity = ma.fields.Function(lambda f: f.severity.value)
    status = ma.fields.Function(lambda f: f.status.value)
    agency_id = ma.fields.Integer()
    agency_name = ma.fields.Function(lambda f: f.agency.name)
    service_item_id = ma.fields.Integer()
    service_item_name = ma.fields.Function(lambda f: f.service_item.name)
    request_id = ma.fields.Integer(allow_none=True)
    bid_id = ma.fields.Integer(allow_none=True)
    order_id = ma.fields.Integer(allow_none=True)
    payment_id = ma.fields.Integer(allow_none=True)
    figures = ma.fields.Dict()
    description = ma.fields.Method("_description")
    tests = ma.fields.Method(
        "_tests",
        metadata={
            "description": "the tests that raised the flag: [{test, text}], e.g. below_next with its figures"
        },
    )
    occurred_at = ma.fields.AwareDateTime()
    detected_at = ma.fields.AwareDateTime()
    note = ma.fields.String(allow_none=True)
    reviewed_at = ma.fields.AwareDateTime(allow_none=True)

    def _rule_label(self, flag):
        from marketplace.fees.models import RULE_LABELS

        return str(RULE_LABELS[flag.rule])

    def _description(self, flag):
        from marketplace.fees.services import describe

        return describe(flag)

    def _tests(self, flag):
        from marketplace.fees.wording import tests_fired

        return [{"test": test, "text": text} for test, text in tests_fired(flag)]


class ReviewIn(ma.Schema):
    action = ma.fields.String(required=True, metadata={"enum": ["confirm", "dismiss", "reopen"]})
    note = ma.fields.String(required=True)


class PriceSummaryOut(ma.Schema):
    count = ma.fields.Integer()
    median_fen = ma.fields.Integer(allow_none=True)
    min_fen = ma.fields.Integer(allow_none=True)
    max_fen = ma.fields.Integer(allow_none=True)
    p25_fen = ma.fields.Integer(allow_none=True)
    p75_fen = ma.fields.Integer(allow_none=True)
    savings_rate = ma.fields.Float(
        allow_none=True,
        metadata={
            "description": "1 − Σ price / Σ ceiling; negative when the deals averaged above their ceilings"
        },
    )
    above_guide = ma.fields.Integer(metadata={"description": "deals above the guide price range"})
    below_guide = ma.fields.Integer(metadata={"description": "deals below the guide price range"})
    outside_guide = ma.fields.Boolean(metadata={"description": "any deal outside the guide price range"})


class MonthOut(ma.Schema):
    month = ma.fields.String()
    count = ma.fields.Integer()
    median_fen = ma.fields.Integer(allow_none=True)


class ItemFeesSummaryOut(ma.Schema):
    service_item_id = ma.fields.Function(lambda d: d["item"].id)
    service_item_name = ma.fields.Function(lambda d: d["item"].name)
    fee_regime = ma.fields.Function(lambda d: d["item"].fee_regime.value)
    guide_min_fen = ma.fields.Function(lambda d: d["item"].guide_min_fen)
    guide_max_fen = ma.fields.Function(lambda d: d["item"].guide_max_fen)
    winning = ma.fields.Nested(PriceSummaryOut, metadata={"description": "winning prices, last 12 months"})
    as_of = ma.fields.DateTime(
        allow_none=True,
        metadata={
            "description": "null: the figures are those of the 12 months up to now; else the moment they were "
            "(a deal has left the 12-month window since, and the clock recomputes the item within minutes)"
        },
    )


class ItemFeesOut(ItemFeesSummaryOut):
    monthly = ma.fields.List(ma.fields.Nested(MonthOut))


class FeesQuery(ma.Schema):
    region = ma.fields.String(
        load_default=None, metadata={"description": "GB/T 2260 code of any level: projects inside it only"}
    )
