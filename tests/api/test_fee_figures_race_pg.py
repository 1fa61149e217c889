"""The clock recomputing an item's fee figures while a deal of the item commits, on a real PostgreSQL server with
real commits: the recompute reads the deal, or the deal's mark stays for the next pass — never neither."""

from __future__ import annotations

import threading

from sqlalchemy import select, update

from marketplace.common.sql import count_of
from marketplace.extensions import db
from marketplace.fees import summary
from marketplace.orders.models import Order
from marketplace.stats.fees import FeeItemDue, FeeItemSummary
from tests import factories as f
from tests import timetravel
from tests.racing import needs_postgresql

pytestmark = needs_postgresql


def test_a_deal_committing_during_the_clocks_recompute_is_never_lost(committed_app, monkeypatch):
    monkeypatch.setitem(committed_app.config, "FEES_FIGURES_DELAY_SECONDS", 0)
    with committed_app.app_context():
        item = f.guided_item()
        agency = f.active_agency(item.category.code)
        _, _, order = f.accepted_order(price_fen=item.guide_min_fen, agency=agency, service_item_id=item.id)
        item_id, order_id, amended = item.id, order.id, item.guide_min_fen + 12_300
        timetravel.run_clock()  # (the factory's publicity already ran one pass: the deal's mark is used)
        assert count_of(select(FeeItemDue)) == 0
        assert db.session.get(FeeItemSummary, (item_id, "")).amount_sum_fen == item.guide_min_fen
        summary.item_changed(item_id)  # an earlier deal's mark, still waiting for the clock
        db.session.commit()
        db.session.remove()

    written, go, errors = threading.Event(), threading.Event(), []

    def deal():  # a deal of the item changes and marks the item, then commits a moment later
        with committed_app.app_context():
            try:
                db.session.execute(update(Order).where(Order.id == order_id).values(amount_fen=amended))
                summary.item_changed(item_id)
                written.set()
                go.wait(10)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 (reported by the test)
                errors.append(exc)
                written.set()
            finally:
                db.session.remove()

    def clock():
        with committed_app.app_context():
            try:
                summary.apply_due(item_id)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    dealer = threading.Thread(target=deal)
    dealer.start()
    assert written.wait(10)
    recompute = threading.Thread(target=clock)
    recompute.start()
    recompute.join(1.0)
    waited = recompute.is_alive()  # the clock's claim of the mark waits for the deal's transaction
    go.set()
    dealer.join(10)
    recompute.join(10)
    assert not errors, errors
    assert waited

    with committed_app.app_context():
        kept = db.session.scalar(
            select(FeeItemSummary.amount_sum_fen).where(
                FeeItemSummary.service_item_id == item_id, FeeItemSummary.scope == ""
            )
        )
        assert kept == amended  # read by the recompute that waited for it
        assert count_of(select(FeeItemDue)) == 0
        db.session.remove()
