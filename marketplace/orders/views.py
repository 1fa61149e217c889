"""Order pages: the parties' orders, one order's timeline, and the actions each party may take."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from marketplace.auth.current import web_actor
from marketplace.common import uploads
from marketplace.common.errors import DomainError
from marketplace.common.forms import fen_from, page_number
from marketplace.common.money import format_fen
from marketplace.common.web import ask_confirmation, confirmed, form_errors_from
from marketplace.extensions import db
from marketplace.orders import contract_views, services
from marketplace.orders.forms import ActionForm, AmendForm, DeliverForm, ProgressForm, ReasonForm
from marketplace.orders.models import AWAITING_CONTRACT, EVENT_LABELS, STATUS_LABELS, OrderStatus
from marketplace.orders.pages import party_role as _party_role
from marketplace.orders.pages import render_detail

bp = Blueprint("orders", __name__, url_prefix="/orders")


def blueprints():
    return [bp, *contract_views.blueprints()]


FILTERS = {
    "live": _l("Live"),
    "awaiting": STATUS_LABELS[OrderStatus.AWAITING],
    "in_progress": STATUS_LABELS[OrderStatus.IN_PROGRESS],
    "delivered": STATUS_LABELS[OrderStatus.DELIVERED],
    "disputed": STATUS_LABELS[OrderStatus.DISPUTED],
    "accepted": STATUS_LABELS[OrderStatus.ACCEPTED],
}


@bp.app_context_processor
def _labels():
    labels = STATUS_LABELS
    if services.contract_step():  # the order waits for its contract, not for the agency alone
        labels = STATUS_LABELS | {OrderStatus.AWAITING: AWAITING_CONTRACT}
    return {"order_status_labels": labels, "order_event_labels": EVENT_LABELS}


@bp.before_request
@login_required
def _logged_in():
    pass


@bp.route("/")
def index():
    actor = web_actor()
    status = request.args.get("status") if request.args.get("status") in FILTERS else None
    payment = request.args.get("payment") or None
    payment_error = payment is not None and payment not in services.PAYMENT_FILTERS
    if payment_error:
        payment = None  # the list unfiltered, under a message saying why
    page = db.paginate(
        services.orders_query(actor, status, payment),
        page=page_number(request.args.get("page")),
        per_page=20,
        error_out=False,
    )
    return render_template(
        "orders/index.html",
        page=page,
        status=status,
        filters=FILTERS,
        payment=payment,
        payment_error=payment_error,
        payment_filters=services.PAYMENT_HOOKS.get("labels", {}),
        payments=services.payment_statuses([o.id for o in page.items]),
        flags={o.id: services.deadline_status(o) for o in page.items},
        days={o.id: services.days_left(o) for o in page.items},
        is_admin=actor.is_staff,
    )


@bp.route("/<int:order_id>")
def detail(order_id: int):
    return render_detail(order_id)


def _back(order_id: int):
    return redirect(url_for(".detail", order_id=order_id))


def _simple(order_id: int, call, done: str):
    if ActionForm().validate_on_submit():
        try:
            call(web_actor(), order_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(done, "success")
    return _back(order_id)


@bp.route("/<int:order_id>/confirm", methods=["POST"])
def confirm(order_id: int):
    return _simple(order_id, services.confirm, _("Confirmed. The service clock has started."))


@bp.route("/<int:order_id>/accept", methods=["POST"])
def accept(order_id: int):
    if not confirmed() and ActionForm().validate_on_submit():
        order = services.get_order(web_actor(), order_id)
        if order.status == OrderStatus.DELIVERED and web_actor().enterprise is not None:
            return _confirm_acceptance(order)
    return _simple(order_id, services.accept, _("Accepted. Thank you; the order is complete."))


def _confirm_acceptance(order):
    """确认验收 asks first: the agency, the amount, and that acceptance closes the work for good."""
    return ask_confirmation(
        title=_("Accept the delivered work?"),
        facts=[
            (_("Order"), _("Order #%(id)d", id=order.id)),
            (_("Agency"), order.agency.name),
            (_("Contract amount"), format_fen(order.amount_fen)),
        ],
        consequences=[
            _("The order is complete: the work can no longer be disputed or sent back."),
            _("The contract amount becomes due to the agency, and the order counts in its statistics."),
        ],
        back_url=url_for(".detail", order_id=order.id),
        button=_("Confirm acceptance"),
    )


def _with_reason(order_id: int, name: str, call, done: str):
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            call(web_actor(), order_id, form.reason.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
        else:
            flash(done, "success")
            return _back(order_id)
    return render_detail(order_id, {name: form})


@bp.route("/<int:order_id>/decline", methods=["POST"])
def decline(order_id: int):
    return _with_reason(
        order_id,
        "decline",
        services.decline,
        _("You declined the order. The next bid in the ranking takes its place."),
    )


@bp.route("/<int:order_id>/dispute", methods=["POST"])
def dispute(order_id: int):
    return _with_reason(
        order_id,
        "dispute",
        services.dispute,
        _("Your dispute was recorded. The agency must deliver again."),
    )


@bp.route("/<int:order_id>/progress", methods=["POST"])
def progress(order_id: int):
    form = ProgressForm()
    if form.validate_on_submit():
        raw = (form.percent.data or "").strip()
        percent = int(raw) if raw.isdigit() else None
        if raw and (percent is None or percent > 100):
            form.percent.errors = [*form.percent.errors, _("A whole number from 0 to 100.")]
        else:
            try:
                services.report_progress(web_actor(), order_id, form.text.data, percent)
            except DomainError as exc:
                form_errors_from(exc, form)
                flash(str(exc.message), "danger")
            else:
                flash(_("Progress reported."), "success")
                return _back(order_id)
    return render_detail(order_id, {"progress": form})


@bp.route("/<int:order_id>/deliver", methods=["POST"])
def deliver(order_id: int):
    form = DeliverForm()
    if form.validate_on_submit():
        files = [(f.stream, f.filename) for f in (form.files.data or []) if f and f.filename]
        try:
            services.deliver(web_actor(), order_id, form.text.data, files)
        except DomainError as exc:
            form_errors_from(exc, form, {"file": "files"})
            flash(str(exc.message), "danger")
        else:
            flash(
                _("Delivered. The owner now checks the work and accepts it or raises a dispute."), "success"
            )
            return _back(order_id)
    return render_detail(order_id, {"deliver": form})


@bp.route("/<int:order_id>/files/<key>")
def delivery_file(order_id: int, key: str):
    meta = services.delivery_file(web_actor(), order_id, key)
    try:
        path = uploads.upload_path(services.UPLOAD_KIND, meta["key"])
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=meta.get("mime"), download_name=meta.get("name"), as_attachment=True)


# --- a contract amendment (补充协议) -----------------------------------------------------------------------------


@bp.route("/<int:order_id>/amend", methods=["GET", "POST"])
def amend(order_id: int):
    actor = web_actor()
    order = services.get_order(actor, order_id)
    if _party_role(actor, order) != "enterprise":
        abort(404)
    form = AmendForm()
    if form.validate_on_submit() and (amount := fen_from(form.amount)) is not None:
        try:
            services.amend_contract(actor, order_id, amount, form.reason.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
        else:
            flash(
                _("The contract amount was changed; the change is shown in the order's history."), "success"
            )
            return redirect(url_for(".detail", order_id=order_id))
    return render_template("orders/amend.html", order=order, req=order.request, form=form)
