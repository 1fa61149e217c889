"""gunicorn's settings for the market (`gunicorn -c python:marketplace.serving wsgi:app`, as `make serve` runs it).

A worker's first search loaded the Chinese analyzer (jieba's dictionary, 1–3 s of CPU) while its visitor waited,
and under load every request queued behind it; each worker now loads it before it takes its first request.

SERVE_SWITCH_INTERVAL_MS: how long a worker's thread may keep the interpreter before another one gets it
(`sys.setswitchinterval`; Python's default 5 ms). A request waiting for the database gives the interpreter up,
and when the answer comes it waits until the thread running Python hands it back: with a page rendering beside it,
up to the whole interval for each of its statements.
"""

from __future__ import annotations

import os
import sys


def post_worker_init(worker) -> None:
    from marketplace.search.analysis import analyzer

    analyzer()
    worker.log.info("search analyzer loaded")
    interval = os.environ.get("SERVE_SWITCH_INTERVAL_MS")
    if interval:
        sys.setswitchinterval(float(interval) / 1000)
        worker.log.info("switch interval %s ms", interval)
