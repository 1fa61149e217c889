"""A service item's page reads its offers as rows (home/item_page.py): each agency is still checked by the one
qualification rule, a lapsed licence shows at once, and a discount's prices come from the item's guide range."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import update

from marketplace.agencies.models import Qualification
from marketplace.agencies.qualifications import eligible_for
from marketplace.catalogue.models import FeeRegime
from marketplace.extensions import db
from tests import factories as f
from tests.api.test_qualification_kinds import cleaner_production_member, item


def _checks(client, item_id: int) -> dict[str, str]:
    """{agency name: pass/fail/open} from the offers table."""
    html = client.get(f"/catalogue/items/{item_id}").get_data(as_text=True)
    rows = re.findall(r'<a href="/agencies/\d+">([^<]+)</a>.*?data-qual-check="(\w+)"', html, re.S)
    return dict(rows)


def test_each_offer_is_checked_by_the_rule_and_a_lapsed_licence_shows_at_once(client):
    eia = item("C03-01")
    right, wrong = f.active_agency("C03"), cleaner_production_member()
    f.offer(right, eia, price_fen=3_000_000)
    f.offer(wrong, eia, price_fen=2_000_000)
    checks = _checks(client, eia.id)
    assert checks[right.agency.name] == "pass" and checks[wrong.agency.name] == "fail"
    for u in (right, wrong):
        assert eligible_for(u.agency, eia, date.today()).ok == (checks[u.agency.name] == "pass")

    db.session.execute(
        update(Qualification)
        .where(Qualification.agency_id == right.agency.id)
        .values(valid_until=date.today() - timedelta(days=1))
    )
    db.session.commit()
    assert _checks(client, eia.id)[right.agency.name] == "fail"


def test_a_discount_offer_shows_its_prices_from_the_guide_range(client):
    eia = item("C03-01")
    eia.fee_regime, eia.guide_min_fen, eia.guide_max_fen = FeeRegime.GUIDED, 1_000_000, 3_000_000
    db.session.commit()
    u = f.active_agency("C03")
    f.offer(u, eia, price_mode="discount", price_fen=None, discount_pct=80)
    html = client.get(f"/catalogue/items/{eia.id}").get_data(as_text=True)
    assert "(¥8,000.00–¥24,000.00)" in html
