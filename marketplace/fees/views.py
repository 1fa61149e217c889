"""Pages: the administrators' fee audit (flags, review, charts, CSV) and the public fee pages (收费公示)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from marketplace.agencies.models import Agency
from marketplace.auth.current import web_actor
from marketplace.catalogue.models import ServiceItem
from marketplace.common import charts
from marketplace.common.errors import DomainError
from marketplace.common.forms import page_number
from marketplace.common.fragments import fragment
from marketplace.common.money import format_fen
from marketplace.common.templating import macros
from marketplace.common.web import form_errors_from
from marketplace.extensions import db
from marketplace.fees import reports, services, wording
from marketplace.fees.forms import ReviewForm
from marketplace.fees.models import (
    RULE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    FlagRule,
    FlagStatus,
    Severity,
)

public = Blueprint("fees", __name__, url_prefix="/fees")
admin = Blueprint("fee_admin", __name__, url_prefix="/admin/fee-audit")


def blueprints():
    return [public, admin]


@public.app_context_processor
def _labels():
    return {
        "fee_rule_labels": RULE_LABELS,
        "fee_severity_labels": SEVERITY_LABELS,
        "fee_status_labels": STATUS_LABELS,
    }


def _yuan_axis(fen: float) -> str:
    yuan = fen / 100
    return f"¥{yuan:,.0f}" if yuan < 10_000 else f"¥{yuan / 10_000:.4g}万"


def _pct(value: float) -> str:
    return f"{value * 100:.3g}%"


# --- public -------------------------------------------------------------------------------------------------


@public.route("/")
def index():
    region = reports.region_filter(request.args.get("region"))
    categories = reports.overview_by_category(region)
    rows = [row for group in categories.values() for row in group]
    return render_template("fees/index.html", categories=categories, region=region, as_of=reports.as_of(rows))


@public.app_template_global("fee_section")
def fee_section(category, rows: list[dict]):
    """One category's table on the fee page (templates/fees/_section.html), kept per process under everything it
    shows: the category's facts (its items with their guide prices) and each row's figures."""
    make = macros("fees/_section.html").fee_section
    key = (category, tuple(tuple(row["winning"].items()) for row in rows))
    return fragment("fee_sections", key, lambda: make(category, rows), size=512)


@public.route("/items/<int:item_id>")
def item(item_id: int):
    region = reports.region_filter(request.args.get("region"))
    data = reports.item_fees(item_id, region)
    monthly = data["monthly"]
    guide = (data["guide_min_fen"], data["guide_max_fen"]) if data["guide_max_fen"] is not None else None
    chart = charts.line_with_band(
        [m["month"][5:] for m in monthly],
        [m["median_fen"] for m in monthly],
        guide,
        _yuan_axis,
        titles=[
            f"{m['month']}: {format_fen(m['median_fen'])} ({m['count']})" if m["median_fen"] else m["month"]
            for m in monthly
        ],
    )
    return render_template("fees/item.html", data=data, item=data["item"], chart=chart, region=region)


@public.route("/rules")
def rules():
    """收费规则: how prices are set and what the fee audit checks (public)."""
    from marketplace.fees.explain import audit_rules

    return render_template(
        "fees/rules.html",
        audit_rules=audit_rules(),
        fiscal_threshold_fen=current_app.config["MARKET_FISCAL_THRESHOLD_FEN"],
    )


# --- administrators -----------------------------------------------------------------------------------------


@admin.before_request
@login_required
def _logged_in():
    pass


def _filters() -> tuple[services.FlagFilter, bool]:
    try:
        return services.FlagFilter.parse(request.args), True
    except DomainError as exc:
        flash(str(exc.message), "danger")
        return services.FlagFilter(), False


@admin.route("/")
def audit():
    actor = web_actor()
    flt, ok = _filters()
    page = db.paginate(
        services.flags_query(actor, flt),
        page=page_number(request.args.get("page")),
        per_page=30,
        error_out=False,
    )
    item_id = flt.service_item_id or reports.busiest_guided_item()
    fee_chart = None
    if item_id and db.session.get(ServiceItem, item_id) is not None:
        series = reports.fee_vs_guide(item_id)
        guide = (
            (series["guide_min_fen"], series["guide_max_fen"])
            if series["guide_max_fen"] is not None
            else None
        )
        fee_chart = {
            "item": series["item"],
            "chart": charts.line_with_band(
                [p["month"][5:] for p in series["points"]],
                [p["avg_fen"] for p in series["points"]],
                guide,
                _yuan_axis,
                titles=[
                    f"{p['month']}: {format_fen(p['avg_fen'])} ({p['count']})" if p["avg_fen"] else p["month"]
                    for p in series["points"]
                ],
            ),
        }
    savings = reports.savings_by_month(flt.service_item_id)
    savings_chart = charts.bars(
        [m["month"][5:] for m in savings],
        [m["savings_rate"] for m in savings],
        _pct,
        titles=[
            f"{m['month']}: {_pct(m['savings_rate'])} ({m['count']})"
            if m["savings_rate"] is not None
            else m["month"]
            for m in savings
        ],
    )
    return render_template(
        "fees/admin/audit.html",
        page=page,
        flt=flt,
        filters_ok=ok,
        counts=services.counts(actor, flt),
        rules=list(FlagRule),
        severities=list(Severity),
        statuses=list(FlagStatus),
        items=db.session.scalars(
            select(ServiceItem).order_by(ServiceItem.category_id, ServiceItem.sort_order)
        ).all(),
        agency=db.session.get(Agency, flt.agency_id) if flt.agency_id else None,
        describe=services.describe,
        tests_fired=wording.tests_fired,
        fee_chart=fee_chart,
        savings_chart=savings_chart,
    )


@admin.route("/export.csv")
def export():
    flt, _ok = _filters()
    body = services.export_csv(web_actor(), flt)
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=fee-audit.csv"}
    )


def _render_flag(flag_id: int, form: ReviewForm | None = None):
    flag = services.get_flag(web_actor(), flag_id)
    return render_template(
        "fees/admin/flag.html",
        flag=flag,
        form=form or ReviewForm(formdata=None),
        describe=services.describe,
        tests_fired=wording.tests_fired,
    )


@admin.route("/<int:flag_id>")
def flag(flag_id: int):
    return _render_flag(flag_id)


@admin.route("/<int:flag_id>/review", methods=["POST"])
def review(flag_id: int):
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            flag = services.review(web_actor(), flag_id, request.form.get("action", ""), form.note.data)
        except DomainError as exc:
            form_errors_from(exc, form)
            flash(str(exc.message), "danger")
            return _render_flag(flag_id, form), 422
        flash(
            _("Flag no. %(id)d: %(status)s.", id=flag.id, status=STATUS_LABELS[flag.status]),
            "success",
        )
        return redirect(url_for(".flag", flag_id=flag.id))
    return _render_flag(flag_id, form), 400
