"""/api/v1/categories and /api/v1/service-items."""

from flask_smorest import Blueprint

from marketplace.catalogue import services
from marketplace.catalogue.schemas import CategoryOut, ItemQuery, QualificationKindOut, ServiceItemOut

bp = Blueprint("catalogue-api", __name__, url_prefix="/api/v1", description="The service catalogue")


def blueprints():
    return [bp]


@bp.get("/categories")
@bp.response(200, CategoryOut(many=True))
def categories():
    """Service categories with their items."""
    return services.categories_with_items()


@bp.get("/service-items")
@bp.arguments(ItemQuery, location="query")
@bp.response(200, ServiceItemOut(many=True))
def service_items(args):
    """Service items; `guide_min_fen`/`guide_max_fen` are null when market-priced."""
    return services.service_items(args["category_id"])


@bp.get("/service-items/<int:item_id>")
@bp.response(200, ServiceItemOut)
def service_item(item_id):
    return services.get_item(item_id)


@bp.get("/catalogue/qualification-kinds")
@bp.response(200, QualificationKindOut(many=True))
def qualification_kinds():
    """The register of qualification kinds (资质类别): per trade, with the grades each is issued in."""
    return services.qualification_kinds()
