"""/api/v1/agencies…, /api/v1/admin/applications and membership decisions."""

from flask import jsonify, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.agencies import changes, favourites, listed, membership, practitioners, services
from marketplace.agencies import offers as offer_services
from marketplace.agencies.models import AgencyStatus
from marketplace.agencies.roster import ChangeStatus
from marketplace.agencies.schemas import (
    AdmittedOut,
    AdmittedQuery,
    AgencyListQuery,
    AgencyPrivateOut,
    AgencyRowOut,
    AgencyStoreOut,
    ApplicationIn,
    ApplicationOut,
    ApplicationsQuery,
    AuthorisedPersonIn,
    BankIn,
    ChangeIn,
    ChangeOut,
    ChangesQuery,
    DecisionIn,
    FavouriteOut,
    OfferIn,
    OfferOut,
    PractitionerFullOut,
    PractitionerIn,
    PractitionerOut,
    QualificationIn,
    QualificationPrivateOut,
)
from marketplace.auth.current import api_actor
from marketplace.common import uploads
from marketplace.common.errors import Invalid, NotFound
from marketplace.common.httpcache import same_for_everyone
from marketplace.common.web import api_page
from marketplace.stats.figures import stats_for

bp = Blueprint("agencies-api", __name__, url_prefix="/api/v1", description="Agencies, stores and membership")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


@bp.get("/agencies")
@bp.arguments(AgencyListQuery, location="query")
@bp.response(
    200,
    AgencyRowOut(many=True),
    headers={
        "X-Next-Cursor": {
            "description": "present when another page follows: pass it as `after` (same filters and sort) to "
            "read that page by seeking, however deep",
            "schema": {"type": "string"},
        },
        "X-Total-Exact": {
            "description": "false when X-Pagination's total was counted only up to 200 (a filter without a "
            "kept count: region, level, price band or keyword)",
            "schema": {"type": "string", "enum": ["true", "false"]},
        },
    },
)
@bp.paginate()
@same_for_everyone()
def list_agencies(args, pagination_parameters):
    """The intermediary-services list: active members, filterable. Pages by `page` (any depth) or, faster
    for deep pages, by `after`: the X-Next-Cursor of the previous page."""
    after = None
    if args["after"]:
        after = services.decode_cursor(args["sort"], args["after"])
        if after is None:
            raise Invalid(
                _l("This cursor does not belong to this list."), {"after": [_l("Not a valid cursor.")]}
            )
    flt = services.ListFilter(
        args["category_id"],
        args["region"],
        args["q"],
        args["service_item_id"],
        args["sort"],
        args["level"],
        args["price_min_fen"],
        args["price_max_fen"],
    )
    page = services.listing_page(
        flt,
        page=pagination_parameters.page,
        per_page=pagination_parameters.page_size,
        after=after,
        load=listed.rows,
    )
    pagination_parameters.item_count = page.total
    figures = stats_for([a.id for a in page.items])
    headers = {"X-Total-Exact": "true" if page.total_exact else "false"}
    if page.next_cursor:
        headers["X-Next-Cursor"] = page.next_cursor
    return jsonify([listed.as_json(a, figures[a.id]) for a in page.items]), 200, headers  # AgencyRowOut


@bp.get("/agencies/<int:agency_id>")
@bp.response(200, AgencyStoreOut)
def store(agency_id):
    """An active member's store: profile, qualifications (no files), offers, stats."""
    actor = api_actor()
    agency = listed.load_store(agency_id)  # with everything the dump reads, at once (None: unknown)
    agency = services.get_store(
        agency_id, actor
    )  # the same object (held meanwhile): the check, 404 if hidden
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
@bp.alt_response(202, schema=ChangeOut, description="a member's addition: a change under review")
@bp.doc(security=BEARER)
def add_qualification(data):
    """Add a qualification (upload its scan next). For a member it is a change under review (202, the change;
    upload the scan to `/agencies/me/changes/{id}/file`)."""
    data.pop("id", None)
    actor = api_actor()
    if changes.is_member(services.my_agency(actor)):
        return _accepted(changes.propose_qualification(actor, data, prefix=""))
    return membership.add_qualification(actor, data)


def _accepted(change):
    response = jsonify(ChangeOut().dump(change))
    response.status_code = 202
    response.headers["Location"] = url_for("agencies-api.my_change", change_id=change.id)
    return response


def _upload(field: str = "file"):
    upload = request.files.get(field)
    if upload is None:
        raise Invalid(
            _l("Send the scan as multipart/form-data in a part named file."), {field: [_l("No file.")]}
        )
    return upload


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
@bp.alt_response(202, schema=ChangeOut, description="a member's removal: a change under review")
@bp.doc(security=BEARER)
def delete_qualification(qualification_id):
    """Remove a qualification; for a member, ask for its removal (202, a change under review)."""
    actor = api_actor()
    if changes.is_member(services.my_agency(actor)):
        return _accepted(changes.propose_qualification_removal(actor, qualification_id))
    membership.remove_qualification(actor, qualification_id)


# --- entry evidence: pledge, authorised person, practitioners ------------------------------------------------


@bp.put("/agencies/me/authorised-person")
@bp.arguments(AuthorisedPersonIn)
@bp.response(200, AgencyPrivateOut)
@bp.doc(security=BEARER)
def authorised_person(data):
    """The authorised person (被授权人): name, ID number (shown masked from now on), phone."""
    return practitioners.save_authorised_person(api_actor(), data)


@bp.post("/agencies/me/documents/<any(pledge, authorisation):kind>")
@bp.response(200, AgencyPrivateOut)
@bp.doc(
    security=BEARER,
    description="multipart/form-data with a `file` part (PDF, JPG or PNG): `pledge` the signed 承诺书, "
    "`authorisation` the 授权委托书.",
)
def upload_document(kind):
    """Upload the signed pledge or the power of attorney."""
    actor = api_actor()
    services.my_agency(actor)
    upload = _upload()
    return practitioners.save_document(actor, kind, upload.stream, upload.filename)


@bp.get("/agencies/<int:agency_id>/documents/<any(pledge, authorisation):kind>")
@bp.doc(security=BEARER)
def document_file(agency_id, kind):
    """An entry document: only for its agency and staff (404 for anyone else)."""
    key, name, mime = practitioners.document_for_download(api_actor(), agency_id, kind)
    path = uploads.upload_path(services.UPLOAD_KIND, key)
    if not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=mime, download_name=name, as_attachment=True)


def _dump_people(actor, rows):
    schema = PractitionerFullOut if practitioners.sees_full_ids(actor) else PractitionerOut
    return schema(many=True).dump(rows)


@bp.get("/agencies/me/practitioners")
@bp.response(200, PractitionerOut(many=True))
@bp.doc(security=BEARER)
def my_practitioners():
    """The caller agency's practitioners (执业人员), ID numbers masked; removed ones are left out."""
    actor = api_actor()
    return jsonify(_dump_people(actor, practitioners.my_practitioners(actor)))


@bp.post("/agencies/me/practitioners")
@bp.arguments(PractitionerIn)
@bp.response(201, PractitionerOut)
@bp.doc(security=BEARER)
def add_practitioner(body):
    """Add a practitioner: `{name, id_number, registration, certificate_no, years, is_lead}`; then upload the
    certificate scan. For a member the practitioner is `pending` (a change under review, `change_id`) and
    counts only once approved."""
    actor = api_actor()
    person, change = practitioners.add_practitioner(actor, body)
    out = PractitionerOut().dump(person) | {"change_id": change.id if change else None}
    response = jsonify(out)
    response.status_code = 201
    return response


@bp.post("/agencies/me/practitioners/<int:practitioner_id>/file")
@bp.response(200, PractitionerOut)
@bp.doc(security=BEARER, description="multipart/form-data with a `file` part: PDF, JPG or PNG.")
def upload_practitioner_file(practitioner_id):
    """Upload a practitioner's registration certificate scan (before it is reviewed)."""
    actor = api_actor()
    services.my_agency(actor)
    upload = _upload()
    return practitioners.attach_practitioner_file(actor, practitioner_id, upload.stream, upload.filename)


@bp.delete("/agencies/me/practitioners/<int:practitioner_id>")
@bp.response(204)
@bp.alt_response(202, schema=ChangeOut, description="a member's removal: a change under review")
@bp.doc(security=BEARER)
def delete_practitioner(practitioner_id):
    """Remove a practitioner; for a member, ask for it (202, a change under review)."""
    change = practitioners.remove_practitioner(api_actor(), practitioner_id)
    if change is not None:
        return _accepted(change)


@bp.get("/practitioners/<int:practitioner_id>/file")
@bp.doc(security=BEARER)
def practitioner_file(practitioner_id):
    """A practitioner's certificate scan: its agency and staff only (404 for anyone else)."""
    person = practitioners.practitioner_file_for_download(api_actor(), practitioner_id)
    path = uploads.upload_path(services.UPLOAD_KIND, person.file_key)
    if not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=person.file_mime, download_name=person.file_name, as_attachment=True)


# --- change review (变更审核) ----------------------------------------------------------------------------------


@bp.post("/agencies/me/changes")
@bp.arguments(ChangeIn)
@bp.response(201, ChangeOut)
@bp.doc(security=BEARER)
def propose_change(data):
    """A member asks for a change that counts only once an operator approves it: `{kind: "legal_rep",
    legal_rep}`, `{kind: "qualification", action: "add", qualification: {…}}` (then upload its scan),
    `{kind: "qualification", action: "remove", qualification_id}`, `{kind: "practitioner", action: "add",
    practitioner: {…}}`, `{kind: "practitioner", action: "remove", practitioner_id}`."""
    return changes.propose(api_actor(), data)


@bp.get("/agencies/me/changes")
@bp.response(200, ChangeOut(many=True))
@bp.doc(security=BEARER)
def my_changes():
    """The caller member's changes, newest first, with their status and, when rejected, the reason."""
    return changes.my_changes(api_actor())


@bp.get("/agencies/me/changes/<int:change_id>")
@bp.response(200, ChangeOut)
@bp.doc(security=BEARER)
def my_change(change_id):
    return changes.own_change(api_actor(), change_id)


@bp.post("/agencies/me/changes/<int:change_id>/file")
@bp.response(200, ChangeOut)
@bp.doc(security=BEARER, description="multipart/form-data with a `file` part: PDF, JPG or PNG.")
def upload_change_file(change_id):
    """The scan of a proposed qualification or practitioner."""
    actor = api_actor()
    services.my_agency(actor)
    upload = _upload()
    return changes.attach_change_file(actor, change_id, upload.stream, upload.filename)


@bp.get("/agencies/admitted")
@bp.arguments(AdmittedQuery, location="query")
@bp.response(200, AdmittedOut(many=True))
@bp.paginate()
def admitted(args, pagination_parameters):
    """入驻公示: members admitted in the last `days` days (default 30), newest first, a page at a time;
    public facts only."""
    return api_page(services.admitted_query(args["days"]), pagination_parameters)


@bp.get("/qualifications/<int:qualification_id>/file")
@bp.doc(security=BEARER)
def qualification_file(qualification_id):
    """The scan itself: only for its agency, administrators and the staff who review it (404 for anyone else)."""
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


@bp.get("/admin/changes")
@bp.arguments(ChangesQuery, location="query")
@bp.response(200, ChangeOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def admin_changes(args, pagination_parameters):
    """Operators: membership changes in their region (pending by default), oldest first."""
    status = None if args["status"] == "all" else ChangeStatus(args["status"])
    return api_page(changes.changes_query(api_actor(), status), pagination_parameters)


@bp.get("/admin/changes/<int:change_id>")
@bp.response(200, ChangeOut)
@bp.doc(security=BEARER)
def admin_change(change_id):
    return changes.change_for_review(api_actor(), change_id)


@bp.post("/admin/changes/<int:change_id>/approve")
@bp.response(200, ChangeOut)
@bp.doc(security=BEARER)
def approve_change(change_id):
    """Approve a change: it is applied now (the old values are replaced)."""
    return changes.approve(api_actor(), change_id)


@bp.post("/admin/changes/<int:change_id>/reject")
@bp.arguments(DecisionIn)
@bp.response(200, ChangeOut)
@bp.doc(security=BEARER)
def reject_change(data, change_id):
    """Reject a change: `reason` is required; the old values stay in force."""
    return changes.reject(api_actor(), change_id, data.get("reason"))


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


# --- favourites (收藏) -------------------------------------------------------------------------------------


@bp.get("/favourites")
@bp.response(200, FavouriteOut(many=True))
@bp.doc(security=BEARER)
def list_favourites():
    """The calling enterprise user's favourite agencies, newest first, with their grade and rating."""
    rows = favourites.list_for(api_actor())
    figures = stats_for([f.agency_id for f in rows])
    for row in rows:
        row.preloaded_stats = figures[row.agency_id]
    return rows


@bp.put("/favourites/<int:agency_id>")
@bp.response(200, FavouriteOut)
@bp.doc(security=BEARER)
def add_favourite(agency_id):
    """Keep an active member agency (enterprise users only). Idempotent: keeping it again changes nothing."""
    return favourites.add(api_actor(), agency_id)


@bp.delete("/favourites/<int:agency_id>")
@bp.response(204)
@bp.doc(security=BEARER)
def remove_favourite(agency_id):
    """Forget a favourite. Idempotent: 204 whether or not it was kept."""
    favourites.remove(api_actor(), agency_id)
