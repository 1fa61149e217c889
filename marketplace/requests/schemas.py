import marshmallow as ma
from flask import g

from marketplace.common.messages import Said
from marketplace.requests.draw import DEFAULT_WEIGHTS


class ExclusionIn(ma.Schema):
    agency_id = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True)


class RequestIn(ma.Schema):
    title = ma.fields.String(required=True)
    project_code = ma.fields.String(required=True)
    service_item_id = ma.fields.Integer(required=True)
    scope = ma.fields.String(required=True)
    ceiling_fen = ma.fields.Integer(required=True, strict=True)
    floor_fen = ma.fields.Integer(load_default=None, strict=True)
    required_level = ma.fields.String(
        load_default=None, metadata={"description": "甲级 | 乙级 | 丙级 | 不分级"}
    )
    required_days = ma.fields.Integer(required=True, strict=True)
    region_code = ma.fields.String(
        metadata={
            "description": "the project's location: a city or county (GB/T 2260) inside MARKET_AREA_CODE"
        }
    )
    region = ma.fields.String(
        metadata={
            "description": "deprecated (one release): a city name inside the area, instead of region_code"
        }
    )
    funding = ma.fields.String(required=True, metadata={"description": "fiscal | social"})
    selection_method = ma.fields.String(
        required=True,
        metadata={
            "description": "direct | lowest_price | random | composite | average_price | credit_shortlist"
        },
    )
    weights = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), load_default=None,
        metadata={"description": f"composite only: price, rating, on_time, credit adding up to 100 (default {DEFAULT_WEIGHTS})"},
    )  # fmt: skip
    shortlist_size = ma.fields.Integer(
        load_default=None, metadata={"description": "credit_shortlist only (default 3)"}
    )
    bid_deadline = ma.fields.String(required=True, metadata={"description": "ISO 8601 with offset"})
    excluded_agency_ids = ma.fields.List(ma.fields.Integer(), load_default=None)
    exclusion_reason = ma.fields.String(load_default=None)
    exclusions = ma.fields.List(ma.fields.Nested(ExclusionIn), load_default=None)
    publish = ma.fields.Boolean(
        load_default=True, metadata={"description": "false keeps it as an editable draft"}
    )


class RequestPatch(RequestIn):
    """The same fields; PATCH loads it with partial=True and changes only what was sent."""


class RequestOut(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    project_code = ma.fields.String()
    enterprise_id = ma.fields.Integer()
    enterprise_name = ma.fields.Function(lambda r: r.enterprise.name)
    service_item_id = ma.fields.Integer()
    service_item_name = ma.fields.Function(lambda r: r.service_item.name)
    service_item_version = ma.fields.Function(
        lambda r: r.service_item_version.version if r.service_item_version else None,
        metadata={"description": "the item's version the request was posted under"},
    )
    guide_min_fen = ma.fields.Function(
        lambda r: r.rules.guide_min_fen, metadata={"description": "of that version"}
    )
    guide_max_fen = ma.fields.Function(lambda r: r.rules.guide_max_fen)
    standard_days = ma.fields.Function(lambda r: r.rules.standard_days)
    legal_basis = ma.fields.Function(lambda r: r.rules.legal_basis)
    scope = ma.fields.String()
    ceiling_fen = ma.fields.Integer()
    floor_fen = ma.fields.Integer(allow_none=True)
    required_level = ma.fields.Function(lambda r: r.required_level.value if r.required_level else None)
    required_days = ma.fields.Integer()
    region_code = ma.fields.String(allow_none=True)
    region_name = ma.fields.Function(lambda r: r.region, allow_none=True)
    region = ma.fields.Function(lambda r: r.region, allow_none=True)  # the name, as before (compatibility)
    funding = ma.fields.Function(lambda r: r.funding.value)
    selection_method = ma.fields.Function(lambda r: r.selection_method.value)
    weights = ma.fields.Dict(allow_none=True)
    shortlist_size = ma.fields.Integer(allow_none=True)
    bid_deadline = ma.fields.AwareDateTime()
    status = ma.fields.Function(lambda r: r.phase.value)  # as time has made it (see ServiceRequest.phase)
    round = ma.fields.Integer()
    previous_id = ma.fields.Integer(allow_none=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    draw_commitment = ma.fields.String(allow_none=True)
    bid_count = ma.fields.Method("_bid_count")
    min_bids = ma.fields.Method("_min_bids")
    winner = ma.fields.Method("_winner", allow_none=True)
    selected_at = ma.fields.AwareDateTime(allow_none=True)
    selection_reason = Said(allow_none=True)
    publicity_ends_at = ma.fields.AwareDateTime(allow_none=True)
    failure_reason = Said(allow_none=True)
    order_id = ma.fields.Method("_order_id", allow_none=True)

    @ma.pre_dump(pass_collection=True)
    def _gather(self, data, many: bool, **kwargs):
        """What each announcement shows beside its columns, for the whole page at once (queries.facts_for)."""
        from marketplace.requests.queries import facts_for

        rows = list(data) if many else [data]
        # Kept per request (flask.g), never on the schema object, which every request shares.
        g.setdefault("request_facts", {}).update(facts_for([r for r in rows if r is not None]))
        return data

    def _facts(self, r):
        return g.request_facts[r.id]

    def _bid_count(self, r):
        return self._facts(r).bid_count

    def _min_bids(self, r):
        from marketplace.requests.services import min_bids

        return min_bids(r)

    def _winner(self, r):
        """Public once selected (the result is under publicity): the winning agency and its price."""
        return self._facts(r).winner

    def _order_id(self, r):
        return self._facts(r).order_id


class RequestOwnerOut(RequestOut):
    exclusions = ma.fields.Method("_exclusions")

    def _exclusions(self, r):
        return [
            {"agency_id": x.agency_id, "agency_name": x.agency.name, "reason": x.reason} for x in r.exclusions
        ]


class ReviewOut(ma.Schema):
    """One step of the announcement review: submitted, approved, or returned with the operator's opinion."""

    action = ma.fields.Function(lambda r: r.action.value)
    opinion = ma.fields.String(allow_none=True)
    at = ma.fields.AwareDateTime()


class RequestReviewedOut(RequestOwnerOut):
    """The enterprise's, its reviewing operator's and administrators' view: the review history and the
    project's approval document (private: never in the public announcement)."""

    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    reviews = ma.fields.List(ma.fields.Nested(ReviewOut))
    review_opinion = ma.fields.Method("_opinion", allow_none=True)
    approval_document_required = ma.fields.Function(lambda r: r.service_item.needs_project_approval)
    approval_document = ma.fields.Method("_document", allow_none=True)

    def _opinion(self, r):
        """The opinion to act on while the request is returned."""
        last = r.last_return
        return last.opinion if last is not None and r.status.value == "returned" else None

    def _document(self, r):
        from flask import url_for

        d = r.approval_document
        if not d:
            return None
        return {
            "name": d["name"],
            "mime": d["mime"],
            "size": d["size"],
            "url": url_for("requests-api.approval_document", request_id=r.id),
        }


class OpinionIn(ma.Schema):
    opinion = ma.fields.String(load_default=None, metadata={"description": "what the enterprise must change"})


class ApprovalDocumentIn(ma.Schema):
    file = ma.fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "立项/核准/备案文件: PDF, JPG or PNG"},
    )


class RequestListQuery(ma.Schema):
    status = ma.fields.String(load_default=None)
    service_item_id = ma.fields.Integer(load_default=None)
    region = ma.fields.String(
        load_default=None,
        metadata={
            "description": "a GB/T 2260 code of any level (requests inside it), or a city name (deprecated)"
        },
    )
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=50))
    mine = ma.fields.Boolean(
        load_default=False, metadata={"description": "enterprise: my requests incl. drafts; agency: my inbox"}
    )


class BidIn(ma.Schema):
    price_fen = ma.fields.Integer(required=True, strict=True)
    promised_days = ma.fields.Integer(required=True, strict=True)
    plan = ma.fields.String(required=True)
    practitioner_ids = ma.fields.List(
        ma.fields.Integer(strict=True),
        load_default=None,
        metadata={
            "description": "the approved practitioners the service item requires (required_practitioners)"
        },
    )


class BidPatch(ma.Schema):
    price_fen = ma.fields.Integer(strict=True)
    promised_days = ma.fields.Integer(strict=True)
    plan = ma.fields.String()
    practitioner_ids = ma.fields.List(ma.fields.Integer(strict=True))


class RevisionOut(ma.Schema):
    version = ma.fields.Integer()
    action = ma.fields.String()
    price_fen = ma.fields.Integer()
    promised_days = ma.fields.Integer()
    plan = ma.fields.String()
    at = ma.fields.AwareDateTime()


class BidSummaryOut(ma.Schema):
    """A bid as its own agency sees it, or as the comparison shows it after the deadline."""

    id = ma.fields.Integer()
    request_id = ma.fields.Integer()
    agency_id = ma.fields.Integer()
    agency_name = ma.fields.Function(lambda b: b.agency.name)
    price_fen = ma.fields.Integer()
    promised_days = ma.fields.Integer()
    plan = ma.fields.String()
    status = ma.fields.Function(lambda b: b.status.value)
    invalid_reason = Said(allow_none=True)
    version = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    practitioners = ma.fields.Method("_practitioners")

    def _practitioners(self, bid):
        """Named practitioners (sealed with the bid): names, registrations, certificates; IDs masked."""
        return [
            {
                "id": p.id,
                "name": p.name,
                "registration": p.registration,
                "certificate_no": p.certificate_no,
                "id_number": p.masked_id,
            }
            for p in bid.practitioners
        ]


class BidOut(BidSummaryOut):
    revisions = ma.fields.List(ma.fields.Nested(RevisionOut))


class ComparisonRowOut(ma.Schema):
    bid = ma.fields.Nested(BidSummaryOut)
    stats = ma.fields.Dict()
    price_ratio = ma.fields.Float()
    rank = ma.fields.Integer(allow_none=True)
    qualifications = ma.fields.Method("_quals")
    qualification_check = ma.fields.Method(
        "_check",
        metadata={
            "description": "the item's qualification rule for this bid: `ok`, `held` and `missing` "
            "[{kind_code, kind_name, min_level, found_name, found_level}], `no_qualification_required`"
        },
    )

    def _quals(self, row):
        return [
            {
                "name": q.name,
                "level": q.level.value,
                "valid_until": q.valid_until.isoformat(),
                "kind_code": q.kind.code if q.kind else None,
            }
            for q in row["qualifications"]
        ]

    def _check(self, row):
        check = row["check"]

        def need(n):
            return {
                "kind_code": n.kind.code,
                "kind_name": n.kind.name,
                "min_level": n.min_level.value,
                "found_name": n.found.name if n.found else None,
                "found_level": n.found.level.value if n.found else None,
            }

        return {
            "ok": check.ok,
            "held": [need(n) for n in check.held],
            "missing": [need(n) for n in check.missing],
            "no_qualification_required": check.open_to_category,
        }


class SelectionIn(ma.Schema):
    bid_id = ma.fields.Integer(load_default=None)
    reason = ma.fields.String(load_default=None)


class SelectionOut(ma.Schema):
    winner_bid_id = ma.fields.Integer()
    method = ma.fields.Function(lambda r: r.selection_method.value)
    publicity_ends_at = ma.fields.AwareDateTime()
    proof = ma.fields.Method("_proof")

    def _proof(self, r):
        from flask import url_for

        return {
            "commitment": r.draw_commitment,
            "seed": r.draw_seed,
            "ranking": r.ranking,
            "draw_url": url_for("requests-api.draw", request_id=r.id, _external=True),
        }


class DrawOut(ma.Schema):
    request_id = ma.fields.Integer()
    method = ma.fields.String()
    commitment = ma.fields.String()
    seed = ma.fields.String(allow_none=True)
    seed_revealed_at = ma.fields.AwareDateTime(allow_none=True)
    algorithm = ma.fields.String()
    candidates = ma.fields.List(ma.fields.Dict())
    ranking = ma.fields.List(ma.fields.Integer(), allow_none=True)
    winner_bid_id = ma.fields.Integer(allow_none=True)
    details = ma.fields.Dict()


class ReasonIn(ma.Schema):
    reason = ma.fields.String(load_default=None)


class RepublishIn(ma.Schema):
    bid_deadline = ma.fields.String(required=True)


class ObjectionIn(ma.Schema):
    ground = ma.fields.String(
        required=True, metadata={"enum": ["rules", "qualification", "calculation", "procedure", "other"]}
    )
    facts = ma.fields.String(
        required=True, metadata={"description": "the statement of facts, 20 to 2000 characters"}
    )


class ObjectionUploadIn(ObjectionIn):
    evidence = ma.fields.List(
        ma.fields.Raw(metadata={"type": "string", "format": "binary"}),
        metadata={"description": "up to three PDF, JPG or PNG files"},
    )


class ObjectionPublicOut(ma.Schema):
    """What everyone sees: that an objection exists, its status and outcome; never the party or its statement."""

    id = ma.fields.Integer()
    request_id = ma.fields.Integer()
    status = ma.fields.Function(lambda o: o.status.value)
    outcome = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    decide_by = ma.fields.AwareDateTime()
    overdue = ma.fields.Boolean()
    resolved_at = ma.fields.AwareDateTime(allow_none=True)


class ObjectionOut(ObjectionPublicOut):
    """The objector's and administrators' view."""

    agency_id = ma.fields.Integer(allow_none=True)
    agency_name = ma.fields.Function(lambda o: o.agency.name if o.agency else None, allow_none=True)
    ground = ma.fields.Function(lambda o: o.ground.value)
    facts = ma.fields.String()
    evidence = ma.fields.Method("_evidence")

    def _evidence(self, o):
        from flask import url_for

        return [
            {
                "name": f["name"],
                "mime": f["mime"],
                "size": f["size"],
                "url": url_for(
                    "requests-api.objection_file", request_id=o.request_id, objection_id=o.id, key=f["key"]
                ),
            }
            for f in o.evidence or []
        ]


class ObjectionBoardRowOut(ma.Schema):
    """A row of the deadline board's section 逾期未处理的异议 (`section=objections`)."""

    objection = ma.fields.Nested(ObjectionOut)
    deadline_status = ma.fields.String()
    days_left = ma.fields.Float()


class ResolveIn(ma.Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(["uphold", "dismiss"]))
    outcome = ma.fields.String(required=True)


class ItemFactsOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    category_id = ma.fields.Integer()
    standard_days = ma.fields.Integer(metadata={"description": "the item's standard time limit in days"})
    fee_regime = ma.fields.String(metadata={"description": "guided | market"})
    guide_min_fen = ma.fields.Integer(allow_none=True, metadata={"description": "null when market-priced"})
    guide_max_fen = ma.fields.Integer(allow_none=True)
    median_fen = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "median contract amount of the item's real orders (not declined or cancelled) of the "
            "last 12 months, as on the public fee page; null when there was none"
        },
    )
    deal_count = ma.fields.Integer(metadata={"description": "how many orders the median is taken over"})
