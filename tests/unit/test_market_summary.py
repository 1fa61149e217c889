"""The market's summary rows (stats/summary.py, kept by tally/summary.py): after a realistic run of the market —
members admitted and suspended, orders accepted, late and rated, requests moved into last month — the kept rows
equal the rows rebuilt from the records, and the front page and the statistics show them."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from marketplace.agencies import membership
from marketplace.agencies.models import Agency, AgencyStatus, agency_category
from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.ratings import services as ratings
from marketplace.reports.figures import add_months, month_of
from marketplace.stats import summary as kept
from marketplace.tally import summary
from tests import factories as f
from tests import timetravel

SCORES = dict.fromkeys(("quality", "timeliness", "attitude", "fee", "compliance"), 4)


def _kept_and_rebuilt() -> tuple[dict, dict]:
    before = summary.snapshot(db.session)
    summary.rebuild(db.session)
    after = summary.snapshot(db.session)
    db.session.rollback()  # leave the kept rows as the market kept them
    return before, after


def _market():
    admin = f.admin()
    a = f.active_agency("C03")
    b = f.active_agency("C03")
    f.pending_agency("C03")  # applied, not admitted: no member
    enterprise, _, first = f.accepted_order(20_000_000, agency=a, admin=admin)
    ratings.rate_order(enterprise, first.id, {"overall": 5, **SCORES, "comment": "报告质量很好"})
    db.session.commit()
    _, _, late = f.accepted_order(15_000_000, agency=b, admin=admin, deliver=False)
    timetravel.order_elapsed(late, 1.5)  # past due: the clock lights it red
    _, _, second = f.accepted_order(18_000_000, agency=a, admin=admin)
    timetravel.into_last_month(second.request)  # a month has passed for this one
    membership.decide(admin, b.agency.id, "suspend", "资质证书过期未更新")
    db.session.commit()
    return a, b, late


def test_the_kept_summary_equals_the_rebuilt_one_and_the_pages_show_it(client):
    a, b, late = _market()
    db.session.expire_all()
    assert db.session.get(type(late), late.id).deadline_flag == "red"
    before, after = _kept_and_rebuilt()
    assert before == after
    assert any(k.startswith("market_month:") for k in before)  # the run counted something

    active = db.session.scalar(select(func.count()).where(Agency.status == AgencyStatus.ACTIVE))
    assert kept.count(kept.ACTIVE_AGENCIES) == active
    per_category = dict(
        db.session.execute(
            select(agency_category.c.category_id, func.count())
            .join(Agency, Agency.id == agency_category.c.agency_id)
            .where(Agency.status == AgencyStatus.ACTIVE)
            .group_by(agency_category.c.category_id)
        ).all()
    )
    assert kept.category_member_counts() == {c: n for c, n in per_category.items()} | {
        c: 0 for c in kept.category_member_counts() if c not in per_category
    }

    page = client.get("/").get_data(as_text=True)
    shown = re.search(r"<strong>(\d+)</strong><span>[^<]*(?:member agencies|入驻机构|中介机构)", page)
    assert shown and int(shown.group(1)) == active

    # On time is judged in the month an order falls due (reports/figures.py): the orders delivered today fall due
    # 30 days from now, in a month the default period (up to this one) leaves out on most days, so the period asked
    # for runs two months ahead (checked with faketime from the 10th of November to the end of February).
    this = month_of(now())
    period = {"from": add_months(this, -11), "to": add_months(this, 2)}
    data = client.get("/api/v1/stats", query_string=period).get_json()["summary"]
    assert data["members"] == active
    assert (data["deals"], data["completed"], data["ratings"]) == (3, 2, 1)
    assert (data["judged"], data["on_time"]) == (3, 2)  # the late order counts once it is red


def test_a_suspended_member_leaves_the_counts_and_a_reinstated_one_returns(client):
    admin = f.admin()
    a = f.active_agency("C03")
    start = kept.count(kept.ACTIVE_AGENCIES)
    category = a.agency.categories[0].id
    in_category = kept.category_member_counts()[category]
    membership.decide(admin, a.agency.id, "suspend", "资质证书过期未更新")
    db.session.commit()
    assert kept.count(kept.ACTIVE_AGENCIES) == start - 1
    assert kept.category_member_counts()[category] == in_category - 1
    catalogue = client.get("/catalogue/").get_data(as_text=True)  # the catalogue shows the kept count
    link = catalogue.split(f"/agencies/?category={category}")[1].split("</a>")[0]
    assert re.search(rf"\b{in_category - 1}\b", link), link
    membership.decide(admin, a.agency.id, "reinstate")
    db.session.commit()
    assert kept.count(kept.ACTIVE_AGENCIES) == start
    before, after = _kept_and_rebuilt()
    assert before == after


def test_a_refused_change_leaves_the_counts_as_they_were(client):
    admin = f.admin()
    a = f.active_agency("C03")
    start = kept.count(kept.ACTIVE_AGENCIES)
    membership.decide(admin, a.agency.id, "suspend", "资质证书过期未更新")
    db.session.flush()
    assert kept.count(kept.ACTIVE_AGENCIES) == start - 1  # inside the transaction
    db.session.rollback()
    assert kept.count(kept.ACTIVE_AGENCIES) == start


def test_orders_move_their_months_figures_as_they_are_accepted(client):
    enterprise, agency, order = f.accepted_order(12_000_000, accept=False)
    month = summary._month(order.created_at)
    row = db.session.get(
        kept.MarketMonth, (month, order.request.region_code or "", order.request.service_item.category_id)
    )
    assert row.deals == 1 and row.completed == 0
    orders.accept(enterprise, order.id)
    db.session.commit()
    db.session.refresh(row)
    assert row.completed == 1
    before, after = _kept_and_rebuilt()
    assert before == after


def test_a_declined_order_is_no_longer_a_deal(client):
    """A status move alone (no date set with it) still moves the figures: the flush hook must see `status`."""
    from marketplace.requests import services as requests

    enterprise, agency = f.user("enterprise"), f.active_agency("C03")
    req = f.published_request(enterprise, selection_method="direct")
    winning = f.bid(agency, req, price_fen=9_000_000)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id, winning.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    timetravel.publicity_over(req)
    order = orders.order_for_request(req.id)
    db.session.commit()
    key = (summary._month(order.created_at), req.region_code or "", req.service_item.category_id)
    assert db.session.get(kept.MarketMonth, key).deals == 1
    orders.decline(agency, order.id, "人手不足，无法按期承接")
    db.session.commit()
    assert not db.session.get(kept.MarketMonth, key).deals
    before, after = _kept_and_rebuilt()
    assert before == after
