"""/api/v1/orders/{id}/contract…, …/extensions… and the public /api/v1/contracts (合同公告)."""

from flask import request, send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.common import uploads
from marketplace.common.errors import NotFound
from marketplace.common.web import api_page
from marketplace.orders import contracts
from marketplace.orders.schemas import (
    ContractIn,
    ContractOut,
    ExtensionIn,
    ExtensionOut,
    OptionalReasonIn,
    OrderReasonIn,
    PublicContractOut,
)

bp = Blueprint("contracts-api", __name__, url_prefix="/api/v1", description="Contracts and extensions")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


@bp.get("/contracts")
@bp.response(200, PublicContractOut(many=True))
@bp.paginate()
def list_contracts(pagination_parameters):
    """合同公告: confirmed contracts (request, parties, amount, start and end dates, confirmation). No files."""
    return api_page(contracts.public_contracts_query(), pagination_parameters)


@bp.post("/orders/<int:order_id>/contract")
@bp.arguments(ContractIn, location="form")
@bp.response(201, ContractOut)
@bp.doc(
    security=BEARER,
    description="multipart/form-data: `file` (the signed contract, PDF, checked by content), `code`, "
    "`amount_fen` (the awarded price), `start_date`, `end_date` (YYYY-MM-DD, not before the start).",
)
def upload(data, order_id):
    """Either party: upload the signed contract; the other party confirms or rejects it."""
    upload = request.files.get("file")
    file = (upload.stream, upload.filename) if upload and upload.filename else None
    return contracts.upload_contract(api_actor(), order_id, data, file)


@bp.post("/orders/<int:order_id>/contract/confirm")
@bp.response(200, ContractOut)
@bp.doc(security=BEARER)
def confirm(order_id):
    """The party that did not upload it: confirm the contract; the service clock starts now."""
    return contracts.confirm_contract(api_actor(), order_id)


@bp.post("/orders/<int:order_id>/contract/reject")
@bp.arguments(OrderReasonIn)
@bp.response(200, ContractOut)
@bp.doc(security=BEARER)
def reject(data, order_id):
    """The party that did not upload it: reject the contract with a reason (4 to 500 characters)."""
    return contracts.reject_contract(api_actor(), order_id, data["reason"])


@bp.get("/orders/<int:order_id>/contracts/<int:contract_id>/file")
@bp.doc(security=BEARER)
def contract_file(order_id, contract_id):
    """The signed PDF: for the two parties and the staff overseeing the order's region only."""
    contract = contracts.contract_file(api_actor(), order_id, contract_id)
    path = uploads.upload_path(contracts.UPLOAD_KIND, contract.file_key)
    if not path.exists():
        raise NotFound(_l("No such file."))
    return send_file(path, mimetype=contract.file_mime, download_name=contract.file_name, as_attachment=True)


@bp.post("/orders/<int:order_id>/extensions")
@bp.arguments(ExtensionIn)
@bp.response(201, ExtensionOut)
@bp.doc(security=BEARER)
def request_extension(data, order_id):
    """Agency: ask for a later due date (延期) with a reason; the owner approves or refuses."""
    return contracts.request_extension(api_actor(), order_id, data["due_date"], data["reason"])


@bp.post("/orders/<int:order_id>/extensions/<int:extension_id>/approve")
@bp.response(200, ExtensionOut)
@bp.doc(security=BEARER)
def approve_extension(order_id, extension_id):
    """Enterprise: approve; the due date moves (on-time counts the new date only if approved in time)."""
    return contracts.approve_extension(api_actor(), order_id, extension_id)


@bp.post("/orders/<int:order_id>/extensions/<int:extension_id>/reject")
@bp.arguments(OptionalReasonIn)
@bp.response(200, ExtensionOut)
@bp.doc(security=BEARER)
def reject_extension(data, order_id, extension_id):
    """Enterprise: refuse; the due date stays. `{reason}` is optional."""
    return contracts.reject_extension(api_actor(), order_id, extension_id, data.get("reason"))
