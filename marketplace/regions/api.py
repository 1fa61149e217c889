"""/api/v1/regions: the divisions below a code (none: the provinces)."""

from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from marketplace.common import areas
from marketplace.common.errors import Invalid, NotFound
from marketplace.regions import services
from marketplace.regions.schemas import RegionOut, RegionQuery

bp = Blueprint(
    "regions-api", __name__, url_prefix="/api/v1", description="Administrative divisions (GB/T 2260)"
)


def blueprints():
    return [bp]


@bp.get("/regions")
@bp.arguments(RegionQuery, location="query")
@bp.response(200, RegionOut(many=True))
def regions(args):
    """Children of `parent` (province → city → county; municipalities list their districts directly)."""
    parent = args["parent"] or None
    if parent is not None:
        if not areas.is_code(parent):
            raise Invalid(
                _l("A six-digit GB/T 2260 code is expected."),
                {"parent": [_l("A six-digit GB/T 2260 code is expected.")]},
            )
        if services.get(parent) is None:
            raise NotFound(_l("No such region."))
    return services.children(parent)
