"""The chronograph (after Prozorro's): every transition that time makes due, as a named operation.

Pages never record what time has made due (reads never write); the clock does, as soon as it runs:

| operation | feature | when due |
|---|---|---|
| close bidding (open the sealed bids, fee-audit them, or 流标) | requests | the bid deadline has passed |
| end publicity (award: the order is created) | requests | publicity is over and no objection is open |
| auto-accept a delivery | orders | the acceptance window after delivery has passed |
| replace a winner who is no longer active | orders | an unstarted order's agency was suspended or expelled |
| record the yellow / red light | orders | 80 % of the promised time used / overdue |
| remind agencies that follow a request (关注) and have not bid | notifications | bidding closes within `NOTIFY_REMINDER_SECONDS` |
| build the search index when there is none, or rebuild it in rank order once outgrown (`flask clock`: in a thread beside its passes; `flask search reindex` does it with progress) | search | no index yet, or outgrown |
| index the queued changes (with `SEARCH_INDEX_BY_CLOCK`, the only place they are indexed) | search | a change waits in the queue |
| send the outbox (mail, SMS), retrying with growing pauses | notifications | a message is pending and its next attempt is due |
| make a month's OCDS release package (the file the open data serves) | opendata | never made, a change dated in it (the current month: at most every `OCDS_REFRESH_SECONDS`), or the month just ended |
| remove the page cache's expired files (one machine's FileSystemCache, CACHE_THRESHOLD 0) | common | every minute |
| forget old log-in failures and long-ended sessions (hourly in `flask clock`, every `tick`) | auth | a day / 30 days old |

Each object is moved in its own transaction under its row lock, so one failure does not stop the others and a
write path racing the clock (a bid at the deadline, a selection right after it) sees one consistent state.
Several clocks may run (one per machine), and `flask tick` from cron beside them: a lease row lets one act at a
time; the others wait their turn. A heartbeat keeps the lease while a pass runs, however long (a national month's
open-data package takes minutes); a clock that finds its lease taken (it stalled past it) stops before its next
object.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from marketplace.auth import sessions, throttle
from marketplace.chronograph.models import ClockLease
from marketplace.common import cache as shared_cache
from marketplace.common.clock import now
from marketplace.common.uow import unit_of_work
from marketplace.credit import services as credit
from marketplace.extensions import db
from marketplace.fees import summary as fee_summary
from marketplace.notifications import outbox
from marketplace.notifications import services as notifications
from marketplace.opendata import kept as opendata
from marketplace.orders import services as orders
from marketplace.reports import served as stats_views
from marketplace.reports import services as reports
from marketplace.requests import services as requests
from marketplace.search import backends as search_backends

log = logging.getLogger(__name__)
LEASE = "market-clock"


@dataclass
class Pass:
    """What one pass of the clock did."""

    requests: int = 0
    orders: int = 0
    others: int = 0  # credit lists and windows, mails sent, monthly reports generated
    forgotten: int = 0  # housekeeping: old log-in failures and long-ended sessions
    failures: list[str] = field(default_factory=list)


class LeaseLost(Exception):
    """Another clock holds the lease now: this one stalled past it and must not act beside it."""


def _each(
    ids: Iterable[int], step: Callable[[int], bool], what: str, report: Pass, lease: Heartbeat | None = None
) -> int:
    moved = 0
    for object_id in ids:
        if lease is not None and lease.lost.is_set():
            raise LeaseLost
        try:
            with unit_of_work():
                moved += bool(step(object_id))
        except Exception as exc:  # one object's trouble must not stop the market's clock
            log.exception("clock: %s %s failed", what, object_id)
            report.failures.append(f"{what} {object_id}: {exc}")
    return moved


# The other features' time-driven operations: (what, the ids due now, the step for one id; True if it moved).
# Mail goes last, so that what the other steps announced in this pass is sent in it.
STEPS: list[tuple[str, Callable[[], Iterable[int]], Callable[[int], bool]]] = [
    ("credit", credit.due_ids, credit.apply_due),
    ("monthly report", reports.due_ids, reports.apply_due),
    ("closing reminder", notifications.reminder_ids, notifications.remind),
    ("search index", search_backends.missing_ids, search_backends.build_missing),
    ("search queue", search_backends.queued_ids, search_backends.drain_queued),
    ("fee figures", fee_summary.due_ids, fee_summary.apply_due),
    ("statistics view", stats_views.due_ids, stats_views.apply_due),
    ("open data month", opendata.due_ids, opendata.apply_due),
    ("page cache files", shared_cache.prune_due_ids, shared_cache.prune_folder),
    ("outbox message", outbox.due_ids, outbox.deliver),
]

HOUSEKEEPING_SECONDS = 3600  # forgetting day-old log-in records need not run every few seconds


def run_once(housekeeping: bool = True, lease: Heartbeat | None = None) -> Pass:
    """Apply everything that is due now. Safe to run at any time, as often as you like; with a `lease`, the pass
    stops before its next object once the lease is lost."""
    report = Pass()
    try:
        report.requests = _each(requests.due_request_ids(), requests.apply_due, "request", report, lease)
        report.orders = _each(orders.due_order_ids(), orders.apply_due, "order", report, lease)
        for what, due_ids, step in STEPS:
            report.others += _each(due_ids(), step, what, report, lease)
    except LeaseLost:
        db.session.rollback()
        report.failures.append("lease lost: another clock holds it now; this pass stopped")
        return report
    if housekeeping:
        with unit_of_work():
            report.forgotten = throttle.purge_stale() + sessions.purge_stale()
    db.session.rollback()  # end the last read's transaction: a waiting clock holds no snapshot open
    return report


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(holder: str, seconds: int) -> bool:
    """Take (or extend) the lease if it is free, expired or already ours."""
    t = now()
    with unit_of_work():
        taken = db.session.execute(
            update(ClockLease)
            .where(ClockLease.name == LEASE, or_(ClockLease.expires_at < t, ClockLease.holder == holder))
            .values(holder=holder, expires_at=t + timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken:
            return True
        if db.session.get(ClockLease, LEASE) is not None:
            return False
        db.session.add(ClockLease(name=LEASE, holder=holder, expires_at=t + timedelta(seconds=seconds)))
    return True


def renew(holder: str, seconds: float) -> bool:
    """Extend our lease; False if another clock holds it now."""
    with unit_of_work():
        return bool(
            db.session.execute(
                update(ClockLease)
                .where(ClockLease.name == LEASE, ClockLease.holder == holder)
                .values(expires_at=now() + timedelta(seconds=seconds))
                .execution_options(synchronize_session=False)
            ).rowcount
        )


class Heartbeat:
    """Keeps a held lease while a pass runs: a thread renews it every third of its length (on a session of its
    own), so a pass longer than the lease keeps it; if another clock holds it by then, `lost` is set and the pass
    stops before its next object. A database away for a moment is retried at the next beat (the lease runs out
    if it stays away)."""

    def __init__(self, holder: str, seconds: float) -> None:
        self.holder, self.seconds = holder, seconds
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._app = current_app._get_current_object()
        self._thread = threading.Thread(target=self._beat, name="clock-lease", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            with self._app.app_context():
                try:
                    if not renew(self.holder, self.seconds):
                        log.warning("clock: %s lost the lease to another clock", self.holder)
                        self.lost.set()
                        return
                except Exception:  # noqa: BLE001 (the next beat tries again)
                    log.exception("clock: renewing the lease failed")
                finally:
                    db.session.remove()


def try_acquire(holder: str, seconds: int) -> bool:
    try:
        return acquire(holder, seconds)
    except IntegrityError:  # another clock inserted the lease row at the same moment
        return False


def release(holder: str) -> None:
    with unit_of_work():
        db.session.execute(
            update(ClockLease)
            .where(ClockLease.name == LEASE, ClockLease.holder == holder)
            .values(expires_at=now())
            .execution_options(synchronize_session=False)
        )


TICK_LEASE_SECONDS = 60


def tick(holder: str | None = None) -> Pass | None:
    """One pass under the lease (`flask tick` from cron): None when another clock holds it. Two overlapping cron
    ticks, or a tick beside `flask clock`, never act at once."""
    holder = holder or holder_name()
    if not try_acquire(holder, TICK_LEASE_SECONDS):
        return None
    try:
        with Heartbeat(holder, TICK_LEASE_SECONDS) as lease:
            return run_once(lease=lease)
    finally:
        release(holder)


def run_forever(
    interval: float = 5.0,
    holder: str | None = None,
    passes: int | None = None,
    on_pass: Callable[[Pass | None], None] | None = None,
) -> None:
    """Run a pass every `interval` seconds while holding the lease; `passes` bounds the loop (tests)."""
    holder = holder or holder_name()
    lease_seconds = max(30, int(interval * 6))
    # A search index build takes minutes at national size: beside the passes, not inside one (not in tests, whose
    # sessions are bound to one connection that a second thread must not share).
    search_backends.build_in_background(bool(current_app.config.get("SEARCH_BUILD_BESIDE_CLOCK")))
    done, kept_house = 0, float("-inf")
    try:
        while passes is None or done < passes:
            report = None
            if try_acquire(holder, lease_seconds):
                housekeeping = time.monotonic() - kept_house >= HOUSEKEEPING_SECONDS
                with Heartbeat(holder, lease_seconds) as lease:
                    report = run_once(housekeeping, lease)
                if housekeeping:
                    kept_house = time.monotonic()
            if on_pass is not None:
                on_pass(report)
            done += 1
            if passes is None or done < passes:
                time.sleep(interval)
    finally:
        search_backends.build_in_background(False)
        release(holder)
