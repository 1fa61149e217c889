import marshmallow as ma

from marketplace.agencies.models import PriceMode, QualificationLevel
from marketplace.agencies.roster import ChangeKind, ChangeStatus, PractitionerStatus, mask_id
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
    authorised_person = ma.fields.Dict(
        load_default=None,
        metadata={
            "description": "optional {name, id_number, phone}; else PUT /agencies/me/authorised-person first"
        },
    )


class AuthorisedPersonIn(ma.Schema):
    name = ma.fields.String(required=True, metadata={"description": "被授权人"})
    id_number = ma.fields.String(required=True, metadata={"description": "18-character resident ID number"})
    phone = ma.fields.String(required=True)


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


class PractitionerIn(ma.Schema):
    name = ma.fields.String(required=True)
    id_number = ma.fields.String(required=True, metadata={"description": "18-character resident ID number"})
    registration = ma.fields.String(load_default=None, metadata={"description": "e.g. 注册安全工程师"})
    certificate_no = ma.fields.String(required=True)
    years = ma.fields.Integer(load_default=0, strict=True)
    is_lead = ma.fields.Boolean(load_default=False, metadata={"description": "项目负责人"})


class PractitionerOut(ma.Schema):
    """A practitioner; `id_number` masked (3205**********1234) except to staff."""

    id = ma.fields.Integer()
    agency_id = ma.fields.Integer()
    name = ma.fields.String()
    id_number = ma.fields.Function(lambda p: mask_id(p.id_number))
    registration = ma.fields.String(allow_none=True)
    certificate_no = ma.fields.String()
    years = ma.fields.Integer()
    is_lead = ma.fields.Boolean()
    status = ma.fields.Function(lambda p: p.status.value)
    has_file = ma.fields.Function(lambda p: p.file_key is not None)


class PractitionerFullOut(PractitionerOut):
    id_number = ma.fields.String()


def _people(agency, full: bool):
    rows = [p for p in agency.practitioners if p.status != PractitionerStatus.REMOVED]
    return (PractitionerFullOut if full else PractitionerOut)(many=True).dump(rows)


class AgencyPrivateOut(AgencyStoreOut):
    contact_name = ma.fields.String(allow_none=True)
    contact_phone = ma.fields.String(allow_none=True)
    bank_name = ma.fields.String(allow_none=True)
    account_name = ma.fields.String(allow_none=True)
    account_no = ma.fields.String(allow_none=True)
    status_reason = Said(allow_none=True)
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    review_due_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "审核时限"})
    qualifications = ma.fields.List(ma.fields.Nested(QualificationPrivateOut))
    has_pledge = ma.fields.Function(lambda a: a.pledge_file_key is not None)
    has_authorisation = ma.fields.Function(lambda a: a.authorisation_file_key is not None)
    authorised_name = ma.fields.String(allow_none=True)
    authorised_id_number = ma.fields.Function(lambda a: mask_id(a.authorised_id_number))
    authorised_phone = ma.fields.String(allow_none=True)
    practitioners = ma.fields.Function(lambda a: _people(a, full=False))


class ApplicationOut(AgencyPrivateOut):
    """What the reviewers see: ID numbers in full."""

    agency_id = ma.fields.Function(lambda a: a.id)
    email = ma.fields.Function(lambda a: a.user.email)
    authorised_id_number = ma.fields.String(allow_none=True)
    practitioners = ma.fields.Function(lambda a: _people(a, full=True))


class ChangeIn(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf([k.value for k in ChangeKind]))
    action = ma.fields.String(load_default="add", validate=ma.validate.OneOf(["add", "remove", "set"]))
    legal_rep = ma.fields.String(load_default=None, metadata={"description": "kind legal_rep"})
    qualification = ma.fields.Dict(load_default=None, metadata={"description": "kind qualification, add"})
    qualification_id = ma.fields.Integer(load_default=None, strict=True)
    practitioner = ma.fields.Dict(load_default=None, metadata={"description": "kind practitioner, add"})
    practitioner_id = ma.fields.Integer(load_default=None, strict=True)


class ChangeOut(ma.Schema):
    id = ma.fields.Integer()
    agency_id = ma.fields.Integer()
    agency_name = ma.fields.Function(lambda c: c.agency.name)
    kind = ma.fields.Function(lambda c: c.kind.value)
    action = ma.fields.String()
    payload = ma.fields.Method("_payload")
    status = ma.fields.Function(lambda c: c.status.value)
    reason = ma.fields.String(allow_none=True)
    submitted_at = ma.fields.AwareDateTime()
    review_due_at = ma.fields.AwareDateTime(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)

    def _payload(self, change):
        """The proposed values; a file only by its name."""
        payload = dict(change.payload or {})
        file = payload.pop("file", None)
        payload.pop("before", None)
        if file:
            payload["file_name"] = file.get("name")
        return payload


class ChangesQuery(ma.Schema):
    status = ma.fields.String(
        load_default="pending", validate=ma.validate.OneOf([s.value for s in ChangeStatus] + ["all"])
    )


class AdmittedQuery(ma.Schema):
    days = ma.fields.Integer(load_default=30, validate=ma.validate.Range(min=1, max=366))


class AdmittedOut(ma.Schema):
    """入驻公示: public facts of a newly admitted member, nothing private."""

    id = ma.fields.Integer()
    name = ma.fields.String()
    region_code = ma.fields.String(allow_none=True)
    region = ma.fields.String(allow_none=True)
    categories = ma.fields.List(ma.fields.Nested(CategoryRef))
    approved_at = ma.fields.AwareDateTime()


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
    after = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=200),
        metadata={
            "description": "an opaque cursor: the X-Next-Cursor header of the previous page (same filters and "
            "sort); the page after it is read by seeking, not by skipping, and `page` only numbers it"
        },
    )


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


class FavouriteOut(ma.Schema):
    """One of the caller's favourite agencies (收藏), with what its desk card shows."""

    agency_id = ma.fields.Integer()
    name = ma.fields.Function(lambda f: f.agency.name)
    status = ma.fields.Function(lambda f: f.agency.status.value)
    region_code = ma.fields.Function(lambda f: f.agency.region_code, allow_none=True)
    region_name = ma.fields.Function(lambda f: f.agency.region, allow_none=True)
    created_at = ma.fields.AwareDateTime()
    stats = ma.fields.Function(
        lambda f: getattr(f, "preloaded_stats", None) or agency_stats(f.agency_id),
        metadata={
            "description": "the list's figures: credit_grade, avg_rating, ratings_count, completed_orders…"
        },
    )
