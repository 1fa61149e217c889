"""/api/v1/categories, /api/v1/service-items, item versions, and the departments' edits."""

from flask_smorest import Blueprint

from marketplace.auth.current import api_actor
from marketplace.catalogue import published, services
from marketplace.catalogue.schemas import (
    CategoryOut,
    ItemEditIn,
    ItemQuery,
    ItemVersionOut,
    QualificationKindOut,
    ServiceItemOut,
)
from marketplace.common.httpcache import same_for_everyone

bp = Blueprint("catalogue-api", __name__, url_prefix="/api/v1", description="The service catalogue")
BEARER = [{"bearerAuth": []}]


def blueprints():
    return [bp]


@bp.get("/categories")
@bp.response(200, CategoryOut(many=True))
@same_for_everyone()
def categories():
    """Service categories with their items."""
    return published.answer(
        "categories", lambda: CategoryOut(many=True).dump(services.categories_with_items())
    )


@bp.get("/service-items")
@bp.arguments(ItemQuery, location="query")
@bp.response(200, ServiceItemOut(many=True))
@same_for_everyone()
def service_items(args):
    """Service items; `guide_min_fen`/`guide_max_fen` are null when market-priced."""
    category_id = args["category_id"] or None  # (0: every category)
    return published.answer(
        ("items", category_id), lambda: ServiceItemOut(many=True).dump(services.service_items(category_id))
    )


@bp.get("/service-items/<int:item_id>")
@bp.response(200, ServiceItemOut)
@same_for_everyone()
def service_item(item_id):
    return published.answer(("item", item_id), lambda: ServiceItemOut().dump(services.get_item(item_id)))


@bp.get("/catalogue/items/<int:item_id>/versions")
@bp.response(200, ItemVersionOut(many=True))
def item_versions(item_id):
    """Every version of the item's rules, the newest first (version 1: as shipped). A request names the one
    it was posted under (`service_item_version`)."""
    return services.versions(item_id)


@bp.patch("/admin/catalogue/items/<int:item_id>")
@bp.arguments(ItemEditIn)
@bp.response(200, ItemVersionOut)
@bp.doc(security=BEARER)
def edit_item(data, item_id):
    """The department of the item's trade (or the administrator) changes legal basis, fee regime and guide
    range, fee basis, standard days, qualification or approval, with a `note`: a new version. Others: 403."""
    return services.edit_item(api_actor(), item_id, data)


@bp.get("/catalogue/qualification-kinds")
@bp.response(200, QualificationKindOut(many=True))
def qualification_kinds():
    """The register of qualification kinds (资质类别): per trade, with the grades each is issued in."""
    return published.answer(
        "kinds", lambda: QualificationKindOut(many=True).dump(services.qualification_kinds())
    )
