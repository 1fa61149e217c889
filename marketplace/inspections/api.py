"""/api/v1/inspections… (public) and /api/v1/admin/inspectors, /api/v1/admin/inspections… (staff): random
inspections (双随机、一公开)."""

from flask import send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.auth.services import require_user
from marketplace.common import uploads
from marketplace.common.errors import NotAllowed, NotFound
from marketplace.common.web import api_page
from marketplace.inspections import register, services
from marketplace.inspections.schemas import (
    DrawRecordOut,
    EvidenceIn,
    FindingsIn,
    InspectorActiveIn,
    InspectorIn,
    InspectorOut,
    ListQuery,
    TargetOut,
    TaskDetailOut,
    TaskIn,
    TaskOut,
)

bp = Blueprint(
    "inspections-api",
    __name__,
    url_prefix="/api/v1",
    description="Random inspections (双随机、一公开): inspector register, draw, findings, published results",
)
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


def _detail(task, staff: bool = False) -> dict:
    out = TaskOut().dump(task)
    out["draw"] = services.draw_record(task)
    out["targets"] = services.targets_view(task, staff)
    return out


# --- the register ----------------------------------------------------------------------------------------------


@bp.get("/admin/inspectors")
@bp.response(200, InspectorOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def inspectors(pagination_parameters):
    """The inspector register in the caller's area (a department: its own inspectors)."""
    actor = require_user(api_actor())
    if not register.may_open(actor):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    return api_page(register.register_query(actor), pagination_parameters)


@bp.post("/admin/inspectors")
@bp.arguments(InspectorIn)
@bp.response(201, InspectorOut)
@bp.doc(security=BEARER)
def add_inspector(data):
    """Add an inspector (执法检查人员): a department only its own; the certificate number is unique."""
    return register.add_inspector(api_actor(), data)


@bp.post("/admin/inspectors/<int:inspector_id>/active")
@bp.arguments(InspectorActiveIn)
@bp.response(200, InspectorOut)
@bp.doc(security=BEARER)
def set_active(data, inspector_id):
    """Take an inspector off the draw (`active: false`) or back on it."""
    return register.set_active(api_actor(), inspector_id, data["active"])


# --- tasks (staff) -----------------------------------------------------------------------------------------------


@bp.post("/admin/inspections")
@bp.arguments(TaskIn)
@bp.response(201, TaskOut)
@bp.doc(security=BEARER)
def create(data):
    """Plan a task; the answer carries `draw_commitment`, the SHA-256 of the secret seed revealed at the draw.
    Give `agency_count` or `share_pct`; without `checklist` the trade's default list is used."""
    return services.create_task(api_actor(), data)


@bp.get("/admin/inspections")
@bp.response(200, TaskOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def staff_list(pagination_parameters):
    """The tasks on the caller's desk."""
    actor = require_user(api_actor())
    if not services.may_plan(actor):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    return api_page(services.staff_query(actor), pagination_parameters)


@bp.get("/admin/inspections/<int:task_id>")
@bp.response(200, TaskDetailOut)
@bp.doc(security=BEARER)
def staff_detail(task_id):
    """A task with the findings being recorded and the evidence files (its staff, supervisors reading)."""
    return _detail(services.staff_task(require_user(api_actor()), task_id), staff=True)


@bp.post("/admin/inspections/<int:task_id>/draw")
@bp.response(200, DrawRecordOut)
@bp.doc(security=BEARER)
def draw(task_id):
    """Reveal the seed and draw the agencies and, per agency, the inspectors; answers the verifiable record."""
    return services.draw_record(services.draw_task(api_actor(), task_id))


@bp.post("/admin/inspections/<int:task_id>/agencies/<int:agency_id>/findings")
@bp.arguments(FindingsIn)
@bp.response(200, TargetOut)
@bp.doc(security=BEARER)
def findings(data, task_id, agency_id):
    """Record (or, before closing, replace) a drawn agency's checklist results."""
    target = services.record_findings(api_actor(), task_id, agency_id, data)
    return next(t for t in services.targets_view(target.task, staff=True) if t["agency_id"] == agency_id)


@bp.post("/admin/inspections/<int:task_id>/agencies/<int:agency_id>/evidence")
@bp.arguments(EvidenceIn, location="files")
@bp.response(200, TargetOut)
@bp.doc(security=BEARER)
def evidence(files, task_id, agency_id):
    """Add an evidence file (multipart `file`: PDF, JPG or PNG) to a drawn agency's findings; kept private."""
    f = files["file"]
    target = services.add_evidence(api_actor(), task_id, agency_id, f.stream, f.filename)
    return next(t for t in services.targets_view(target.task, staff=True) if t["agency_id"] == agency_id)


@bp.get("/admin/inspections/<int:task_id>/agencies/<int:agency_id>/evidence/<key>")
@bp.doc(security=BEARER)
def evidence_file(task_id, agency_id, key):
    """Download an evidence file (the task's staff and supervisors only)."""
    meta = services.evidence_file(api_actor(), task_id, agency_id, key)
    try:
        path = uploads.upload_path(services.UPLOAD_KIND, meta["key"])
    except ValueError:
        path = None
    if path is None or not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=meta["mime"], download_name=meta["name"], as_attachment=True)


@bp.post("/admin/inspections/<int:task_id>/close")
@bp.response(200, TaskDetailOut)
@bp.doc(security=BEARER)
def close(task_id):
    """Close the task once every drawn agency has findings: the results are published (一公开) and each failed
    item is announced for the agency's credit record. 409 while an agency lacks findings, or when closed."""
    return _detail(services.close_task(api_actor(), task_id))


# --- public ----------------------------------------------------------------------------------------------------


@bp.get("/inspections")
@bp.arguments(ListQuery, location="query")
@bp.response(200, TaskOut(many=True))
@bp.paginate()
def public_list(args, pagination_parameters):
    """Every task: planned (with its commitment), drawn, closed (results public). `agency_id`: tasks that drew it."""
    return api_page(services.public_query(args["status"], args["agency_id"]), pagination_parameters)


@bp.get("/inspections/<int:task_id>")
@bp.response(200, TaskDetailOut)
def public_detail(task_id):
    """The plan and commitment; after the draw the drawn agencies and inspectors and the verifiable `draw`
    record; once closed the findings."""
    return _detail(services.get_task(task_id))


@bp.get("/inspections/<int:task_id>/draw")
@bp.response(200, DrawRecordOut)
def draw_record(task_id):
    """The draw record alone: `python -m marketplace.requests.verify_draw <this URL>` recomputes it."""
    return services.draw_record(services.get_task(task_id))
