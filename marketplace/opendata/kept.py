"""Each month's OCDS release package, kept: made by the clock, read by the download and the API.

A month of a national market holds tens of thousands of processes, so no GET ever builds one. The clock
(chronograph STEPS, "open data") writes each month's package as a file on the storage path (UPLOAD_DIR, the
shared volume the uploads use: every machine serves the same bytes) and describes it in the month's `ocds_month`
row (generated time, releases, bytes, SHA-256, file key). It makes a month

- the first time (a month with a stamp and no package yet);
- again when a change dated in it was written (its row's `dirty` mark, set by tally/ocds_months.py) — for the
  current month at most every OCDS_REFRESH_SECONDS;
- once more when the month is over (SETTLE_SECONDS after its end, so that nothing still committing is missed).

The candidates are the requests with a dated event in the month, found along the columns the releases are dated
by (never `updated_at`); they are loaded a thousand at a time with their bids, orders, payments and contracts
(a few queries per thousand), each release is written to a spool as it is made, and the file is assembled in
date order from the spool, so memory holds one batch and the releases' positions, not the month."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryFile

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from marketplace.common import uploads
from marketplace.common.clock import as_utc, local, now
from marketplace.extensions import db
from marketplace.opendata.monthly import month_bounds
from marketplace.opendata.ocds import BID_EXTENSION, RELEASED_PAYMENTS, Process, happened
from marketplace.orders.models import Contract, ContractStatus, Order
from marketplace.payments.models import Payment
from marketplace.requests.bids import Bid
from marketplace.requests.models import UNPUBLISHED, ServiceRequest
from marketplace.stats.open_months import OcdsMonth

log = logging.getLogger(__name__)

UPLOAD_KIND = "opendata"  # UPLOAD_DIR/opendata/<YYYY-MM>-<sha256 prefix>.json
BATCH = 1000  # requests loaded together
SETTLE_SECONDS = 120  # a month is made once more this long after its end
OTHER_MONTHS_PER_PASS = 1  # besides the current one: a rebuild's forty months do not hold up the clock (minutes each at 1M orders)


def label(month: date) -> str:
    return month.strftime("%Y-%m")


def _first(label_: str) -> date:
    return date(int(label_[:4]), int(label_[5:7]), 1)


def current_label() -> str:
    return local(now()).strftime("%Y-%m")


# --- what is due ------------------------------------------------------------------------------------------


def _due(row: OcdsMonth, current: str, t: datetime) -> bool:
    if row.generated_at is None:
        return True
    generated = as_utc(row.generated_at)
    if row.month == current:
        refresh = timedelta(seconds=current_app.config["OCDS_REFRESH_SECONDS"])
        return row.dirty and (row.file_key is None or t - generated >= refresh)  # none to serve: at once
    settled = as_utc(month_bounds(_first(row.month))[1]) + timedelta(seconds=SETTLE_SECONDS)
    return row.dirty or (generated < settled <= t)


def due_months() -> list[str]:
    """The months whose package the clock should make now: the current month first, then up to
    OTHER_MONTHS_PER_PASS others, newest first."""
    current, t = current_label(), now()
    rows = db.session.scalars(
        select(OcdsMonth).where(OcdsMonth.month <= current).order_by(OcdsMonth.month.desc())
    )
    due = [row.month for row in rows if _due(row, current, t)]
    mine = [m for m in due if m == current]
    return mine + [m for m in due if m != current][:OTHER_MONTHS_PER_PASS]


def due_ids() -> list[int]:
    """For the clock: the due months as YYYYMM numbers (none when OCDS_IN_CLOCK is 0: `flask opendata watch`
    makes them in a process of its own)."""
    if not current_app.config["OCDS_IN_CLOCK"]:
        return []
    return [int(m.replace("-", "")) for m in due_months()]


def apply_due(month_id: int) -> bool:
    """The clock's step for one month: make its package if it is still due once its row is locked (another
    machine's clock or watcher may have made it meanwhile). The caller commits."""
    text = f"{month_id // 100:04d}-{month_id % 100:02d}"
    if text > current_label():
        return False
    return generate(text, only_if_due=True) is not None


def watch(interval: float, passes: int | None = None, echo=None) -> None:
    """`flask opendata watch`: make the due months in this process, every `interval` seconds — beside the
    clock (with OCDS_IN_CLOCK=0), so that minutes of a national month's package never hold up the closing of
    bids. Several watchers may run: a month's row lock lets one make it, the others find it done."""
    import time

    from marketplace.common.uow import unit_of_work

    done = 0
    while passes is None or done < passes:
        with unit_of_work():
            months = due_months()
        for month in months:
            try:
                with unit_of_work():
                    made = generate(month, only_if_due=True)
            except Exception:  # one month's trouble must not stop the others
                log.exception("open data: making %s failed", month)
                continue
            if made is not None and echo is not None:
                echo(made)
        db.session.rollback()
        done += 1
        if passes is None or done < passes:
            time.sleep(interval)


# --- the candidates -----------------------------------------------------------------------------------------


def candidate_ids(start: datetime, end: datetime) -> set[int]:
    """Requests with a dated event in [start, end): one range per dated column (a superset: the releases are
    filtered by date afterwards)."""
    r, o, p = ServiceRequest, Order, Payment

    def between(column):
        return (column >= start) & (column < end)

    ids: set[int] = set()
    for column in (r.published_at, r.selected_at, r.publicity_ends_at, r.ended_at):
        ids |= set(db.session.scalars(select(r.id).where(between(column))))
    ids |= set(
        db.session.scalars(
            select(o.request_id)
            .where(
                or_(
                    between(o.created_at),
                    between(o.started_at),
                    between(o.delivered_at),
                    between(o.accepted_at),
                )
            )
            .distinct()
        )
    )
    ids |= set(
        db.session.scalars(
            select(o.request_id).join(p, p.order_id == o.id).where(between(p.paid_at)).distinct()
        )
    )
    return ids


def _grouped(rows, key) -> dict[int, list]:
    out: dict[int, list] = {}
    for row in rows:
        out.setdefault(key(row), []).append(row)
    return out


def processes(ids: list[int]) -> Iterator[Process]:
    """The published requests among `ids` with everything their releases need: five queries per BATCH."""
    for i in range(0, len(ids), BATCH):
        batch = ids[i : i + BATCH]
        reqs = db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.id.in_(batch), ServiceRequest.published_at.is_not(None))
            .options(joinedload(ServiceRequest.enterprise), joinedload(ServiceRequest.service_item))
            .order_by(ServiceRequest.id)
        ).all()
        bids = _grouped(
            db.session.scalars(
                select(Bid).where(Bid.request_id.in_(batch)).options(joinedload(Bid.agency)).order_by(Bid.id)
            ),
            lambda b: b.request_id,
        )
        orders = db.session.scalars(
            select(Order)
            .where(Order.request_id.in_(batch))
            .options(joinedload(Order.agency))
            .order_by(Order.id)
        ).all()
        request_of = {o.id: o.request_id for o in orders}
        payments = _grouped(
            db.session.scalars(
                select(Payment)
                .join(Order, Order.id == Payment.order_id)
                .where(Order.request_id.in_(batch), Payment.status.in_(RELEASED_PAYMENTS))
                .order_by(Payment.paid_at, Payment.id)
            ),
            lambda p, of=request_of: of[p.order_id],
        )
        contracts = _grouped(
            db.session.scalars(
                select(Contract)
                .join(Order, Order.id == Contract.order_id)
                .where(Order.request_id.in_(batch), Contract.status == ContractStatus.CONFIRMED)
                .order_by(Contract.id)
            ),
            lambda c, of=request_of: of[c.order_id],
        )
        by_request = _grouped(orders, lambda o: o.request_id)
        for req in reqs:
            if req.status in UNPUBLISHED:
                continue
            yield Process(
                req,
                bids=bids.get(req.id, []),
                orders=by_request.get(req.id, []),
                payments=payments.get(req.id, []),
                contracts=contracts.get(req.id, []),
            )


# --- making a month's package -------------------------------------------------------------------------------


@dataclass
class Made:
    month: str
    releases: int
    bytes: int
    sha256: str | None
    seconds: float


def _dump(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def package_uri(month: str) -> str:
    """The package's address (its download): the site's address (NOTIFY_SITE_URL) + the path."""
    base = (current_app.config.get("NOTIFY_SITE_URL") or "http://localhost").rstrip("/")
    return f"{base}/opendata/ocds/{month}.json"


def header(month: str, published: str) -> dict:
    out = {
        "uri": package_uri(month),
        "version": "1.1",
        "extensions": [BID_EXTENSION],
        "publishedDate": published,
        "publisher": {"name": current_app.config["OCDS_PUBLISHER_NAME"]},
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "publicationPolicy": current_app.config.get("OCDS_PUBLICATION_POLICY") or None,
    }
    return {k: v for k, v in out.items() if v is not None}


def write_package(month: str, out, at: datetime) -> tuple[int, str | None]:
    """Write the month's package (releases as of `at`) to the binary file `out`: one release a line, oldest
    first. Returns (releases, SHA-256 hex) — (0, None) and nothing written when the month has none."""
    start, end = month_bounds(_first(month))
    lo, hi = as_utc(start), as_utc(end)
    index: list[tuple[datetime, str, str, int, int]] = []  # (when, release id, date, offset, length)
    with TemporaryFile(dir=_folder()) as spool:
        for process in processes(sorted(candidate_ids(start, end))):
            for event in process.events():
                when = as_utc(event.at)
                if lo <= when < hi and happened(event.at, at):
                    release = process.release(event)
                    data = _dump(release)
                    index.append((when, release["id"], release["date"], spool.tell(), len(data)))
                    spool.write(data)
        if not index:
            return 0, None
        index.sort(key=lambda e: (e[0], e[1]))
        digest = hashlib.sha256()

        def put(chunk: bytes) -> None:
            digest.update(chunk)
            out.write(chunk)

        put(_dump(header(month, max(e[2] for e in index)))[:-1] + b',"releases":[\n')
        for n, (_, _, _, offset, length) in enumerate(index):
            spool.seek(offset)
            put((b",\n" if n else b"") + spool.read(length))
        put(b"\n]}\n")
    return len(index), digest.hexdigest()


def _folder() -> Path:
    return uploads.upload_path(UPLOAD_KIND, "x").parent


def generate(month: str, only_if_due: bool = False) -> Made | None:
    """Make the month's package and describe it in its row (None when the month has no row, or with
    `only_if_due` when it is not due once locked). Takes the row's lock first: a change dated in the month that
    commits meanwhile marks it again for the next pass."""
    row = db.session.scalar(
        select(OcdsMonth)
        .where(OcdsMonth.month == month)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None or (only_if_due and not _due(row, current_label(), now())):
        return None
    started = now()
    folder = _folder()
    written = folder / f"{uploads.TEMP_PREFIX}{uuid.uuid4().hex}.json"
    try:
        with open(written, "wb") as out:
            releases, sha = write_package(month, out, started)
        size = written.stat().st_size
    except BaseException:
        written.unlink(missing_ok=True)
        raise
    old = row.file_key
    key = f"{month}-{sha[:16]}.json" if sha else None
    if key is None:
        written.unlink(missing_ok=True)
    elif key == old and (folder / key).exists():
        written.unlink(missing_ok=True)  # the same bytes: the file served stays
    else:
        uploads.adopt(UPLOAD_KIND, written, key)  # in place when the transaction commits
    if old and old != key:
        uploads.discard(UPLOAD_KIND, old)
    row.dirty = False
    row.generated_at = started
    row.releases = releases
    row.bytes = size if key else 0
    row.sha256 = sha
    row.file_key = key
    db.session.flush()
    seconds = (now() - started).total_seconds()
    log.info("open data: %s made, %d releases, %d bytes, %.1f s", month, releases, row.bytes, seconds)
    return Made(month, releases, row.bytes, sha, seconds)


def rebuild(echo=None) -> list[Made]:
    """Make every month's package now (`flask opendata rebuild`); commits month by month."""
    from marketplace.common.uow import unit_of_work

    made = []
    with unit_of_work():
        months = list(db.session.scalars(select(OcdsMonth.month).where(OcdsMonth.month <= current_label())))
    for month in sorted(months):
        with unit_of_work():
            done = generate(month)
        if done is not None:
            made.append(done)
            if echo is not None:
                echo(done)
    return made


# --- reading ------------------------------------------------------------------------------------------------


def row_for(month: date) -> OcdsMonth | None:
    """The month's kept row (None for a month without one, or one not begun)."""
    text = label(month)
    if text > current_label():
        return None
    return db.session.get(OcdsMonth, text)


def path_of(row: OcdsMonth) -> Path | None:
    """The kept file, or None when the row names none or the storage does not hold it."""
    if not row.file_key:
        return None
    path = uploads.upload_path(UPLOAD_KIND, row.file_key)
    if not path.is_file():
        log.error("open data: %s's file %s is missing from the storage", row.month, row.file_key)
        return None
    return path


def referenced_keys() -> set[str]:
    """The file keys the rows refer to (`flask uploads sweep`)."""
    return set(db.session.scalars(select(OcdsMonth.file_key).where(OcdsMonth.file_key.is_not(None))))
