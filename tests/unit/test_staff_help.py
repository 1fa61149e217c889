"""Issue 14, staff tools and English, trust in the footer: the ratings moderation list and its audited actions,
audit entries in words, scans previewed inline (and only for those who may see them), the department rating form
for departments only, English names / colons / plurals, the footer's settings, the help and rules pages."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.audit.models import AuditEntry
from marketplace.extensions import db
from marketplace.ratings import services as ratings
from marketplace.ratings.models import Rating
from tests import factories as f
from tests.html import parse

CITY = "320700"  # the factories' orders lie in 连云港市


def _rated(comment: str = "服务态度恶劣，骗子公司") -> tuple:
    enterprise, agency, order = f.accepted_order()
    scores = dict.fromkeys(ratings.SCORES, 1)
    rating = ratings.rate_order(enterprise, order.id, scores | {"comment": comment})
    db.session.commit()
    return enterprise, agency, order, rating


def _csrf(client, url: str) -> str:
    page = parse(client.get(url).get_data(as_text=True))
    return next(e.attrs["value"] for e in page.find_all("input") if e.attrs.get("name") == "csrf_token")


def _actions(rating_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "rating", AuditEntry.object_id == rating_id)
            .order_by(AuditEntry.id)
        )
    )


def _english(client) -> None:
    client.get("/auth/lang/en")


# --- ratings moderation ---------------------------------------------------------------------------------------


def test_agency_reports_operator_hides_and_restores_every_step_audited(client):
    _, agency, order, rating = _rated()
    f.login(client, agency)
    token = _csrf(client, f"/orders/{order.id}")
    r = client.post(
        f"/ratings/{rating.id}/report", data={"csrf_token": token, "text": "辱骂用语", "order_id": order.id}
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Rating, rating.id).reported_at is not None
    client.get("/auth/logout")

    operator = f.staff("operator", CITY)
    f.login(client, operator)
    page = client.get("/admin/ratings/?view=reported").get_data(as_text=True)
    card = parse(page).find_all("article", **{"data-rating-id": str(rating.id)})
    assert card and card[0].attrs["data-reported"] == "1"
    assert "辱骂用语" in card[0].text()
    assert 'data-desk="rating_admin.moderation_list"' in client.get("/admin/").get_data(as_text=True)

    token = _csrf(client, "/admin/ratings/")
    r = client.post(f"/admin/ratings/{rating.id}/hide", data={"csrf_token": token, "text": ""})
    assert (
        r.status_code == 302 and db.session.get(Rating, rating.id).hidden_reason is None
    )  # a reason is required
    client.post(f"/admin/ratings/{rating.id}/hide", data={"csrf_token": token, "text": "含侮辱性言辞"})
    db.session.expire_all()
    assert db.session.get(Rating, rating.id).hidden_reason == "含侮辱性言辞"
    hidden = client.get("/admin/ratings/?view=hidden").get_data(as_text=True)
    assert f'data-rating-id="{rating.id}"' in hidden and 'data-action="restore"' in hidden
    assert f'data-rating-id="{rating.id}"' not in client.get("/admin/ratings/?view=reported").get_data(
        as_text=True
    )

    client.post(f"/admin/ratings/{rating.id}/restore", data={"csrf_token": token, "text": "复核后不属于辱骂"})
    db.session.expire_all()
    kept = db.session.get(Rating, rating.id)
    assert kept.hidden_reason is None and kept.overall == 1  # the scores never change
    assert _actions(rating.id) == [
        "rating.create",
        "rating.report",
        "rating.hide_comment",
        "rating.restore_comment",
    ]


def test_keeping_a_reported_comment_and_who_may_moderate(client):
    _, agency, order, rating = _rated()
    from marketplace.ratings import moderation

    moderation.report_comment(agency, rating.id, "不实评价")
    db.session.commit()

    # the supervisor reads the list but gets no form and cannot act; an operator elsewhere sees nothing
    f.login(client, f.staff("supervisor", CITY))
    page = client.get("/admin/ratings/").get_data(as_text=True)
    assert f'data-rating-id="{rating.id}"' in page and 'data-form="moderate"' not in page
    token = _csrf(client, "/admin/ratings/")
    client.post(f"/admin/ratings/{rating.id}/keep", data={"csrf_token": token, "text": "属实评价"})
    client.get("/auth/logout")
    f.login(client, f.staff("operator", "320100"))
    assert f'data-rating-id="{rating.id}"' not in client.get("/admin/ratings/").get_data(as_text=True)
    client.post(f"/admin/ratings/{rating.id}/hide", data={"csrf_token": token, "text": "越权"})
    client.get("/auth/logout")
    db.session.expire_all()
    assert db.session.get(Rating, rating.id).moderated_at is None
    assert db.session.get(Rating, rating.id).hidden_reason is None
    # enterprises and agencies never reach the list
    f.login(client, agency)
    assert client.get("/admin/ratings/").status_code == 403
    client.get("/auth/logout")

    operator = f.staff("operator", CITY)
    f.login(client, operator)
    token = _csrf(client, "/admin/ratings/?view=reported")
    client.post(f"/admin/ratings/{rating.id}/keep", data={"csrf_token": token, "text": "评价属实，不予屏蔽"})
    db.session.expire_all()
    assert db.session.get(Rating, rating.id).moderated_at is not None
    assert _actions(rating.id)[-1] == "rating.keep_comment"
    assert f'data-rating-id="{rating.id}"' not in client.get("/admin/ratings/?view=reported").get_data(
        as_text=True
    )


# --- audit entries in words -----------------------------------------------------------------------------------


def test_history_panels_and_the_audit_log_show_words_not_codes(client):
    agency = f.pending_agency()
    _english(client)
    f.login(client, f.admin())
    page = client.get(f"/admin/agencies/{agency.agency.id}").get_data(as_text=True)
    text = parse(page).text()
    assert "Applied for membership" in text
    assert "agency.apply" not in text and "<code>agency.apply" not in page
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Applied for membership" in log and ">agency.apply<" not in log


# --- scans previewed inline -------------------------------------------------------------------------------------


def test_scans_are_previewed_inline_for_staff_and_never_for_strangers(client):
    agency = f.pending_agency()
    qual = agency.agency.qualifications[0]
    url = f"/agencies/qualifications/{qual.id}/file"
    f.login(client, f.admin())
    review = client.get(f"/admin/agencies/{agency.agency.id}").get_data(as_text=True)
    assert f"{url}?inline=1" in review and "data-scans" in review

    r = client.get(url, query_string={"inline": 1})
    assert r.status_code == 200
    assert r.headers["Content-Disposition"].startswith("inline")
    assert r.mimetype == qual.file_mime
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"  # the page's PDF viewer may frame it, no one else
    assert "no-store" in r.headers["Cache-Control"]
    assert client.get(url).headers["Content-Disposition"].startswith("attachment")
    assert client.get("/").headers["X-Frame-Options"] == "DENY"  # pages stay unframeable
    client.get("/auth/logout")

    region = agency.agency.region_code
    elsewhere = "320500" if not (region or "").startswith("3205") else "320100"
    f.login(client, f.staff("operator", region))  # the reviewers of its area
    assert client.get(url, query_string={"inline": 1}).status_code == 200
    client.get("/auth/logout")
    for stranger in (f.user("enterprise"), f.active_agency("C03"), f.staff("operator", elsewhere)):
        f.login(client, stranger)
        assert client.get(url, query_string={"inline": 1}).status_code == 404
        client.get("/auth/logout")
    assert client.get(url, query_string={"inline": 1}).status_code == 404


# --- the department rating form ------------------------------------------------------------------------------


def test_department_rating_form_only_for_department_accounts(client):
    _, _, order = f.accepted_order()
    for other in (f.admin(), f.staff("operator", CITY), f.staff("supervisor", CITY)):
        f.login(client, other)
        page = client.get(f"/orders/{order.id}").get_data(as_text=True)
        assert "data-rating-panel" in page and 'data-form="department-rate"' not in page, other.role
        client.get("/auth/logout")
    f.login(client, f.staff("department", CITY, "市生态环境局"))
    assert 'data-form="department-rate"' in client.get(f"/orders/{order.id}").get_data(as_text=True)


# --- English ---------------------------------------------------------------------------------------------------


def test_english_names_for_categories_items_regions_and_levels(client):
    chinese = client.get("/catalogue/").get_data(as_text=True)
    assert "环境影响评价（报告书）" in chinese and "Environmental impact assessment (report)" not in chinese
    _english(client)
    page = client.get("/catalogue/").get_data(as_text=True)
    assert "Environmental impact assessment (report)" in page and "Environmental assessment" in page
    assert "环境影响评价（报告书）" not in page

    agency = f.active_agency("C03")
    store = parse(client.get(f"/agencies/{agency.agency.id}").get_data(as_text=True)).text()
    assert "Grade" in store or "Ungraded" in store
    assert "甲级" not in store and "乙级" not in store and "不分级" not in store

    f.published_request(region_code=CITY)
    listing = client.get("/requests/").get_data(as_text=True)
    assert "Lianyungang City" in listing


def test_english_names_in_the_request_and_qualification_selects(client):
    _english(client)
    f.login(client, f.user("enterprise"))
    form = client.get("/enterprise/requests/new").get_data(as_text=True)
    assert "Environmental impact assessment (report)" in form and "环境影响评价（报告书）" not in form
    client.get("/auth/logout")
    f.login(client, f.applicant("C03"))
    quals = parse(client.get("/agency/qualifications").get_data(as_text=True)).text()
    assert "Grade A" in quals and "甲级/" not in quals


def test_english_plurals_and_ascii_colons(client):
    _, agency, order, rating = _rated()
    ratings.reply(agency, rating.id, "已与业主沟通改进")
    db.session.commit()
    _english(client)
    f.login(client, agency)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Agency reply:" in page and "：" not in parse(page).find_all("section", id="rating")[0].text()
    listing = client.get("/agencies/").get_data(as_text=True)
    assert "1 rating<" in listing and "1 ratings" not in listing
    assert "1 agency<" in listing
    item = client.get(f"/catalogue/items/{order.request.service_item_id}").get_data(as_text=True)
    days = order.request.service_item.standard_days
    assert f"{days} days" in item and f"{days} day<" not in item


# --- the footer, help and rules ----------------------------------------------------------------------------------


def test_footer_shows_the_trust_settings_and_links_help_and_rules(app, client):
    page = parse(client.get("/").get_data(as_text=True))
    footer = page.find_all("footer")[0]
    trust = footer.find_all("dl", **{"data-footer-trust": ""}) or footer.find_all("dl")
    text = footer.text()
    for key in ("SITE_ORGANISER", "SITE_HOTLINE", "SITE_ICP"):
        assert app.config[key] in text, key
    links = {a.attrs.get("href") for a in footer.find_all("a")}
    assert {"/help/", "/rules/selection", "/credit/rules", "/fees/rules"} <= links
    assert trust

    old = app.config["SITE_HOTLINE"]
    app.config["SITE_HOTLINE"] = "0518-8888 6666"
    try:
        assert "0518-8888 6666" in client.get("/help/").get_data(as_text=True)
    finally:
        app.config["SITE_HOTLINE"] = old


def test_help_pages_per_role_link_to_real_pages(client):
    index = parse(client.get("/help/").get_data(as_text=True))
    roles = [a.attrs["data-help-role"] for a in index.find_all("a") if "data-help-role" in a.attrs]
    assert roles == ["enterprise", "agency", "operator", "department", "supervisor"]
    for role in roles:
        page = parse(client.get(f"/help/{role}").get_data(as_text=True))
        steps = page.find_all("li", cls="help-step")
        assert len(steps) >= 3, role
        for a in page.find_all("a"):
            if "data-help-link" in a.attrs:
                href = a.attrs["href"]
                assert client.get(href).status_code in (200, 302), href  # staff desks ask for a log-in
    assert client.get("/help/nobody").status_code == 404
    _english(client)
    assert "Publish a request" in client.get("/help/enterprise").get_data(as_text=True)


def test_rules_pages_explain_the_methods_and_the_fee_checks(app, client):
    selection = parse(client.get("/rules/selection").get_data(as_text=True))
    methods = [d.attrs["data-method"] for d in selection.find_all("tr") if "data-method" in d.attrs]
    assert methods == ["direct", "lowest_price", "random", "composite", "average_price", "credit_shortlist"]
    assert str(app.config["MARKET_MIN_BIDS"]) in selection.text()
    fees = parse(client.get("/fees/rules").get_data(as_text=True))
    rules = [r.attrs["data-rule"] for r in fees.find_all("tr") if "data-rule" in r.attrs]
    assert "abnormally_low" in rules and len(rules) == 8
    assert "40%" in fees.text() and "30%" in fees.text()  # the thresholds of fees/rules.py
