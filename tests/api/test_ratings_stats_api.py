"""Ratings (once, after acceptance, in the window; one reply; the department's own; hiding never changes a
score), statistics updated by events and agreeing with a rebuild, and the list ranked by them."""

from sqlalchemy import select

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.requests import services as requests
from marketplace.stats import figures
from marketplace.tally import services as tally
from tests import factories as f
from tests import timetravel

SCORES = {"overall": 5, "quality": 5, "timeliness": 4, "attitude": 5, "fee": 4, "compliance": 5}


def test_rating_rules(app, client):
    enterprise, agency, order = f.accepted_order()
    h = f.token(client, enterprise)
    assert (
        client.post(f"/api/v1/orders/{order.id}/rating", json=SCORES | {"overall": 6}, headers=h).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/orders/{order.id}/rating", json=SCORES, headers=f.token(client, agency)
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/orders/{order.id}/rating", json=SCORES, headers=f.token(client, f.user("enterprise"))
        ).status_code
        == 404
    )
    r = client.post(
        f"/api/v1/orders/{order.id}/rating", json=SCORES | {"comment": "报告质量高，沟通顺畅"}, headers=h
    )
    assert r.status_code == 201
    rating_id = r.get_json()["id"]
    assert client.post(f"/api/v1/orders/{order.id}/rating", json=SCORES, headers=h).status_code == 409  # once
    ha = f.token(client, agency)
    assert (
        client.post(
            f"/api/v1/ratings/{rating_id}/reply", json={"reply": "感谢认可！"}, headers=ha
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/ratings/{rating_id}/reply", json={"reply": "再回复一次"}, headers=ha
        ).status_code
        == 409
    )
    # The department's own rating, shown apart; an administrator hides a comment but the score stays.
    hadmin = f.token(client, f.admin())
    assert (
        client.post(
            f"/api/v1/orders/{order.id}/department-rating",
            json={"quality": 4, "timeliness": 5},
            headers=hadmin,
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/admin/ratings/{rating_id}/hide", json={"reason": "含人身攻击"}, headers=h
        ).status_code
        == 403
    )
    r = client.post(
        f"/api/v1/admin/ratings/{rating_id}/hide", json={"reason": "含人身攻击内容"}, headers=hadmin
    )
    assert r.status_code == 200 and r.get_json()["comment"] is None and r.get_json()["overall"] == 5
    listed = client.get(f"/api/v1/agencies/{agency.agency.id}/ratings").get_json()
    assert listed[0]["comment_hidden"] and listed[0]["reply"] == "感谢认可！"
    assert "rating.hide_comment" in set(db.session.scalars(select(AuditEntry.action)))


def test_no_rating_before_acceptance_or_after_the_window(app, client):
    admin = f.admin()
    enterprise = f.user("enterprise")
    agency = f.active_agency("C03", reviewer=admin)
    req = f.published_request(enterprise, selection_method="direct")
    bid = f.bid(agency, req)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id, bid.id, "技术方案最优")
    timetravel.publicity_over(req)
    order = orders.order_for_request(requests.get_request(enterprise, req.id).id)
    h = f.token(client, enterprise)
    assert client.post(f"/api/v1/orders/{order.id}/rating", json=SCORES, headers=h).status_code == 409
    _, _, accepted = f.accepted_order(admin=admin)
    from datetime import timedelta

    from sqlalchemy import update

    from marketplace.common.clock import now
    from marketplace.orders.models import Order

    window = app.config["MARKET_RATING_WINDOW_SECONDS"]
    db.session.execute(
        update(Order).where(Order.id == accepted.id).values(accepted_at=now() - timedelta(seconds=window + 1))
    )
    db.session.commit()
    h2 = f.token(client, db.session.get(Order, accepted.id).enterprise.user)
    assert client.post(f"/api/v1/orders/{accepted.id}/rating", json=SCORES, headers=h2).status_code == 409


def test_stats_follow_events_and_agree_with_a_rebuild(app, client):
    admin = f.admin()
    agency = f.active_agency("C03", reviewer=admin)
    for overall, price in ((5, 20_000_000), (4, 25_000_000), (2, 28_000_000)):
        enterprise, _, order = f.accepted_order(agency=agency, price_fen=price, admin=admin)
        client.post(
            f"/api/v1/orders/{order.id}/rating",
            json=SCORES | {"overall": overall},
            headers=f.token(client, enterprise),
        )
    figures = client.get(f"/api/v1/agencies/{agency.agency.id}").get_json()["stats"]
    assert figures["completed_orders"] == 3 and figures["ratings_count"] == 3
    assert figures["avg_rating"] == round(11 / 3, 2) and figures["good_rate"] == round(2 / 3, 4)
    assert figures["avg_price_ratio_to_ceiling"] == round(73_000_000 / 90_000_000, 4)
    assert figures["savings_rate"] == round(1 - 73_000_000 / 90_000_000, 4)
    assert figures["on_time_rate"] == 1.0 and figures["credit_score"] is not None
    incremental = tally.snapshot()
    result = app.test_cli_runner().invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0 and "agree" in result.output, result.output
    assert tally.snapshot() == incremental


def test_bayesian_rank_one_five_star_does_not_beat_many_good_ratings():
    lucky = figures.derive({"completed_orders": 1, "ratings_count": 1, "rating_sum": 5, "good_count": 1})
    steady = figures.derive(
        {"completed_orders": 200, "ratings_count": 200, "rating_sum": 960, "good_count": 195}
    )
    assert lucky["avg_rating"] > steady["avg_rating"] and lucky["rating_rank"] < steady["rating_rank"]
    assert steady["composite"] > lucky["composite"]


def test_the_list_ranks_by_the_figures(client):
    admin = f.admin()
    busy = f.active_agency("C03", reviewer=admin)
    idle = f.active_agency("C03", reviewer=admin)
    for _ in range(2):
        enterprise, _, order = f.accepted_order(agency=busy, admin=admin)
        client.post(f"/api/v1/orders/{order.id}/rating", json=SCORES, headers=f.token(client, enterprise))
    cat = f.category("C03").id
    for sort in ("composite", "sales", "rating"):
        ids = [
            a["id"]
            for a in client.get(f"/api/v1/agencies?category_id={cat}&sort={sort}&per_page=100").get_json()
        ]
        assert ids.index(busy.agency.id) < ids.index(idle.agency.id), sort
    row = next(
        a for a in client.get(f"/api/v1/agencies?category_id={cat}").get_json() if a["id"] == busy.agency.id
    )
    assert row["stats"]["completed_orders"] == 2
    assert client.get("/api/v1/agencies?sort=cheapest").status_code == 422
    page = client.get(f"/agencies/?category={cat}&sort=sales").get_data(as_text=True)
    assert page.index(busy.agency.name) < page.index(idle.agency.name)
    assert f'data-agency-stats="{busy.agency.id}"' in page


def test_level_and_price_band_filters(client):
    admin = f.admin()
    cheap = f.active_agency("C08", reviewer=admin)  # 测绘资质（工程测量）甲级
    dear = f.active_agency("C08", reviewer=admin)
    item = f.market_item("C08")
    f.offer(cheap, item, price_fen=1_000_000)
    f.offer(dear, item, price_fen=9_000_000)
    ids = [
        a["id"]
        for a in client.get(
            f"/api/v1/agencies?service_item_id={item.id}&price_max_fen=2000000&per_page=100"
        ).get_json()
    ]
    assert cheap.agency.id in ids and dear.agency.id not in ids
    ids = [
        a["id"]
        for a in client.get(
            f"/api/v1/agencies?service_item_id={item.id}&price_min_fen=5000000&per_page=100"
        ).get_json()
    ]
    assert dear.agency.id in ids and cheap.agency.id not in ids
    # Factories give the kind's top grade (甲级 here): asking for 乙级 or higher keeps them, the HTML filter too.
    assert cheap.agency.id in [
        a["id"] for a in client.get("/api/v1/agencies?level=乙级&per_page=100").get_json()
    ]
    page = client.get(f"/agencies/?service_item={item.id}&price_max=20000").get_data(as_text=True)
    assert cheap.agency.name in page and dear.agency.name not in page


def test_rating_through_the_order_page_and_the_store_shows_it(client):
    enterprise, agency, order = f.accepted_order()
    f.login(client, enterprise)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-form="rate"' in page
    form = {
        "overall": "4",
        "quality": "4",
        "timeliness": "5",
        "attitude": "4",
        "fee": "3",
        "compliance": "4",
        "comment": "整体满意",
    }
    assert client.post(f"/orders/{order.id}/rate", data=form | {"overall": "9"}).status_code == 302
    assert 'data-form="rate"' in client.get(f"/orders/{order.id}").get_data(
        as_text=True
    )  # refused: still unrated
    client.post(f"/orders/{order.id}/rate", data=form)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert 'data-rating="4"' in page and 'data-form="rate"' not in page
    store = client.get(f"/agencies/{agency.agency.id}").get_data(as_text=True)
    assert "整体满意" in store and '<strong data-stat="completed_orders">1</strong>' in store
    assert '<strong data-stat="avg_rating">4.0</strong>' in store


def test_rebuild_if_missing_fills_the_kept_rows_of_an_upgraded_database_and_otherwise_does_nothing(
    app, client
):
    """A database upgraded to the release that added the list's rows has members but no rows: `make run` and
    `make serve` run `stats rebuild --if-missing`, which fills them once (and leaves a filled database alone)."""
    from sqlalchemy import delete, func, select

    from marketplace.extensions import db
    from marketplace.stats.listing import AgencyListing, AgencyListingCount

    agency = f.active_agency("C03")
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["stats", "rebuild", "--if-missing"]).output == ""  # rows kept: nothing to do
    db.session.execute(delete(AgencyListing))
    db.session.execute(delete(AgencyListingCount))
    db.session.commit()
    assert client.get("/api/v1/agencies").get_json() == []  # what an upgraded database showed
    result = runner.invoke(args=["stats", "rebuild", "--if-missing"])
    assert result.exit_code == 0 and "agencies" in result.output, result.output
    assert db.session.scalar(select(func.count()).select_from(AgencyListingCount)) > 0
    assert agency.agency.id in [a["id"] for a in client.get("/api/v1/agencies").get_json()]
