"""/api/v1/agencies…, /api/v1/admin/applications and membership decisions."""

from flask import jsonify, request, send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.agencies import membership, services
from marketplace.agencies import offers as offer_services
from marketplace.agencies.models import AgencyStatus
from marketplace.agencies.schemas import (
    AgencyListQuery,
    AgencyPrivateOut,
    AgencyRowOut,
    AgencyStoreOut,
    ApplicationIn,
    ApplicationOut,
    ApplicationsQuery,
    BankIn,
    DecisionIn,
    OfferIn,
    OfferOut,
    QualificationIn,
    QualificationPrivateOut,
)
from marketplace.auth.current import api_actor
from marketplace.common import uploads
from marketplace.common.errors import Invalid, NotFound
from marketplace.common.web import api_page
from marketplace.stats.figures import stats_for

bp = Blueprint("agencies-api", __name__, url_prefix="/api/v1", description="Agencies, stores and membership")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


@bp.get("/agencies")
@bp.arguments(AgencyListQuery, location="query")
@bp.response(200, AgencyRowOut(many=True))
@bp.paginate()
def list_agencies(args, pagination_parameters):
    """The intermediary-services list: active members, filterable."""
    stmt = services.public_agencies_query(
        args["category_id"],
        args["region"],
        args["q"],
        args["service_item_id"],
        args["sort"],
        args["level"],
        args["price_min_fen"],
        args["price_max_fen"],
    )
    page = services.public_agencies_page(stmt, pagination_parameters.page, pagination_parameters.page_size)
    pagination_parameters.item_count = page.total
    agencies = page.items
    figures = stats_for([a.id for a in agencies])
    for agency in agencies:
        agency.preloaded_stats = figures[agency.id]
    return agencies


@bp.get("/agencies/<int:agency_id>")
@bp.response(200, AgencyStoreOut)
def store(agency_id):
    """An active member's store: profile, qualifications (no files), offers, stats."""
    actor = api_actor()
    agency = services.get_store(agency_id, actor)
    schema = AgencyPrivateOut() if services.can_see_private(actor, agency) else AgencyStoreOut()
    return jsonify(schema.dump(agency))


@bp.get("/agencies/me")
@bp.response(200, AgencyPrivateOut)
@bp.doc(security=BEARER)
def my_agency():
    """The caller's own agency, with status and private details."""
    return services.my_agency(api_actor())


@bp.post("/agencies/me/application")
@bp.arguments(ApplicationIn)
@bp.response(201, AgencyPrivateOut)
@bp.doc(security=BEARER)
def apply(data):
    """Submit (or resubmit after rejection) the membership application."""
    return membership.apply_with(api_actor(), data)


@bp.post("/agencies/me/bank")
@bp.arguments(BankIn)
@bp.response(200, AgencyPrivateOut)
@bp.doc(security=BEARER)
def bank(data):
    """The account owners pay into (开户行, 户名, 账号): shown to an order's enterprise when it pays, never public."""
    return membership.update_bank_details(api_actor(), data)


@bp.post("/agencies/me/qualifications")
@bp.arguments(QualificationIn)
@bp.response(201, QualificationPrivateOut)
@bp.doc(security=BEARER)
def add_qualification(data):
    """Add a qualification (upload its scan next)."""
    data.pop("id", None)
    return membership.add_qualification(api_actor(), data)


@bp.post("/agencies/me/qualifications/<int:qualification_id>/file")
@bp.response(200, QualificationPrivateOut)
@bp.doc(
    security=BEARER,
    description="multipart/form-data with a `file` part: PDF, JPG or PNG, checked by content.",
)
def upload_qualification_file(qualification_id):
    """Upload the scanned certificate of a qualification."""
    actor = api_actor()
    services.my_agency(actor)  # 401/403 before looking at the body
    upload = request.files.get("file")
    if upload is None:
        raise Invalid(
            _l("Send the scan as multipart/form-data in a part named file."), {"file": [_l("No file.")]}
        )
    return membership.attach_qualification_file(actor, qualification_id, upload.stream, upload.filename)


@bp.delete("/agencies/me/qualifications/<int:qualification_id>")
@bp.response(204)
@bp.doc(security=BEARER)
def delete_qualification(qualification_id):
    membership.remove_qualification(api_actor(), qualification_id)


@bp.get("/qualifications/<int:qualification_id>/file")
@bp.doc(security=BEARER)
def qualification_file(qualification_id):
    """The scan itself: only for its agency and administrators (404 for anyone else)."""
    qual = services.qualification_for_download(api_actor(), qualification_id)
    path = uploads.upload_path(services.UPLOAD_KIND, qual.file_key)
    if not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=qual.file_mime, download_name=qual.file_name, as_attachment=True)


@bp.get("/agencies/me/offers")
@bp.response(200, OfferOut(many=True))
@bp.doc(security=BEARER)
def my_offers():
    return services.my_agency(api_actor()).offers


@bp.post("/agencies/me/offers")
@bp.arguments(OfferIn)
@bp.response(201, OfferOut)
@bp.doc(security=BEARER)
def save_offer(data):
    """Create or replace the offer for a service item: a fixed `price_fen`, or `price_min_fen`+`price_max_fen`."""
    return offer_services.save_offer(api_actor(), data)


@bp.delete("/agencies/me/offers/<int:offer_id>")
@bp.response(204)
@bp.doc(security=BEARER)
def delete_offer(offer_id):
    offer_services.remove_offer(api_actor(), offer_id)


# --- administrators --------------------------------------------------------------------------------


@bp.get("/admin/applications")
@bp.arguments(ApplicationsQuery, location="query")
@bp.response(200, ApplicationOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def applications(args, pagination_parameters):
    """Membership applications (pending by default), each with `agency_id`."""
    status = None if args["status"] == "all" else AgencyStatus(args["status"])
    stmt = services.applications_query(api_actor(), status)
    return api_page(stmt, pagination_parameters)


def _decision(action: str):
    @bp.arguments(DecisionIn)
    @bp.response(200, ApplicationOut)
    @bp.doc(security=BEARER)
    def view(data, agency_id):
        return membership.decide(api_actor(), agency_id, action, data.get("reason"))

    view.__name__ = f"decide_{action}"
    view.__doc__ = {
        "approve": "Approve a pending application.",
        "reject": "Reject a pending application; `reason` is required.",
        "suspend": "Suspend an active member; `reason` is required.",
        "reinstate": "Reinstate a suspended member.",
        "expel": "Expel (清退) a member; `reason` is required.",
    }[action]
    bp.post(f"/admin/agencies/<int:agency_id>/{action}")(view)


for _action in ("approve", "reject", "suspend", "reinstate", "expel"):
    _decision(_action)
