"""Objection pages: lodging one on the announcement (interested parties only), its evidence files, and the
administrators' objection desk."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from marketplace.auth.current import web_actor
from marketplace.common import uploads
from marketplace.common.errors import DomainError, Invalid
from marketplace.common.forms import page_number
from marketplace.common.web import form_errors_from
from marketplace.extensions import db
from marketplace.requests import objections, services
from marketplace.requests.forms import ObjectionForm, ResolveForm
from marketplace.requests.models import ObjectionStatus
from marketplace.requests.pages import public, render_detail

admin = Blueprint("request_admin", __name__, url_prefix="/admin")


def blueprints():
    return [admin]


# --- on the announcement -------------------------------------------------------------------------------------


@public.route("/<int:request_id>/objections", methods=["POST"])
@login_required
def lodge_objection(request_id: int):
    actor = web_actor()
    form = ObjectionForm()
    status = 200
    if form.validate_on_submit():
        files = [(f.stream, f.filename) for f in (form.evidence.data or []) if f and f.filename]
        try:
            objections.lodge_objection(actor, request_id, form.ground.data, form.facts.data, files)
        except DomainError as exc:
            db.session.rollback()
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            status = exc.status
        else:
            flash(
                _("Your objection was recorded. The administrators decide it by the time shown below."),
                "success",
            )
            return redirect(url_for("requests.detail", request_id=request_id, _anchor="objections"))
    return render_detail(services.get_request(actor, request_id), {"objection": form}), status


@public.route("/<int:request_id>/objections/<int:objection_id>/files/<key>")
@login_required
def objection_file(request_id: int, objection_id: int, key: str):
    """An evidence file: for the objector and administrators only."""
    meta = objections.objection_file(web_actor(), request_id, objection_id, key)
    try:
        path = uploads.upload_path(objections.UPLOAD_KIND, meta["key"])
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=meta["mime"], download_name=meta["name"], as_attachment=True)


# --- the administrators' objection desk -------------------------------------------------------------------------


@admin.before_request
@login_required
def _admin_logged_in():
    pass


def render_objections(forms: dict | None = None):
    page = db.paginate(
        objections.open_objections_query(web_actor()),
        page=page_number(request.args.get("page")),
        per_page=30,
        error_out=False,
    )
    forms = forms or {}
    return render_template(
        "requests/admin/objections.html",
        page=page,
        forms={o.id: forms.get(o.id) or ResolveForm(formdata=None) for o in page.items},
    )


@admin.route("/objections", endpoint="objections")
def objections_desk():
    return render_objections()


@admin.route("/objections/<int:objection_id>/resolve", methods=["POST"])
def resolve(objection_id: int):
    actor = web_actor()
    form = ResolveForm()
    if form.validate_on_submit():
        decision = request.form.get("decision")
        try:
            if decision not in ("uphold", "dismiss"):
                raise Invalid(_l("Choose to uphold or to dismiss the objection."))
            objection = objections.resolve_objection(
                actor, objection_id, decision == "uphold", form.outcome.data
            )
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return render_objections({objection_id: form})
        flash(
            _("Objection upheld: the selection moves to the next bid or the request fails.")
            if objection.status == ObjectionStatus.UPHELD
            else _("Objection dismissed; the result stands."),
            "success",
        )
    return redirect(url_for(".objections"))
