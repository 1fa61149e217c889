"""Full-text search: Chinese segmentation, trade abbreviations, pinyin typos, and an index that follows commits.

The shared suite (tests taking `search_backend`) runs once per backend, SEARCH_BACKEND=whoosh and =postgres
(the latter only on PostgreSQL: the PostgreSQL pass of `make test`; skipped on SQLite). Each builds its index
explicitly (a search never builds one). Most tests run inside the suite's rolled-back transaction with an
index of their own. The tests at the end (Whoosh's files and locks) use a database of their own with real
commits (`committed_app`), and two OS processes writing at once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from marketplace.agencies import membership
from marketplace.agencies.models import Agency
from marketplace.catalogue.models import ServiceItem
from marketplace.extensions import db
from marketplace.search import analysis, backends, index, pg, query, results, topn, vocabulary
from marketplace.search.models import SearchDocument
from marketplace.stats.models import AgencyStats
from tests import factories as f
from tests import timetravel
from tests.conftest import build_app

ROOT = Path(__file__).resolve().parents[2]


_catalogue_index: list[Path] = []


def fresh_index(app, tmp_path_factory, tmp_path, monkeypatch, empty: bool = False) -> Path:
    """An index of this test's own, holding the seeded catalogue (built once, copied for each test); the
    test's data reaches it through the queue, as in production. `empty`: no index at all yet."""
    path = tmp_path / "search-index"
    if not empty:
        if not _catalogue_index:
            template = tmp_path_factory.mktemp("catalogue-index")
            monkeypatch.setitem(app.config, "SEARCH_INDEX_DIR", str(template))
            index.reindex()  # at the test's start: the database holds the catalogue only
            _catalogue_index.append(template)
        shutil.copytree(_catalogue_index[0], path)
    monkeypatch.setitem(app.config, "SEARCH_INDEX_DIR", str(path))
    return path


@pytest.fixture
def index_dir(app, tmp_path_factory, tmp_path, monkeypatch):
    return fresh_index(app, tmp_path_factory, tmp_path, monkeypatch)


@pytest.fixture
def no_index(app, tmp_path_factory, tmp_path, monkeypatch):
    return fresh_index(app, tmp_path_factory, tmp_path, monkeypatch, empty=True)


PG_ONLY = (
    "SEARCH_BACKEND=postgres needs PostgreSQL: runs in the PostgreSQL pass of `make test` (TEST_DATABASE_URL)"
)


def use_backend(name: str, app, tmp_path_factory, tmp_path, monkeypatch, empty: bool = False) -> str:
    """SEARCH_BACKEND=name with an index of this test's own, built explicitly (or none: `empty`)."""
    if name == "postgres":
        if db.engine.dialect.name != "postgresql":
            pytest.skip(PG_ONLY)
        monkeypatch.setitem(app.config, "SEARCH_BACKEND", "postgres")
        if empty:
            db.session.execute(delete(SearchDocument))
            db.session.commit()
        else:
            pg.reindex(db.session.get_bind())  # in the test's transaction: rolled back with it
    else:
        fresh_index(app, tmp_path_factory, tmp_path, monkeypatch, empty=empty)
    return name


@pytest.fixture(params=["whoosh", "postgres"])
def search_backend(request, app, tmp_path_factory, tmp_path, monkeypatch):
    return use_backend(request.param, app, tmp_path_factory, tmp_path, monkeypatch)


@pytest.fixture(params=["whoosh", "postgres"])
def no_search_index(request, app, tmp_path_factory, tmp_path, monkeypatch):
    return use_backend(request.param, app, tmp_path_factory, tmp_path, monkeypatch, empty=True)


def item_named(name: str) -> ServiceItem:
    return db.session.scalar(select(ServiceItem).where(ServiceItem.name == name))


def titles(q: str, doc_type: str | None = None, **kw) -> list[str]:
    return [h.title for h in query.search(q, doc_type, per_page=100, **kw).hits]


def keys(q: str, **kw) -> set[tuple[str, int]]:
    return {(h.type, h.id) for h in query.search(q, per_page=100, **kw).hits}


def agency_offering(item_name: str, name: str | None = None):
    item = item_named(item_name)
    u = f.active_agency(item.category.code)
    f.offer(u, item)
    if name:
        u.agency.name = name
        db.session.commit()
    return u.agency


# --- Chinese, abbreviations, typos ---------------------------------------------------------------------


def test_huanping_finds_environmental_impact_items_and_the_agencies_offering_them(search_backend):
    agency = agency_offering("环境影响评价（报告书）", name="江苏青山绿水科技有限公司")
    other = f.active_agency("C03").agency  # no offer: its intro mentions 环境影响评价, its name nothing

    result = query.search("环评", per_page=100)
    assert result.mode == "exact"
    services = [h.title for h in result.hits if h.type == "service"]
    assert {"环境影响评价（报告书）", "环境影响评价（报告表）"} <= set(services)
    found = {h.id for h in result.hits if h.type == "agency"}
    assert agency.id in found
    assert other.id in found  # "专业从事环境影响评价。" — the expansion, not an alias, finds it
    assert result.counts["service"] >= 2 and result.counts["agency"] >= 2
    # The full name finds the same items, first.
    assert set(titles("环境影响评价", "service")[:2]) == {"环境影响评价（报告书）", "环境影响评价（报告表）"}


def test_trade_abbreviations_find_the_items_they_stand_for(search_backend):
    expected = {
        "安评": "安全预评价",
        "能评": "节能评估",
        "水保": "水土保持方案编制",
        "地灾评估": "地质灾害危险性评估",
        "稳评": "社会稳定风险评估",
        "洪评": "洪水影响评价",
        "水评": "水资源论证",
        "交评": "交通影响评价",
        "震评": "地震安全性评价",
        "防雷": "防雷装置检测",
        "造价": "工程造价咨询",
        "测绘": "房产测绘",
    }
    for q, name in expected.items():
        assert name in titles(q, "service"), q


def test_items_added_to_the_national_list_are_found_by_their_trade_names(search_backend):
    """使用林地可行性报告 (林草) was missing from the first catalogue: its abbreviations find it now."""
    for q in ("林地可研", "使用林地可研", "占用林地可研", "使用林地可行性报告"):
        assert titles(q, "service")[:1] == ["使用林地可行性报告编制"], q
    assert "水资源论证" in titles("水资源论证报告", "service")


def test_expansion_finds_text_that_only_spells_the_term_out(search_backend):
    """A request whose item is surveying but whose title says 环境影响评价 is found by 环评, and back."""
    surveying = item_named("地下管线探测")
    scope = "完成地下管线探测并提交成果图。"
    spelled = f.published_request(
        title="滨江大道改造工程环境影响评价配套测量", service_item_id=surveying.id, scope=scope
    )
    short = f.published_request(
        title="港城物流园区项目环评配套测量", service_item_id=surveying.id, scope=scope
    )
    assert {spelled.id, short.id} <= {h.id for h in query.search("环评", "request").hits}
    assert {spelled.id, short.id} <= {h.id for h in query.search("环境影响评价", "request").hits}


def test_an_expansion_is_one_term_where_the_index_lists_it_and_word_by_word_where_not(index_dir):
    """Documents list the multi-word terms of the index's vocabulary they contain, so 环评's expansion is one
    posting list; a term the index does not list (new in the catalogue since the last rebuild) is searched
    word by word, and finds the same documents."""
    listed = query.parse("环评", vocabulary.TRADE_TERMS, frozenset({"环境影响评价"}))
    assert "terms:环境影响评价" in str(listed.query)
    unlisted = query.parse("环评", vocabulary.TRADE_TERMS, frozenset())
    assert "terms:" not in str(unlisted.query) and "names:评价" in str(unlisted.query)

    surveying = item_named("地下管线探测")
    req = f.published_request(
        title="港区疏港公路环境影响评价配套测量",
        service_item_id=surveying.id,
        scope="完成地下管线探测并提交成果图。",
    )
    assert ("request", req.id) in keys("环评")
    from whoosh.query import Term

    with index.searching(index_dir, index.live_state(index_dir)) as searcher:
        listing = {searcher.stored_fields(d)["key"] for d in Term("terms", "环境影响评价").docs(searcher)}
    assert f"request:{req.id}" in listing
    current = index_dir / "CURRENT"
    current.write_text(json.dumps({**json.loads(current.read_text()), "vocabulary": []}))
    assert ("request", req.id) in keys("环评")


def test_words_must_all_match_and_region_counts(search_backend):
    nanjing = agency_offering("环境影响评价（报告书）")
    suzhou = agency_offering("环境影响评价（报告书）")
    suzhou.region_code = "320505"  # 苏州市虎丘区
    db.session.commit()
    found = keys("南京 环评")
    assert ("agency", nanjing.id) in found and ("agency", suzhou.id) not in found


def test_pinyin_and_homophone_typos_are_a_fallback(search_backend):
    sound_alike = query.search("环平")  # 平 for 评: searched as the known term that sounds the same
    assert (sound_alike.mode, sound_alike.corrected) == ("corrected", "环评")
    assert "环境影响评价（报告书）" in [h.title for h in sound_alike.hits]
    assert query.search("huanping").corrected == "环评"
    assert query.sound_alike(["南京", "huanping"], vocabulary.TRADE_TERMS) == "南京 环评"
    latin = query.search("cehui", "service", per_page=50)  # no such term: the syllables match
    assert latin.mode == "pinyin" and "房产测绘" in [h.title for h in latin.hits]
    assert "<mark>测绘</mark>" in str(latin.hits[0].title_html)
    assert query.search("测绘").mode == "exact"
    assert query.search("zzqqxx").mode == "none"


def test_the_lowest_bits_of_a_bitset_are_the_first_matches_in_rank_order():
    bits = (1 << 3) | (1 << 9) | (1 << 10) | (1 << 4000)
    assert topn.lowest(bits, 2) == [3, 9]
    assert topn.lowest(bits, 10) == [3, 9, 10, 4000]
    assert topn.lowest(0, 5) == [] and topn.lowest(bits, 0) == []


def jiebas_analyzer_module():
    """jieba/analyse/analyzer.py (ChineseAnalyzer) as jieba ships it, loaded on its own: importing its package
    would load the package's keyword extractors' tables too (~1 s of CPU), which nothing here uses."""
    import importlib.util

    import jieba

    spec = importlib.util.spec_from_file_location(
        "jieba_analyse_analyzer", Path(jieba.__file__).parent / "analyse" / "analyzer.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cached_segmentation_gives_jiebas_own_tokens():
    jiebas = jiebas_analyzer_module()
    ChineseAnalyzer = jiebas.ChineseAnalyzer

    ours = analysis.analyzer()  # (first: jieba with the trade's words, which both then use)
    # jieba's chain, rebuilt by analysis.py from the same parts without importing jieba.analyse
    assert ours.items[1:] == ChineseAnalyzer().items[1:]
    assert analysis.STOP_WORDS == jiebas.STOP_WORDS
    assert analysis.ACCEPTED_CHARS.pattern == jiebas.accepted_chars.pattern
    text = "江苏青山绿水环境科技有限公司：专业从事环境影响评价、安全评价。ABC-2号 a.b\r\n的 Hello 3.5%"
    for kw in ({}, {"mode": "query"}, {"positions": True, "chars": True}):
        expected = [(t.text, t.pos, t.startchar, t.endchar) for t in ChineseAnalyzer()(text, **kw)]
        assert [(t.text, t.pos, t.startchar, t.endchar) for t in ours(text, **kw)] == expected


def test_splitting_pinyin():
    assert analysis.split_pinyin("huanping") == ["huan", "ping"]
    assert analysis.split_pinyin("CeHui") == ["ce", "hui"]
    assert analysis.split_pinyin("xian") == ["xian"]
    assert analysis.split_pinyin("abc") is None
    assert analysis.split_pinyin("环评") is None


def test_highlight_escapes_and_marks():
    html = results.highlight("<b>江苏</b>环评公司", ["环评"])
    assert str(html) == "&lt;b&gt;江苏&lt;/b&gt;<mark>环评</mark>公司"
    assert str(results.highlight("环境影响评价", ["环境影响", "评价"])) == "<mark>环境影响评价</mark>"
    assert "<mark>环评</mark>" in str(results.highlight("某环评报告", [], [["huan", "ping"]]))


# --- what is public, and what follows the database -----------------------------------------------------


def test_only_open_requests_and_never_private_or_sealed_text(search_backend):
    req = f.published_request(title="东海县经济开发区污水管网工程地形测量")
    bidder = f.active_agency("C03")
    f.bid(bidder, req, plan="鲲鹏秘密方案：无人机倾斜摄影")
    assert ("request", req.id) in keys("污水管网")
    for secret in ("鲲鹏", "13800000000", "张建国", "李娜", "江东中路"):
        assert query.search(secret).hits == [], secret

    timetravel.past_deadline(req)  # bidding closed (a bulk UPDATE, queued too): no longer open
    from marketplace.requests import services as requests

    assert requests.get_request(None, req.id).status != "bidding"  # failed: one bid only
    assert ("request", req.id) not in keys("污水管网")


def test_suspended_agency_disappears_and_comes_back(search_backend):
    admin = f.admin()
    agency = agency_offering("环境影响评价（报告书）", name="江苏白鹭洲环境咨询有限公司")
    assert ("agency", agency.id) in keys("白鹭洲")
    membership.decide(admin, agency.id, "suspend", reason="资质审查")
    db.session.commit()  # the index follows commits
    assert ("agency", agency.id) not in keys("白鹭洲")
    assert ("agency", agency.id) not in keys("环评")
    membership.decide(admin, agency.id, "reinstate")
    db.session.commit()
    assert ("agency", agency.id) in keys("白鹭洲")


def test_committed_change_is_searchable_and_rolled_back_change_never(search_backend):
    agency_id = agency_offering("环境影响评价（报告书）").id
    db.session.commit()  # (the test session's next savepoint must not enclose the search's own work)
    query.search("环评")  # the index exists and is up to date
    assert index.pending() == 0

    agency = db.session.get(Agency, agency_id)
    agency.intro = "蓝鲸数字孪生平台"
    db.session.flush()
    assert index.pending() == 1  # queued in the changing transaction…
    db.session.rollback()
    assert index.pending() == 0  # …and gone with it
    assert keys("蓝鲸") == set()

    agency = db.session.get(Agency, agency_id)
    agency.intro = "蓝鲸数字孪生平台"
    db.session.commit()
    assert keys("蓝鲸") == {("agency", agency_id)}
    assert index.pending() == 0


def test_renamed_item_reindexes_the_agencies_offering_it(search_backend):
    agency = agency_offering("日照分析")
    query.search("日照")
    item = item_named("日照分析")
    item.aliases = [*item.aliases, "采光分析"]
    db.session.commit()
    assert ("agency", agency.id) in keys("采光分析")
    assert ("service", item.id) in keys("采光分析")


def test_removed_offer_no_longer_finds_the_agency(search_backend):
    from marketplace.agencies import offers

    agency = agency_offering("日照分析")
    user = agency.user
    assert ("agency", agency.id) in keys("日照计算")  # an alias of the item it offers
    offers.remove_offer(user, agency.offers[0].id)
    db.session.commit()  # the index follows commits, not flushes
    assert ("agency", agency.id) not in keys("日照计算")


def test_bulk_statements_are_followed_too(search_backend):
    """ORM bulk UPDATE/DELETE queue the rows they match; a bulk INSERT queues a full rebuild."""
    from sqlalchemy import insert, update

    from marketplace.catalogue.models import FeeRegime

    item = item_named("日照分析")
    query.search("日照")
    db.session.execute(update(ServiceItem).where(ServiceItem.id == item.id).values(name="日照与采光分析"))
    db.session.commit()
    assert ("service", item.id) in keys("采光")

    before = backends.document_counts()["service"]
    row = {
        "category_id": item.category_id,
        "code": "X-01",
        "name": "光伏眩光影响分析",
        "aliases": ["眩光评估"],
    }
    db.session.execute(insert(ServiceItem), [{**row, "fee_regime": FeeRegime.MARKET, "standard_days": 15}])
    db.session.commit()
    assert "光伏眩光影响分析" in titles("眩光评估")
    assert backends.document_counts()["service"] == before + 1  # rebuilt
    assert index.pending() == 0


def test_an_outdated_index_is_not_used_nor_rebuilt_on_a_request(index_dir):
    state = json.loads((index_dir / "CURRENT").read_text())
    (index_dir / "CURRENT").write_text(json.dumps({**state, "schema": state["schema"] - 1}))
    assert index.document_counts() is None  # an index of another schema version is not used
    with pytest.raises(index.IndexNotReady):
        query.search("测绘")
    assert json.loads((index_dir / "CURRENT").read_text())["gen"] == state["gen"]  # nothing built
    index.reindex()
    assert "房产测绘" in titles("测绘")


def test_a_busy_writer_leaves_changes_queued_then_they_are_indexed(app, index_dir):
    agency = agency_offering("环境影响评价（报告书）")
    query.search("环评")
    ix = index.ensure_index()
    held = ix.writer()  # another process's writer, as far as the lock knows
    try:
        agency.intro = "朱雀湖湿地监测"
        db.session.commit()
        report = index.drain(timeout=0.05)
        assert report.locked and index.pending() >= 1
        assert keys("朱雀湖") == set()  # the search does not fail, it shows what is indexed
    finally:
        held.cancel()
    assert keys("朱雀湖") == {("agency", agency.id)}
    assert index.pending() == 0


def test_searches_refresh_the_index_at_most_every_few_seconds(app, index_dir, monkeypatch):
    """SEARCH_REFRESH_SECONDS: within it a search neither indexes the queued changes nor reopens the index (a
    busy market changes it every moment); after it, the next search shows every change."""
    monkeypatch.setitem(app.config, "SEARCH_REFRESH_SECONDS", 3600)
    index.close_all()  # as a restart: no search refreshed yet in this process
    first = agency_offering("环境影响评价（报告书）", name="南京朱雀湖环境咨询有限公司")
    assert keys("朱雀湖") == {("agency", first.id)}  # the first search refreshes
    second = agency_offering("环境影响评价（报告书）", name="南京朱雀湖生态科技有限公司")
    assert keys("朱雀湖") == {("agency", first.id)} and index.pending() >= 1  # queued, not yet shown
    monkeypatch.setitem(app.config, "SEARCH_REFRESH_SECONDS", 0)  # (the seconds have passed)
    assert keys("朱雀湖") == {("agency", first.id), ("agency", second.id)} and index.pending() == 0


def test_a_change_is_reopened_by_as_many_searches_as_run_at_once(app, index_dir):
    """Three searches at once leave three searchers; after a change the next search reopens one and closes the
    other two (older, so out of date as well) instead of each being reopened in turn by a later search."""
    first = agency_offering("环境影响评价（报告书）", name="南京朱雀湖环境咨询有限公司")
    index.drain()
    base, state = index.index_dir(), index.live_state(index.index_dir())
    path = str(base / state["gen"])
    index.close_all()
    with (
        index.searching(base, state) as a,
        index.searching(base, state) as b,
        index.searching(base, state) as c,
    ):
        held = [a, b, c]
    assert len(index._idle[path]) == 3
    agency_offering("环境影响评价（报告书）", name="南京朱雀湖生态科技有限公司")
    index.drain()
    with index.searching(base, state) as searcher:
        assert searcher not in held and searcher.up_to_date()
    assert index._idle[path] == [searcher]  # one reopened, the out-of-date ones closed
    assert all(s.is_closed for s in held)
    assert keys("朱雀湖") >= {("agency", first.id)}


def test_reindex_and_drain_commands(app, no_index):
    index_dir = no_index
    runner = app.test_cli_runner()
    result = runner.invoke(args=["search", "drain"])
    assert result.exit_code == 0, result.output
    assert "no index" in result.output
    first = json.loads((index_dir / "CURRENT").read_text())["gen"]
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "indexed agency" in result.output
    assert json.loads((index_dir / "CURRENT").read_text())["gen"] != first
    result = runner.invoke(args=["search", "status"])
    assert "queued changes: 0" in result.output
    assert "房产测绘" in titles("测绘", refresh=False)


# --- the shared suite, continued: ranking, pages, broad queries, events, no index ----------------------------


def composite(agency, value: float) -> None:
    """The agency's composite score (the list's, kept by the stats feature): its static rank."""
    stats = db.session.get(AgencyStats, agency.id) or AgencyStats(agency_id=agency.id)
    stats.composite = value
    db.session.add(stats)
    db.session.commit()


def test_ranked_by_title_then_static_rank_and_paged(search_backend):
    low, high, middle = (agency_offering("日照分析") for _ in range(3))
    for agency, name, value in (
        (low, "江苏甲乙测量有限公司", 20.0),
        (high, "江苏丙丁测量有限公司", 95.0),
        (middle, "江苏戊己测量有限公司", 60.0),
    ):
        agency.name = name
        agency.intro = "长期服务澄湖片区的规划与测量。"
        composite(agency, value)
    named = agency_offering("日照分析", name="澄湖测量技术有限公司")  # the word in its name: first
    composite(named, 5.0)
    first = query.search("澄湖", "agency", page=1, per_page=2)
    second = query.search("澄湖", "agency", page=2, per_page=2)
    order = [h.id for h in first.hits + second.hits]
    assert order == [named.id, high.id, middle.id, low.id]
    assert first.counts["agency"] == second.counts["agency"] == 4 and first.pages == 2
    assert [h.score for h in first.hits + second.hits] == sorted(
        (h.score for h in first.hits + second.hits), reverse=True
    )
    assert query.search("澄湖", "agency", page=3, per_page=2).hits == []
    composite(low, 99.0)  # its stats changed: the agency is queued and re-ranked
    assert [h.id for h in query.search("澄湖", "agency", per_page=10).hits][:2] == [named.id, low.id]


def test_broad_queries_count_everything_and_page_through_it(search_backend):
    made = set()
    for n in range(12):
        agency = agency_offering("房产测绘")
        agency.intro = f"第{n + 1}分公司：环境监测与工程咨询，承接测绘业务。"
        made.add(agency.id)
    db.session.commit()
    for q in ("测绘", "环境 咨询"):
        result = query.search(q, per_page=5)
        assert result.mode == "exact", q
        assert result.counts["agency"] >= 12, q
        seen, page = [], 1
        while True:
            hits = query.search(q, "agency", page=page, per_page=5).hits
            if not hits:
                break
            seen += [h.id for h in hits]
            page += 1
        assert len(seen) == len(set(seen)) == result.counts["agency"], q
        assert made <= set(seen), q
    assert result.all_total == sum(result.counts.values())


def test_broad_queries_keep_the_top_n_by_rank_and_stop_counting_at_the_cap(
    search_backend, client, monkeypatch
):
    """After a full rebuild the documents lie in static-rank order (Whoosh's ranked segment, PostgreSQL's rank
    index): a search takes the first N matches instead of ranking every hit, counts stop at COUNT_CAP (shown as
    "4+" here), and a document changed since the rebuild still takes its place by rank."""
    monkeypatch.setattr(topn, "COUNT_CAP", 4)
    made = {}
    for n, value in enumerate((30.0, 90.0, 10.0, 70.0, 50.0, 20.0)):
        agency = agency_offering("日照分析", name=f"澄湖第{n + 1}测量有限公司")
        composite(agency, value)
        made[agency.id] = value
    backends.reindex()
    if search_backend == "whoosh":
        state = index.live_state(index.index_dir())
        low, high = state["ranked"]["ranges"]["agency"]
        assert high - low == len(made)  # written in rank order into the ranked segment
    by_rank = sorted(made, key=lambda a: (-made[a], a))
    first = query.search("澄湖", "agency", per_page=3)
    assert [h.id for h in first.hits] == by_rank[:3]
    assert first.counts["agency"] == 4 and first.capped == {"agency"} and first.total_capped
    assert first.pages == 2
    second = query.search("澄湖", "agency", page=2, per_page=3)
    assert [h.id for h in second.hits] == by_rank[3:6]
    everything = query.search("澄湖", per_page=10)
    assert [h.id for h in everything.hits] == by_rank and everything.all_capped
    lowest = by_rank[-1]
    composite(db.session.get(Agency, lowest), 99.0)  # indexed apart from the rank-ordered rest
    assert [h.id for h in query.search("澄湖", "agency", per_page=3).hits] == [lowest, *by_rank[:2]]
    page = client.get("/search?q=澄湖")
    assert page.status_code == 200 and "4+" in page.get_data(as_text=True)
    api = client.get("/api/v1/search?q=澄湖")
    assert json.loads(api.headers["X-Search-Counts-Capped"]) == ["agency"]
    narrow = query.search("日照分析", "service")
    assert not narrow.total_capped and narrow.counts["service"] == 1 and narrow.hits[0].title == "日照分析"


def test_a_document_removed_from_the_rank_ordered_rebuild_leaves_hits_counts_and_pages(search_backend):
    """Whoosh keeps each term's matches as a bitset per segment (read once, then remembered): a document
    deleted from the rebuilt, rank-ordered segment since must still leave the page, the count and the pager."""
    admin = f.admin()
    made = {}
    for n, value in enumerate((40.0, 80.0, 60.0)):
        agency = agency_offering("日照分析", name=f"白鹭洲第{n + 1}测量有限公司")
        composite(agency, value)
        made[agency.id] = value
    backends.reindex()
    by_rank = sorted(made, key=lambda a: (-made[a], a))
    before = query.search("白鹭洲 测量", "agency", per_page=2)  # remembered: the terms' bitsets
    assert [h.id for h in before.hits] == by_rank[:2] and before.counts["agency"] == 3 and before.pages == 2
    membership.decide(admin, by_rank[0], "suspend", reason="资质审查")
    db.session.commit()
    after = query.search("白鹭洲 测量", "agency", per_page=2)
    assert [h.id for h in after.hits] == by_rank[1:] and after.counts["agency"] == 2 and after.pages == 1
    assert ("agency", by_rank[0]) not in keys("白鹭洲")


def test_the_clock_rebuilds_a_whoosh_index_once_changes_outgrow_its_rank_order(index_dir, monkeypatch):
    agency_offering("日照分析", name="澄湖测量有限公司")
    assert query.search("澄湖").hits  # drained into a segment of its own
    assert backends.missing_ids() == []
    monkeypatch.setattr(topn, "DELTA_LIMIT", 0)
    assert backends.missing_ids() == [1]
    assert backends.build_missing(1) is True  # the clock's step: a full rebuild in rank order
    assert backends.missing_ids() == [] and query.search("澄湖").hits


def test_a_new_offer_makes_the_agency_findable_by_the_item(search_backend):
    u = f.active_agency("C14")  # 气象防雷类, no offers yet
    assert ("agency", u.agency.id) not in keys("避雷检测")  # an alias of 防雷装置检测
    item = item_named("防雷装置检测")
    f.offer(u, item, price_fen=item.guide_min_fen or 2_000_000)
    db.session.commit()
    assert ("agency", u.agency.id) in keys("避雷检测")


def test_unpublished_and_sealed_requests_are_never_found(search_backend):
    from marketplace.requests import services as requests

    owner = f.user("enterprise")
    draft = requests.create_request(owner, f.request_data(title="燕子矶岸线整治工程测量"), publish=False)
    db.session.commit()
    assert ("request", draft.id) not in keys("燕子矶")  # a draft
    requests.publish_request(owner, draft.id)
    db.session.commit()
    assert ("request", draft.id) in keys("燕子矶")
    bidder = f.active_agency("C03")
    f.bid(bidder, draft, plan="鸿雁秘密方案：激光雷达扫描")
    assert query.search("鸿雁").hits == []  # a sealed bid's words


def test_no_index_means_a_notice_not_a_build(app, client, no_search_index):
    """A search never builds the index: the page says so (503), the API answers 503 with a reason."""
    with pytest.raises(index.IndexNotReady):
        query.search("测绘")
    page = client.get("/search", query_string={"q": "测绘"})
    assert page.status_code == 503 and "搜索索引正在建立" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]
    api = client.get("/api/v1/search", query_string={"q": "测绘"})
    assert api.status_code == 503
    assert api.get_json()["reason"] == "search_index_building" and api.headers["Retry-After"]
    assert backends.document_counts() is None  # still nothing built

    # The clock builds a missing index (one step, idempotent); `flask search reindex` does it with progress.
    from marketplace.chronograph.services import STEPS

    due, step = next((due, step) for what, due, step in STEPS if what == "search index")
    assert list(due()) == [1]
    assert step(1) is True
    assert list(due()) == [] and step(1) is False
    assert "房产测绘" in titles("测绘")
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert f"building the {no_search_index} index" in result.output
    assert "search: service " in result.output  # a progress line per kind
    assert "indexed agency" in result.output
    assert client.get("/search", query_string={"q": "测绘"}).status_code == 200


def test_the_postgres_backend_refuses_sqlite_clearly(app, monkeypatch):
    if db.engine.dialect.name == "postgresql":
        pytest.skip("on SQLite only: PostgreSQL runs the backend")
    monkeypatch.setitem(app.config, "SEARCH_BACKEND", "postgres")
    with pytest.raises(pg.BackendUnavailable, match="needs a PostgreSQL database"):
        query.search("测绘")
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code != 0 and "needs a PostgreSQL database" in result.output
    assert backends.missing_ids() == []  # the clock goes on with its other work


# --- real commits, restarts and two processes ----------------------------------------------------------


@pytest.fixture(scope="module")
def committed_app(tmp_path_factory):
    app, drop = build_app(tmp_path_factory, SEARCH_DRAIN_INTERVAL=0)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def test_after_commit_the_index_follows_without_a_search(committed_app):
    with committed_app.test_request_context():
        index.reindex()
        u = f.active_agency("C03")
        f.offer(u, item_named("环境影响评价（报告表）"))
        assert index.pending() == 0  # drained by the commits themselves
        assert ("agency", u.agency.id) in keys("环评", refresh=False)

        agency = u.agency
        agency.intro = "白鹤滩生态修复"
        db.session.flush()
        db.session.rollback()  # a real rollback: nothing queued, nothing indexed
        assert index.pending() == 0
        assert keys("白鹤滩", refresh=False) == set()
        db.session.remove()


def test_indexed_by_the_clock_neither_a_write_nor_a_search_waits_for_the_index(committed_app, monkeypatch):
    """SEARCH_INDEX_BY_CLOCK (production): the commit leaves its change queued, a search shows the index as it
    is (no drain before it), and the clock's next pass indexes the queue."""
    from marketplace.chronograph import services as chronograph

    monkeypatch.setitem(committed_app.config, "SEARCH_INDEX_BY_CLOCK", True)
    with committed_app.test_request_context():
        index.reindex()
        u = f.active_agency("C03")
        u.agency.intro = "紫金山天文台周边地形测绘"
        db.session.commit()
        assert index.pending() > 0  # the writer did not index it
        assert ("agency", u.agency.id) not in keys("紫金山")  # nor did the search
        assert backends.queued_ids() == [1]
        chronograph.run_once(housekeeping=False)
        assert index.pending() == 0 and backends.queued_ids() == []
        assert ("agency", u.agency.id) in keys("紫金山")
        db.session.remove()


def test_the_clock_indexes_what_the_writers_left(committed_app, monkeypatch):
    """Without SEARCH_INDEX_BY_CLOCK a writer indexes after its commit, but at most every SEARCH_DRAIN_INTERVAL
    seconds: the rest of a burst stays queued until a search or the clock's pass picks it up."""
    from marketplace.chronograph import services as chronograph
    from marketplace.search import hooks

    monkeypatch.setitem(committed_app.config, "SEARCH_DRAIN_INTERVAL", 3600)
    monkeypatch.setattr(hooks, "_last_auto_drain", [time.monotonic()])  # a writer indexed a moment ago
    with committed_app.test_request_context():
        index.reindex()
        u = f.active_agency("C03")
        u.agency.intro = "栖霞山红叶林地调查"
        db.session.commit()
        assert index.pending() > 0
        chronograph.run_once(housekeeping=False)
        assert index.pending() == 0
        assert ("agency", u.agency.id) in keys("栖霞山", refresh=False)
        db.session.remove()


def test_the_long_running_clock_rebuilds_beside_its_passes(committed_app, monkeypatch):
    """`flask clock` (run_forever) rebuilds an outgrown index in a thread: the pass that starts it goes on at once
    (at national size a build takes minutes, with no bidding closed meanwhile), later passes do not start another,
    and the rebuilt index serves searches."""
    from marketplace.chronograph import services as chronograph

    monkeypatch.setitem(committed_app.config, "SEARCH_BUILD_BESIDE_CLOCK", True)  # (off in tests)
    with committed_app.test_request_context():
        index.reindex()
        u = f.active_agency("C03")
        u.agency.intro = "燕子矶江岸地形测量"
        db.session.commit()
        monkeypatch.setattr(topn, "DELTA_LIMIT", 0)
        assert backends.missing_ids() == [1]
        chronograph.run_forever(interval=0, passes=1)  # the loop builds in the background while it runs
        thread = backends._background["thread"]
        assert thread is not None and thread.name == "search-build"
        if thread.is_alive():
            assert backends.build_missing(1) is False  # one build at a time
        thread.join(timeout=120)
        assert backends.building() is None
        monkeypatch.setattr(topn, "DELTA_LIMIT", 5000)
        assert backends.missing_ids() == []
        assert ("agency", u.agency.id) in keys("燕子矶", refresh=False)
        db.session.remove()


def test_index_survives_a_restart(committed_app):
    with committed_app.test_request_context():
        u = f.active_agency("C03")
        u.agency.intro = "玄武湖畔的测绘团队"
        db.session.commit()
        agency_id = u.agency.id
        generation = json.loads((Path(committed_app.config["SEARCH_INDEX_DIR"]) / "CURRENT").read_text())
        db.session.remove()
    again = build_again(committed_app)
    index.close_all()  # as after a restart: nothing open in memory
    with again.test_request_context():
        assert ("agency", agency_id) in keys("玄武湖", refresh=False)
        state = json.loads((Path(again.config["SEARCH_INDEX_DIR"]) / "CURRENT").read_text())
        assert state == generation  # opened, not rebuilt
        db.session.remove()
        db.engine.dispose()


def build_again(app):
    from marketplace.app import create_app

    keep = (
        "MARKET_ENV",
        "TESTING",
        "SECRET_KEY",
        "INSTANCE_DIR",
        "UPLOAD_DIR",
        "SEARCH_INDEX_DIR",
        "SQLALCHEMY_DATABASE_URI",
        "PASSWORD_HASH_METHOD",
    )
    return create_app({k: app.config[k] for k in keep})


WRITER = textwrap.dedent(
    """
    import json, sys, time
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError
    from marketplace.app import create_app
    from marketplace.catalogue.models import ServiceItem
    from marketplace.extensions import db
    from marketplace.search import analysis, index

    url, index_dir, instance, worker, rounds, go = sys.argv[1:]
    worker, rounds = int(worker), int(rounds)
    app = create_app({
        "MARKET_ENV": "testing", "TESTING": True, "SECRET_KEY": "x", "INSTANCE_DIR": instance,
        "SEARCH_INDEX_DIR": index_dir, "SQLALCHEMY_DATABASE_URI": url,
        "SEARCH_DRAIN_INTERVAL": 0, "SEARCH_WRITER_TIMEOUT": 0.02,
    })
    with app.app_context():
        analysis.analyzer()
        ids = db.session.scalars(select(ServiceItem.id).order_by(ServiceItem.id)).all()
        mine = ids[worker * 2 : worker * 2 + 2]
        db.session.rollback()
        while not __import__("os").path.exists(go):
            time.sleep(0.01)
        for r in range(rounds):
            for item_id in mine:
                for attempt in range(200):
                    try:
                        item = db.session.get(ServiceItem, item_id)
                        kept = [a for a in item.aliases if not a.startswith("mkw")]
                        item.aliases = kept + [f"mkw{worker}x{item_id}r{r}"]
                        db.session.commit()
                        break
                    except OperationalError:
                        db.session.rollback()
                        time.sleep(0.02)
                else:
                    raise SystemExit("the database stayed locked")
        print(json.dumps({"mine": mine, **index.STATS}))
    """
)


def test_two_processes_writing_at_once_lose_nothing(committed_app, tmp_path):
    """Both commit changes and drain after each commit; the lock makes one wait or skip, never crash."""
    with committed_app.app_context():
        index.reindex()
        db.session.remove()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    go = tmp_path / "go"
    rounds = 3  # the last round must be found, the one before it no longer
    config = committed_app.config
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-W",
                "ignore",
                str(script),
                config["SQLALCHEMY_DATABASE_URI"],
                config["SEARCH_INDEX_DIR"],
                config["INSTANCE_DIR"],
                str(worker),
                str(rounds),
                str(go),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in (0, 1)
    ]
    go.write_text("go")
    outputs = [p.communicate(timeout=180) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(r["drains"] for r in reports) > 0

    with committed_app.test_request_context():
        index.drain_all()
        assert index.pending() == 0
        for worker, report in enumerate(reports):
            for item_id in report["mine"]:
                last = f"mkw{worker}x{item_id}r{rounds - 1}"
                assert keys(last, refresh=False) >= {("service", item_id)}, last
                stale = f"mkw{worker}x{item_id}r{rounds - 2}"
                assert ("service", item_id) not in keys(stale, refresh=False), stale
        db.session.remove()


def test_reopening_after_a_change_copies_no_segment_file(app, index_dir):
    """Whoosh copied the whole of each file of a segment out of the mapped compound file when it opened a reader
    (its postings, terms, stored fields): reopening a searcher of a large index after every change cost ~100 ms
    and as much memory as the index per searcher (index.py `_buffer_files_read_in_place`). Opening a searcher and
    searching through it now allocates far less than the ranked segment's postings and terms, and the reopened
    searcher finds the change."""
    import tracemalloc

    from whoosh.filedb.compound import CompoundStorage
    from whoosh.filedb.structfile import StructFile

    agency_offering("环境影响评价（报告书）", name="南京朱雀湖环境咨询有限公司")
    index.drain()
    base, state = index.index_dir(), index.live_state(index.index_dir())
    segment = base / state["gen"] / f"{state['ranked']['segment']}.seg"
    with segment.open("rb") as raw:
        files = CompoundStorage(StructFile(raw), use_mmap=False)
        sizes = {name.rsplit(".", 1)[1]: files.file_length(name) for name in files.list()}
    assert sizes["pst"] + sizes["trm"] > 300_000
    keys("环评")  # the search's own first-use costs (analyzer, templates of the query) out of the way

    def peak(reopen: bool) -> int:
        """The most memory held at once while searching, beyond what was held before."""
        if reopen:
            index.close_all()
        topn.clear_cache()  # the postings are read again, not taken from the bitsets kept per segment
        tracemalloc.start()
        try:
            found = keys("朱雀湖"), keys("环评")
            assert found[0] and ("service", item_named("环境影响评价（报告书）").id) in found[1]
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    reopened, kept = peak(reopen=True), peak(reopen=False)
    assert reopened - kept < (sizes["pst"] + sizes["trm"]) / 3
