"""gunicorn's settings for the market (`gunicorn -c python:marketplace.serving wsgi:app`, as `make serve` runs it).

A worker's first search loaded the Chinese analyzer (jieba's dictionary, 1–3 s of CPU) while its visitor waited,
and under load every request queued behind it; each worker now loads it before it takes its first request, with
pypinyin's dictionaries (the search's pinyin fallback: ~0.4 s and ~50 MB, seconds on a busy machine) and every
template (compiled once per machine into the bytecode cache, TEMPLATE_CACHE_DIR; each worker compiled its pages'
templates on its first requests before: ~3 s of CPU in all, in the middle of serving).

Then everything loaded so far (~500,000 objects: the app, jieba's and pypinyin's dictionaries, the compiled
templates) is moved out of the garbage collector's sight (`gc.freeze()`): none of it is ever freed, yet each full
collection walked all of it — about a quarter of a second holding the worker's GIL, so every request of the
worker stood still meanwhile (the load test's p99 of /healthz, a 3 ms request, was 780 ms).

Without `-w`, gunicorn runs 2 × cores + 1 sync workers, at most 9 (`workers`, `threads` below; `make serve` as
well): one request at a time each, the kernel sharing the cores among them. With threads (`--threads` above 1) a
worker's requests share its one GIL — a thread back from the database waits for its neighbours' rendering on every
query — and a kept-alive connection stays with the worker that accepted it however busy that one is; in this machine's slow hours (`bench.load --slowdown 1.5`) five sync workers
gave a p95 of 120–130 ms where two workers of four threads gave 150–210 (README, Load test, session 22).
Where threads are used, they hand Python's GIL over every millisecond (WORKER_SWITCH_INTERVAL, in seconds)
instead of every 5: a thread back from a database round trip waited up to 5 ms for a neighbour's rendering to let
go, on every one of its queries. Measured under the load test: p95 250 → 210 ms, /healthz's p95 100 → 57 ms.

With `REQUEST_CPU_LOG=<file>` each worker appends one line per request (method, path, status, the thread's CPU
milliseconds, wall milliseconds, when it ended (Unix time), the worker's pid, the milliseconds its statements took
from sending to their answer and how many it ran): the load test's account of where the workers' CPU and the
requests' time went.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

_CPU_LOG = os.environ.get("REQUEST_CPU_LOG", "")


def _switch_interval() -> float:
    raw = os.environ.get("WORKER_SWITCH_INTERVAL") or "0.001"
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1:
        raise SystemExit(f"WORKER_SWITCH_INTERVAL: a number of seconds above 0 and at most 1, not {raw!r}")
    return value


def default_workers() -> int:
    """gunicorn's 2 × cores + 1, at most 9: each worker holds ~270 MB (the analyzer's and pinyin's dictionaries,
    the compiled templates) and a database connection or two."""
    return min(2 * len(os.sched_getaffinity(0)) + 1, 9)


# gunicorn reads these as its defaults (`-w`/`--threads` on its command line still choose): sync workers, one
# request at a time each; WEB_CONCURRENCY, gunicorn's own variable for the count, is honoured as gunicorn does.
workers = int(os.environ.get("WEB_CONCURRENCY") or 0) or default_workers()
threads = 1
SWITCH_INTERVAL = _switch_interval()
_local = threading.local()
_lock = threading.Lock()


def post_worker_init(worker) -> None:
    from marketplace.common.templating import compile_all
    from marketplace.search.analysis import analyzer, syllables_of

    analyzer()
    syllables_of("中介")
    worker.log.info("search analyzer loaded")
    app = getattr(worker, "wsgi", None)
    if hasattr(app, "jinja_env"):
        worker.log.info("%d templates compiled", compile_all(app))
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.collect()
    gc.freeze()  # what the worker loaded lives as long as it does: no collection walks it again
    worker.log.info("%d objects kept out of the garbage collector's passes", gc.get_freeze_count())


if _CPU_LOG:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement_starts(conn, cursor, statement, parameters, context, executemany) -> None:
        _local.statement = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _statement_ends(conn, cursor, statement, parameters, context, executemany) -> None:
        began = getattr(_local, "statement", None)
        if began is not None and getattr(_local, "started", None) is not None:
            _local.db_wall += time.perf_counter() - began
            _local.statements += 1

    def pre_request(worker, req) -> None:
        _local.started = (time.thread_time(), time.perf_counter())
        _local.db_wall, _local.statements = 0.0, 0

    def post_request(worker, req, environ, resp) -> None:
        started = getattr(_local, "started", None)
        if started is None:
            return
        cpu, wall = time.thread_time() - started[0], time.perf_counter() - started[1]
        _local.started = None
        status = str(getattr(resp, "status", "") or "").split(" ")[0]
        line = (
            f"{req.method}\t{req.path}\t{status}\t{cpu * 1000:.2f}\t{wall * 1000:.2f}\t{time.time():.3f}"
            f"\t{os.getpid()}\t{_local.db_wall * 1000:.2f}\t{_local.statements}\n"
        )
        with _lock, open(_CPU_LOG, "a", encoding="utf-8") as out:
            out.write(line)
