"""/api/v1/orders…: the two parties' actions on an order."""

from flask import request, send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.common import uploads
from marketplace.common.errors import NotFound
from marketplace.common.web import api_page
from marketplace.orders import contract_api, services
from marketplace.orders.schemas import (
    AmendIn,
    OrderListQuery,
    OrderOut,
    OrderReasonIn,
    TextIn,
)

bp = Blueprint("orders-api", __name__, url_prefix="/api/v1", description="Orders")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp, *contract_api.blueprints()]


@bp.get("/orders")
@bp.arguments(OrderListQuery, location="query")
@bp.response(200, OrderOut(many=True))
@bp.paginate()
@bp.doc(security=BEARER)
def list_orders(args, pagination_parameters):
    """The caller's orders (administrators: all; staff: in their area), filtered by `status` and `payment`."""
    query = services.orders_query(api_actor(), args["status"], args["payment"])
    items = api_page(query, pagination_parameters)
    return items


@bp.get("/orders/<int:order_id>")
@bp.response(200, OrderOut)
@bp.doc(security=BEARER)
def get(order_id):
    """Amount, promised days, due date and `deadline_status` (ok / yellow at 80% / red when overdue)."""
    return services.get_order(api_actor(), order_id)


@bp.post("/orders/<int:order_id>/confirm")
@bp.response(200, OrderOut)
@bp.doc(security=BEARER)
def confirm(order_id):
    """Agency: confirm the contract; the service clock starts."""
    return services.confirm(api_actor(), order_id)


@bp.post("/orders/<int:order_id>/decline")
@bp.arguments(OrderReasonIn)
@bp.response(200, OrderOut)
@bp.doc(security=BEARER)
def decline(data, order_id):
    """Agency: decline before starting; the next-ranked bid takes the place."""
    return services.decline(api_actor(), order_id, data["reason"])


@bp.post("/orders/<int:order_id>/progress")
@bp.arguments(TextIn)
@bp.response(201, OrderOut)
@bp.doc(security=BEARER)
def progress(data, order_id):
    """Agency: a progress report (text, optional percent)."""
    services.report_progress(api_actor(), order_id, data["text"], data.get("percent"))
    return services.get_order(api_actor(), order_id)


@bp.post("/orders/<int:order_id>/deliver")
@bp.response(200, OrderOut)
@bp.doc(
    security=BEARER,
    description="JSON `{text}` or multipart/form-data with `text` and any number of `files` (PDF/JPG/PNG).",
)
def deliver(order_id):
    """Agency: deliver the work; the acceptance window starts."""
    if request.mimetype == "multipart/form-data":
        text = request.form.get("text")
        files = [(f.stream, f.filename) for f in request.files.getlist("files")]
    else:
        body = request.get_json(silent=True) or {}
        text, files = body.get("text") if isinstance(body, dict) else None, []
    return services.deliver(api_actor(), order_id, text, files)


@bp.post("/orders/<int:order_id>/accept")
@bp.response(200, OrderOut)
@bp.doc(security=BEARER)
def accept(order_id):
    """Enterprise: accept the delivered work (验收)."""
    return services.accept(api_actor(), order_id)


@bp.post("/orders/<int:order_id>/dispute")
@bp.arguments(OrderReasonIn)
@bp.response(200, OrderOut)
@bp.doc(security=BEARER)
def dispute(data, order_id):
    """Enterprise: refuse the delivery with a reason; the agency delivers again."""
    return services.dispute(api_actor(), order_id, data["reason"])


@bp.get("/orders/<int:order_id>/files/<key>")
@bp.doc(security=BEARER)
def file(order_id, key):
    meta = services.delivery_file(api_actor(), order_id, key)
    path = uploads.upload_path(services.UPLOAD_KIND, meta["key"])
    if not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=meta["mime"], download_name=meta["name"], as_attachment=True)


@bp.post("/orders/<int:order_id>/amend")
@bp.arguments(AmendIn)
@bp.response(200, OrderOut)
@bp.doc(security=BEARER)
def amend(data, order_id):
    """Enterprise: record a supplementary agreement that changes the contract amount (checked by the fee audit)."""
    return services.amend_contract(api_actor(), order_id, data["amount_fen"], data["reason"])
