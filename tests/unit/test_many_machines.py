"""Nothing relies on one process's memory: two app instances (two workers, or two machines) on one database share
the page cache and see its invalidation, share the rate limits through Redis, reload their per-process copies when
another announced a change, and read each other's uploads from one UPLOAD_DIR (common/cache.py, httpcache.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.app import create_app
from marketplace.common import cache as shared
from marketplace.common import uploads
from marketplace.common.uow import unit_of_work
from marketplace.extensions import db, limiter
from tests import factories as f
from tests.conftest import build_app

SHARED_SETTINGS = (
    "MARKET_ENV",
    "TESTING",
    "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "WTF_CSRF_ENABLED",
    "RATELIMIT_ENABLED",
    "PASSWORD_HASH_METHOD",
    "MARKET_REVIEW_ANNOUNCEMENTS",
    "MARKET_FISCAL_THRESHOLD_FEN",
    "MARKET_CONTRACT_STEP",
    "UPLOAD_DIR",
    "CACHE_PAGE_SECONDS",
)


@pytest.fixture(autouse=True)
def _transaction():
    """These apps commit for real (tests/conftest.py's rolled-back session would bind to another app's database)."""
    yield


def _second(first, tmp_path_factory, **settings):
    """Another instance of the same market: its own instance folder (another machine), the same database and
    upload volume, and the given cache settings."""
    folder = tmp_path_factory.mktemp("second")
    config = {k: first.config[k] for k in SHARED_SETTINGS}
    return create_app(
        config | {"INSTANCE_DIR": str(folder), "SEARCH_INDEX_DIR": str(folder / "index")} | settings
    )


def _close(*apps):
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def one_machine(tmp_path_factory):
    """Two workers of one machine: the default FileSystemCache in one folder they share."""
    folder = tmp_path_factory.mktemp("cache")
    first, drop = build_app(tmp_path_factory, CACHE_PAGE_SECONDS=60, CACHE_DIR=str(folder))
    second = _second(first, tmp_path_factory, CACHE_DIR=str(folder))
    yield first, second
    _close(first, second)
    drop()


@pytest.fixture(scope="module")
def two_machines(tmp_path_factory, redis_url):
    """Two machines with REDIS_URL set (and rate limiting on, as in production)."""
    saved = (limiter.enabled, limiter._storage, limiter._limiter)
    first, drop = build_app(
        tmp_path_factory, CACHE_PAGE_SECONDS=60, REDIS_URL=redis_url, RATELIMIT_ENABLED=True
    )
    second = _second(first, tmp_path_factory, REDIS_URL=redis_url)
    yield first, second
    # one limiter object serves every app of the process: give the others theirs back
    limiter.enabled, limiter._storage, limiter._limiter = saved
    _close(first, second)
    drop()


def _admitted_agency(app, name: str) -> int:
    """An agency applies and is admitted, each step committed through `app` (as its own request would)."""
    with app.app_context():
        applicant = f.pending_agency(org_name=name)
        with unit_of_work():
            from marketplace.agencies import membership

            membership.decide(f.admin(), applicant.agency.id, "approve")
        agency_id = applicant.agency.id
        db.session.remove()
    return agency_id


@pytest.mark.parametrize("pair", ["one_machine", "two_machines"])
def test_instances_share_the_page_cache_and_see_a_change_at_once(request, pair):
    first, second = request.getfixturevalue(pair)
    a, b = first.test_client(), second.test_client()
    path = f"/agencies/?pair={pair}"
    made = a.get(path)
    assert made.status_code == 200 and made.headers["X-Cache"] == "miss"
    kept = b.get(path)  # the other instance answers from the shared cache
    assert kept.headers["X-Cache"] == "hit" and kept.data == made.data
    assert kept.headers["ETag"] == made.headers["ETag"]
    assert kept.headers["Cache-Control"] == "public, no-cache"
    assert kept.headers["Content-Security-Policy"]  # the security headers are set on every answer
    assert b.get(path, headers={"If-None-Match": made.headers["ETag"]}).status_code == 304
    revalidated = b.get(path, headers={"If-Modified-Since": made.headers["Last-Modified"]})
    assert revalidated.status_code == 304 and revalidated.data == b""

    name = f"共享缓存测绘有限公司{pair}"
    _admitted_agency(second, name)  # committed through the other instance
    fresh = a.get(path)
    assert fresh.headers["X-Cache"] == "miss"
    assert name in fresh.get_data(as_text=True)
    assert b.get(path, headers={"If-None-Match": made.headers["ETag"]}).status_code == 200
    assert name in b.get(f"/api/v1/agencies?pair={pair}").get_data(as_text=True)


def test_a_page_only_just_made_is_served_for_a_few_seconds_after_a_change(one_machine, monkeypatch):
    """CACHE_STALE_SECONDS: under a stream of changes a kept page is answered for at most that long after it was
    made (X-Cache: stale), then made again with the change in it."""
    import time as real_time

    from marketplace.common import httpcache

    first, second = one_machine
    for app in (first, second):
        monkeypatch.setitem(app.config, "CACHE_STALE_SECONDS", 30)
    a, b = first.test_client(), second.test_client()
    path = "/agencies/?stale=1"
    made = a.get(path)
    assert made.headers["X-Cache"] == "miss"
    name = "稍后可见测绘有限公司"
    _admitted_agency(second, name)  # a new generation
    kept = b.get(path)
    assert kept.headers["X-Cache"] == "stale" and kept.data == made.data and name not in kept.get_data(True)

    class Later:  # the same clock, 31 s on: the page is older than CACHE_STALE_SECONDS
        @staticmethod
        def time() -> float:
            return real_time.time() + 31

    monkeypatch.setattr(httpcache, "time", Later)
    fresh = b.get(path)
    assert fresh.headers["X-Cache"] == "miss" and name in fresh.get_data(as_text=True)
    assert a.get(path).headers["X-Cache"] == "hit"  # kept again, under the new generation


@pytest.mark.parametrize("pair", ["one_machine", "two_machines"])
def test_private_writes_keep_the_generation(request, pair):
    """A log-in (a session row) or a quiet pass of the clock changes nothing a visitor sees: the pages stay kept."""
    first, second = request.getfixturevalue(pair)
    with first.app_context():
        user = f.user("enterprise")
        db.session.commit()
        email, user_id, model = user.email, user.id, type(user)
        before = shared.generation()
    client = second.test_client()
    assert client.post("/auth/login", data={"email": email, "password": f.PASSWORD}).status_code == 302
    with first.app_context():
        from marketplace.chronograph import services as chronograph

        chronograph.run_once()
        db.session.commit()
        assert shared.generation() == before
        with unit_of_work():
            db.session.get(model, user_id).contact_name = "王经理"
        db.session.remove()
        assert shared.generation() != before  # a public table changed: a new generation


def test_token_holders_share_the_answers_that_are_the_same_for_everyone(one_machine):
    """Agencies polling the open announcements with their tokens are answered from the answer kept for anyone,
    and keep one for them; their own inbox (`mine=true`) and bids are never kept; a new announcement is in the
    next answer."""
    first, second = one_machine
    with first.app_context():
        agency = f.active_agency(org_name="轮询公告的测绘有限公司")
        a, b = first.test_client(), second.test_client()
        headers = f.token(b, agency)
        db.session.remove()
    polled = "/api/v1/requests?status=bidding&page_size=50&poll=1"
    made = a.get(polled)
    assert made.status_code == 200 and made.headers["X-Cache"] == "miss"
    kept = b.get(polled, headers=headers)
    assert kept.headers["X-Cache"] == "hit" and kept.data == made.data
    assert kept.headers["ETag"] == made.headers["ETag"]

    other = "/api/v1/agencies?sort=price&poll=2"
    assert b.get(other, headers=headers).headers["X-Cache"] == "miss"  # kept from a token holder's read …
    assert a.get(other).headers["X-Cache"] == "hit"  # … for anyone
    assert a.get(other, headers={"Authorization": "Bearer not-a-token"}).headers["X-Cache"] == "hit"

    for own in ("/api/v1/requests?mine=true", "/api/v1/agencies/me/bids"):
        for _ in range(2):
            r = b.get(own, headers=headers)
            assert r.status_code == 200 and "X-Cache" not in r.headers, own
            assert r.headers["Cache-Control"] == "private, no-store", own

    with first.app_context():
        title = "共享轮询的新公告：宿迁市地下管线普查测绘"
        f.published_request(title=title)
        db.session.remove()
    fresh = b.get(polled, headers=headers)
    assert fresh.headers["X-Cache"] == "miss" and title in fresh.get_data(as_text=True)
    assert a.get(polled).headers["X-Cache"] == "hit"


def test_one_machine_without_the_page_cache_keeps_nothing(one_machine, monkeypatch):
    first, _ = one_machine
    monkeypatch.setitem(first.config, "CACHE_PAGE_SECONDS", 0)
    r = first.test_client().get("/requests/?nothing-kept=1")
    assert r.headers["Cache-Control"] == "public, no-cache" and "X-Cache" not in r.headers


def test_search_pages_are_kept_under_their_result(one_machine):
    """The search pages read each machine's own index, which drains its queue when it does: a page is kept under
    the search's result as well as its URL (httpcache.kept_by), so an index that answers otherwise — another
    machine's, or this one after a change the database's generation does not show — never gets another's page."""
    from marketplace.search import backends, index

    first, second = one_machine
    agency_id = _admitted_agency(first, "缓存搜索勘测有限公司")
    with first.app_context():
        backends.reindex()
    a = first.test_client()
    path = "/search?q=缓存搜索"
    made = a.get(path)
    assert made.status_code == 200 and made.headers["X-Cache"] == "miss"
    hit = f'data-type="agency" data-id="{agency_id}"'
    assert hit in made.get_data(as_text=True)
    kept = a.get(path)
    assert kept.headers["X-Cache"] == "hit" and kept.data == made.data
    assert second.test_client().get(path).status_code == 503  # its own index: none built there yet

    with first.app_context():  # the index drops the agency; the database (and its generation) do not change
        base = index.index_dir()
        with index.open_index(base, index.live_state(base)).writer() as writer:
            writer.delete_by_term("key", f"agency:{agency_id}")
        index.close_all()
    after = a.get(path)
    assert after.status_code == 200 and after.headers["X-Cache"] == "miss"
    assert hit not in after.get_data(as_text=True)
    assert a.get(path).headers["X-Cache"] == "hit"
    api = a.get("/api/v1/search?q=缓存搜索")
    assert api.status_code == 200 and "X-Cache" not in api.headers  # the API's answer is the search itself


def test_keyword_filters_of_the_lists_are_kept_and_see_a_change(one_machine):
    """The lists' keyword filters read the database (the kept keywords of the agencies, the announcements'
    titles), not an index: the same on every machine, so kept like any other list page and remade after a
    change."""
    first, second = one_machine
    a, b = first.test_client(), second.test_client()
    for path in ("/agencies/?q=缓存关键词", "/api/v1/agencies?q=缓存关键词", "/requests/?q=缓存关键词"):
        made = a.get(path)
        assert made.status_code == 200 and made.headers["X-Cache"] == "miss", path
        assert b.get(path).headers["X-Cache"] == "hit", path
    _admitted_agency(second, "缓存关键词测绘有限公司")
    fresh = a.get("/agencies/?q=缓存关键词")
    assert fresh.headers["X-Cache"] == "miss" and "缓存关键词测绘有限公司" in fresh.get_data(as_text=True)
    assert "缓存关键词测绘有限公司" in b.get("/api/v1/agencies?q=缓存关键词").get_data(as_text=True)


def test_redis_carries_the_rate_limits_of_every_instance(two_machines, redis_url):
    import redis

    first, second = two_machines
    assert first.config["RATELIMIT_STORAGE_URI"] == redis_url
    assert first.config["CACHE_TYPE"] == "RedisCache"
    ip = {"REMOTE_ADDR": "10.9.8.7"}

    def attempt(client, n: int) -> int:  # another address each time: the per-account back-off stays out of it
        data = {"email": f"nobody{n}@example.com", "password": "wrong-password"}
        return client.post("/auth/login", data=data, environ_base=ip).status_code

    a, b = first.test_client(), second.test_client()
    answers = [attempt(a, n) for n in range(6)] + [attempt(b, n) for n in range(6, 11)]
    assert 429 not in answers[:10] and answers[10] == 429  # "10 per minute", counted across both
    counts = redis.Redis.from_url(redis_url)
    keys = [k for k in counts.keys("LIMITS*") if b"10.9.8.7" in k]
    assert keys and sum(int(counts.get(k)) for k in keys) >= 10


def test_a_region_renamed_elsewhere_reaches_every_process(one_machine, monkeypatch):
    from marketplace.regions import services as regions
    from marketplace.regions.models import Region

    first, second = one_machine
    monkeypatch.setattr(regions._SHARED, "check_seconds", 0)
    with first.app_context():
        regions.forget(announce=False)
        original = regions.name("320700")
        assert original == "连云港市"
        with unit_of_work():
            db.session.scalar(select(Region).where(Region.code == "320700")).name = "连云港市（测试）"
        assert regions.name("320700") == original  # this process's copy
    with second.app_context():
        regions.forget()  # as `regions sync` does after changing the table
    try:
        with first.app_context():
            assert regions.name("320700") == "连云港市（测试）"
    finally:
        with first.app_context(), unit_of_work():
            db.session.scalar(select(Region).where(Region.code == "320700")).name = original
            regions.forget()


def test_two_instances_share_one_upload_volume(one_machine):
    """A scan uploaded through one instance is read back through the other (UPLOAD_DIR on a shared volume)."""
    first, second = one_machine
    assert first.config["UPLOAD_DIR"] == second.config["UPLOAD_DIR"]
    assert first.config["INSTANCE_DIR"] != second.config["INSTANCE_DIR"]
    with first.app_context():
        applicant = f.pending_agency(org_name="上传共享检测有限公司")
        qual = applicant.agency.qualifications[0]
        qual_id, key = qual.id, qual.file_key
        stored = uploads.upload_path("qualifications", key).read_bytes()
        admin = f.admin()
        db.session.commit()
        email = admin.email
        db.session.remove()
    assert stored == f.PDF
    client = second.test_client()
    f.login(client, type("U", (), {"email": email})())
    r = client.get(f"/agencies/qualifications/{qual_id}/file")
    assert r.status_code == 200 and r.data == f.PDF
    assert r.headers["Cache-Control"] == "private, no-store"
    # and a file stored through the second is at its final name for the first, with no temporary left behind
    with second.app_context():
        kept = uploads.store(f.PDF, "application/pdf", "扫描件.pdf", "qualifications")
        db.session.commit()
    with first.app_context():
        assert uploads.upload_path("qualifications", kept.key).read_bytes() == f.PDF
        folder = uploads.upload_path("qualifications", kept.key).parent
        assert not [p for p in folder.iterdir() if p.name.startswith(uploads.TEMP_PREFIX)]


def test_the_generation_is_never_reused(one_machine):
    first, _ = one_machine
    with first.app_context():
        seen = {shared.generation()}
        for _ in range(5):
            shared.bump()
            seen.add(shared.generation())
    assert len(seen) == 6


def test_statements_that_change_public_tables():
    assert shared.writes_public("UPDATE agency SET name=? WHERE agency.id = ?")
    assert shared.writes_public('INSERT INTO "service_request" (title) VALUES (%(t)s)')
    assert shared.writes_public("DELETE FROM offer WHERE id = 1")
    assert shared.writes_public("ALTER TABLE agency ADD COLUMN x INTEGER")
    assert shared.writes_public("WITH moved AS (UPDATE bid SET x = 1 RETURNING id) SELECT * FROM moved")
    assert not shared.writes_public("INSERT INTO user_session (user_id) VALUES (1)")
    assert not shared.writes_public("UPDATE clock_lease SET holder = ?")
    assert not shared.writes_public("DELETE FROM search_queue WHERE id <= 5")
    assert not shared.writes_public("SELECT * FROM agency FOR UPDATE")
    assert not shared.writes_public("  select 1")


def test_a_log_in_stamp_is_private_but_other_user_changes_are_not():
    assert not shared.writes_public("UPDATE user SET last_login_at=?, updated_at=? WHERE user.id = ?")
    assert not shared.writes_public(
        'UPDATE "user" SET last_login_at=%(a)s, updated_at=%(b)s WHERE "user".id = 1'
    )
    assert shared.writes_public("UPDATE user SET contact_name=?, updated_at=? WHERE user.id = ?")


def test_pages_are_made_without_the_cache_while_redis_is_down(tmp_path_factory):
    """A Redis that does not answer costs one time-out, then pages are made without it (and stay correct)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    saved = (limiter.enabled, limiter._storage, limiter._limiter)
    app, drop = build_app(tmp_path_factory, CACHE_PAGE_SECONDS=60, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    limiter.enabled, limiter._storage, limiter._limiter = saved
    try:
        client = app.test_client()
        for _ in range(3):
            r = client.get("/requests/")
            assert r.status_code == 200 and r.headers["Cache-Control"] == "public, no-cache"
            assert "X-Cache" not in r.headers
        assert not shared.usable()
    finally:
        shared._paused_until[0] = 0.0
        _close(app)
        drop()


def test_a_catalogue_change_shows_on_the_next_page_in_every_process(one_machine):
    """The catalogue's outline (the front page's categories, the lists' filters) is a per-process copy
    (catalogue/outline.py): kept between requests, yet any committed write to its tables — through the ORM or
    plain SQL, in this process or another — shows on the very next page of every process."""
    from sqlalchemy import event, text

    from marketplace.catalogue.models import Category

    first, second = one_machine
    a, b = first.test_client(), second.test_client()
    with first.app_context():
        category = db.session.scalar(select(Category).order_by(Category.sort_order, Category.id))
        category_id, original = category.id, category.name
        engine = db.engine
        db.session.remove()
    assert original in a.get("/?outline=0").get_data(as_text=True)
    assert original in b.get("/?outline=0").get_data(as_text=True)

    read = []

    def note(_conn, _cursor, statement, *_args):
        if "FROM category" in statement:
            read.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert original in a.get("/?outline=1").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert not read  # the copy was used, not the table

    try:
        with second.app_context(), unit_of_work():  # renamed through the other instance (the ORM)
            db.session.get(Category, category_id).name = "测绘地理信息（改名）"
        for client, n in ((a, 2), (b, 3)):
            page = client.get(f"/?outline={n}").get_data(as_text=True)
            assert "测绘地理信息（改名）" in page and original not in page
        assert "测绘地理信息（改名）" in a.get("/requests/?outline=4").get_data(as_text=True)
        with first.app_context(), unit_of_work():  # plain SQL through this one
            db.session.execute(
                text("UPDATE category SET name = :n WHERE id = :i"), {"n": "测绘（再改）", "i": category_id}
            )
        for client, n in ((a, 5), (b, 6)):
            assert "测绘（再改）" in client.get(f"/agencies/?outline={n}").get_data(as_text=True)
    finally:
        with first.app_context(), unit_of_work():
            db.session.get(Category, category_id).name = original
    assert original in b.get("/?outline=7").get_data(as_text=True)


def test_the_clock_prunes_the_one_machine_cache_folder(one_machine, monkeypatch):
    """cachelib does not count the folder's files on each write (CACHE_THRESHOLD 0: that count cost as much as
    keeping the page); the clock's pass removes what expired, interrupted writes and, beyond CACHE_MAX_FILES, the
    entries made longest ago, and never the generation."""
    import os
    import time
    from pathlib import Path

    from marketplace.chronograph import services as chronograph

    first, _ = one_machine
    monkeypatch.setitem(first.config, "CACHE_MAX_FILES", 3)
    with first.app_context():
        store = shared.backend()
        # first the clock's work the module's other tests left (it may renew the generation)
        chronograph.run_once(housekeeping=False)
        store.clear()  # what the module's other tests kept
        generation = shared.generation(store)
        store.set("expiring", "x", timeout=1)
        for i in range(5):
            store.set(f"page{i}", "x", timeout=600)
            os.utime(store._get_filename(f"page{i}"), (time.time() - 100 + i, time.time() - 100 + i))
        leftover = Path(first.config["CACHE_DIR"]) / "tmpinterrupted.__wz_cache"
        leftover.write_bytes(b"")
        os.utime(leftover, (time.time() - 3600, time.time() - 3600))
        assert not os.path.exists(store._get_filename("__wz_cache_count"))  # nothing counted on the writes
        time.sleep(2.1)  # "expiring" is past its second
        monkeypatch.setattr(shared, "_pruned_at", [float("-inf")])
        assert shared.prune_due_ids() == [1]
        chronograph.run_once(housekeeping=False)
        exists = {
            k: os.path.exists(store._get_filename(k)) for k in ("expiring", *(f"page{i}" for i in range(5)))
        }
        assert exists == {
            "expiring": False,
            "page0": False,  # the two made longest ago, beyond the 3 kept
            "page1": False,
            "page2": True,
            "page3": True,
            "page4": True,
        }
        assert not leftover.exists()
        assert shared.generation(store) == generation  # never pruned
        assert shared.prune_due_ids() == []  # not again until a minute has passed
