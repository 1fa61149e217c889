"""/api/v1 credit: an agency's credit (public), the red and black lists (public; supervisors decide), the
agency's appeals (异议申诉) and repairs (信用修复), and the operator's decisions."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from marketplace.agencies.services import get_agency, my_agency
from marketplace.auth.current import api_actor
from marketplace.common.web import api_page
from marketplace.credit import appeals, rules, scores, services
from marketplace.credit.models import Decision, ListKind
from marketplace.credit.schemas import (
    CreditAppealIn,
    CreditAppealOut,
    CreditAppealUploadIn,
    CreditConductIn,
    CreditEntryOut,
    CreditEventOut,
    CreditLiftIn,
    CreditListIn,
    CreditOpinionIn,
    CreditOut,
    CreditRepairOut,
    CreditRepairUploadIn,
    CreditRuleOut,
)

bp = Blueprint(
    "credit-api", __name__, url_prefix="/api/v1", description="Credit: scores, grades, lists, appeals"
)
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


def _credit(agency_id: int) -> dict:
    agency = get_agency(agency_id)
    data = scores.explained(agency.id)
    return data | {"agency_id": agency.id, "lists": scores.entries_in_force(agency.id)}


@bp.get("/agencies/<int:agency_id>/credit")
@bp.response(200, CreditOut)
def agency_credit(agency_id):
    """An agency's credit: score, grade A–E, sub-scores by source and every credit event with its points, status
    and contribution to the score (the formula: GET /api/v1/credit/rules)."""
    return _credit(agency_id)


@bp.get("/credit/rules")
@bp.response(200, CreditRuleOut(many=True))
def credit_rules():
    """The rule catalogue (信用评价规则): each rule's source, points and whether it is a veto item."""
    return list(rules.RULES.values())


@bp.get("/blacklist")
@bp.response(200, CreditEntryOut(many=True))
@bp.paginate()
def blacklist(pagination_parameters):
    """The black list (失信名单): entries in force with reason, legal basis, from and until."""
    return api_page(services.list_query(ListKind.BLACK), pagination_parameters)


@bp.get("/redlist")
@bp.response(200, CreditEntryOut(many=True))
@bp.paginate()
def redlist(pagination_parameters):
    """The red list (守信名单): entries in force."""
    return api_page(services.list_query(ListKind.RED), pagination_parameters)


@bp.get("/admin/blacklist")
@bp.response(200, CreditEntryOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def admin_lists(pagination_parameters):
    """Every red and black list entry in the caller's area, in force or not (staff)."""
    return api_page(services.entries_query(api_actor()), pagination_parameters)


@bp.post("/admin/blacklist")
@bp.arguments(CreditListIn)
@bp.response(201, CreditEntryOut)
@bp.doc(security=BEARER)
def admin_list(data):
    """A supervisor acting in the agency's region lists it: `{agency_id, list: black|red, reason, basis, until}`.
    A black listing takes effect at once: the agency cannot bid, and a pending win passes to the next bid."""
    return services.list_agency(api_actor(), data)


@bp.post("/admin/blacklist/<int:entry_id>/lift")
@bp.arguments(CreditLiftIn)
@bp.response(200, CreditEntryOut)
@bp.doc(security=BEARER)
def admin_lift(data, entry_id):
    """The supervisor lifts an entry before its end, with a reason."""
    return services.lift_entry(api_actor(), entry_id, data["why"])


@bp.post("/admin/credit/events")
@bp.arguments(CreditConductIn)
@bp.response(201, CreditEventOut)
@bp.doc(security=BEARER)
def admin_conduct(data):
    """A supervisor records conduct found in review (false statement, forged certificate, collusion: veto items;
    other misconduct; a commendation) with evidence."""
    return services.record_conduct(api_actor(), data)


@bp.get("/agencies/me/credit-events")
@bp.response(200, CreditEventOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def my_events(pagination_parameters):
    """The calling agency's own credit events, newest first."""
    agency = my_agency(api_actor())
    return api_page(scores.events_query(agency.id), pagination_parameters)


@bp.post("/agencies/me/credit-events/<int:event_id>/appeal")
@bp.response(201, CreditAppealOut)
@bp.doc(
    security=BEARER,
    description="JSON `{reason}`, or multipart/form-data with `reason` and up to five `evidence` files "
    "(PDF/JPG/PNG). Only the agency's own counted negative events, within CREDIT_APPEAL_DAYS, once.",
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": CreditAppealIn},
            "multipart/form-data": {"schema": CreditAppealUploadIn},
        },
    },
)
def appeal(event_id):
    """异议申诉: appeal one credit event; the operator of the agency's region decides."""
    if request.mimetype == "multipart/form-data":
        reason = request.form.get("reason")
        files = [(f.stream, f.filename) for f in request.files.getlist("evidence")]
    else:
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        reason, files = body.get("reason"), []
    return appeals.file_appeal(api_actor(), event_id, reason, files)


@bp.get("/admin/credit/appeals")
@bp.response(200, CreditAppealOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def admin_appeals(pagination_parameters):
    """Appeals in the caller's area (operators; the supervisor reads), pending first by due date;
    `?status=all|pending|upheld|rejected`."""
    status = request.args.get("status", "pending")
    wanted = None if status == "all" else Decision(status) if status in Decision._value2member_map_ else None
    return api_page(appeals.appeals_query(api_actor(), wanted), pagination_parameters)


@bp.post("/admin/credit/appeals/<int:appeal_id>/uphold")
@bp.arguments(CreditOpinionIn)
@bp.response(200, CreditAppealOut)
@bp.doc(security=BEARER)
def uphold(data, appeal_id):
    """Uphold: the event is reversed and the agency's score and grade are recomputed."""
    return appeals.decide_appeal(api_actor(), appeal_id, True, data["opinion"])


@bp.post("/admin/credit/appeals/<int:appeal_id>/reject")
@bp.arguments(CreditOpinionIn)
@bp.response(200, CreditAppealOut)
@bp.doc(security=BEARER)
def reject(data, appeal_id):
    return appeals.decide_appeal(api_actor(), appeal_id, False, data["opinion"])


@bp.post("/agencies/me/credit-repairs")
@bp.response(201, CreditRepairOut)
@bp.doc(
    security=BEARER,
    description="multipart/form-data: `event_id` (a negative event) or `entry_id` (a black-list entry decided "
    "by a supervisor), `statement` (what was corrected) and `letter` (the signed 承诺书, PDF); allowed "
    "CREDIT_REPAIR_MIN_DAYS after the event or the listing.",
    requestBody={"required": True, "content": {"multipart/form-data": {"schema": CreditRepairUploadIn}}},
)
def repair():
    """信用修复: ask that a negative event stop counting or that a black-list entry be lifted."""
    form = request.form if request.form else request.get_json(silent=True)
    form = form if hasattr(form, "get") else {}

    def as_int(name):
        value = form.get(name)
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return -1

    letter = request.files.get("letter")
    data = {
        "event_id": as_int("event_id"),
        "entry_id": as_int("entry_id"),
        "statement": form.get("statement"),
    }
    return appeals.apply_repair(api_actor(), data, (letter.stream, letter.filename) if letter else None)


@bp.get("/admin/credit/repairs")
@bp.response(200, CreditRepairOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def admin_repairs(pagination_parameters):
    """Repair requests in the caller's area, pending ones."""
    return api_page(appeals.repairs_query(api_actor()), pagination_parameters)


@bp.post("/admin/credit/repairs/<int:repair_id>/approve")
@bp.arguments(CreditOpinionIn)
@bp.response(200, CreditRepairOut)
@bp.doc(security=BEARER)
def approve_repair(data, repair_id):
    """Approve: the event no longer counts (status repaired), or the black-list entry is lifted."""
    return appeals.decide_repair(api_actor(), repair_id, True, data["opinion"])


@bp.post("/admin/credit/repairs/<int:repair_id>/reject")
@bp.arguments(CreditOpinionIn)
@bp.response(200, CreditRepairOut)
@bp.doc(security=BEARER)
def reject_repair(data, repair_id):
    return appeals.decide_repair(api_actor(), repair_id, False, data["opinion"])
