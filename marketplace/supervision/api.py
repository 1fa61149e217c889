"""/api/v1/admin/deadlines: the administrators' deadline board (orders under way, overdue objections)."""

from flask import g, jsonify
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.agencies import changes as membership_changes
from marketplace.auth.current import api_actor
from marketplace.common.errors import Invalid
from marketplace.complaints import services as complaints
from marketplace.complaints.schemas import ComplaintBoardRowOut
from marketplace.requests import objections
from marketplace.requests.schemas import ObjectionBoardRowOut
from marketplace.supervision.deadlines import deadline_board
from marketplace.supervision.schemas import BoardQuery, BoardRowOut, MembershipBoardRowOut

bp = Blueprint("supervision-api", __name__, url_prefix="/api/v1", description="Supervision")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


@bp.get("/admin/deadlines")
@bp.arguments(BoardQuery, location="query")
@bp.response(200, BoardRowOut(many=True))
@bp.doc(security=BEARER)
def deadlines(args):
    """Administrators: every order under way with `deadline_status` (red first) and `days_left` (negative:
    overdue). Filters: state=red|yellow|ok, service_item_id. `section=objections`: the section 逾期未处理的异议
    instead, objections undecided past their `decide_by`, the longest overdue first, as
    `{objection, deadline_status: "red", days_left}`. `section=memberships`: membership applications and
    changes undecided past their `review_due_at` (审核超时), as `{kind: "application"|"change", agency_id,
    agency_name, change_id, review_due_at, days_overdue, deadline_status: "red"}`. `section=complaints`:
    complaints and reports not accepted or not closed in time, as `{complaint, deadline_status: "red",
    days_left}`."""
    sections = ("orders", "objections", "memberships", "complaints")
    for name, allowed in (("state", (None, "red", "yellow", "ok")), ("section", sections)):
        if args[name] not in allowed:
            raise Invalid(
                _l("Not one of the allowed values."), {name: [_l("Not one of the allowed values.")]}
            )
    if args["section"] == "complaints":
        g.complaint_viewer = api_actor()
        return jsonify(ComplaintBoardRowOut(many=True).dump(complaints.overdue_complaints(api_actor())))
    if args["section"] == "memberships":
        rows = membership_changes.overdue_reviews(api_actor())
        return jsonify(MembershipBoardRowOut(many=True).dump(rows))
    if args["section"] == "objections":
        rows = objections.overdue_objections(api_actor(), args["service_item_id"])
        return jsonify(ObjectionBoardRowOut(many=True).dump(rows))
    return deadline_board(api_actor(), args["state"], args["service_item_id"])["rows"]
