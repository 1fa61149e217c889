"""/stats and GET /api/v1/stats served from the shared cache (reports/served.py): exact while nothing public
changed, stamped with when they were computed for a while after a change, recomputed after it; the clock keeps
the default views."""

from __future__ import annotations

import pytest

from marketplace.common import cache
from marketplace.common.clock import local, now
from marketplace.reports import figures, served
from marketplace.reports.figures import Period
from tests import factories as f
from tests import timetravel


@pytest.fixture
def serving(app):
    """The figures kept for 300 s after a change, following the generation, as an app created with the setting
    does (the tests' app follows no writes: the tests renew the generation where the listener would)."""
    app.config["STATS_FRESH_SECONDS"] = 300
    app.extensions[cache.FOLLOWED] = True
    store = cache.backend(app)
    yield store
    with app.test_request_context():
        for region, period in [*served.views(), (None, Period.default())]:
            store.delete(served._key(region, period))
    app.config["STATS_FRESH_SECONDS"] = 0
    del app.extensions[cache.FOLLOWED]


def _age(store, key: str, seconds: float) -> None:
    """Time passes for a kept entry (its stamp moves back, as the tests move dates rather than sleep)."""
    kept = store.get(key)
    store.set(key, kept | {"at": kept["at"] - seconds}, timeout=0)


def _without_stamp(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "computed_at"}


def test_kept_figures_are_exact_under_their_generation_stamped_after_a_change_then_recomputed(
    client, serving
):
    month = local(now()).strftime("%Y-%m")
    period, url = (
        Period(month, month),
        f"/api/v1/stats?from={month}&to={month}",
    )  # a view the clock does not keep
    assert (None, period) not in served.views()
    first = client.get(url).get_json()
    key = served._key(None, period)
    assert serving.get(key)["figures"] == first

    f.accepted_order(price_fen=3_000_000)
    cache.bump(serving)  # the deal committed: what the engine's listener does after the commit
    # within the allowed age the kept figures are served, with the moment they were computed
    assert client.get(url).get_json() == first
    assert first["summary"]["deals"] == 0 and figures.compute(None, period)["summary"]["deals"] == 1

    _age(serving, key, 301)  # ... and once older than that, recomputed: exact again
    fresh = client.get(url).get_json()
    assert fresh["summary"]["deals"] == 1
    assert _without_stamp(fresh) == _without_stamp(figures.compute(None, period))

    # nothing public changed since: however old, the kept figures are exact and served
    _age(serving, key, 10_000)
    assert client.get(url).get_json() == fresh
    page = client.get(f"/stats/?from={month}&to={month}").get_data(as_text=True)
    assert fresh["computed_at"][:16].replace("T", " ") in page


def test_a_view_the_clock_keeps_is_not_recomputed_by_a_visitor_while_the_clock_is_busy(client, serving):
    """A clock pass making a national month's open-data package takes minutes: the default view's visitors get
    the kept figures (stamped) instead of waiting seconds for a recompute, for up to STATS_KEPT_SECONDS."""
    first = client.get("/api/v1/stats").get_json()
    key = served._key(None, Period.default())
    f.accepted_order(price_fen=3_000_000)
    cache.bump(serving)
    _age(serving, key, 301)  # older than STATS_FRESH_SECONDS: the clock would have remade it by now
    assert client.get("/api/v1/stats").get_json() == first  # kept, with the moment it was computed
    assert first["summary"]["deals"] == 0
    _age(serving, key, 3600)  # the clock has not run for an hour: the visitor recomputes
    fresh = client.get("/api/v1/stats").get_json()
    # recomputed (its stamp has whole seconds: it may equal the first's)
    assert fresh["summary"]["deals"] == 1
    assert fresh["computed_at"] >= first["computed_at"]


def test_the_clock_keeps_the_default_views_and_serves_none_computed_under_an_old_generation(client, serving):
    assert len(served.due_ids()) == len(served.views())
    timetravel.run_clock()
    assert served.due_ids() == []
    kept = serving.get(served._key(None, Period.default()))["figures"]
    assert client.get("/api/v1/stats").get_json() == kept
    assert _without_stamp(kept) == _without_stamp(figures.compute(None, Period.default()))

    cache.bump(serving)  # a change: the views are due again once half the allowed age has passed
    assert served.due_ids() == []
    for region, period in served.views():
        _age(serving, served._key(region, period), 151)
    assert len(served.due_ids()) == len(served.views())
    timetravel.run_clock()
    assert served.due_ids() == []


def test_without_the_setting_every_request_computes(client, app):
    assert app.config["STATS_FRESH_SECONDS"] == 0
    f.accepted_order(price_fen=3_000_000)
    assert client.get("/api/v1/stats").get_json()["summary"]["deals"] == 1
    f.accepted_order(price_fen=3_000_000)
    assert client.get("/api/v1/stats").get_json()["summary"]["deals"] == 2
    assert served.due_ids() == []


def test_the_page_keeps_the_html_of_kept_figures_and_shows_new_ones_at_once(client, app, serving):
    """/stats keeps its figures' HTML per process under the stamp of the kept figures it shows (reports/views.py):
    the same kept figures are not made into HTML twice, recomputed figures and the other language show at once."""
    month = local(now()).strftime("%Y-%m")
    url = f"/stats/?from={month}&to={month}"

    def deals() -> str:
        page = client.get(url).get_data(as_text=True)
        start = page.index('data-figure="deals">') + len('data-figure="deals">')
        return page[start : page.index("<", start)]

    def made() -> int:
        kept = app.extensions.get("mp_stats_sections")
        return len(kept.made) if kept is not None else 0

    before = made()
    assert deals() == "0" and deals() == "0"
    assert made() == before + 1  # made once for both requests
    f.accepted_order(price_fen=3_000_000)
    cache.bump(serving)
    key = served._key(None, Period(month, month))
    _age(serving, key, 301)  # recomputed by the next request: one deal now
    assert deals() == "1"
    client.get("/auth/lang/en")
    english = client.get(url).get_data(as_text=True)
    assert "Member agencies" in english and 'data-figure="deals">1<' in english
    client.get("/auth/lang/zh_Hans")
    assert deals() == "1" and made() == before + 3
