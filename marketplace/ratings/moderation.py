"""Moderating ratings' comments: the agency reports an abusive comment, the operators of the order's area see
every rating on one list (reported first, or hidden, recent, low) and hide a comment with a reason, restore a
hidden one, or keep a reported one visible. Scores never change; every decision is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from marketplace.audit.services import record
from marketplace.auth.models import Role, User
from marketplace.auth.policy import scope_condition
from marketplace.auth.services import require_acting, require_role, require_user
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotAllowed, NotFound, WrongState
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.ratings.models import Rating
from marketplace.ratings.services import _comment, order_scope
from marketplace.requests.models import ServiceRequest

RECENT_DAYS = 30
LOW_STARS = 2

# The list's views, in the order of the tabs.
VIEWS = {
    "reported": _l("Reported"),
    "hidden": _l("Hidden"),
    "recent": _l("Last 30 days"),
    "low": _l("1–2 stars"),
    "all": _l("All"),
}


def _reason(text, field: str = "text") -> str:
    reason = _comment(text, field, 500)
    if not reason:
        raise Invalid(_l("A reason is required."), {field: [_l("A reason is required.")]})
    return reason


def _open_report():
    """Reported and not yet decided since the report."""
    return and_(
        Rating.reported_at.is_not(None),
        or_(Rating.moderated_at.is_(None), Rating.moderated_at < Rating.reported_at),
    )


def awaits_decision(rating: Rating) -> bool:
    return rating.reported_at is not None and (
        rating.moderated_at is None or rating.moderated_at < rating.reported_at
    )


def report_comment(actor: User | None, rating_id: int, reason) -> Rating:
    """The rated agency reports the comment as abusive (once): it waits on the operators' list."""
    actor = require_role(actor, Role.AGENCY)
    rating = db.session.get(Rating, rating_id)
    if rating is None or actor.agency is None or rating.agency_id != actor.agency.id:
        raise NotFound(_l("No such rating."))
    if not rating.comment or rating.hidden_reason:
        raise WrongState(_l("There is no visible comment to report."))
    if rating.reported_at is not None:
        raise WrongState(_l("You have already reported this comment."))
    reason = _reason(reason)
    rating.reported_at, rating.report_reason = now(), reason
    record(actor, "rating.report", rating, after={"report_reason": reason})
    return rating


def restore_comment(actor: User | None, rating_id: int, reason) -> Rating:
    """The operator shows a hidden comment again (a hiding found wrong), with a reason."""
    rating = _for_operator(actor, rating_id)
    if not rating.hidden_reason:
        raise WrongState(_l("This comment is not hidden."))
    reason = _reason(reason)
    record(
        actor,
        "rating.restore_comment",
        rating,
        before={"hidden_reason": rating.hidden_reason},
        after={"restore_reason": reason},
    )
    rating.hidden_reason, rating.moderated_at = None, now()
    return rating


def keep_comment(actor: User | None, rating_id: int, reason) -> Rating:
    """The operator decides a reported comment stays visible, with a reason."""
    rating = _for_operator(actor, rating_id)
    if not awaits_decision(rating):
        raise WrongState(_l("This comment does not wait for a decision."))
    reason = _reason(reason)
    record(actor, "rating.keep_comment", rating, after={"keep_reason": reason})
    rating.moderated_at = now()
    return rating


def _for_operator(actor: User | None, rating_id: int) -> Rating:
    actor = require_user(actor)
    rating = db.session.get(Rating, rating_id)
    if rating is None:
        raise NotFound(_l("No such rating."))
    require_acting(actor, Role.OPERATOR, order_scope(rating.order)[0])
    return rating


# --- the list -------------------------------------------------------------------------------------------------


@dataclass
class ModerationPage:
    pagination: object
    counts: dict[str, int]
    acts: bool


def require_moderation_reader(actor: User | None) -> User:
    actor = require_user(actor)
    if not (actor.holds(Role.OPERATOR) or actor.holds(Role.SUPERVISOR)):
        raise NotAllowed(_l("Your account is not allowed to do this."))
    return actor


def _condition(view: str):
    if view == "reported":
        return _open_report()
    if view == "hidden":
        return Rating.hidden_reason.is_not(None)
    if view == "recent":
        return Rating.created_at >= now() - timedelta(days=RECENT_DAYS)
    if view == "low":
        return Rating.overall <= LOW_STARS
    return None


def moderation_list(actor: User | None, view: str, page: int, per_page: int = 20) -> ModerationPage:
    """Ratings of orders in the actor's area (the supervisor reads them), newest first."""
    actor = require_moderation_reader(actor)
    scope = scope_condition(actor, Role.OPERATOR, ServiceRequest.region_code, read=True)
    base = (
        select(Rating)
        .join(Order, Order.id == Rating.order_id)
        .join(ServiceRequest, ServiceRequest.id == Order.request_id)
        .where(scope)
    )
    counts = {}
    for name in VIEWS:
        cond = _condition(name)
        stmt = select(func.count()).select_from(
            base.where(cond).subquery() if cond is not None else base.subquery()
        )
        counts[name] = db.session.scalar(stmt) or 0
    cond = _condition(view)
    stmt = base.where(cond) if cond is not None else base
    order = (Rating.reported_at.desc(),) if view == "reported" else ()
    stmt = stmt.options(
        joinedload(Rating.order).joinedload(Order.request), joinedload(Rating.enterprise)
    ).order_by(*order, Rating.created_at.desc(), Rating.id.desc())
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    return ModerationPage(pagination, counts, actor.holds(Role.OPERATOR))
