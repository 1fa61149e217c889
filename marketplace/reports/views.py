"""Pages: /stats (the market's public statistics) and the monthly reports (printable page and PDF)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup, escape

from marketplace.common.errors import Invalid
from marketplace.common.fragments import fragment
from marketplace.common.money import format_fen
from marketplace.common.templating import macros, page_gettext
from marketplace.regions import services as regions
from marketplace.reports import figures, served, services
from marketplace.reports.monthly import PdfUnavailable, member_charts, month_charts, report_pdf

bp = Blueprint("reports", __name__, url_prefix="/stats")


def blueprints():
    return [bp]


@bp.app_template_global()
def wan(fen: float | None) -> Markup:
    """`{{ wan(fen) }}` in the statistics (reports/_figures.html): an amount in 万元 from ¥10,000 up, else in yuan;
    a function rather than a macro, as it is called for every agency of the leading lists."""
    if fen is None:
        return Markup("—")
    if fen >= 1_000_000:
        return escape(f"{fen / 1_000_000:,.2f}") + Markup(" ") + Markup(page_gettext("×10k yuan"))
    return escape(format_fen(fen))


@bp.route("/")
def index():
    problem, errors = None, {}
    try:
        region, period = figures.parse_filters(request.args)
    except Invalid as exc:  # say what is wrong beside the filters, and show the defaults meanwhile
        problem, errors = str(exc.message), {k: [str(m) for m in v] for k, v in exc.errors.items()}
        region, period = None, figures.Period.default()
    data, stamp = served.kept_figures(region, period)
    make = macros("reports/_sections.html").figure_sections

    def sections() -> str:
        return make(data, month_charts(data["monthly"]), member_charts(data))

    page = render_template(
        "reports/index.html",
        figures=data,
        region=region,
        period=period,
        # the figures' sections, kept under the stamp that names the kept figures (computed ones: made each time)
        sections=fragment("stats_sections", stamp, sections, size=64),
        reports=services.recent_reports(),
        area_label=services.area_label,
        problem=problem,
        errors=errors,
        raw=request.args,
        market=regions.market_area(),
    )
    return page, 422 if problem else 200


@bp.route("/reports/<int:report_id>")
def report(report_id: int):
    report = services.get_report(report_id)
    data = report.figures
    return render_template(
        "reports/report.html",
        report=report,
        figures=data,
        area_name=services.area_label(report.area_code),
        month_charts=month_charts(data.get("trend") or data["monthly"]),
        member_charts=member_charts(data),
    )


@bp.route("/reports/<int:report_id>.pdf")
def report_pdf_file(report_id: int):
    report = services.get_report(report_id)
    body = report.pdf
    if body is None:
        try:  # generated where WeasyPrint could not run: make it now if it can (never kept by a read)
            body = report_pdf(report, services.area_label(report.area_code))
        except PdfUnavailable as exc:
            page = render_template("reports/no_pdf.html", report=report, message=str(exc))
            return page, 503
    name = f"monthly-report-{report.month}-{report.area_code}.pdf"
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "public, max-age=3600",
        },
    )
