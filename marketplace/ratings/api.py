"""/api/v1/orders/{id}/rating, replies, the department's rating, hiding abusive comments, an agency's ratings."""

from flask_smorest import Blueprint

from marketplace.agencies import services as agencies
from marketplace.auth.current import api_actor
from marketplace.ratings import services
from marketplace.ratings.schemas import (
    DepartmentRatingIn,
    DepartmentRatingOut,
    HideIn,
    RatingIn,
    RatingOut,
    ReplyIn,
)

bp = Blueprint("ratings-api", __name__, url_prefix="/api/v1", description="Ratings")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


@bp.post("/orders/<int:order_id>/rating")
@bp.arguments(RatingIn)
@bp.response(201, RatingOut)
@bp.doc(security=BEARER)
def rate(data, order_id):
    """The order's enterprise rates it once after acceptance, within the rating window: overall and 质量, 时效,
    态度, 收费, 规范 (1–5 each) with a comment."""
    return services.rate_order(api_actor(), order_id, data)


@bp.post("/ratings/<int:rating_id>/reply")
@bp.arguments(ReplyIn)
@bp.response(200, RatingOut)
@bp.doc(security=BEARER)
def reply(data, rating_id):
    """The rated agency replies once."""
    return services.reply(api_actor(), rating_id, data["reply"])


@bp.post("/orders/<int:order_id>/department-rating")
@bp.arguments(DepartmentRatingIn)
@bp.response(201, DepartmentRatingOut)
@bp.doc(security=BEARER)
def department_rate(data, order_id):
    """双评价: the approving department (an administrator) rates quality and timeliness."""
    return services.department_rate(api_actor(), order_id, data)


@bp.post("/admin/ratings/<int:rating_id>/hide")
@bp.arguments(HideIn)
@bp.response(200, RatingOut)
@bp.doc(security=BEARER)
def hide(data, rating_id):
    """Hide an abusive comment (the scores stay); the reason is audited."""
    return services.hide_comment(api_actor(), rating_id, data["reason"])


@bp.get("/agencies/<int:agency_id>/ratings")
@bp.response(200, RatingOut(many=True))
def agency_ratings(agency_id):
    """An active member's most recent ratings, with replies."""
    agencies.get_store(agency_id, api_actor())
    return services.recent_for_agency(agency_id, limit=50)
