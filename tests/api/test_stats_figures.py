"""Every figure of GET /api/v1/stats and of a monthly report against SQL written here, independently of
marketplace/reports/figures.py (plain SQL text, month bounds computed with zoneinfo, regions matched with LIKE)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, text

from marketplace.common.types import UTCDateTime
from marketplace.extensions import db
from tests import stats_market
from tests.stats_market import at

pytestmark = pytest.mark.sqlite  # also run on SQLite, the embedded default (tests/run.sh)

VOID = ("declined", "cancelled")
MARKET = "320000"


@pytest.fixture
def market():
    return stats_market.build()


def _q(sql: str, **params):
    stmt = text(sql)
    typed = [bindparam(k, type_=UTCDateTime()) for k, v in params.items() if isinstance(v, datetime)]
    if typed:
        stmt = stmt.bindparams(*typed)
    return db.session.execute(stmt, params)


def _prefix(code: str | None) -> str:
    if code is None:
        return ""
    return code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code


def _next(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def _bounds(first: str, last: str) -> tuple[datetime, datetime]:
    return at(first, 1, 0), at(_next(last), 1, 0)


def _rate(a: float, b: float, digits: int = 4):
    return round(a / b, digits) if b else None


def check(data: dict, region: str | None, first: str, last: str) -> None:
    """Assert every figure of `data` (the API's JSON or a report's figures) against SQL."""
    p = _prefix(region) + "%"
    start, end = _bounds(first, last)
    s = data["summary"]
    assert data["period"]["from"] == first and data["period"]["to"] == last
    assert data["area"]["code"] == (region or MARKET)

    # members: active, admitted before the end, seated inside the region
    members = "FROM agency a WHERE a.status = 'active' AND COALESCE(a.approved_at, a.created_at) < :end"
    if region:
        members += " AND a.region_code LIKE :p"
    assert s["members"] == _q(f"SELECT count(*) {members}", end=end, p=p).scalar()
    per_cat = dict(
        _q(
            "SELECT ac.category_id, count(*) FROM agency_category ac JOIN agency a ON a.id = ac.agency_id "
            + members.replace("FROM agency a WHERE", "AND")
            + " GROUP BY ac.category_id",
            end=end,
            p=p,
        ).all()
    )
    assert {c["category_id"]: c["members"] for c in data["members_by_category"]} == {
        cid: per_cat.get(cid, 0) for (cid,) in _q("SELECT id FROM category").all()
    }
    area = region or MARKET
    children = [
        r[0] for r in _q("SELECT code FROM region WHERE parent_code = :a ORDER BY code", a=area).all()
    ]
    by_region = {r["code"]: r["members"] for r in data["members_by_region"]}
    for child in children:
        n = _q(f"SELECT count(*) {members} AND a.region_code LIKE :c", end=end, p=p, c=_prefix(child) + "%")
        assert by_region[child] == n.scalar(), child
    outside = _q(
        "SELECT count(*) FROM agency a WHERE a.status = 'active' AND COALESCE(a.approved_at, a.created_at) < :end "
        "AND (a.region_code IS NULL OR a.region_code NOT LIKE :m)",
        end=end,
        m=_prefix(MARKET) + "%",
    ).scalar()
    assert by_region.get("other", 0) == (outside if region is None else 0)
    assert sum(by_region.values()) == s["members"]

    # requests, deals and amounts, per month and over the period
    deals_sql = (
        "FROM service_order o JOIN service_request r ON r.id = o.request_id JOIN service_item i "
        "ON i.id = r.service_item_id LEFT JOIN service_item_version v ON v.id = r.service_item_version_id "
        "WHERE o.status NOT IN ('declined', 'cancelled') AND o.created_at >= :s "
        "AND o.created_at < :e AND COALESCE(r.region_code, '') LIKE :p"
    )
    assert [m["month"] for m in data["monthly"]] == data["period"]["months"]
    for m in data["monthly"]:
        ms, me = _bounds(m["month"], m["month"])
        requests = _q(
            "SELECT count(*) FROM service_request WHERE published_at >= :s AND published_at < :e "
            "AND COALESCE(region_code, '') LIKE :p",
            s=ms,
            e=me,
            p=p,
        ).scalar()
        n, amount, ceiling = _q(
            f"SELECT count(*), COALESCE(sum(o.amount_fen), 0), COALESCE(sum(r.ceiling_fen), 0) {deals_sql}",
            s=ms,
            e=me,
            p=p,
        ).one()
        assert (m["requests"], m["deals"], m["amount_fen"], m["ceiling_fen"]) == (
            requests,
            n,
            amount,
            ceiling,
        )
        assert m["savings_rate"] == _rate(ceiling - amount, ceiling)
    n, amount, ceiling = _q(
        f"SELECT count(*), COALESCE(sum(o.amount_fen), 0), COALESCE(sum(r.ceiling_fen), 0) {deals_sql}",
        s=start,
        e=end,
        p=p,
    ).one()
    assert s["requests"] == sum(m["requests"] for m in data["monthly"])
    assert (s["deals"], s["amount_fen"], s["ceiling_fen"], s["savings_fen"]) == (
        n,
        amount,
        ceiling,
        ceiling - amount,
    )
    assert s["savings_rate"] == _rate(ceiling - amount, ceiling)
    gn, gamount, gmid = _q(
        "SELECT count(*), COALESCE(sum(o.amount_fen), 0), COALESCE(sum((COALESCE(v.guide_min_fen, i.guide_min_fen) "
        f"+ COALESCE(v.guide_max_fen, i.guide_max_fen)) / 2), 0) {deals_sql} "
        "AND COALESCE(v.guide_min_fen, i.guide_min_fen) IS NOT NULL AND COALESCE(v.guide_max_fen, i.guide_max_fen) IS NOT NULL",
        s=start,
        e=end,
        p=p,
    ).one()
    assert (s["guided_deals"], s["guided_amount_fen"], s["guide_mid_fen"]) == (gn, gamount, gmid)
    assert s["guide_ratio"] == _rate(gamount, gmid)
    assert s["below_guide_rate"] == (round(1 - gamount / gmid, 4) if gmid else None)

    # time: orders accepted in the period
    rows = _q(
        "SELECT o.started_at, o.delivered_at, COALESCE(v.standard_days, i.standard_days) FROM service_order o "
        "JOIN service_request r ON r.id = o.request_id JOIN service_item i ON i.id = r.service_item_id "
        "LEFT JOIN service_item_version v ON v.id = r.service_item_version_id WHERE o.status = 'accepted' "
        "AND o.accepted_at >= :s AND o.accepted_at < :e AND COALESCE(r.region_code, '') LIKE :p",
        s=start,
        e=end,
        p=p,
    ).all()
    assert s["completed"] == len(rows)
    if rows:
        days = sum((_aware(d) - _aware(st)).total_seconds() for st, d, _ in rows) / 86400 / len(rows)
        standard = sum(r[2] for r in rows) / len(rows)
        assert s["avg_days"] == round(days, 1)
        assert s["standard_days"] == round(standard, 1)
        assert s["time_reduction"] == round(1 - days / standard, 4)
    else:
        assert s["avg_days"] is None and s["time_reduction"] is None

    # on time: orders due in the period, judged once delivered or past due
    rows = _q(
        "SELECT o.delivered_at, COALESCE(o.reckoned_due_at, o.due_at) FROM service_order o JOIN service_request r "
        "ON r.id = o.request_id WHERE o.status NOT IN ('declined', 'cancelled') AND o.started_at IS NOT NULL "
        "AND COALESCE(o.reckoned_due_at, o.due_at) >= :s AND COALESCE(o.reckoned_due_at, o.due_at) < :e "
        "AND COALESCE(r.region_code, '') LIKE :p",
        s=start,
        e=end,
        p=p,
    ).all()
    cut = min(datetime.now(UTC), end)
    judged = [(d, due) for d, due in rows if d is not None or _aware(due) < cut]
    kept = sum(1 for d, due in judged if d is not None and _aware(d) <= _aware(due))
    assert (s["judged"], s["on_time"], s["on_time_rate"]) == (len(judged), kept, _rate(kept, len(judged)))

    # satisfaction
    n, good, total = _q(
        "SELECT count(*), COALESCE(sum(CASE WHEN g.overall >= 4 THEN 1 ELSE 0 END), 0), COALESCE(sum(g.overall), 0) "
        "FROM rating g JOIN service_order o ON o.id = g.order_id JOIN service_request r ON r.id = o.request_id "
        "WHERE g.created_at >= :s AND g.created_at < :e AND COALESCE(r.region_code, '') LIKE :p",
        s=start,
        e=end,
        p=p,
    ).one()
    assert (s["ratings"], s["good"], s["satisfaction"], s["avg_rating"]) == (
        n,
        good,
        _rate(good, n),
        _rate(total, n, 2),
    )

    # top agencies per category of the requests' items
    ranked = _q(
        "SELECT i.category_id, o.agency_id, count(*) AS n, sum(o.amount_fen) AS amount "
        f"{deals_sql} GROUP BY i.category_id, o.agency_id ORDER BY i.category_id, n DESC, amount DESC, o.agency_id",
        s=start,
        e=end,
        p=p,
    ).all()
    expected: dict[int, list] = {}
    for cid, agency_id, count, amount in ranked:
        expected.setdefault(cid, []).append((agency_id, count, amount))
    got = {
        c["category_id"]: [(a["agency_id"], a["deals"], a["amount_fen"]) for a in c["agencies"]]
        for c in data["top_agencies"]
    }
    assert got == {cid: rows[:5] for cid, rows in expected.items()}

    # complaints filed in the period whose target lies inside the region, by status
    filed = _q(
        "SELECT status, filed_at, decided_at FROM complaint WHERE filed_at >= :s AND filed_at < :e "
        "AND coalesce(region_code, '') LIKE :p",
        s=start,
        e=end,
        p=p,
    ).all()
    c = data["complaints"]
    status = [r[0] for r in filed]
    assert c["filed"] == len(filed)
    assert c["upheld"] == status.count("upheld") and c["dismissed"] == status.count("dismissed")
    assert c["open"] == status.count("received") + status.count("investigating")
    assert c["closed"] == c["upheld"] + c["dismissed"] + status.count("refused")
    decided = [
        (_aware(d) - _aware(f)).total_seconds() / 86400 for s_, f, d in filed if s_ in ("upheld", "dismissed")
    ]
    assert c["avg_days_to_decide"] == (round(sum(decided) / len(decided), 1) if decided else None)
    assert {o["outcome"]: o["count"] for o in c["by_outcome"]} == {x: status.count(x) for x in set(status)}


def _aware(value):
    if isinstance(value, str):  # SQLite through text(): ISO text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_every_figure_matches_sql_for_the_market_any_region_and_a_period(client, market):
    data = client.get("/api/v1/stats").get_json()
    m0, m1, m2 = market["months"]
    check(data, None, data["period"]["from"], data["period"]["to"])
    s = data["summary"]
    # the fixture is what we think it is: the figures the test compares are not all zero
    assert (s["deals"], s["completed"], s["judged"], s["on_time"], s["ratings"], s["good"]) == (
        4,
        3,
        4,
        2,
        3,
        2,
    )
    assert s["guided_deals"] == 2 and s["time_reduction"] is not None
    assert (data["complaints"]["filed"], data["complaints"]["upheld"], data["complaints"]["open"]) == (
        3,
        1,
        1,
    )
    assert data["complaints"]["avg_days_to_decide"] == 3.5  # 6 days and 1 day
    assert {r["code"]: r["members"] for r in data["members_by_region"]}["other"] == 1

    for region in ("320700", "320703", "320500", "320100"):  # a city, a county, cities with one deal, none
        data = client.get(f"/api/v1/stats?region={region}").get_json()
        check(data, region, data["period"]["from"], data["period"]["to"])

    data = client.get(f"/api/v1/stats?region=连云港市&from={m1}&to={m1}").get_json()
    assert data["area"]["code"] == "320700"
    check(data, "320700", m1, m1)
    assert data["summary"]["deals"] == 1 and data["summary"]["members"] == 1  # b admitted on the 10th of m1
    earlier = client.get(f"/api/v1/stats?from={m0}&to={m0}").get_json()
    check(earlier, None, m0, m0)
    assert earlier["summary"]["members"] == 1  # only a was admitted before m0 ended


def test_a_monthly_report_keeps_figures_that_match_sql(client, market):
    from marketplace.reports import services

    m0, m1, m2 = market["months"]
    report = services.generate("320700", m1)
    db.session.commit()
    check(report.figures, "320700", m1, m1)
    whole = services.generate(MARKET, m1)
    check(whole.figures, None, m1, m1)
    trend = whole.figures["trend"]
    assert len(trend) == 12 and trend[-1]["month"] == m1
    assert [(m["month"], m["deals"]) for m in trend[-2:]] == [(m0, 1), (m1, 2)]
    shown = client.get(f"/api/v1/stats/reports/{report.id}").get_json()
    assert shown["figures"]["summary"] == report.figures["summary"]


def test_a_divisions_top_agencies_read_its_own_rows_from_the_index(app):
    """/stats?region=… and the clock's remake of each division's view: the top agencies read the division's rows
    through ix_market_agency_month_region (migration 0044), from the index alone, not every row of the period."""
    from marketplace.reports import figures
    from tests.plans import plan, statements

    with statements(r"FROM market_agency_month") as seen:
        figures.top_agencies("320500", figures.Period.default(), 5)
    assert len(seen) == 1
    chosen = plan(*seen[0])
    assert "ix_market_agency_month_region" in chosen, chosen
    if db.engine.dialect.name == "postgresql":
        connection = db.session.connection()  # (a bitmap scan is cheaper over a test's few rows)
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        assert "Index Only Scan" in plan(*seen[0]), plan(*seen[0])
        connection.exec_driver_sql("SET LOCAL enable_bitmapscan = on")
    else:
        assert "COVERING INDEX ix_market_agency_month_region" in chosen, chosen
