"""gunicorn's settings for the market (`gunicorn -c python:marketplace.serving wsgi:app`, as `make serve` runs it).

A worker's first search loaded the Chinese analyzer (jieba's dictionary, 1–3 s of CPU) while its visitor waited,
and under load every request queued behind it; each worker now loads it before it takes its first request.
"""

from __future__ import annotations


def post_worker_init(worker) -> None:
    from marketplace.search.analysis import analyzer

    analyzer()
    worker.log.info("search analyzer loaded")
