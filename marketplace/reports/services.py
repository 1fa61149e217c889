"""Public statistics and the monthly report (月度运行报告): which reports are due, generating one, reading them.

A month's reports are due from the first pass of the clock on the 1st of the next month (Beijing time): one for
the market's area and one for each division one level below it (the cities of a province, the counties of a
city) once a request has been published there. A report is generated once: its figures are frozen as JSON with
its PDF (None, with the reason, when WeasyPrint cannot run here). `flask reports generate --month` makes a missed
month's reports.

The clock's ids pack a month and an area: YYYYMM × 10⁶ + the area's GB/T 2260 code (202611320500 is November
2026 for 320500), so that the step for one id knows what to make without a pending row."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import defer

from marketplace.audit.services import record
from marketplace.common import areas
from marketplace.common.clock import now
from marketplace.common.errors import Invalid, NotFound
from marketplace.extensions import db
from marketplace.regions import services as regions
from marketplace.reports import figures as fig
from marketplace.reports.models import MonthlyReport
from marketplace.reports.monthly import PdfUnavailable, report_pdf
from marketplace.requests.models import ServiceRequest

AREA_FACTOR = 1_000_000


def pack(month: str, area: str) -> int:
    return int(month.replace("-", "")) * AREA_FACTOR + int(area)


def unpack(report_id: int) -> tuple[str, str]:
    yyyymm, code = divmod(report_id, AREA_FACTOR)
    return f"{yyyymm // 100:04d}-{yyyymm % 100:02d}", f"{code:06d}"


def last_month() -> str:
    return fig.add_months(fig.month_of(now()), -1)


def report_areas(month: str) -> list[str]:
    """The areas that get a report for `month`: the market's area and the divisions one level below it where a
    request had been published before the month's end (none before the market's first request)."""
    market = regions.market_area()
    end = fig.month_start(fig.add_months(month, 1))
    width = len(areas.prefix(market)) + 2
    published = (
        ServiceRequest.published_at < end,
        ServiceRequest.region_code.is_not(None),
        regions.inside(ServiceRequest.region_code, market),
    )
    if width > 6:  # a county-level market has nothing below it
        return [market] if db.session.scalar(select(ServiceRequest.id).where(*published).limit(1)) else []
    prefixes = set(
        db.session.scalars(
            select(func.substr(ServiceRequest.region_code, 1, width)).where(*published).distinct()
        )
    )
    if not prefixes:
        return []
    below = [d.code for d in regions.children(market) if areas.prefix(d.code) in prefixes]
    return [market, *below]


def missing(month: str) -> list[str]:
    have = set(db.session.scalars(select(MonthlyReport.area_code).where(MonthlyReport.month == month)))
    return [a for a in report_areas(month) if a not in have]


def due_ids() -> list[int]:
    """Monthly reports the clock should generate now (one per area, on the 1st): for the clock."""
    if not current_app.config["REPORTS_MONTHLY"]:
        return []
    month = last_month()
    return [pack(month, area) for area in missing(month)]


def apply_due(report_id: int) -> bool:
    """The clock's step for one report. Returns True if it was generated. The caller commits."""
    month, area = unpack(report_id)
    if month >= fig.month_of(now()) or regions.get(area) is None:
        return False  # a month not over yet, or an id that is not ours
    return generate(area, month) is not None


def generate(area: str, month: str) -> MonthlyReport | None:
    """Make and keep the report of `area` for `month`; None when it exists already (a report is made once)."""
    if db.session.scalar(
        select(MonthlyReport.id).where(MonthlyReport.area_code == area, MonthlyReport.month == month)
    ):
        return None
    region = None if area == regions.market_area() else area
    figures = fig.compute(region, fig.Period(month, month))
    trend = fig.Period(fig.add_months(month, -11), month)
    figures["trend"] = fig.monthly(region, trend, fig.deals(region, trend))
    report = MonthlyReport(area_code=area, month=month, figures=figures, generated_at=now())
    try:
        report.pdf = report_pdf(report, area_label(area))
    except PdfUnavailable as exc:
        report.pdf_problem = str(exc)
    db.session.add(report)
    db.session.flush()
    record(
        None,
        "reports.generate",
        report,
        after={"area": area, "month": month, "pdf": report.pdf is not None},
    )
    return report


def generate_month(month: str) -> list[MonthlyReport]:
    """`flask reports generate --month`: the month's missing reports (the month must be over)."""
    if fig.parse_month(month) is None:
        raise Invalid(_l("Give a month as YYYY-MM, e.g. 2026-03."))
    if month >= fig.month_of(now()):
        raise Invalid(_l("The month is not over yet."))
    made = [generate(area, month) for area in missing(month)]
    return [r for r in made if r is not None]


# --- reading ------------------------------------------------------------------------------------------------


def area_label(area: str) -> str:
    if area == regions.market_area():
        return str(_l("%(area)s (the whole market)", area=regions.full_name(area) or area))
    return regions.full_name(area) or area


def get_report(report_id: int) -> MonthlyReport:
    report = db.session.get(MonthlyReport, report_id)
    if report is None:
        raise NotFound(_l("No such monthly report."))
    return report


def recent_reports(limit: int = 24) -> list[MonthlyReport]:
    """The kept reports, newest month first, the market's area before its cities."""
    market = regions.market_area()
    rows = db.session.scalars(
        select(MonthlyReport)
        .order_by(MonthlyReport.month.desc(), MonthlyReport.area_code)
        .limit(limit * 20)
        .options(defer(MonthlyReport.pdf), defer(MonthlyReport.figures))
    ).all()
    rows.sort(key=lambda r: (r.area_code != market, r.area_code))
    rows.sort(key=lambda r: r.month, reverse=True)
    months: list[str] = []
    out = []
    for r in rows:
        if r.month not in months:
            months.append(r.month)
        if len(months) > limit:
            break
        out.append(r)
    return out
