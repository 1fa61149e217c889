"""/api/v1/admin/deadlines: the administrators' deadline board (orders under way, overdue objections)."""

from flask import jsonify
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.common.errors import Invalid
from marketplace.requests import objections
from marketplace.requests.schemas import ObjectionBoardRowOut
from marketplace.supervision.deadlines import deadline_board
from marketplace.supervision.schemas import BoardQuery, BoardRowOut

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
    `{objection, deadline_status: "red", days_left}`."""
    for name, allowed in (("state", (None, "red", "yellow", "ok")), ("section", ("orders", "objections"))):
        if args[name] not in allowed:
            raise Invalid(
                _l("Not one of the allowed values."), {name: [_l("Not one of the allowed values.")]}
            )
    if args["section"] == "objections":
        rows = objections.overdue_objections(api_actor(), args["service_item_id"])
        return jsonify(ObjectionBoardRowOut(many=True).dump(rows))
    return deadline_board(api_actor(), args["state"], args["service_item_id"])["rows"]
