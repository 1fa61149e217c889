"""/api/v1/notifications: the caller's notifications (unread first, with the unread count), marking them read."""

from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.auth.services import require_user
from marketplace.notifications import services
from marketplace.notifications.schemas import ListQuery, NotificationList, NotificationOut, ReadAllOut

bp = Blueprint("notifications-api", __name__, url_prefix="/api/v1", description="Notifications (站内信)")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


@bp.get("/notifications")
@bp.arguments(ListQuery, location="query")
@bp.response(200, NotificationList)
@bp.doc(security=BEARER)
def listing(query):
    """The caller's notifications, unread first then newest first, with the unread count."""
    actor = require_user(api_actor())
    page = services.listing(actor, query["page"], query["per_page"])
    return {
        "unread": services.unread_count(actor.id),
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "items": page.items,
    }


@bp.post("/notifications/<int:notification_id>/read")
@bp.response(200, NotificationOut)
@bp.doc(security=BEARER)
def read(notification_id):
    """Mark one of the caller's notifications read (another user's is 404)."""
    return services.mark_read(api_actor(), notification_id)


@bp.post("/notifications/read-all")
@bp.response(200, ReadAllOut)
@bp.doc(security=BEARER)
def read_all():
    """Mark all the caller's notifications read."""
    actor = require_user(api_actor())
    return {"marked": services.mark_all_read(actor), "unread": 0}
