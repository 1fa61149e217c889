"""The open data's monthly packages kept (opendata/kept.py): made by the clock as a file on the storage path,
served as they are by the download and the API (one set of bytes, ETag, 304), never built on a GET (a month not
made yet answers "being prepared"), made again when something dated in a closed month changes, and equal to the
releases made the plain way (every request, one by one) on a market with every kind of event."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from marketplace.common.clock import local, now
from marketplace.extensions import db
from marketplace.opendata import kept
from marketplace.orders.models import Order
from marketplace.payments.models import Payment
from marketplace.requests import services as requests
from marketplace.requests.models import RequestStatus, ServiceRequest
from marketplace.stats.open_months import OcdsMonth
from marketplace.tally import ocds_months
from tests import factories as f
from tests import timetravel
from tests.api.test_ocds import _awarded
from tests.ocds import check_bids, live_releases, make, make_all_months, validate

EVERY_TAG = {
    "tender",
    "award",
    "awardUpdate",
    "tenderCancellation",
    "contract",
    "contractUpdate",
    "implementation",
}


def _label(moment) -> str:
    return local(moment).strftime("%Y-%m")


def _market():
    """An awarded request through to its payment, a cancelled and a failed one (流标), one still bidding with a
    sealed bid, and stamps moved back into earlier months behind the ORM (as time travel and bulk loads do)."""
    owner, agencies, req, bids, order, payment = _awarded()
    cancelled = f.published_request(owner, title="开放数据：因规划调整取消的公告")
    requests.cancel_request(owner, cancelled.id, "项目规划调整")
    failed = f.published_request(owner, title="开放数据：无人报价而流标的公告")
    timetravel.past_deadline(failed)  # the clock closes it with no bid: failed
    sealed = f.published_request(owner, title="开放数据：仍在报价的公告")
    f.bid(agencies[0], sealed, price_fen=12_345_600)
    db.session.commit()
    timetravel._shift(Order, order.id, clock=False, started_at=now() - timedelta(days=45))
    timetravel._shift(ServiceRequest, cancelled.id, clock=False, ended_at=now() - timedelta(days=70))
    for r in (cancelled, failed):
        db.session.refresh(r)
    assert cancelled.status == RequestStatus.CANCELLED and failed.status == RequestStatus.FAILED
    return owner, req, order, payment, cancelled, failed


def _row(month: str) -> OcdsMonth:
    db.session.expire_all()
    return db.session.get(OcdsMonth, month)


def _files() -> set[str]:
    folder = kept._folder()
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_the_kept_package_equals_the_releases_made_one_by_one(client):
    _, _, _, _, cancelled, _ = _market()
    make_all_months()
    months = [r.month for r in db.session.scalars(select(OcdsMonth).order_by(OcdsMonth.month))]
    assert len(months) >= 3  # this month, the order's start and the cancellation moved back
    tags, compared = set(), 0
    for month in months:
        expected = live_releases(month)
        r = client.get(f"/api/v1/ocds/releases?month={month}")
        if not expected:
            assert r.status_code == 404, month
            continue
        assert r.status_code == 200, (month, r.status_code)
        body = json.loads(r.get_data())
        validate(body)
        check_bids(body)
        assert body["releases"] == expected, month
        assert body["publishedDate"] == max(x["date"] for x in expected)
        assert _row(month).releases == len(expected)
        tags |= {t for x in expected for t in x["tag"]}
        compared += len(expected)
    assert tags == EVERY_TAG
    # the cancellation is dated when the request ended (moved back 70 days), not by its last update
    month = _label(cancelled.ended_at)
    body = json.loads(client.get(f"/api/v1/ocds/releases?month={month}").get_data())
    (release,) = [x for x in body["releases"] if x["id"].endswith(f"-{cancelled.id}-cancellation")]
    assert release["tender"]["status"] == "cancelled"
    assert compared >= 10


def test_a_get_never_builds_a_package_the_clock_makes_it(client, app):
    owner, req, order, payment, *_ = _market()
    make_all_months()
    # a stamp moved to a month that had none: its row is added, its package not made yet
    moment = now() - timedelta(days=400)
    month = _label(moment)
    timetravel._shift(Payment, payment.id, clock=False, paid_at=moment)
    row = _row(month)
    assert row is not None and row.generated_at is None
    files = _files()
    r = client.get(f"/api/v1/ocds/releases?month={month}")
    assert r.status_code == 503
    assert r.get_json()["code"] == 503 and int(r.headers["Retry-After"]) > 0
    page = client.get(f"/opendata/ocds/{month}.json")
    assert page.status_code == 503 and "正在准备" in page.get_data(as_text=True)
    listing = client.get("/opendata/").get_data(as_text=True)
    assert f'data-month="{month}"' in listing and "data-preparing" in listing
    assert [m for m in client.get("/api/v1/ocds/months").get_json() if m["month"] == month][0][
        "releases"
    ] is None
    assert _row(month).generated_at is None and _files() == files  # nothing was made or written
    # the clock's next pass makes it
    assert int(month.replace("-", "")) in kept.due_ids()
    timetravel.run_clock()
    row = _row(month)
    assert row.generated_at is not None and not row.dirty and row.releases == 1
    assert row.file_key in _files() and row.bytes == (kept._folder() / row.file_key).stat().st_size
    body = client.get(f"/api/v1/ocds/releases?month={month}").get_json()
    assert [x["id"].rsplit("-", 2)[-2:] for x in body["releases"]] == [["payment", str(payment.id)]]
    assert int(month.replace("-", "")) not in kept.due_ids()


def test_a_change_dated_in_a_closed_month_makes_it_again(client, app, monkeypatch):
    owner, req, order, payment, *_ = _market()
    make_all_months()
    closed = _label(now() - timedelta(days=45))  # the order's start was moved there
    before = _row(closed)
    old_key, old_count = before.file_key, before.releases
    old_etag = client.get(f"/opendata/ocds/{closed}.json").headers["ETag"]
    assert not before.dirty
    # the payment is dated back into that month (through the ORM, as a correction would be)
    db.session.get(Payment, payment.id).paid_at = now() - timedelta(days=45)
    db.session.commit()
    assert _row(closed).dirty
    stale = client.get(f"/opendata/ocds/{closed}.json")  # the kept file still answers meanwhile
    assert stale.status_code == 200 and stale.headers["ETag"] == old_etag
    timetravel.run_clock()
    after = _row(closed)
    assert not after.dirty and after.file_key != old_key and after.releases == old_count + 1
    assert old_key not in _files() and after.file_key in _files()  # the old file went with the commit
    fresh = client.get(f"/opendata/ocds/{closed}.json")
    assert fresh.headers["ETag"] != old_etag
    ids = [x["id"] for x in json.loads(fresh.get_data())["releases"]]
    assert any(i.endswith(f"-payment-{payment.id}") for i in ids)
    # the current month: a change marks it, the clock makes it again only after OCDS_REFRESH_SECONDS
    current = kept.current_label()
    made_at = _row(current).generated_at
    f.published_request(owner, title="开放数据：本月新发布的公告")
    assert _row(current).dirty
    timetravel.run_clock()
    assert _row(current).generated_at == made_at
    monkeypatch.setitem(app.config, "OCDS_REFRESH_SECONDS", 0)
    timetravel.run_clock()
    assert _row(current).generated_at > made_at and not _row(current).dirty


def test_the_api_and_the_download_serve_the_same_kept_bytes(client):
    _awarded()
    month = kept.current_label()
    make(month)
    row = _row(month)
    api = client.get(f"/api/v1/ocds/releases?month={month}")
    page = client.get(f"/opendata/ocds/{month}.json")
    assert api.status_code == page.status_code == 200
    stored = (kept._folder() / row.file_key).read_bytes()
    assert api.get_data() == page.get_data() == stored
    assert row.sha256 == __import__("hashlib").sha256(stored).hexdigest() and row.bytes == len(stored)
    for r in (api, page):
        assert r.headers["ETag"] == f'"{row.sha256}"'
        assert r.headers["Cache-Control"].startswith("public")
        assert r.headers["Last-Modified"] and r.mimetype == "application/json"
    assert "attachment" in page.headers["Content-Disposition"] and "attachment" not in api.headers.get(
        "Content-Disposition", ""
    )
    again = client.get(f"/api/v1/ocds/releases?month={month}", headers={"If-None-Match": api.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(
        f"/opendata/ocds/{month}.json", headers={"If-Modified-Since": page.headers["Last-Modified"]}
    )
    assert since.status_code == 304
    html = client.get("/opendata/").get_data(as_text=True)
    assert f'data-releases="{row.releases}"' in html and f'data-bytes="{row.bytes}"' in html
    (listed,) = [m for m in client.get("/api/v1/ocds/months").get_json() if m["month"] == month]
    assert listed["releases"] == row.releases and listed["bytes"] == row.bytes and listed["generated_at"]


def test_the_rebuilds_mark_every_month_and_make_them_all(client, app):
    _market()
    make_all_months()
    months = ocds_months.snapshot(db.session)
    ocds_months.rebuild(db.session)  # `flask stats rebuild`: the same months, all marked for the clock
    db.session.commit()
    assert ocds_months.snapshot(db.session) == months
    assert all(_row(m).dirty and _row(m).file_key for m in months if _row(m).releases)
    result = app.test_cli_runner().invoke(args=["opendata", "rebuild"])
    assert result.exit_code == 0, result.output
    assert f"opendata: {len(months)} months made" in result.output
    assert not any(_row(m).dirty for m in months)
    assert all(Path(kept._folder() / _row(m).file_key).is_file() for m in months if _row(m).releases)


def test_a_watcher_makes_the_months_when_the_clock_is_told_not_to(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "OCDS_IN_CLOCK", 0)
    req = f.published_request(f.user("enterprise"), title="开放数据：由独立进程生成的月份")
    month = _label(req.published_at)
    timetravel.run_clock()
    assert _row(month).generated_at is None and kept.due_ids() == []
    assert client.get(f"/api/v1/ocds/releases?month={month}").status_code == 503
    result = app.test_cli_runner().invoke(args=["opendata", "watch", "--passes", "1", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert f"{month}: " in result.output and not _row(month).dirty
    body = client.get(f"/api/v1/ocds/releases?month={month}").get_json()
    assert any(x["id"].endswith(f"-{req.id}-tender") for x in body["releases"])
    # a second watcher (or a clock) that finds the month made already leaves it be
    made_at = _row(month).generated_at
    assert kept.apply_due(int(month.replace("-", ""))) is False and _row(month).generated_at == made_at


def test_a_later_write_marks_only_the_months_of_the_stamps_it_writes(client):
    """Releases are states as of their date: a request published two months ago and cancelled now leaves the
    month of its publication as it was made, and marks this month (its cancellation)."""
    owner = f.user("enterprise")
    req = f.published_request(owner, title="开放数据：两个月前发布、本月取消的公告")
    back = now() - timedelta(days=60)
    timetravel._shift(ServiceRequest, req.id, clock=False, published_at=back)
    old, current = _label(back), kept.current_label()
    make(old)
    make(current)
    assert not _row(old).dirty and not _row(current).dirty
    requests.cancel_request(owner, req.id, "项目取消")
    db.session.commit()
    assert not _row(old).dirty and _row(current).dirty
    make(current)
    body = client.get(f"/api/v1/ocds/releases?month={current}").get_json()
    assert any(x["id"].endswith(f"-{req.id}-cancellation") for x in body["releases"])
    assert body["releases"] == live_releases(current)
