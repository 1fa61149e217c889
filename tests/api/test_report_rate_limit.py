"""The public report form and `POST /api/v1/reports` take anonymous input, so they share one rate limit per
client address (an app with rate limiting on, as in production); reading the form is never limited."""

from __future__ import annotations

import pytest

from marketplace.extensions import db, limiter
from tests.conftest import build_app


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


def test_reports_are_limited_per_client_address_for_the_form_and_the_api_together(committed_app):
    client = committed_app.test_client()
    ip = {"REMOTE_ADDR": "10.9.0.1"}
    answers = []
    for n in range(10):
        if n % 2:
            answers.append(client.post("/reports/new", data={"text": "x"}, environ_base=ip).status_code)
        else:
            answers.append(client.post("/api/v1/reports", json={"text": "x"}, environ_base=ip).status_code)
    assert 429 not in answers
    assert client.post("/api/v1/reports", json={"text": "x"}, environ_base=ip).status_code == 429
    assert client.post("/reports/new", data={"text": "x"}, environ_base=ip).status_code == 429
    assert client.get("/reports/new", environ_base=ip).status_code == 200  # reading is not limited
    other = {"REMOTE_ADDR": "10.9.0.2"}
    assert client.post("/api/v1/reports", json={"text": "x"}, environ_base=other).status_code == 422
