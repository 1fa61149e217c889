"""Pages: the public inspections (/inspections/: plan and commitment, the draw, the published results) and the
staff desk (/admin/inspectors, /admin/inspections: register, plan, draw, record findings, close)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from marketplace.auth.current import web_actor
from marketplace.auth.models import Role
from marketplace.auth.services import require_user
from marketplace.catalogue.models import Category
from marketplace.common import uploads
from marketplace.common.errors import DomainError, NotAllowed
from marketplace.common.forms import int_or_none, page_number
from marketplace.common.web import form_errors_from
from marketplace.extensions import db
from marketplace.inspections import register, rules, services
from marketplace.inspections.forms import ActionForm, EvidenceForm, InspectorForm, TaskForm
from marketplace.inspections.models import TaskStatus
from marketplace.regions import services as regions

public = Blueprint("inspections", __name__, url_prefix="/inspections")
admin = Blueprint("inspection_admin", __name__, url_prefix="/admin")


def blueprints():
    return [public, admin]


# --- public: 一公开 ------------------------------------------------------------------------------------------


@public.route("/")
def index():
    status = (
        request.args.get("status") if request.args.get("status") in {s.value for s in TaskStatus} else None
    )
    agency_id = int_or_none(request.args.get("agency_id"))
    page = db.paginate(
        services.public_query(status, agency_id),
        page=page_number(request.args.get("page")),
        per_page=20,
        error_out=False,
    )
    return render_template("inspections/index.html", page=page, status=status, agency_id=agency_id)


@public.route("/<int:task_id>")
def show(task_id: int):
    task = services.get_task(task_id)
    return render_template(
        "inspections/show.html",
        task=task,
        record=services.draw_record(task),
        targets=services.targets_view(task),
        api_url=url_for("inspections-api.draw_record", task_id=task.id, _external=True),
    )


# --- the staff desk ----------------------------------------------------------------------------------------------


@admin.before_request
@login_required
def _logged_in():
    pass


def _desk_actor():
    actor = require_user(web_actor())
    if not services.may_plan(actor):
        raise NotAllowed(_("Your account is not allowed to do this."))
    return actor


def _render_register(form: InspectorForm | None = None, status: int = 200):
    actor = _desk_actor()
    page = db.paginate(
        register.register_query(actor),
        page=page_number(request.args.get("page")),
        per_page=50,
        error_out=False,
    )
    if form is None:
        form = InspectorForm(formdata=None)
        if actor.role == Role.DEPARTMENT:
            form.department.data = actor.department
    return (
        render_template(
            "inspections/admin/inspectors.html",
            page=page,
            form=form,
            action=ActionForm(formdata=None),
            keeps=lambda i: register.may_keep(actor, i.department, i.region_code),
            own_department=actor.department if actor.role == Role.DEPARTMENT else None,
            area=actor.region_code or regions.market_area(),
        ),
        status,
    )


@admin.route("/inspectors", methods=["GET", "POST"])
def inspectors():
    if request.method == "GET":
        return _render_register()
    form = InspectorForm()
    if form.validate_on_submit():
        data = {
            "name": form.name.data,
            "department": form.department.data,
            "certificate_no": form.certificate_no.data,
            "region_code": (form.region_code.data or "").strip() or None,
        }
        try:
            inspector = register.add_inspector(web_actor(), data)
        except DomainError as exc:
            for message in form_errors_from(exc, form):
                flash(message, "danger")
            return _render_register(form, exc.status)
        flash(_("%(name)s is in the register.", name=inspector.name), "success")
        return redirect(url_for(".inspectors"))
    return _render_register(form, 422)


@admin.route("/inspectors/<int:inspector_id>/active", methods=["POST"])
def inspector_active(inspector_id: int):
    if ActionForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            inspector = register.set_active(web_actor(), inspector_id, active)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(
                _("%(name)s takes part in draws again.", name=inspector.name)
                if active
                else _("%(name)s no longer takes part in draws.", name=inspector.name),
                "success",
            )
    return redirect(url_for(".inspectors"))


@admin.route("/inspections")
def tasks():
    actor = _desk_actor()
    page = db.paginate(
        services.staff_query(actor), page=page_number(request.args.get("page")), per_page=20, error_out=False
    )
    return render_template(
        "inspections/admin/tasks.html", page=page, runs=lambda t: services.may_run(actor, t)
    )


def _categories(actor) -> list[Category]:
    cats = db.session.scalars(db.select(Category).order_by(Category.sort_order, Category.id)).all()
    if actor.role == Role.DEPARTMENT:
        cats = [c for c in cats if actor.department in services.category_departments(c.id)]
    return cats


def _render_new(form: TaskForm, status: int = 200):
    actor = _desk_actor()
    cats = _categories(actor)
    form.category_id.choices = [("", _("— choose —"))] + [(c.id, f"{c.code} {c.name}") for c in cats]
    chosen = next((c for c in cats if c.id == form.category_id.data), None)
    return (
        render_template(
            "inspections/admin/new.html",
            form=form,
            chosen=chosen,
            area=actor.region_code or regions.market_area(),
            source=services.SOURCE_DEPARTMENT if actor.role == Role.DEPARTMENT else services.SOURCE_MARKET,
        ),
        status,
    )


@admin.route("/inspections/new", methods=["GET", "POST"])
def new_task():
    if request.method == "GET":
        # Choosing the category (a GET of this page) fills in that trade's default checklist, to edit.
        form = TaskForm(formdata=request.args if request.args.get("category_id") else None)
        category = db.session.get(Category, int_or_none(request.args.get("category_id")) or 0)
        if category is not None and not (form.checklist.data or "").strip():
            form.checklist.data = "\n".join(rules.default_checklist(category.code))
        form.category_id.data = category.id if category else None
        return _render_new(form)
    form = TaskForm()
    if not form.validate_on_submit():
        return _render_new(form, 422)
    try:
        task = services.create_task(web_actor(), form.data_for_service())
    except DomainError as exc:
        for message in form_errors_from(exc, form):
            flash(message, "danger")
        return _render_new(form, exc.status)
    flash(_("Inspection planned; its commitment is public. Draw it when you are ready."), "success")
    return redirect(url_for(".task", task_id=task.id))


def _render_task(task_id: int, errors: dict | None = None, posted_for: int | None = None, status: int = 200):
    actor = require_user(web_actor())
    task = services.staff_task(actor, task_id)
    return (
        render_template(
            "inspections/admin/task.html",
            task=task,
            record=services.draw_record(task),
            targets=services.targets_view(task, staff=True),
            runs=services.may_run(actor, task),
            action=ActionForm(formdata=None),
            evidence_form=EvidenceForm(formdata=None),
            errors=errors or {},
            posted_for=posted_for,
            posted=request.form if posted_for else {},
        ),
        status,
    )


@admin.route("/inspections/<int:task_id>")
def task(task_id: int):
    return _render_task(task_id)


@admin.route("/inspections/<int:task_id>/draw", methods=["POST"])
def draw(task_id: int):
    if ActionForm().validate_on_submit():
        try:
            services.draw_task(web_actor(), task_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("Drawn: the seed is revealed and anyone can verify the draw."), "success")
    return redirect(url_for(".task", task_id=task_id))


def _findings_from(form, checklist: list[str]) -> dict:
    results = []
    for i in range(len(checklist)):
        verdict = form.get(f"passed-{i}")
        results.append(
            {"passed": {"pass": True, "fail": False}.get(verdict), "notes": form.get(f"notes-{i}") or None}
        )
    chosen = [int(v) for v in form.getlist("inspected_by") if v.isdigit()]
    return {"results": results, "inspected_by": chosen or None, "notes": form.get("notes") or None}


@admin.route("/inspections/<int:task_id>/agencies/<int:agency_id>/findings", methods=["POST"])
def findings(task_id: int, agency_id: int):
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for(".task", task_id=task_id))
    checklist = services.get_task(task_id).checklist
    try:
        target = services.record_findings(
            web_actor(), task_id, agency_id, _findings_from(request.form, checklist)
        )
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return _render_task(task_id, exc.errors, agency_id, exc.status)
    flash(_("Findings recorded for %(name)s.", name=target.agency.name), "success")
    return redirect(url_for(".task", task_id=task_id, _anchor=f"agency-{agency_id}"))


@admin.route("/inspections/<int:task_id>/agencies/<int:agency_id>/evidence", methods=["POST"])
def evidence(task_id: int, agency_id: int):
    form = EvidenceForm()
    if not form.validate_on_submit() or not form.file.data:
        flash(_("Choose a file."), "danger")
    else:
        try:
            services.add_evidence(
                web_actor(), task_id, agency_id, form.file.data.stream, form.file.data.filename
            )
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("File added."), "success")
    return redirect(url_for(".task", task_id=task_id, _anchor=f"agency-{agency_id}"))


@admin.route("/inspections/<int:task_id>/agencies/<int:agency_id>/evidence/<key>")
def evidence_file(task_id: int, agency_id: int, key: str):
    meta = services.evidence_file(web_actor(), task_id, agency_id, key)
    try:
        path = uploads.upload_path(services.UPLOAD_KIND, meta["key"])
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=meta["mime"], download_name=meta["name"], as_attachment=True)


@admin.route("/inspections/<int:task_id>/close", methods=["POST"])
def close(task_id: int):
    if ActionForm().validate_on_submit():
        try:
            services.close_task(web_actor(), task_id)
        except DomainError as exc:
            flash(str(exc.message), "danger")
        else:
            flash(_("Closed: the results are published."), "success")
            return redirect(url_for("inspections.show", task_id=task_id))
    return redirect(url_for(".task", task_id=task_id))
