"""/api/v1/complaints… and /api/v1/reports: complaints (投诉) by parties, reports (举报) by anyone."""

from flask import g, jsonify, request, send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.auth.models import Role
from marketplace.auth.services import require_user
from marketplace.common import uploads
from marketplace.common.errors import Invalid, NotFound
from marketplace.common.web import api_page
from marketplace.complaints import services
from marketplace.complaints.limits import report_per_ip
from marketplace.complaints.models import ComplaintCategory, ComplaintKind, ComplaintStatus
from marketplace.complaints.schemas import (
    ComplaintAnswerIn,
    ComplaintAnswerUploadIn,
    ComplaintIn,
    ComplaintListQuery,
    ComplaintOut,
    ComplaintOutcomeIn,
    ComplaintReasonIn,
    ComplaintReportIn,
    ComplaintReportUploadIn,
    ComplaintUpholdIn,
    ComplaintUploadIn,
)

bp = Blueprint(
    "complaints-api", __name__, url_prefix="/api/v1", description="Complaints (投诉) and reports (举报)"
)
BEARER = [{"bearerAuth": []}]
FIELDS = ("target_type", "target_id", "category", "text", "contact_name", "contact_phone", "contact_email")


def blueprints():
    return [bp]


def _viewer():
    g.complaint_viewer = api_actor()
    return g.complaint_viewer


def _out(c, status: int = 200):
    return jsonify(ComplaintOut().dump(c)), status


def _posted(fields: tuple[str, ...]) -> tuple[dict, list]:
    """The body, JSON or multipart (files in `evidence`)."""
    if request.mimetype == "multipart/form-data":
        data = {k: request.form.get(k) for k in fields if k in request.form}
        return data, [(f.stream, f.filename) for f in request.files.getlist("evidence")]
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid(_l("Send a JSON object or a multipart form."), {"body": [_l("Must be an object.")]})
    return {k: body[k] for k in fields if k in body}, []


def _body(kind: str) -> dict:
    return {
        "required": True,
        "content": {
            "application/json": {"schema": ComplaintIn if kind == "complaint" else ComplaintReportIn},
            "multipart/form-data": {
                "schema": ComplaintUploadIn if kind == "complaint" else ComplaintReportUploadIn
            },
        },
    }


def _choice(args: dict, name: str, allowed: set[str]) -> None:
    if args[name] is not None and args[name] not in allowed:
        raise Invalid(_l("Not one of the allowed values."), {name: [_l("Not one of the allowed values.")]})


@bp.get("/complaints")
@bp.arguments(ComplaintListQuery, location="query")
@bp.response(200, ComplaintOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def list_complaints(args, pagination_parameters):
    """Parties: what they filed and what is filed against them (from its acceptance on). Supervisors and
    operators: the complaints and reports of their area, overdue first (filters `status` — also `open`,
    `overdue` —, `kind`, `category`); `mine=true` gives staff their own list instead."""
    actor = require_user(_viewer())
    _choice(args, "status", {"open", "overdue"} | {s.value for s in ComplaintStatus})
    _choice(args, "kind", {k.value for k in ComplaintKind})
    _choice(args, "category", {c.value for c in ComplaintCategory})
    if (actor.holds(Role.SUPERVISOR) or actor.holds(Role.OPERATOR)) and not args["mine"]:
        stmt = services.desk_query(actor, args["status"], args["kind"], args["category"])
    else:
        stmt = services.mine_query(actor)
    return api_page(stmt, pagination_parameters)


@bp.post("/complaints")
@bp.response(201, ComplaintOut)
@bp.doc(
    security=BEARER,
    description="JSON, or multipart/form-data with up to five `evidence` files (PDF/JPG/PNG). A party of the "
    "target only (else 403); a selection before its publicity ends, a membership decision within 5 working "
    "days of it (else 409); 422 on bad input, nothing stored.",
    requestBody=_body("complaint"),
)
def file_complaint():
    """File a complaint (投诉) about an agency, a request, a selection or an order."""
    actor = _viewer()
    require_user(actor)
    data, files = _posted(FIELDS)
    return _out(services.file_complaint(actor, data, files), 201)


@bp.post("/reports")
@report_per_ip
@bp.response(201, ComplaintOut)
@bp.doc(
    description="Anyone, without a token too: the reporter's contact details (optional) are seen by staff "
    "only. JSON or multipart/form-data with up to five `evidence` files. Keep the `number` to refer to it.",
    requestBody=_body("report"),
)
def file_report():
    """File a report (举报), anonymously if you like."""
    actor = _viewer()
    data, files = _posted(FIELDS)
    c = services.file_report(actor, data, files)
    if actor is None:  # an anonymous reporter gets its number and the deadlines back, nothing to read later
        return jsonify(
            {
                "number": c.number,
                "kind": c.kind.value,
                "status": c.status.value,
                "filed_at": c.filed_at.isoformat(),
                "accept_due_at": c.accept_due_at.isoformat(),
            }
        ), 201
    return _out(c, 201)


@bp.get("/complaints/<int:complaint_id>")
@bp.response(200, ComplaintOut)
@bp.doc(security=BEARER)
def get_complaint(complaint_id):
    """A complaint as the caller may see it (404 for anyone else)."""
    return _out(services.get_complaint(_viewer(), complaint_id))


@bp.get("/complaints/<int:complaint_id>/files/<int:file_id>")
@bp.doc(security=BEARER)
def complaint_file(complaint_id, file_id):
    """An evidence file, for those who may see the complaint (a report's evidence never goes to the respondent)."""
    actor = _viewer()
    c = services.get_complaint(actor, complaint_id)
    meta = services.evidence_file(actor, c, file_id)
    try:
        path = uploads.upload_path(services.UPLOAD_KIND, meta.key)
    except ValueError:
        path = None
    if path is None or not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=meta.mime, download_name=meta.name, as_attachment=True)


@bp.post("/complaints/<int:complaint_id>/accept")
@bp.response(200, ComplaintOut)
@bp.doc(security=BEARER)
def accept(complaint_id):
    """受理 (the supervisor of the target's area): the investigation starts and the respondent sees it."""
    return _out(services.accept(_viewer(), complaint_id))


@bp.post("/complaints/<int:complaint_id>/refuse")
@bp.arguments(ComplaintReasonIn)
@bp.response(200, ComplaintOut)
@bp.doc(security=BEARER)
def refuse(data, complaint_id):
    """不予受理, with `reason`."""
    return _out(services.refuse(_viewer(), complaint_id, data["reason"]))


@bp.post("/complaints/<int:complaint_id>/uphold")
@bp.arguments(ComplaintUpholdIn)
@bp.response(200, ComplaintOut)
@bp.doc(security=BEARER)
def uphold(data, complaint_id):
    """投诉成立, with `outcome` and its `consequences` (credit with `points`, suspend, reselect, reannounce)."""
    return _out(
        services.uphold(_viewer(), complaint_id, data["outcome"], data["consequences"], data["points"])
    )


@bp.post("/complaints/<int:complaint_id>/dismiss")
@bp.arguments(ComplaintOutcomeIn)
@bp.response(200, ComplaintOut)
@bp.doc(security=BEARER)
def dismiss(data, complaint_id):
    """投诉不成立, with `outcome`."""
    return _out(services.dismiss(_viewer(), complaint_id, data["outcome"]))


@bp.post("/complaints/<int:complaint_id>/answer")
@bp.response(200, ComplaintOut)
@bp.doc(
    security=BEARER,
    description="The respondent, once, while the complaint is investigated (409 after). JSON `{answer}` or "
    "multipart/form-data with `answer` and up to five `evidence` files.",
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": ComplaintAnswerIn},
            "multipart/form-data": {"schema": ComplaintAnswerUploadIn},
        },
    },
)
def answer(complaint_id):
    """The respondent's one answer (答复), with evidence."""
    actor = _viewer()
    require_user(actor)
    data, files = _posted(("answer",))
    return _out(services.answer(actor, complaint_id, data.get("answer"), files))
