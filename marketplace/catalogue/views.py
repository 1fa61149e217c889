"""Public catalogue pages: categories → items (legal basis, fee regime, guide range, standard days)."""

from flask import Blueprint, render_template, request

from marketplace.catalogue import services

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")


def blueprints():
    return [bp]


@bp.route("/")
def index():
    categories = services.categories_with_items()
    selected = request.args.get("category", type=int)
    return render_template(
        "catalogue/index.html",
        categories=categories,
        selected=selected,
        item_total=sum(len(c.items) for c in categories),
        member_counts=services.member_counts(),
    )


@bp.route("/items/<int:item_id>")
def item(item_id: int):
    item = services.get_item(item_id)
    return render_template("catalogue/item.html", item=item, offers=services.offers_for_item(item_id))
