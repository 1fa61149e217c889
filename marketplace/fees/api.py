"""/api/v1/admin/fee-audit (administrators) and /api/v1/fees (public: what the market pays per item)."""

from flask import Response, jsonify
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.common.errors import Invalid
from marketplace.common.web import api_page
from marketplace.fees import published, reports, services
from marketplace.fees.schemas import FeesQuery, FlagOut, FlagQuery, ItemFeesOut, ItemFeesSummaryOut, ReviewIn

bp = Blueprint("fees-api", __name__, url_prefix="/api/v1", description="Fee audit and public fees")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


def _filter(args: dict) -> services.FlagFilter:
    return services.FlagFilter.parse({**args, "from": args.get("date_from"), "to": args.get("date_to")})


@bp.get("/admin/fee-audit")
@bp.arguments(FlagQuery, location="query")
@bp.response(200, FlagOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def fee_audit(args, pagination_parameters):
    """Fee flags, newest first: each with rule, severity, status, the figures that triggered it and the
    administrator's note. Filters: rule, severity, status, agency_id, service_item_id, from, to."""
    return api_page(services.flags_query(api_actor(), _filter(args)), pagination_parameters)


@bp.get("/admin/fee-audit.csv")
@bp.arguments(FlagQuery, location="query")
@bp.doc(security=BEARER, responses={200: {"description": "UTF-8 CSV with a BOM (opens in Excel)"}})
def fee_audit_csv(args):
    """The same flags as CSV for Excel."""
    body = services.export_csv(api_actor(), _filter(args))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=fee-audit.csv"},
    )


@bp.get("/admin/fee-audit/<int:flag_id>")
@bp.response(200, FlagOut)
@bp.doc(security=BEARER)
def fee_flag(flag_id):
    return services.get_flag(api_actor(), flag_id)


@bp.post("/admin/fee-audit/<int:flag_id>/review")
@bp.arguments(ReviewIn)
@bp.response(200, FlagOut)
@bp.doc(security=BEARER)
def review(data, flag_id):
    """confirm (a violation: it lowers the agency's credit), dismiss or reopen, with a note."""
    return services.review(api_actor(), flag_id, data["action"], data["note"])


@bp.get("/fees")
@bp.arguments(FeesQuery, location="query")
@bp.response(200, ItemFeesSummaryOut(many=True))
def fees(args):
    """Every service item: guide range and the median and range of winning prices over the last 12 months;
    `region` (a GB/T 2260 code of any level) limits them to projects inside it."""
    return jsonify(published.overview(_region(args)))  # already what the schema dumps (fees/published.py)


@bp.get("/service-items/<int:item_id>/fees")
@bp.arguments(FeesQuery, location="query")
@bp.response(200, ItemFeesOut)
def item_fees(args, item_id):
    """One service item's fee page: guide range, winning prices (median, quartiles, range) and by month;
    `region` as above."""
    return reports.item_fees(item_id, _region(args))


def _region(args: dict) -> str | None:
    if not args.get("region"):
        return None
    code = reports.region_filter(args["region"])
    if code is None:
        message = _l("Unknown region: give a GB/T 2260 code, e.g. 320500.")
        raise Invalid(message, {"region": [message]})
    return code
