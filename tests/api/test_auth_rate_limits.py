"""Registration answers "already registered", so it is rate-limited per client address and per e-mail address,
for the HTML form and the API together (an app with rate limiting on, as in production)."""

from __future__ import annotations

import pytest

from marketplace.extensions import db, limiter
from tests import factories as f
from tests.conftest import build_app

LIMITED_PAGE = "操作过于频繁"


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    enabled = limiter.enabled
    app, drop = build_app(tmp_path_factory, RATELIMIT_ENABLED=True)
    yield app
    limiter.enabled = enabled  # one limiter object serves every app of the process: switch it off again
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def registration(email: str, **over) -> dict:
    data = {
        "role": "enterprise",
        "org_name": "连云港某某置业有限公司",
        "uscc": f.new_uscc(),
        "email": email,
        "password": "abc12345",
        "confirm": "abc12345",
    }
    data.update(over)
    return data


def via_form(client, ip: str, data: dict):
    return client.post("/auth/register", data=data, environ_base={"REMOTE_ADDR": ip})


def via_api(client, ip: str, data: dict):
    data = {k: v for k, v in data.items() if k != "confirm"}
    return client.post("/api/v1/auth/register", json=data, environ_base={"REMOTE_ADDR": ip})


def limited(r) -> bool:
    if r.status_code != 429:
        return False
    if r.is_json:
        assert r.get_json()["code"] == 429 and r.get_json()["message"]
    else:
        assert LIMITED_PAGE in r.get_data(as_text=True)
    return True


def test_one_email_address_is_limited_from_any_number_of_client_addresses(committed_app):
    client = committed_app.test_client()
    r = via_api(client, "10.1.0.1", registration("Taken@Test.cn"))
    assert r.status_code == 201
    answers = []
    for n, spelling in enumerate(["taken@test.cn", " TAKEN@test.cn", "taken@TEST.CN ", "Taken@Test.cn"]):
        send = via_form if n % 2 else via_api
        answers.append(send(client, f"10.1.1.{n}", registration(spelling)))
    assert [limited(r) for r in answers] == [False] * 4  # told "already registered" (4 probes)
    assert limited(via_form(client, "10.1.2.1", registration("taken@test.cn")))
    assert limited(via_api(client, "10.1.2.2", registration("TAKEN@TEST.CN")))

    r = via_api(client, "10.1.2.3", registration("fresh@test.cn"))  # other addresses are unaffected
    assert r.status_code == 201


def test_one_client_address_is_limited_across_form_and_api(committed_app):
    client = committed_app.test_client()
    for n in range(20):  # invalid, so nothing is created; they count all the same
        send = via_form if n % 2 else via_api
        r = send(client, "10.2.0.1", registration(f"probe{n}@test.cn", uscc="123"))
        assert not limited(r) and r.status_code in (200, 422)
    assert limited(via_form(client, "10.2.0.1", registration("probe-a@test.cn")))
    assert limited(via_api(client, "10.2.0.1", registration("probe-b@test.cn")))
    assert via_api(client, "10.2.0.2", registration("probe-c@test.cn")).status_code == 201
