"""HTTP caching headers: anonymous public reads get an ETag, `public, no-cache` and a 304 on revalidation;
anything for a logged-in person, a bearer token (but for API reads the same for everyone), a form page with its
CSRF token or a visitor with a flashed message is `private, no-store` and carries no validator
(common/httpcache.py)."""

from __future__ import annotations

import pytest

from tests import factories as f

PUBLIC_PAGES = ["/", "/agencies/", "/requests/", "/catalogue/", "/fees/", "/api/v1/agencies"]


def _vary(response) -> set[str]:
    return {v.strip() for v in response.headers.get("Vary", "").split(",")}


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_anonymous_public_reads_revalidate_to_an_empty_304(client, path):
    f.active_agency(org_name="缓存测试环评有限公司")
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "public, no-cache"
    assert {"Cookie", "Accept-Language", "Authorization"} <= _vary(r)
    etag = r.headers["ETag"]
    assert r.headers["Last-Modified"]

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    other = client.get(path, headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200 and other.data == r.data


def test_a_change_changes_the_etag(client):
    first = client.get("/agencies/")
    f.active_agency(org_name="新入驻测绘有限公司")
    second = client.get("/agencies/", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert "新入驻测绘有限公司" in second.get_data(as_text=True)
    assert second.headers["ETag"] != first.headers["ETag"]


def test_a_logged_in_person_is_never_cached(client):
    agency = f.active_agency(org_name="登录后的机构")
    f.login(client, agency)
    for path in ["/", "/agencies/", f"/agencies/{agency.agency.id}"]:
        r = client.get(path)
        assert r.status_code == 200
        assert r.headers["Cache-Control"] == "private, no-store"
        assert "ETag" not in r.headers and "Last-Modified" not in r.headers
        revalidated = client.get(path, headers={"If-None-Match": "*"})
        assert revalidated.status_code == 200


def test_bearer_token_reads_of_their_own_are_private(client):
    agency = f.active_agency()
    headers = f.token(client, agency)
    for path in ["/api/v1/requests?mine=true", "/api/v1/agencies/me/bids", "/api/v1/agencies/me"]:
        r = client.get(path, headers=headers)
        assert r.status_code == 200, path
        assert r.headers["Cache-Control"] == "private, no-store", path
        assert "ETag" not in r.headers, path


def test_bearer_token_reads_the_same_for_everyone_are_public(client):
    """A public collection answers a token holder exactly as anyone: the same validators and headers."""
    headers = f.token(client, f.user("enterprise"))
    for path in ["/api/v1/agencies", "/api/v1/requests?status=bidding", "/api/v1/categories"]:
        anonymous = client.get(path)
        r = client.get(path, headers=headers)
        assert r.status_code == 200 and r.data == anonymous.data, path
        assert r.headers["Cache-Control"] == "public, no-cache", path
        assert r.headers["ETag"] == anonymous.headers["ETag"], path
        assert client.get(path, headers={**headers, "If-None-Match": r.headers["ETag"]}).status_code == 304


def _marked_read_samples() -> dict[str, str]:
    item = f.market_item()
    return {
        "agencies-api.list_agencies": "/api/v1/agencies?sort=price",
        "requests-api.list_requests": "/api/v1/requests",
        "catalogue-api.categories": "/api/v1/categories",
        "catalogue-api.service_items": f"/api/v1/service-items?category_id={item.category_id}",
        "catalogue-api.service_item": f"/api/v1/service-items/{item.id}",
    }


def test_reads_marked_the_same_for_everyone_are(app, client):
    """Every view marked @same_for_everyone answers each role's token holder, a bad token and an anonymous
    caller with the same body: a view that looked at its caller would fail here (and must not be marked)."""
    enterprise = f.user("enterprise")
    agency = f.active_agency()
    f.offer(agency)
    f.published_request(enterprise)
    samples = _marked_read_samples()
    marked = {ep for ep, view in app.view_functions.items() if hasattr(view, "same_for_everyone")}
    assert marked == set(samples)  # a newly marked view needs a sample here
    callers = [f.token(client, u) for u in (enterprise, agency, f.admin())]
    callers += [{"Authorization": "Bearer not-a-token"}, {}]
    for endpoint, path in samples.items():
        bodies = set()
        for headers in callers:
            r = client.get(path, headers=headers)
            assert r.status_code == 200, (endpoint, headers, r.get_json())
            bodies.add(r.data)
        assert len(bodies) == 1, endpoint


def test_form_pages_with_a_csrf_token_are_private(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    for path in ["/auth/login", "/auth/register"]:
        r = client.get(path)
        assert r.status_code == 200
        assert 'name="csrf_token"' in r.get_data(as_text=True)
        assert r.headers["Cache-Control"] == "private, no-store"
        assert "ETag" not in r.headers


def test_a_visitor_with_a_flashed_message_gets_a_private_page(client):
    with client.session_transaction() as s:
        s["_flashes"] = [("success", "举报已提交")]
    r = client.get("/")
    assert "举报已提交" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "private, no-store"
    after = client.get("/")  # the message was shown once; the page is public again
    assert after.headers["Cache-Control"] == "public, no-cache"


def test_the_language_is_part_of_the_answer(client):
    zh = client.get("/")
    with client.session_transaction() as s:
        s["lang"] = "en"
    client.get(
        "/"
    )  # (Flask-Login marks a non-empty session once: that answer sets a cookie and stays private)
    en = client.get("/")
    assert "Home" in en.get_data(as_text=True)
    assert en.headers["Cache-Control"] == "public, no-cache"
    assert en.headers["ETag"] != zh.headers["ETag"]
    assert client.get("/api/v1/agencies", headers={"Accept-Language": "en"}).headers["Cache-Control"] == (
        "public, no-cache"
    )


def test_the_health_check_is_never_cached(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in r.headers


def test_private_downloads_keep_their_own_headers(client):
    agency = f.pending_agency()
    qual = agency.agency.qualifications[0]
    f.login(client, f.admin())
    r = client.get(f"/agencies/qualifications/{qual.id}/file")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "private, no-store"


def test_static_files_are_fingerprinted_and_kept_for_a_year(client):
    """A page names its style sheet, scripts and logo with their content's fingerprint; asked for by it, a file is
    kept by the browser for a year (no request on the next page); without it, or with an old one, revalidated."""
    import hashlib
    import re

    from marketplace.config import ROOT

    page = client.get("/agencies/").get_data(as_text=True)
    urls = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page))
    assert {u.split("?")[0] for u in urls} >= {
        "/static/css/app.css",
        "/static/js/nav.js",
        "/static/img/logo.svg",
    }
    css = next(u for u in urls if u.startswith("/static/css/app.css?"))
    digest = hashlib.sha256((ROOT / "static/css/app.css").read_bytes()).hexdigest()[:12]
    assert css == f"/static/css/app.css?v={digest}"
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        r = client.get(url)
        assert r.status_code == 200
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", url

    for stale in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        r = client.get(stale)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
        assert client.get(stale, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    assert client.get("/static/css/missing.css?v=000000000000").status_code == 404


def test_a_changed_static_file_gets_a_new_fingerprint(tmp_path):
    from marketplace.common import assets

    (tmp_path / "a.css").write_text("body { color: #222 }")
    first = assets.fingerprint(str(tmp_path), "a.css")
    assert first == assets.fingerprint(str(tmp_path), "a.css")
    (tmp_path / "a.css").write_text("body { color: #333333 }")  # another size: seen even within the same tick
    assert assets.fingerprint(str(tmp_path), "a.css") not in (None, first)
    assert assets.fingerprint(str(tmp_path), "../a.css") is None  # outside the folder: no fingerprint
    assert assets.fingerprint(str(tmp_path), "none.css") is None


def test_kept_pages_belong_to_the_release_of_their_static_files(tmp_path, monkeypatch):
    """A deploy that changes only a style sheet still starts the page cache afresh: the kept pages name the static
    files' fingerprinted URLs, so the release's fingerprint covers the static files too."""
    from marketplace import config
    from marketplace.common import httpcache

    for name, text in (
        ("marketplace/a.py", "x = 1"),
        ("templates/a.html", "<p>"),
        ("static/css/app.css", "a{}"),
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(config, "ROOT", tmp_path)
    before = httpcache.release.__wrapped__()
    assert httpcache.release.__wrapped__() == before
    (tmp_path / "static/css/app.css").write_text("a{color:red}")
    assert httpcache.release.__wrapped__() != before


def test_an_announcement_is_public_to_visitors_and_private_with_its_forms_to_members(
    app, client, monkeypatch
):
    """The announcement page makes its forms (bid, objection, owner's actions) only for a logged-in visitor: a
    form puts a CSRF token into the session, which made every visitor's copy private and kept none of them."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    req = f.published_request()
    agency = f.active_agency(category_code=req.service_item.category.code)
    path = f"/requests/{req.id}"
    r = client.get(path)
    assert r.status_code == 200 and "csrf_token" not in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "public, no-cache" and r.headers["ETag"]
    assert "Set-Cookie" not in r.headers
    assert client.get(path, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # the log-in form posts without a token
    f.login(client, agency)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    mine = client.get(path)
    body = mine.get_data(as_text=True)
    assert 'data-form="bid"' in body and 'name="csrf_token"' in body
    assert mine.headers["Cache-Control"] == "private, no-store" and "ETag" not in mine.headers
