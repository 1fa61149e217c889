"""The staff's audit viewer (filters, words for actions, who may read it) and the public daily head hashes."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from marketplace.audit import chain
from marketplace.audit.labels import ACTION_LABELS
from marketplace.audit.models import AuditEntry
from marketplace.common.clock import local, now
from marketplace.extensions import db
from tests import factories as f


def _rows(html: str) -> list[str]:
    return re.findall(r'data-action="([^"]+)"', html)


def test_the_supervisor_filters_the_log_and_reads_actions_in_words(client):
    enterprise, agency, order = f.accepted_order()
    supervisor = f.staff("supervisor")
    f.login(client, supervisor)
    page = client.get("/admin/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "验收通过" in html and "交付成果" in html and "生成订单" in html  # the actions in words

    by_action = client.get("/admin/audit?action=order.accept").get_data(as_text=True)
    assert set(_rows(by_action)) == {"order.accept"}
    by_object = client.get(f"/admin/audit?object_type=service_order&object_id={order.id}").get_data(
        as_text=True
    )
    actions = _rows(by_object)
    assert "order.create" in actions and "order.accept" in actions and "bid.submit" not in actions
    by_actor = client.get(f"/admin/audit?actor={agency.email}").get_data(as_text=True)
    assert "order.deliver" in _rows(by_actor) and "order.accept" not in _rows(by_actor)
    system = client.get("/admin/audit?actor=system").get_data(as_text=True)
    assert "request.close" in _rows(system) and "order.accept" not in _rows(system)

    today = local(now()).date()
    assert _rows(
        client.get(f"/admin/audit?since={today}&until={today}&action=order.accept").get_data(as_text=True)
    )
    tomorrow = today.replace(year=today.year + 1)
    assert not _rows(client.get(f"/admin/audit?since={tomorrow}").get_data(as_text=True))
    bad = client.get("/admin/audit?since=31/12/2026&object_id=x")
    assert bad.status_code == 200
    assert bad.get_data(as_text=True).count("data-filter-error") == 2


def test_pages_of_thirty(client):
    f.accepted_order()
    f.accepted_order()
    total = db.session.scalar(select(db.func.count()).select_from(AuditEntry))
    assert total > 30
    f.login(client, f.admin())
    first = _rows(client.get("/admin/audit").get_data(as_text=True))
    second = _rows(client.get("/admin/audit?page=2").get_data(as_text=True))
    assert len(first) == 30 and 0 < len(second) <= 30


def test_only_the_administrator_and_supervisors_read_the_log(client):
    f.accepted_order()
    assert client.get("/admin/audit").status_code in (302, 401)
    for who in (f.user("enterprise"), f.staff("operator"), f.staff("department", department="生态环境部门")):
        c = client.application.test_client()
        f.login(c, who)
        assert c.get("/admin/audit").status_code == 403, who.role
    c = client.application.test_client()
    f.login(c, f.staff("supervisor", region_code="320700"))
    assert c.get("/admin/audit").status_code == 200
    home = c.get("/admin/").get_data(as_text=True)
    assert 'data-desk="audit_admin.entries"' in home


def test_every_recorded_action_has_words():
    """The codes the code base records (literal ones, and transitions' prefixes) all have a label."""
    root = Path(__file__).resolve().parents[2] / "marketplace"
    found = set()
    for path in root.rglob("*.py"):
        for code in re.findall(r'record\(\s*[^,()]+,\s*"([a-z_]+\.[a-z_]+)"', path.read_text(), re.S):
            found.add(code)
    assert found, "the pattern found no record( calls"
    missing = sorted(found - set(ACTION_LABELS) - {"test.race"})
    assert not missing, f"add these to marketplace/audit/labels.py: {missing}"


def test_the_daily_heads_are_public(client):
    f.accepted_order()
    seq, digest = chain.current_head(db.session())
    assert seq > 0
    page = client.get("/transparency/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert digest in html
    today = local(now()).date().isoformat()
    assert f'data-day="{today}"' in html
    api = client.get("/api/v1/audit/heads?days=7").get_json()
    assert api["head"] == {"seq": seq, "hash": digest}
    assert api["days"][0]["day"] == today and api["days"][0]["hash"] == digest
    assert client.get("/api/v1/audit/heads?days=0").status_code == 422


def test_a_sealed_bid_stays_sealed_in_the_log(client):
    req = f.published_request(f.user("enterprise"))
    f.bid(
        f.active_agency("C03", reviewer=f.admin()),
        req,
        price_fen=13_579_246,
        plan="秘密方案：审计日志也不能泄露。",
    )
    f.login(client, f.admin())
    html = client.get("/admin/audit?object_type=bid").get_data(as_text=True)
    assert "data-sealed" in html and "13579246" not in html and "秘密方案" not in html
