"""Notifications: who is told what (listeners), the bell and the page, the API, delivery choices, and the mail
outbox against a real SMTP server on loopback (aiosmtpd), including a server that is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from marketplace.common.clock import now
from marketplace.extensions import db
from marketplace.notifications import outbox, services
from marketplace.notifications.models import Notification, OutboxMessage, RequestWatch
from marketplace.requests import services as requests
from tests import factories as f
from tests import timetravel
from tests.smtp import body, free_port, smtp_server


def _quiet(user):
    """Forget what the user was told while being set up (an agency's approval), so a test sees only its own."""
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.user_id == user.id))
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    db.session.commit()
    return user


def _of(user, kind: str | None = None) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind:
        q = q.where(Notification.kind == kind)
    return list(db.session.scalars(q))


@pytest.fixture
def mail(app, monkeypatch):
    """Mail on, pointed at a loopback SMTP server; yields its inbox."""
    with smtp_server() as (inbox, port):
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", port)
        monkeypatch.setitem(app.config, "MAIL_FROM", "中介超市 <noreply@zjcs.test>")
        monkeypatch.setitem(app.config, "NOTIFY_SITE_URL", "https://zjcs.test")
        yield inbox


# --- who is told ----------------------------------------------------------------------------------------------


def test_a_new_request_reaches_the_matching_agencies_only():
    matching = f.active_agency("C03")  # service area: the whole province 320000
    elsewhere = f.active_agency("C03")
    elsewhere.agency.service_area_codes = ["110000"]  # Beijing only
    other_trade = f.active_agency("C04")
    db.session.commit()
    req = f.published_request(region_code="320703")
    told = _of(matching, "new_request")
    assert len(told) == 1
    assert told[0].link == f"/requests/{req.id}"
    assert req.title in services.text_of(told[0])
    assert _of(elsewhere, "new_request") == [] and _of(other_trade, "new_request") == []


def test_a_new_request_skips_the_excluded_the_invited_the_suspended_and_the_poster(app, monkeypatch):
    """The fan-out is one INSERT … SELECT: each rule of who is told is in its SQL."""
    from marketplace.agencies.models import AgencyStatus
    from marketplace.requests import invitations

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")  # mail on: the told get their mail queued
    county = f.active_agency("C03")
    county.agency.service_area_codes = ["320703"]  # the request's own county
    city = f.active_agency("C03")
    city.agency.service_area_codes = ["320700"]  # the city above it
    sibling = f.active_agency("C03")
    sibling.agency.service_area_codes = ["320705"]  # another county of the same city
    excluded, invited, suspended = (f.active_agency("C03") for _ in range(3))
    suspended.agency.status = AgencyStatus.SUSPENDED
    db.session.commit()
    enterprise = f.user("enterprise")
    data = f.request_data(
        region_code="320703", exclusions=[{"agency_id": excluded.agency.id, "reason": "关联关系"}]
    )
    req = requests.create_request(enterprise, data, publish=False)
    invitations.set_invitation(enterprise, req, invited.agency.id)
    requests.publish_request(enterprise, req.id)
    db.session.commit()
    for told in (county, city):
        assert [n.link for n in _of(told, "new_request")] == [f"/requests/{req.id}"]
        mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == told.id)).all()
        assert any(req.title in m.subject for m in mails)
    for untold in (sibling, excluded, suspended):
        assert _of(untold, "new_request") == []
    assert len(_of(invited, "new_request")) == 1  # the invitation, not a second notice
    assert "invites you" in services.text_of(_of(invited, "new_request")[0]) or "邀请" in services.text_of(
        _of(invited, "new_request")[0]
    )
    assert _of(enterprise) == []


def test_the_english_interface_shows_english(client):
    agency = f.active_agency("C03")
    f.published_request()
    f.login(client, agency)
    client.get("/auth/lang/en")
    page = client.get("/notifications").get_data(as_text=True)
    assert "New announcement in your field" in page
    client.get("/auth/lang/zh_Hans")
    assert "与贵机构业务匹配的新公告" in client.get("/notifications").get_data(as_text=True)


def test_the_chain_of_a_deal_tells_each_party_what_concerns_it():
    enterprise, agency, order = f.accepted_order()
    kinds_agency = {n.kind for n in _of(agency)}
    kinds_enterprise = {n.kind for n in _of(enterprise)}
    # selected, bidding closed, placed order, delivery seen by the enterprise, acceptance seen by the agency
    assert {"new_request", "bidding", "selection", "contract"} <= kinds_agency
    assert {"bidding", "selection", "order"} <= kinds_enterprise
    texts = [services.text_of(n) for n in _of(agency, "order")]
    assert any("已验收" in t for t in texts), texts
    # nobody is told what they did themselves: the enterprise accepted, so it has no acceptance notice
    assert not any("已验收" in services.text_of(n) for n in _of(enterprise, "order"))


def test_a_losing_bidder_is_told_it_was_not_selected():
    enterprise = f.user("enterprise")
    a, b = f.active_agency("C03"), f.active_agency("C03")
    req = f.published_request(enterprise, selection_method="direct")
    win = f.bid(a, req, price_fen=20_000_000)
    f.bid(b, req, price_fen=21_000_000)
    timetravel.past_deadline(req)
    requests.select_winner(enterprise, req.id, win.id, "技术方案最优，团队经验丰富")
    db.session.commit()
    assert any("中选" in services.text_of(n) for n in _of(a, "selection"))
    assert any("未中选" in services.text_of(n) for n in _of(b, "selection"))


def test_yellow_and_red_lights_reach_both_parties():
    enterprise, agency, order = f.accepted_order(accept=False)
    # a fresh order in progress to light up
    enterprise2, agency2, order2 = f.accepted_order(accept=False)
    from marketplace.orders.models import Order, OrderStatus

    db.session.execute(
        update(Order).where(Order.id == order2.id).values(status=OrderStatus.IN_PROGRESS, delivered_at=None)
    )
    db.session.commit()
    timetravel.order_elapsed(order2, 0.85)
    assert any("黄灯" in services.text_of(n) for n in _of(agency2, "order"))
    assert any("黄灯" in services.text_of(n) for n in _of(enterprise2, "order"))
    timetravel.order_elapsed(order2, 1.2)
    assert any("红灯" in services.text_of(n) for n in _of(enterprise2, "order"))


def test_membership_decisions_reach_the_agency():
    reviewer = f.admin()
    agency = f.active_agency("C03", reviewer=reviewer)
    told = _of(agency, "membership")
    assert len(told) == 1 and "已通过" in services.text_of(told[0])


# --- the bell, the page, marking read ------------------------------------------------------------------------------


def test_bell_counts_unread_and_the_page_marks_read(client):
    agency = _quiet(f.active_agency("C03"))
    f.published_request()
    f.published_request()
    f.login(client, agency)
    page = client.get("/notifications").get_data(as_text=True)
    assert "data-unread>2<" in page
    first = _of(agency, "new_request")[0]
    r = client.post(f"/notifications/{first.id}/read", data={"go": "1"})
    assert r.status_code == 302 and r.headers["Location"].endswith(first.link)
    assert "data-unread>1<" in client.get("/notifications").get_data(as_text=True)
    client.post("/notifications/read-all")
    assert "data-unread>" not in client.get("/").get_data(as_text=True)
    assert services.unread_count(agency.id) == 0


def test_nobody_marks_anothers_notification(client):
    agency = f.active_agency("C03")
    f.published_request()
    theirs = _of(agency)[0]
    someone = f.user("enterprise")
    f.login(client, someone)
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_the_bell_costs_one_count_and_nothing_for_visitors(client, app):
    from sqlalchemy import event

    statements = []

    def seen(conn, cursor, statement, *args):
        if "FROM notification" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        client.get("/")
        assert statements == []
        f.login(client, f.active_agency("C03"))
        client.get("/")
        assert len(statements) == 1 and "count" in statements[0].lower()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_anonymous_visitors_are_sent_to_log_in(client):
    r = client.get("/notifications")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


# --- the API ---------------------------------------------------------------------------------------------------------


def test_api_lists_unread_first_and_marks_read(client):
    agency = _quiet(f.active_agency("C03"))
    f.published_request()
    f.published_request()
    headers = f.token(client, agency)
    body_ = client.get("/api/v1/notifications", headers=headers).get_json()
    assert body_["unread"] == 2 and body_["total"] == 2
    newest, oldest = body_["items"]
    assert newest["id"] > oldest["id"] and newest["unread"] and newest["kind"] == "new_request"
    r = client.post(f"/api/v1/notifications/{oldest['id']}/read", headers=headers)
    assert r.status_code == 200 and r.get_json()["read_at"] and not r.get_json()["unread"]
    listed = client.get("/api/v1/notifications", headers=headers).get_json()
    assert listed["unread"] == 1
    assert [i["id"] for i in listed["items"]] == [newest["id"], oldest["id"]]  # unread first
    assert client.post("/api/v1/notifications/read-all", headers=headers).get_json() == {
        "marked": 1,
        "unread": 0,
    }


def test_api_hides_anothers_notifications(client):
    agency = f.active_agency("C03")
    f.published_request()
    theirs = _of(agency)[0]
    other = f.active_agency("C04")
    headers = f.token(client, other)
    assert client.post(f"/api/v1/notifications/{theirs.id}/read", headers=headers).status_code == 404
    assert all(
        i["id"] != theirs.id for i in client.get("/api/v1/notifications", headers=headers).get_json()["items"]
    )
    assert client.get("/api/v1/notifications").status_code == 401


# --- mail through real SMTP ------------------------------------------------------------------------------------------


def test_mail_arrives_after_commit_through_the_clock(mail):
    agency = _quiet(f.active_agency("C03"))
    req = f.published_request()
    assert mail.messages == []  # nothing is sent inside the request
    pending = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == agency.email)).all()
    assert [m.status for m in pending] == ["pending"]
    timetravel.run_clock()
    [received] = mail.to(agency.email)
    assert req.title in received["Subject"] and "中介超市" in received["Subject"]
    text = body(received)
    assert "与贵机构业务匹配的新公告" in text and f"https://zjcs.test/requests/{req.id}" in text
    db.session.expire_all()
    sent = db.session.get(OutboxMessage, pending[0].id)
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1
    timetravel.run_clock()
    assert len(mail.to(agency.email)) == 1  # sent once


def test_a_mail_server_that_is_down_loses_nothing(app, monkeypatch):
    port = free_port()  # nobody listens here yet
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 2)
    agency = _quiet(f.active_agency("C03"))
    f.published_request()
    timetravel.run_clock()
    db.session.expire_all()
    [msg] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == agency.email)).all()
    assert msg.status == "pending" and msg.attempts == 1 and msg.last_error
    assert msg.next_attempt_at > now() + timedelta(seconds=50)  # backs off: not retried at once
    assert msg.id not in outbox.due_ids()
    with smtp_server(port) as (inbox, _):
        timetravel.run_clock()
        assert inbox.messages == []  # still waiting out its pause
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == msg.id).values(next_attempt_at=now())
        )
        db.session.commit()
        timetravel.run_clock()
        assert len(inbox.to(agency.email)) == 1
    db.session.expire_all()
    assert db.session.get(OutboxMessage, msg.id).status == "sent"
    assert db.session.get(OutboxMessage, msg.id).attempts == 2


def test_gives_up_after_the_last_attempt(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 2)
    agency = _quiet(f.active_agency("C03"))
    f.published_request()
    [msg] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == agency.email)).all()
    for _ in range(2):
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == msg.id).values(next_attempt_at=now())
        )
        db.session.commit()
        timetravel.run_clock()
    db.session.expire_all()
    assert db.session.get(OutboxMessage, msg.id).status == "failed"


def test_preferences_are_respected(client, mail):
    agency = _quiet(f.active_agency("C03"))
    f.login(client, agency)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="mail_new_request" value="1"' in page
    # everything by mail except new matching announcements
    data = {f"mail_{k}": "1" for k in ("reminder", "bidding", "selection", "contract", "order", "payment")}
    assert client.post("/notifications/preferences", data=data).status_code == 302
    f.published_request()
    assert len(_of(agency, "new_request")) == 1  # still in the bell
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.user_id == agency.id)
        )
        == 0
    )
    timetravel.run_clock()
    assert mail.to(agency.email) == []


def test_mail_off_writes_no_mail(app):
    assert not app.config["MAIL_SERVER"]
    f.active_agency("C03")
    f.published_request()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


SENT_SMS: list[tuple[str, str]] = []


def record_sms(phone: str, text: str) -> None:
    """A pluggable SMS gateway for the test (SMS_SENDER=tests.api.test_notifications:record_sms)."""
    SENT_SMS.append((phone, text))


def test_sms_goes_through_a_pluggable_sender(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_SENDER", "tests.api.test_notifications:record_sms")
    agency = _quiet(f.active_agency("C03"))
    services.set_preferences(agency, [], ["new_request"])
    db.session.commit()
    req = f.published_request()
    [sms] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "sms")).all()
    assert sms.recipient == "13800000000"  # the agency's contact phone
    SENT_SMS.clear()
    timetravel.run_clock()
    assert len(SENT_SMS) == 1 and SENT_SMS[0][0] == "13800000000" and req.title in SENT_SMS[0][1]


def test_the_shipped_sms_sender_logs(app, monkeypatch, caplog):
    from marketplace.notifications import transport

    monkeypatch.setattr(
        transport.log, "disabled", False
    )  # alembic's fileConfig disables older loggers in tests
    monkeypatch.setitem(app.config, "SMS_SENDER", "log")
    with caplog.at_level("INFO", logger="marketplace.sms"):
        transport.send("sms", "13900000000", "主题", "您有新的通知")
    assert "13900000000" in caplog.text and "您有新的通知" in caplog.text


# --- following a request and the closing reminder ---------------------------------------------------------------------


def test_a_follower_without_a_bid_is_reminded_once(client, app):
    follower, bidder = f.active_agency("C03"), f.active_agency("C03")
    req = f.published_request()
    for u in (follower, bidder):
        f.login(client, u)
        assert client.post(f"/requests/{req.id}/watch").status_code == 302
        client.post("/auth/logout")
    f.bid(bidder, req)
    assert db.session.scalar(select(func.count()).select_from(RequestWatch)) == 2
    timetravel.run_clock()
    assert _of(follower, "reminder") == []  # two days left: not yet
    from marketplace.requests.models import ServiceRequest

    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == req.id)
        .values(bid_deadline=now() + timedelta(hours=5))
    )
    db.session.commit()
    timetravel.run_clock()
    timetravel.run_clock()
    [reminder] = _of(follower, "reminder")
    assert "截止" in services.text_of(reminder) and reminder.link == f"/requests/{req.id}"
    assert _of(bidder, "reminder") == []  # it bid


def test_a_get_never_follows(client):
    agency = f.active_agency("C03")
    req = f.published_request()
    f.login(client, agency)
    page = client.get(f"/requests/{req.id}").get_data(as_text=True)
    assert 'data-form="watch"' in page
    assert client.get(f"/requests/{req.id}/watch").status_code == 405
    assert db.session.scalar(select(func.count()).select_from(RequestWatch)) == 0


def test_only_agencies_follow(client):
    req = f.published_request()
    f.login(client, f.user("enterprise"))
    client.post(f"/requests/{req.id}/watch")
    assert db.session.scalar(select(func.count()).select_from(RequestWatch)) == 0
