"""One party lodging the same objection twice at once, on a real PostgreSQL server with real commits: one
objection, one 201 and one 409, never a 500."""

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.requests import services as requests
from marketplace.requests.models import Objection
from tests import factories as f
from tests import timetravel
from tests.racing import needs_postgresql, race

pytestmark = needs_postgresql

FACTS = "中选机构提交的业绩证明中有两个项目的业主单位均否认曾委托该机构，请核查其业绩材料的真实性。"


def _under_publicity(app):
    with app.app_context():
        enterprise, admin = f.user("enterprise"), f.admin()
        req = f.published_request(enterprise)
        bidders = [f.active_agency("C03", reviewer=admin) for _ in range(3)]
        for i, agency in enumerate(bidders):
            f.bid(agency, req, price_fen=10_000_000 + i * 1_000_000)
        timetravel.past_deadline(req)
        requests.select_winner(enterprise, req.id)
        db.session.commit()  # the test is the boundary here
        req_id, loser = req.id, bidders[2]
        headers = f.token(app.test_client(), loser)
        db.session.remove()
    return req_id, headers


def test_a_double_lodge_at_once_gives_one_objection_and_a_409(committed_app):
    for attempt in range(3):  # a few rounds to make the overlap likely; each on a fresh request
        req_id, headers = _under_publicity(committed_app)
        url = f"/api/v1/requests/{req_id}/objections"

        def lodge(url=url, headers=headers):
            r = committed_app.test_client().post(
                url, json={"ground": "qualification", "facts": FACTS}, headers=headers
            )
            return r.status_code, r.get_json()

        results = race(committed_app, lodge, lodge)
        assert sorted(code for code, _ in results) == [201, 409], (attempt, results)
        refused = next(body for code, body in results if code == 409)
        assert refused["code"] == 409 and "只能提出一次" in refused["message"]
        with committed_app.app_context():
            count = db.session.scalar(
                select(func.count()).select_from(Objection).where(Objection.request_id == req_id)
            )
            assert count == 1
