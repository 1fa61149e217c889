"""The bell in the header, the notifications page, marking read, delivery choices, following a request."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.auth.current import web_actor
from marketplace.common.errors import DomainError
from marketplace.notifications import services, transport
from marketplace.notifications.forms import ActionForm, PreferencesForm
from marketplace.notifications.kinds import KINDS, label

bp = Blueprint("notifications", __name__)
# flask-mailman's messages look for the extension; transport.py still reads the MAIL_* settings at each sending.
bp.record_once(lambda state: transport.mail.init_app(state.app))


def blueprints():
    return [bp]


@bp.app_template_global()
def unread_notifications() -> int:
    """The bell's number: one COUNT per page, none for visitors who are not logged in."""
    if not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:
        g.unread_notifications = services.unread_count(current_user.id)
    return g.unread_notifications


@bp.app_template_global()
def watch_panel(req) -> dict | None:
    """关注 / 提醒我 on a request page: for agency accounts while bidding is open."""
    actor = web_actor()
    if actor is None or actor.role != "agency" or req.phase.value != "bidding" or not req.is_public:
        return None
    return {"watching": services.watching(actor, req.id), "form": ActionForm()}


def _refused(exc: DomainError):
    flash(str(exc.message), "danger")


def _safe(link: str | None) -> str | None:
    """Only paths inside this site (a stored link is never an open redirect)."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return None


@bp.get("/notifications")
@login_required
def index():
    page = services.listing(web_actor(), request.args.get("page", 1, type=int))
    return render_template(
        "notifications/index.html",
        page=page,
        unread=services.unread_count(current_user.id),
        said=services.text_of,
        kind_label=label,
        form=ActionForm(),
    )


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("notifications.index"))
    try:
        found = services.mark_read(web_actor(), notification_id)
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        _refused(exc)
        return redirect(url_for("notifications.index"))
    if request.form.get("go") and _safe(found.link):
        return redirect(found.link)
    return redirect(
        request.form.get("back") if _safe(request.form.get("back")) else url_for("notifications.index")
    )


@bp.post("/notifications/read-all")
@login_required
def read_all():
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
    else:
        n = services.mark_all_read(web_actor())
        flash(_("%(n)d notifications marked as read.", n=n), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("The form expired; please try again."), "danger")
        else:
            mail = [k.code for k in KINDS if request.form.get(f"mail_{k.code}")]
            sms = [k.code for k in KINDS if request.form.get(f"sms_{k.code}")]
            services.set_preferences(web_actor(), mail, sms)
            flash(_("Your choices are saved."), "success")
            return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html",
        form=form,
        rows=services.preferences(web_actor()),
        mail_on=services.mail_on(),
        sms_on=services.sms_on(),
    )


@bp.post("/requests/<int:request_id>/watch")
@login_required
def watch(request_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
    else:
        try:
            if request.form.get("stop"):
                services.unwatch(web_actor(), request_id)
                flash(_("You no longer follow this request."), "success")
            else:
                services.watch(web_actor(), request_id)
                flash(_("Followed: we will remind you before bidding closes unless you have bid."), "success")
        except DomainError as exc:
            if exc.status == 404:
                abort(404)
            _refused(exc)
    return redirect(url_for("requests.detail", request_id=request_id) + "#watch")
