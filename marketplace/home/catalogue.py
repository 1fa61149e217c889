"""The public catalogue pages: categories → items (legal basis, fee regime, guide range, standard days), with
each category's member count and each item's offers — so they sit here, above the catalogue and the agencies,
under the blueprint name "catalogue" that templates link to."""

from flask import Blueprint, Response, render_template, request

from marketplace.agencies import services as agencies
from marketplace.auth.current import web_actor
from marketplace.catalogue import facts, services
from marketplace.catalogue.contracts import model_contract as model_contract_text
from marketplace.common.clock import now
from marketplace.home import item_page

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")
ITEM_OFFERS = 30  # an item page shows the fastest offers; the agency list compares them all


def blueprints():
    return [bp]


@bp.route("/")
def index():
    categories = facts.categories()  # the kept copy: no catalogue read per request
    selected = request.args.get("category", type=int)
    return render_template(
        "catalogue/index.html",
        categories=categories,
        selected=selected,
        item_total=sum(len(c.items) for c in categories),
        member_counts=agencies.member_counts(),
    )


@bp.route("/items/<int:item_id>")
def item(item_id: int):
    item = item_page.item(item_id)
    offers = item_page.offers(item, limit=ITEM_OFFERS + 1)
    more = len(offers) > ITEM_OFFERS
    offers = offers[:ITEM_OFFERS]
    return render_template(
        "catalogue/item.html",
        item=item,
        offers=offers,
        more_offers=more,
        checks=item_page.checks(offers, item, now().date()),
        versions=services.versions(item_id),
        can_edit=services.may_edit(web_actor(), item),
    )


@bp.route("/items/<int:item_id>/model-contract")
def model_contract(item_id: int):
    """The item's model contract (合同示范文本), kept by its department: a page, or `?format=txt` to download."""
    item = services.get_item(item_id)
    text = model_contract_text(item)
    if request.args.get("format") == "txt":
        return Response(
            text.replace("\n", "\r\n"),
            mimetype="text/plain",
            headers={"Content-Disposition": f"attachment; filename=model-contract-{item.code}.txt"},
        )
    return render_template("catalogue/model_contract.html", item=item, text=text)
