"""GET /api/v1/stats (anyone): the market's public figures, by region and period; the kept monthly reports."""

from flask_smorest import Blueprint

from marketplace.reports import figures, served, services
from marketplace.reports.schemas import ReportDetailOut, ReportOut, StatsOut, StatsQuery

bp = Blueprint(
    "reports-api", __name__, url_prefix="/api/v1", description="Public statistics and monthly reports"
)


def blueprints():
    return [bp]


@bp.get("/stats")
@bp.arguments(StatsQuery, location="query")
@bp.response(200, StatsOut)
def stats(args):
    """Members by category and region; requests, deals and amounts by month; savings against ceilings and fees
    against guide prices; average against standard days; on-time rate; satisfaction; top agencies per category;
    complaints. `region` (any level) and `from` / `to` (YYYY-MM, at most 36 months) filter; 422 when one is not
    understood."""
    region, period = figures.parse_filters(
        {"region": args.get("region"), "from": args.get("date_from"), "to": args.get("date_to")}
    )
    return served.figures_for(region, period)


@bp.get("/stats/reports")
@bp.response(200, ReportOut(many=True))
def reports():
    """The kept monthly reports (月度运行报告), newest month first, with their page and PDF links."""
    return services.recent_reports()


@bp.get("/stats/reports/<int:report_id>")
@bp.response(200, ReportDetailOut)
def report(report_id):
    """One monthly report with its figures as they were generated."""
    return services.get_report(report_id)
