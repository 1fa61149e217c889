"""Pages for the signed contract and extensions (on the order page), and the public 合同公告 (/contracts)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from marketplace.auth.current import web_actor
from marketplace.common import uploads
from marketplace.common.errors import DomainError
from marketplace.common.forms import page_number
from marketplace.common.money import yuan_to_fen
from marketplace.common.web import form_errors_from
from marketplace.extensions import db
from marketplace.orders import contracts
from marketplace.orders.forms import ActionForm, ContractForm, ExtensionForm, ReasonForm
from marketplace.orders.pages import render_detail

bp = Blueprint("order_contracts", __name__, url_prefix="/orders")
public = Blueprint("contracts", __name__, url_prefix="/contracts")


def blueprints():
    return [bp, public]


@bp.before_request
@login_required
def _logged_in():
    pass


def _back(order_id: int, anchor: str = "contract"):
    return redirect(url_for("orders.detail", order_id=order_id) + f"#{anchor}")


def _failed(exc: DomainError, form, order_id: int, name: str, aliases: dict | None = None):
    form_errors_from(exc, form, aliases)
    flash(str(exc.message), "danger")
    return render_detail(order_id, {name: form}), 422


@bp.route("/<int:order_id>/contract", methods=["POST"])
def upload(order_id: int):
    form = ContractForm()
    if not form.validate_on_submit():
        flash(_("Please correct the marked fields."), "danger")
        return render_detail(order_id, {"contract": form}), 422
    amount = None
    raw = (form.amount.data or "").strip()
    try:
        amount = yuan_to_fen(raw) if raw else None
    except ValueError:
        form.amount.errors = [*form.amount.errors, _("Enter an amount in yuan, e.g. 12000 or 12,000.50.")]
        return render_detail(order_id, {"contract": form}), 422
    upload = form.file.data
    file = (upload.stream, upload.filename) if upload and getattr(upload, "filename", None) else None
    terms = {
        "code": form.code.data,
        "amount_fen": amount,
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
    }
    try:
        contracts.upload_contract(web_actor(), order_id, terms, file)
    except DomainError as exc:
        return _failed(exc, form, order_id, "contract", {"amount_fen": "amount"})
    flash(_("The contract was uploaded. The other party now confirms it."), "success")
    return _back(order_id)


@bp.route("/<int:order_id>/contract/confirm", methods=["POST"])
def confirm(order_id: int):
    if ActionForm().validate_on_submit():
        try:
            contracts.confirm_contract(web_actor(), order_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("The contract is confirmed. The service clock has started."), "success")
    return _back(order_id)


@bp.route("/<int:order_id>/contract/reject", methods=["POST"])
def reject(order_id: int):
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            contracts.reject_contract(web_actor(), order_id, form.reason.data)
        except DomainError as exc:
            return _failed(exc, form, order_id, "contract_reject")
        flash(
            _("The contract was rejected. The other party sees your reason and may upload a new one."),
            "success",
        )
        return _back(order_id)
    return render_detail(order_id, {"contract_reject": form}), 422


@bp.route("/<int:order_id>/contracts/<int:contract_id>/file")
def contract_file(order_id: int, contract_id: int):
    contract = contracts.contract_file(web_actor(), order_id, contract_id)
    try:
        path = uploads.upload_path(contracts.UPLOAD_KIND, contract.file_key)
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=contract.file_mime, download_name=contract.file_name, as_attachment=True)


@bp.route("/<int:order_id>/extensions", methods=["POST"])
def request_extension(order_id: int):
    form = ExtensionForm()
    if form.validate_on_submit():
        try:
            contracts.request_extension(web_actor(), order_id, form.due_date.data, form.reason.data)
        except DomainError as exc:
            return _failed(exc, form, order_id, "extension")
        flash(_("Your request for more time was sent to the owner."), "success")
        return _back(order_id, "extensions")
    flash(_("Please correct the marked fields."), "danger")
    return render_detail(order_id, {"extension": form}), 422


@bp.route("/<int:order_id>/extensions/<int:extension_id>/approve", methods=["POST"])
def approve_extension(order_id: int, extension_id: int):
    if ActionForm().validate_on_submit():
        try:
            contracts.approve_extension(web_actor(), order_id, extension_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("Extension approved: the due date has moved."), "success")
    return _back(order_id, "extensions")


@bp.route("/<int:order_id>/extensions/<int:extension_id>/reject", methods=["POST"])
def reject_extension(order_id: int, extension_id: int):
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            contracts.reject_extension(web_actor(), order_id, extension_id, form.reason.data)
        except DomainError as exc:
            return _failed(exc, form, order_id, "extension_reject")
        flash(_("Extension refused: the due date stays."), "success")
    return _back(order_id, "extensions")


# --- the public 合同公告 ----------------------------------------------------------------------------------------


@public.route("/")
def index():
    page = db.paginate(
        contracts.public_contracts_query(),
        page=page_number(request.args.get("page")),
        per_page=30,
        error_out=False,
    )
    return render_template("orders/contracts.html", page=page)
