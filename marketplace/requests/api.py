"""/api/v1/requests…, /api/v1/bids…, objections: the announcement, sealed bidding and selection."""

from flask import jsonify, request, send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.auth.models import Role
from marketplace.auth.services import require_user
from marketplace.common import uploads
from marketplace.common.errors import NotFound
from marketplace.common.httpcache import same_for_everyone
from marketplace.common.web import api_page
from marketplace.extensions import db
from marketplace.requests import bidding, item_facts, queries, review, services
from marketplace.requests import objections as objection_services
from marketplace.requests.schemas import (
    ApprovalDocumentIn,
    BidIn,
    BidOut,
    BidPatch,
    ComparisonRowOut,
    DrawOut,
    ItemFactsOut,
    ObjectionIn,
    ObjectionOut,
    ObjectionPublicOut,
    ObjectionUploadIn,
    OpinionIn,
    ReasonIn,
    RepublishIn,
    RequestIn,
    RequestListQuery,
    RequestOut,
    RequestOwnerOut,
    RequestPatch,
    RequestReviewedOut,
    ResolveIn,
    SelectionIn,
    SelectionOut,
)

bp = Blueprint(
    "requests-api", __name__, url_prefix="/api/v1", description="Requests, sealed bids and selection"
)
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


@bp.get("/catalogue/items/<int:item_id>/facts")
@bp.response(200, ItemFactsOut)
def service_item_facts(item_id):
    """What the request form shows beside a chosen service item: standard days, guide range and the market's
    median deal price over the last 12 months (the public fee page's figure). Public; 404 for an unknown item."""
    return item_facts.item_facts(item_id)


def _dump(req, actor):
    if services.can_manage(actor, req) or services.can_review(actor, req):
        return RequestReviewedOut().dump(req)
    return RequestOut().dump(req)


@bp.post("/requests")
@bp.arguments(RequestIn)
@bp.response(201, RequestReviewedOut)
@bp.doc(security=BEARER)
def create(data):
    """Post a request; published unless `publish` is false. With announcement review on
    (MARKET_REVIEW_ANNOUNCEMENTS) publishing submits it to the operator: `status` is `review` until approved.
    Then an item that serves a project approval needs the project's approval document first: post with
    `publish: false`, upload it (`POST /requests/{id}/approval-document`), then `POST /requests/{id}/publish`."""
    publish = data.pop("publish", True)
    return services.create_request(api_actor(), data, publish=publish)


@bp.get("/requests")
@bp.arguments(RequestListQuery, location="query")
@bp.response(200, RequestOut(many=True))
@bp.paginate()
@same_for_everyone(
    when=lambda: "mine" not in request.args
)  # the public announcements; `mine`: the caller's own
def list_requests(args, pagination_parameters):
    """Announcements (never drafts). `mine=true`: an enterprise's own requests, or an agency's inbox."""
    actor = api_actor()
    if args["mine"]:
        require_user(actor)
        stmt = queries.inbox_query(actor) if actor.role == Role.AGENCY else queries.my_requests_query(actor)
    else:
        filters = (args["status"], args["service_item_id"], args["region"], args["q"])
        return api_page(
            queries.public_requests_query(*filters), pagination_parameters, queries.kept_total(*filters)
        )
    return api_page(stmt, pagination_parameters)


@bp.get("/requests/<int:request_id>")
@bp.response(200, RequestOut)
def get(request_id):
    """One announcement: status, `bid_count` (never prices or bidders before the deadline), `order_id`."""
    actor = api_actor()
    return jsonify(_dump(services.get_request(actor, request_id), actor))


@bp.patch("/requests/<int:request_id>")
@bp.arguments(RequestPatch(partial=True))
@bp.response(200, RequestReviewedOut)
@bp.doc(security=BEARER)
def edit(data, request_id):
    """Edit a draft or a returned request: only the fields sent change."""
    sent = request.get_json(silent=True) or {}
    changes = {k: v for k, v in data.items() if k in sent and k != "publish"}
    return services.update_draft(api_actor(), request_id, changes)


@bp.post("/requests/<int:request_id>/publish")
@bp.response(200, RequestReviewedOut)
@bp.doc(security=BEARER)
def publish(request_id):
    """Publish a draft, or submit it (again, once fixed after a return) for review when review is on."""
    return services.publish_request(api_actor(), request_id)


# --- announcement review and the approval document ------------------------------------------------------------


@bp.post("/requests/<int:request_id>/approval-document")
@bp.arguments(ApprovalDocumentIn, location="files")
@bp.response(200, RequestReviewedOut)
@bp.doc(security=BEARER)
def upload_approval_document(files, request_id):
    """The project's approval or filing document (立项/核准/备案文件), multipart `file`; while draft or returned.
    Private: the enterprise, administrators and the operators and supervisors of the request's region."""
    f = files["file"]
    return review.attach_approval_document(api_actor(), request_id, f.stream, f.filename)


@bp.get("/requests/<int:request_id>/approval-document")
@bp.doc(security=BEARER)
def approval_document(request_id):
    """Download the approval document (404 for anyone who may not see it)."""
    _req, meta = review.approval_document(api_actor(), request_id)
    try:
        path = uploads.upload_path(review.UPLOAD_KIND, meta["key"])
    except ValueError:
        path = None
    if path is None or not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=meta["mime"], download_name=meta["name"], as_attachment=True)


@bp.get("/admin/requests/review")
@bp.response(200, RequestReviewedOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def review_queue(pagination_parameters):
    """Requests waiting for review in the operator's area, the longest waiting first."""
    return api_page(review.review_queue_query(api_actor()), pagination_parameters)


@bp.post("/admin/requests/<int:request_id>/approve")
@bp.response(200, RequestReviewedOut)
@bp.doc(security=BEARER)
def approve(request_id):
    """Approve an announcement under review: it goes public and the bidding starts (operator of its region).
    409 when the bid deadline no longer leaves the minimum bidding time: return it instead."""
    return review.approve(api_actor(), request_id)


@bp.post("/admin/requests/<int:request_id>/return")
@bp.arguments(OpinionIn)
@bp.response(200, RequestReviewedOut)
@bp.doc(security=BEARER)
def return_request(data, request_id):
    """Return an announcement under review with `{opinion}` (required); the enterprise fixes and resubmits."""
    return review.return_request(api_actor(), request_id, data.get("opinion"))


@bp.post("/requests/<int:request_id>/cancel")
@bp.arguments(ReasonIn)
@bp.response(200, RequestOwnerOut)
@bp.doc(security=BEARER)
def cancel(data, request_id):
    return services.cancel_request(api_actor(), request_id, data.get("reason"))


@bp.post("/requests/<int:request_id>/republish")
@bp.arguments(RepublishIn)
@bp.response(201, RequestOwnerOut)
@bp.doc(security=BEARER)
def republish(data, request_id):
    """A failed request (流标) as a new round with a new deadline."""
    return services.republish(api_actor(), request_id, data["bid_deadline"])


# --- bids ------------------------------------------------------------------------------------------------


@bp.post("/requests/<int:request_id>/bids")
@bp.arguments(BidIn)
@bp.response(201, BidOut)
@bp.doc(security=BEARER)
def submit_bid(data, request_id):
    """Submit a sealed bid (active, qualified, non-excluded members only); 409 after the deadline."""
    return bidding.submit_bid(api_actor(), request_id, data)


@bp.get("/requests/<int:request_id>/bids")
@bp.response(200, ComparisonRowOut(many=True))
@bp.doc(security=BEARER)
def compare(request_id):
    """Side-by-side comparison for the request's enterprise and administrators; 409 before the deadline."""
    _req, rows = queries.comparison(api_actor(), request_id)
    return rows


@bp.get("/agencies/me/bids")
@bp.response(200, BidOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def my_bids(pagination_parameters):
    """The caller agency's own bids, newest first, with their version history (paged: `page`, `page_size`)."""
    return api_page(bidding.my_bids_query(api_actor()), pagination_parameters)


@bp.patch("/bids/<int:bid_id>")
@bp.arguments(BidPatch)
@bp.response(200, BidOut)
@bp.doc(security=BEARER)
def revise(data, bid_id):
    """Revise before the deadline (every version is kept)."""
    return bidding.revise_bid(api_actor(), bid_id, data)


@bp.delete("/bids/<int:bid_id>")
@bp.response(200, BidOut)
@bp.doc(security=BEARER)
def withdraw(bid_id):
    """Withdraw before the deadline."""
    return bidding.withdraw_bid(api_actor(), bid_id)


# --- selection and its proof --------------------------------------------------------------------------------


@bp.post("/requests/<int:request_id>/selection")
@bp.arguments(SelectionIn)
@bp.response(200, SelectionOut)
@bp.doc(security=BEARER)
def select(data, request_id):
    """Run the request's published method (`{bid_id, reason}` for a direct pick)."""
    return services.select_winner(api_actor(), request_id, data.get("bid_id"), data.get("reason"))


@bp.get("/requests/<int:request_id>/draw")
@bp.response(200, DrawOut)
def draw(request_id):
    """Commitment from publishing on; after the draw the seed, ordered candidates and ranking — enough to recompute."""
    return queries.draw_record(request_id)


@bp.get("/requests/<int:request_id>/objections")
@bp.response(200, ObjectionPublicOut(many=True))
def objections(request_id):
    """The request's objections. Everyone sees that they exist, their status, decide-by time and outcome; the
    objector and administrators also see the party, ground, statement of facts and evidence (as `ObjectionOut`)."""
    actor = api_actor()
    rows = objection_services.objections_for(actor, request_id)
    return jsonify([(ObjectionOut() if full else ObjectionPublicOut()).dump(o) for o, full in rows])


@bp.post("/requests/<int:request_id>/objections")
@bp.response(201, ObjectionOut)
@bp.doc(
    security=BEARER,
    description="JSON `{ground, facts}`, or multipart/form-data with `ground`, `facts` and up to three "
    "`evidence` files (PDF/JPG/PNG). Only agencies that bid in this round may object (else 403), once per "
    "round (else 409).",
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": ObjectionIn},
            "multipart/form-data": {"schema": ObjectionUploadIn},
        },
    },
)
def lodge(request_id):
    """Lodge an objection (异议) while the result is under publicity."""
    if request.mimetype == "multipart/form-data":
        ground, facts = request.form.get("ground"), request.form.get("facts")
        files = [(f.stream, f.filename) for f in request.files.getlist("evidence")]
    else:
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        ground, facts, files = body.get("ground"), body.get("facts"), []
    return objection_services.lodge_objection(api_actor(), request_id, ground, facts, files)


@bp.get("/requests/<int:request_id>/objections/<int:objection_id>/files/<key>")
@bp.doc(security=BEARER)
def objection_file(request_id, objection_id, key):
    """An objection's evidence file: the objector and administrators only (404 for anyone else)."""
    meta = objection_services.objection_file(api_actor(), request_id, objection_id, key)
    try:
        path = uploads.upload_path(objection_services.UPLOAD_KIND, meta["key"])
    except ValueError:
        path = None
    if path is None or not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=meta["mime"], download_name=meta["name"], as_attachment=True)


@bp.get("/admin/objections")
@bp.response(200, ObjectionOut(many=True))
@bp.doc(security=BEARER)
def open_objections():
    """Undecided objections, the longest overdue first; `overdue` is true past `decide_by`."""
    return db.session.scalars(objection_services.open_objections_query(api_actor())).all()


@bp.post("/admin/objections/<int:objection_id>/resolve")
@bp.arguments(ResolveIn)
@bp.response(200, ObjectionOut)
@bp.doc(security=BEARER)
def resolve(data, objection_id):
    """Uphold (the next-ranked bid takes the place, or the request fails) or dismiss."""
    return objection_services.resolve_objection(
        api_actor(), objection_id, data["decision"] == "uphold", data["outcome"]
    )
