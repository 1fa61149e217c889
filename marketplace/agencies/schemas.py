import marshmallow as ma

from marketplace.agencies.models import PriceMode, QualificationLevel
from marketplace.common.messages import Said
from marketplace.stats.figures import agency_stats


class QualificationIn(ma.Schema):
    id = ma.fields.Integer(load_default=None, metadata={"description": "keep (and update) an existing one"})
    kind_id = ma.fields.Integer(
        load_default=None,
        metadata={
            "description": "the register's kind (GET /api/v1/catalogue/qualification-kinds); or kind_code"
        },
    )
    kind_code = ma.fields.String(load_default=None, metadata={"description": "the kind's code, e.g. HPXY"})
    name = ma.fields.String(
        load_default=None, metadata={"description": "the certificate's name; defaults to the kind's name"}
    )
    level = ma.fields.String(
        required=True,
        metadata={
            "description": "、".join(lv.value for lv in QualificationLevel) + "; one the kind is issued in"
        },
    )
    number = ma.fields.String(required=True)
    issuer = ma.fields.String(required=True)
    valid_until = ma.fields.Date(required=True)
    category_id = ma.fields.Integer(load_default=None)


class ApplicationIn(ma.Schema):
    legal_rep = ma.fields.String(required=True)
    region_code = ma.fields.String(
        metadata={"description": "where the agency is registered: a GB/T 2260 code anywhere in China"}
    )
    service_area_codes = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "codes of any level it serves (default: its registered province)"},
    )
    region = ma.fields.String(metadata={"description": "deprecated (one release): a region name, not a code"})
    address = ma.fields.String(load_default=None)
    contact_name = ma.fields.String(load_default=None)
    contact_phone = ma.fields.String(load_default=None)
    intro = ma.fields.String(load_default=None)
    category_ids = ma.fields.List(ma.fields.Integer(), required=True)
    qualifications = ma.fields.List(ma.fields.Nested(QualificationIn), required=True)


class QualificationOut(ma.Schema):
    id = ma.fields.Integer()
    kind_id = ma.fields.Integer(allow_none=True)
    kind_code = ma.fields.Function(lambda q: q.kind.code if q.kind else None)
    kind_name = ma.fields.Function(lambda q: q.kind.name if q.kind else None)
    name = ma.fields.String()
    level = ma.fields.Function(lambda q: q.level.value)
    number = ma.fields.String()
    issuer = ma.fields.String()
    valid_until = ma.fields.Date()
    category_id = ma.fields.Integer(allow_none=True)
    has_file = ma.fields.Function(lambda q: q.file_key is not None)


class QualificationPrivateOut(QualificationOut):
    file_name = ma.fields.String(allow_none=True)
    file_size = ma.fields.Integer(allow_none=True)
    file_url = ma.fields.Method("_file_url", allow_none=True)

    def _file_url(self, q):
        from flask import url_for

        return url_for("agencies-api.qualification_file", qualification_id=q.id) if q.file_key else None


class CategoryRef(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class OfferIn(ma.Schema):
    service_item_id = ma.fields.Integer(required=True)
    price_mode = ma.fields.String(load_default=None, validate=ma.validate.OneOf([m.value for m in PriceMode]))
    price_fen = ma.fields.Integer(load_default=None, strict=True)
    price_min_fen = ma.fields.Integer(load_default=None, strict=True)
    price_max_fen = ma.fields.Integer(load_default=None, strict=True)
    discount_pct = ma.fields.Integer(load_default=None, strict=True)
    promised_days = ma.fields.Integer(required=True, strict=True)
    description = ma.fields.String(load_default=None)


class OfferOut(ma.Schema):
    id = ma.fields.Integer()
    agency_id = ma.fields.Integer()
    service_item_id = ma.fields.Integer()
    service_item_name = ma.fields.Function(lambda o: o.service_item.name)
    price_mode = ma.fields.Function(lambda o: o.price_mode.value)
    price_fen = ma.fields.Integer(allow_none=True)
    price_min_fen = ma.fields.Integer(allow_none=True)
    price_max_fen = ma.fields.Integer(allow_none=True)
    discount_pct = ma.fields.Integer(allow_none=True)
    low_fen = ma.fields.Integer(allow_none=True)
    high_fen = ma.fields.Integer(allow_none=True)
    promised_days = ma.fields.Integer()
    description = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()


class AgencyRowOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    status = ma.fields.Function(lambda a: a.status.value)
    region_code = ma.fields.String(allow_none=True)
    region_name = ma.fields.Function(lambda a: a.region, allow_none=True)
    region = ma.fields.Function(lambda a: a.region, allow_none=True)  # the name, as before (compatibility)
    service_area_codes = ma.fields.List(ma.fields.String())
    intro = ma.fields.String(allow_none=True)
    categories = ma.fields.List(ma.fields.Nested(CategoryRef))
    offer_count = ma.fields.Function(lambda a: sum(1 for o in a.offers if o.active))
    stats = ma.fields.Function(lambda a: getattr(a, "preloaded_stats", None) or agency_stats(a.id))


class AgencyStoreOut(AgencyRowOut):
    uscc = ma.fields.String()
    legal_rep = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    approved_at = ma.fields.AwareDateTime(allow_none=True)
    qualifications = ma.fields.List(ma.fields.Nested(QualificationOut))
    offers = ma.fields.Method("_offers")

    def _offers(self, agency):
        return OfferOut(many=True).dump([o for o in agency.offers if o.active])


class AgencyPrivateOut(AgencyStoreOut):
    contact_name = ma.fields.String(allow_none=True)
    contact_phone = ma.fields.String(allow_none=True)
    bank_name = ma.fields.String(allow_none=True)
    account_name = ma.fields.String(allow_none=True)
    account_no = ma.fields.String(allow_none=True)
    status_reason = Said(allow_none=True)
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    qualifications = ma.fields.List(ma.fields.Nested(QualificationPrivateOut))


class ApplicationOut(AgencyPrivateOut):
    agency_id = ma.fields.Function(lambda a: a.id)
    email = ma.fields.Function(lambda a: a.user.email)


class AgencyListQuery(ma.Schema):
    category_id = ma.fields.Integer(load_default=None)
    service_item_id = ma.fields.Integer(load_default=None)
    region = ma.fields.String(
        load_default=None,
        metadata={"description": "agencies serving this region: a GB/T 2260 code of any level (or a name)"},
    )
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=50))
    sort = ma.fields.String(
        load_default="composite",
        validate=ma.validate.OneOf(["composite", "sales", "rating", "price", "speed"]),
        metadata={
            "description": "composite (default; formula in the README), sales, rating (Bayesian), price, speed"
        },
    )
    level = ma.fields.String(
        load_default=None, validate=ma.validate.OneOf([lv.value for lv in QualificationLevel])
    )
    price_min_fen = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0))
    price_max_fen = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0))


class ApplicationsQuery(ma.Schema):
    status = ma.fields.String(
        load_default="pending",
        validate=ma.validate.OneOf(
            ["pending", "draft", "active", "rejected", "suspended", "expelled", "all"]
        ),
    )


class DecisionIn(ma.Schema):
    reason = ma.fields.String(load_default=None)


class BankIn(ma.Schema):
    """All three, or all empty to clear them."""

    bank_name = ma.fields.String(load_default=None, metadata={"description": "开户行"})
    account_name = ma.fields.String(load_default=None, metadata={"description": "户名"})
    account_no = ma.fields.String(load_default=None, metadata={"description": "账号: 8 to 30 digits"})
