"""The catalogue desk (/admin/catalogue): a department edits its trade's service items, each change a new
version; the supervisor and the administrator see every item (only the administrator edits them all)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from marketplace.auth.current import web_actor
from marketplace.catalogue import services
from marketplace.catalogue.forms import FEE_REGIME_LABELS, ItemForm
from marketplace.common.errors import DomainError, NotAllowed
from marketplace.common.money import fen_to_yuan, yuan_to_fen
from marketplace.common.web import form_errors_from

admin = Blueprint("catalogue_admin", __name__, url_prefix="/admin/catalogue")


def blueprints():
    return [admin]


@admin.before_request
@login_required
def _admin_logged_in():
    pass


@admin.route("/")
def items():
    actor = web_actor()
    rows = services.staff_items(actor)
    return render_template(
        "catalogue/admin/items.html",
        items=rows,
        editable={i.id for i in rows if services.may_edit(actor, i)},
        regime_labels=FEE_REGIME_LABELS,
    )


def _yuan(field) -> int | None:
    raw = (field.data or "").strip()
    if not raw:
        return None
    try:
        return yuan_to_fen(raw)
    except ValueError:
        field.errors = [*field.errors, _("Enter an amount in yuan, e.g. 12000 or 12000.50.")]
        return None


def _days(field) -> int | None:
    raw = (field.data or "").strip()
    if not raw.isdigit():
        field.errors = [*field.errors, _("Must be a whole number.")]
        return None
    return int(raw)


@admin.route("/<int:item_id>", methods=["GET", "POST"])
def edit(item_id: int):
    actor = web_actor()
    item = services.get_item(item_id)
    if not services.may_edit(actor, item):
        raise NotAllowed(_("Only the department of this item's trade may change it."))
    form = ItemForm()
    if not form.is_submitted():
        form.process(
            data={
                "legal_basis": item.legal_basis,
                "approval": item.approval,
                "fee_regime": item.fee_regime.value,
                "guide_min": fen_to_yuan(item.guide_min_fen),
                "guide_max": fen_to_yuan(item.guide_max_fen),
                "fee_basis": item.fee_basis,
                "standard_days": str(item.standard_days),
                "qualification": item.qualification,
                "model_contract": item.model_contract,
            }
        )
    status = 200
    if form.validate_on_submit():
        data = {
            "legal_basis": form.legal_basis.data,
            "approval": form.approval.data,
            "fee_regime": form.fee_regime.data,
            "guide_min_fen": _yuan(form.guide_min),
            "guide_max_fen": _yuan(form.guide_max),
            "fee_basis": form.fee_basis.data,
            "standard_days": _days(form.standard_days),
            "qualification": form.qualification.data,
            "model_contract": form.model_contract.data,
            "note": form.note.data,
        }
        if not any(f.errors for f in form):
            try:
                version = services.edit_item(actor, item_id, data)
            except DomainError as exc:
                flash(str(exc.message), "danger")
                for message in form_errors_from(
                    exc, form, {"guide_min_fen": "guide_min", "guide_max_fen": "guide_max"}
                ):
                    flash(str(message), "warning")
                status = exc.status
            else:
                flash(_("Saved as version %(n)d of %(name)s.", n=version.version, name=item.name), "success")
                return redirect(url_for("catalogue.item", item_id=item.id, _anchor="versions"))
        else:
            status = 422
    elif form.is_submitted():
        status = 422
    return render_template(
        "catalogue/admin/edit.html", item=item, form=form, versions=services.versions(item_id)
    ), status
