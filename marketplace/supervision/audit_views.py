"""/admin/audit: the staff's audit viewer (administrator and supervisors)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from marketplace.audit.labels import action_label, object_label
from marketplace.auth.current import web_actor
from marketplace.common.forms import page_number
from marketplace.supervision import audit_log

bp = Blueprint("audit_admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _logged_in():
    pass


@bp.route("/audit")
def entries():
    actor = audit_log.require_reader(web_actor())
    filters = audit_log.Filters.from_args(request.args)
    page = audit_log.entries(actor, filters, page_number(request.args.get("page")))
    return render_template(
        "staff/audit.html",
        page=page,
        filters=filters,
        actions=audit_log.action_choices(),
        object_types=audit_log.object_choices(),
        action_label=action_label,
        object_label=object_label,
        changes=audit_log.changes,
        sealed=audit_log.sealed_bids(page.items),
    )
