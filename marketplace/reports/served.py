"""/stats and GET /api/v1/stats at any size: an area's and period's figures served from the shared cache.

`figures.compute` reads only summary rows, but its top agencies group the deals kept per agency and month over
the period: at 100,000 agencies and 1,000,000 orders the last 12 months of the whole market are ~500,000 rows
grouped into ~140,000 (category, agency) totals, 2–3 s on PostgreSQL, per request. An exact top N over any run
of months and any region cannot be read from a few kept rows (it would need a kept total per agency for every
period × division × category), so the computed figures are kept in the shared cache (common/cache.py: Redis
or the machine's folder) per area, period and language, with when they were computed and the market's
generation they were computed under:

- while the generation is unchanged (nothing public was written since), they are exact and served as they are;
- after a change they are served for up to STATS_FRESH_SECONDS more, stamped with the moment they were computed
  (the page's "Computed …" line, the API's `computed_at`); then the first request recomputes them;
- the clock recomputes the views most asked for — the whole market and each division one level below it, last
  12 months; the whole market's current and last calendar year — before they get that old, so that their
  visitors never wait. A request recomputes one of these only once it is older than STATS_KEPT_SECONDS (an hour):
  a clock pass busy for minutes (a national month's open-data package) must not send their visitors to wait
  seconds for figures the clock is about to remake; if the clock stops, the first visitor after that does.

The monthly report computes its own figures (exact for its month, then kept as published). Without a generation
(an app created with neither cache on follows no writes) only the age counts. STATS_FRESH_SECONDS=0 (the tests'
default) computes every request.
"""

from __future__ import annotations

import time

from flask import current_app
from flask_babel import get_locale

from marketplace.common import cache
from marketplace.regions import services as regions
from marketplace.reports import figures
from marketplace.reports.figures import Period

KEY = "stats:v1:"


def _fresh_seconds() -> int:
    return current_app.config.get("STATS_FRESH_SECONDS", 0)


def _follows_writes() -> bool:
    """Whether this app renews the generation after public writes (common/cache.py register)."""
    return bool(current_app.extensions.get(cache.FOLLOWED))


def _key(region: str | None, period: Period) -> str:
    limit = current_app.config["REPORTS_TOP_AGENCIES"]
    return f"{KEY}{get_locale()}:{region or ''}:{period.first}:{period.last}:{limit}"


def _kept_seconds() -> int:
    return max(current_app.config.get("STATS_KEPT_SECONDS", 3600), _fresh_seconds())


def _usable(kept: dict | None, generation: str | None, max_age: float) -> bool:
    if not isinstance(kept, dict) or "figures" not in kept:
        return False
    if generation is not None and kept.get("generation") == generation:
        return True
    return time.time() - kept.get("at", 0) < max_age


def _store(store, key: str, generation: str | None, data: dict) -> float:
    at = time.time()
    try:
        store.set(key, {"generation": generation, "at": at, "figures": data}, timeout=86_400)
    except Exception:  # the figures are served anyway; the next request tries again
        cache.failed("keeping the statistics")
    return at


def _generation(store) -> str | None:
    return cache.generation(store) if _follows_writes() else None


def figures_for(region: str | None, period: Period) -> dict:
    """The figures of /stats for the area and period: from the shared cache while exact or recent enough (see
    the module's docstring), else computed now and kept."""
    return kept_figures(region, period)[0]


def kept_figures(region: str | None, period: Period) -> tuple[dict, tuple | None]:
    """`figures_for` with the stamp of the kept figures — (their key, when they were computed) — which names
    them exactly (the page keeps its HTML under it); None when they were computed and not kept."""
    seconds = _fresh_seconds()
    if seconds <= 0 or not cache.usable():
        return figures.compute(region, period), None
    key = _key(region, period)
    try:
        store = cache.backend()
        generation = _generation(store)  # read before the figures: a change meanwhile makes them stale
        kept = store.get(key)
    except Exception:
        cache.failed("reading the statistics")
        return figures.compute(region, period), None
    if _usable(kept, generation, _kept_seconds() if (region, period) in views() else seconds):
        return kept["figures"], (key, kept.get("at"))
    data = figures.compute(region, period)
    return data, (key, _store(store, key, generation, data))


# --- the clock: the views most asked for, recomputed before visitors would wait for them ---------------------


def views() -> list[tuple[str | None, Period]]:
    """The whole market and each division one level below it over the last 12 months, and the whole market's
    current and last calendar year (to date)."""
    default = Period.default()
    year = default.last[:4]
    out: list[tuple[str | None, Period]] = [(None, default)]
    out += [(d.code, default) for d in regions.children(regions.market_area())]
    out += [
        (None, Period(f"{year}-01", default.last)),
        (None, Period(f"{int(year) - 1}-01", f"{int(year) - 1}-12")),
    ]
    return out


def due_ids() -> list[int]:
    """The views (their places in `views()`) not kept, or kept under an older generation for half the allowed age."""
    seconds = _fresh_seconds()
    if seconds <= 0 or not cache.usable():
        return []
    try:
        store = cache.backend()
        generation = _generation(store)
        due = [
            i
            for i, (r, p) in enumerate(views())
            if not _usable(store.get(_key(r, p)), generation, seconds / 2)
        ]
    except Exception:
        cache.failed("reading the statistics")
        return []
    return due


def apply_due(index: int) -> bool:
    """Recompute one view and keep it under the generation read before it (False when the views moved on)."""
    listed = views()
    if index >= len(listed):
        return False
    region, period = listed[index]
    store = cache.backend()
    generation = _generation(store)
    _store(store, _key(region, period), generation, figures.compute(region, period))
    return True
