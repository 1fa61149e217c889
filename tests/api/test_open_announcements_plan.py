"""An agency's list of an item's open announcements (`/api/v1/requests?status=bidding&service_item_id=…`) reads
them through the index of the open announcements by item and deadline (migration 0045) in a market where nearly
every announcement of the item is long decided — not every open announcement of the market through the (status,
deadline) index, nor every announcement of the item: ~0.4 against ~10 ms at 100,000 agencies."""

from __future__ import annotations

from sqlalchemy import func, insert, literal, literal_column, select

from marketplace.extensions import db
from marketplace.requests.models import ServiceRequest
from tests import factories as f
from tests.plans import plan, statements
from tests.racing import needs_postgresql

pytestmark = needs_postgresql  # (SQLite uses a partial index only for a literal status, not a bound one)


def _history(template: ServiceRequest, n: int) -> None:
    """n decided announcements of the template's item, deadlines a year ago (copies of its row)."""
    table = ServiceRequest.__table__
    columns = [c for c in table.columns if c.name != "id"]
    changed = {
        "status": literal("awarded"),
        "bid_deadline": table.c.bid_deadline - literal_column("interval '1 year'"),
    }
    rows = (
        select(*(changed.get(c.name, c) for c in columns))
        .select_from(table.join(func.generate_series(1, n).alias("n"), literal(True)))
        .where(table.c.id == template.id)
    )
    db.session.execute(insert(table).from_select([c.name for c in columns], rows))
    db.session.connection().exec_driver_sql("ANALYZE service_request")


def test_an_items_open_announcements_are_read_from_their_own_index(committed_app):
    """On a database of its own: the table's statistics (ANALYZE) must not reach other modules' tests."""
    with committed_app.app_context():
        item = f.market_item()
        mine = [f.published_request(item=item, title=f"港区{n}号地块环境影响评价") for n in range(3)]
        f.published_request(item=f.market_item("C01"))  # another item's, open too
        _history(mine[0], 3000)
        db.session.commit()
        item_id, mine_ids = item.id, {req.id for req in mine}
        db.session.remove()
    client = committed_app.test_client()
    with committed_app.app_context():
        with statements(r"FROM service_request\b.*ORDER BY service_request\.published_at DESC") as seen:
            r = client.get(f"/api/v1/requests?status=bidding&service_item_id={item_id}&page_size=50")
        assert r.status_code == 200
        assert {x["id"] for x in r.get_json()} == mine_ids
        assert seen, "the list's statement was not seen"
        assert "ix_service_request_bidding_item" in plan(*seen[0]), plan(*seen[0])
        db.session.rollback()
