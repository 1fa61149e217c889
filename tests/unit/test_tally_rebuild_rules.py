"""The tally's set-based rebuild (tally/services.py `rebuild`, SQL) counts an accepted order by the same rules as
the events (`order_increments`): the rules of the request's kept item version even after the item changed, the
item's own rules for a request older than versions, a late delivery, an extension granted in time, and times
with fractions of a second — the kept totals equal the rebuilt ones."""

from datetime import timedelta

from sqlalchemy import update

from marketplace.catalogue.models import ServiceItem
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.requests.models import ServiceRequest
from marketplace.tally import services as tally
from tests import factories as f


def _open(item, agency, admin):
    enterprise, _, order = f.accepted_order(
        price_fen=item.guide_max_fen, agency=agency, admin=admin, service_item_id=item.id, accept=False
    )
    return enterprise, order


def test_rebuilt_totals_follow_versions_late_orders_and_extensions(app):
    admin = f.admin()
    item = f.guided_item()
    agency = f.active_agency(item.category.code, reviewer=admin)
    kept, late, unversioned = (_open(item, agency, admin) for _ in range(3))
    # a later change of the item's rules: the first two requests keep the version they were posted under
    db.session.execute(
        update(ServiceItem)
        .where(ServiceItem.id == item.id)
        .values(guide_min_fen=None, standard_days=item.standard_days + 7)
    )
    # a request older than versions counts by the item's (current) rules: here unguided
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == unversioned[1].request_id)
        .values(service_item_version_id=None)
    )
    # the late one delivered after its due date; the kept one with an extension granted in time and a start
    # and delivery with fractions of a second (the rebuild truncates each order's seconds, as int() does)
    started = now() - timedelta(days=3, microseconds=700_001)
    db.session.execute(
        update(Order)
        .where(Order.id == kept[1].id)
        .values(
            started_at=started,
            delivered_at=started + timedelta(days=2, seconds=5, microseconds=999_998),
            reckoned_due_at=now() + timedelta(days=9),
        )
    )
    db.session.execute(
        update(Order)
        .where(Order.id == late[1].id)
        .values(due_at=now() - timedelta(days=1), reckoned_due_at=None)
    )
    db.session.commit()
    db.session.expire_all()
    for enterprise, order in (kept, late, unversioned):
        orders.accept(enterprise, order.id)
        db.session.commit()
    incremental = tally.snapshot()
    row = incremental["items"][f"{agency.agency.id}:{item.id}"]
    assert row["completed_orders"] == 3 and row["guide_orders"] == 2  # the unversioned one is now unguided
    assert row["on_time_count"] == 2  # the late one is not on time
    tally.rebuild()
    assert tally.snapshot() == incremental
