"""Rating forms on the order page, the agency's reply, the department's rating, hiding a comment."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from marketplace.auth.current import web_actor
from marketplace.auth.models import Role
from marketplace.common.errors import DomainError
from marketplace.common.forms import page_number
from marketplace.orders.models import OrderStatus
from marketplace.ratings import moderation, services
from marketplace.ratings.forms import DepartmentRatingForm, RatingForm, TextForm
from marketplace.ratings.services import SCORES

bp = Blueprint("ratings", __name__)
admin = Blueprint("rating_admin", __name__, url_prefix="/admin/ratings")


def blueprints():
    return [bp, admin]


@bp.app_template_global()
def rating_panel(order) -> dict:
    """What the order page shows and offers about ratings, for the current user."""
    actor = web_actor()
    rating = services.rating_for(order.id)
    return {
        "rating": rating,
        "department": services.department_rating_for(order.id),
        "can_rate": services.can_rate(actor, order),
        "can_reply": bool(
            rating and rating.reply is None and actor and actor.agency and actor.agency.id == rating.agency_id
        ),
        "may_hide": services.may_hide(actor, order),
        "can_report": bool(
            rating
            and rating.comment
            and not rating.hidden_reason
            and rating.reported_at is None
            and actor
            and actor.agency
            and actor.agency.id == rating.agency_id
        ),
        # The form is the departments' own (双评价): other roles — the administrator included — never see it.
        "may_department_rate": order.status == OrderStatus.ACCEPTED
        and actor is not None
        and actor.role == Role.DEPARTMENT
        and services.may_department_rate(actor, order),
        "window_ends": services.rating_window_ends(order) if order.accepted_at else None,
        "form": RatingForm(),
        "department_form": DepartmentRatingForm(),
        "text_form": TextForm(),
    }


def _done(order_id: int, call, message: str):
    try:
        call()
    except DomainError as exc:
        flash(str(exc.message), "danger")
        for messages in (exc.errors or {}).values():
            for m in messages:
                flash(str(m), "warning")
    else:
        flash(message, "success")
    return redirect(url_for("orders.detail", order_id=order_id) + "#rating")


@bp.route("/orders/<int:order_id>/rate", methods=["POST"])
@login_required
def rate(order_id: int):
    form = RatingForm()
    form.validate_on_submit()  # the service checks every score and says what is wrong
    data = {name: getattr(form, name).data for name in SCORES} | {"comment": form.comment.data}
    return _done(
        order_id,
        lambda: services.rate_order(web_actor(), order_id, data),
        _("Thank you: your rating is published."),
    )


@bp.route("/ratings/<int:rating_id>/reply", methods=["POST"])
@login_required
def reply(rating_id: int):
    form = TextForm()
    order_id = request.form.get("order_id", type=int) or 0
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("orders.detail", order_id=order_id))
    return _done(
        order_id, lambda: services.reply(web_actor(), rating_id, form.text.data), _("Reply published.")
    )


@bp.route("/orders/<int:order_id>/department-rate", methods=["POST"])
@login_required
def department_rate(order_id: int):
    form = DepartmentRatingForm()
    form.validate_on_submit()
    data = {"quality": form.quality.data, "timeliness": form.timeliness.data, "comment": form.comment.data}
    return _done(
        order_id,
        lambda: services.department_rate(web_actor(), order_id, data),
        _("The department's rating is recorded."),
    )


@bp.route("/ratings/<int:rating_id>/hide", methods=["POST"])
@login_required
def hide(rating_id: int):
    form = TextForm()
    order_id = request.form.get("order_id", type=int) or 0
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("orders.detail", order_id=order_id))
    return _done(
        order_id,
        lambda: services.hide_comment(web_actor(), rating_id, form.text.data),
        _("The comment is hidden."),
    )


@bp.route("/ratings/<int:rating_id>/report", methods=["POST"])
@login_required
def report(rating_id: int):
    form = TextForm()
    order_id = request.form.get("order_id", type=int) or 0
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("orders.detail", order_id=order_id))
    return _done(
        order_id,
        lambda: moderation.report_comment(web_actor(), rating_id, form.text.data),
        _("The comment is reported: the market's operators will look at it."),
    )


# --- the operators' moderation list (/admin/ratings) ----------------------------------------------------------


@admin.route("/")
def moderation_list():
    view = request.args.get("view")
    if view not in moderation.VIEWS:  # reported comments first; the whole list when none waits
        view = "reported"
    page = moderation.moderation_list(web_actor(), view, page_number(request.args.get("page")))
    if "view" not in request.args and not page.counts["reported"]:
        view = "all"
        page = moderation.moderation_list(web_actor(), view, page_number(request.args.get("page")))
    return render_template(
        "ratings/admin/moderation.html",
        page=page.pagination,
        counts=page.counts,
        acts=page.acts,
        view=view,
        views=moderation.VIEWS,
        awaits=moderation.awaits_decision,
        form=TextForm(),
    )


MODERATION_ACTIONS = {
    "hide": (services.hide_comment, _l("The comment is hidden.")),
    "restore": (moderation.restore_comment, _l("The comment is shown again.")),
    "keep": (moderation.keep_comment, _l("The comment stays visible.")),
}


@admin.route("/<int:rating_id>/<any(hide, restore, keep):action>", methods=["POST"])
def moderate(rating_id: int, action: str):
    form = TextForm()
    view = request.form.get("view") if request.form.get("view") in moderation.VIEWS else "all"
    back = url_for("rating_admin.moderation_list", view=view) + f"#rating-{rating_id}"
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(back)
    call, message = MODERATION_ACTIONS[action]
    try:
        call(web_actor(), rating_id, form.text.data)
    except DomainError as exc:
        flash(str(exc.message), "danger")
        for messages in (exc.errors or {}).values():
            for m in messages:
                flash(str(m), "warning")
    else:
        flash(str(message), "success")
    return redirect(back)
