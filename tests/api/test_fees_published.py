"""/api/v1/fees is read as rows (fees/published.py): its JSON is exactly what `ItemFeesSummaryOut` dumps from
`reports.overview` — kept rows with and without deals, without a ceiling, behind the clock, in a division."""

from __future__ import annotations

from datetime import timedelta

from flask import jsonify
from sqlalchemy import select

from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.fees import reports
from marketplace.fees.schemas import ItemFeesSummaryOut
from marketplace.stats.fees import FeeItemSummary


def _kept(item_id: int, scope: str, **figures) -> None:
    row = db.session.get(FeeItemSummary, (item_id, scope)) or FeeItemSummary(
        service_item_id=item_id, scope=scope
    )
    defaults = {"count": 0, "amount_sum_fen": 0, "ceiling_sum_fen": 0, "above_guide": 0, "below_guide": 0}
    for name, value in (defaults | figures).items():
        setattr(row, name, value)
    row.monthly = {"2026-01": [figures.get("count", 0), figures.get("median_fen")]}
    db.session.add(row)


def test_the_rows_read_give_the_schemas_json_byte_for_byte(app, client):
    items = list(db.session.scalars(select(ServiceItem).order_by(ServiceItem.id)))[:6]
    deals = {"median_fen": 50_000, "min_fen": 10_000, "max_fen": 90_000, "p25_fen": 30_000, "p75_fen": 70_000}
    past, future = now() - timedelta(days=2), now() + timedelta(days=30)
    for scope in ("", "3205"):
        _kept(items[0].id, scope, count=3, amount_sum_fen=150_000, ceiling_sum_fen=200_000, **deals)
        _kept(items[1].id, scope, count=2, above_guide=1, valid_until=past, **deals)  # behind the clock
        _kept(items[2].id, scope, count=0, valid_until=past)  # no deal any more: as none
        _kept(
            items[3].id,
            scope,
            count=1,
            below_guide=1,
            valid_until=future,
            amount_sum_fen=9,
            ceiling_sum_fen=7,
        )
    _kept(items[4].id, "", count=4, amount_sum_fen=3, ceiling_sum_fen=3, **deals)
    db.session.flush()
    for query, region in (("", None), ("?region=320500", "320500"), ("?region=320506", "320506")):
        served = client.get(f"/api/v1/fees{query}")
        assert served.status_code == 200
        with app.test_request_context():
            expected = jsonify(ItemFeesSummaryOut(many=True).dump(reports.overview(region))).get_data()
        assert served.get_data() == expected
        body = served.get_json()
        assert (
            region == "320506"
            or any(e["as_of"] for e in body)
            and any("savings_rate" in e["winning"] for e in body)
        )


def test_a_deal_shows_at_once(client):
    """The figures change with every deal: they are read on every request, never kept."""
    item = db.session.scalars(select(ServiceItem).order_by(ServiceItem.id)).first()

    def count():
        return next(e for e in client.get("/api/v1/fees").get_json() if e["service_item_id"] == item.id)[
            "winning"
        ]

    _kept(item.id, "", count=7, median_fen=1000, min_fen=1000, max_fen=1000, p25_fen=1000, p75_fen=1000)
    db.session.flush()
    assert count()["count"] == 7
    _kept(item.id, "", count=8, median_fen=1000, min_fen=1000, max_fen=1000, p25_fen=1000, p75_fen=1000)
    db.session.flush()
    assert count()["count"] == 8
