"""The index on disk: its schema, generations, locks, full rebuilds and draining the queue of changes.

On disk, `SEARCH_INDEX_DIR` holds generations (`gen-…`, each a Whoosh index) and a `CURRENT` file naming the
live one. A full rebuild writes a fresh generation while holding the live one's write lock, then swaps
`CURRENT`; searchers keep reading the old generation until the swap.

Draining: the writer takes Whoosh's lock with a short timeout, indexes each queued document from the
database's current state and only then deletes the rows it handled. A process that cannot get the lock
leaves the rows for the next drain, so two processes never crash on the lock nor lose an update.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, select

from marketplace.search import topn
from marketplace.search.analysis import analyzer
from marketplace.search.documents import DOC_TYPES, build, chunks, vocabulary_of
from marketplace.search.models import SearchQueue
from marketplace.search.sessions import work_session
from marketplace.search.vocabulary import synonyms

log = logging.getLogger(__name__)

# Bump when the schema, the analysis or what goes into a document changes: the next search rebuilds the index.
SCHEMA_VERSION = 3
REBUILD = "all"  # a queue row asking for a full rebuild (after bulk inserts)


def schema():
    from whoosh import fields

    chinese = analyzer()
    return fields.Schema(
        key=fields.ID(unique=True, stored=True),  # "agency:12"
        type=fields.ID(stored=True, sortable=True),
        doc_id=fields.STORED(),
        title=fields.TEXT(analyzer=chinese, stored=True, field_boost=3.0),
        names=fields.TEXT(analyzer=chinese, field_boost=2.0),  # aliases, item and category names
        body=fields.TEXT(analyzer=chinese, stored=True),  # intro, scope, legal basis: the snippet's source
        place=fields.TEXT(analyzer=chinese),
        pinyin=fields.KEYWORD(lowercase=True, scorable=True),  # syllable pairs of title and names
        # the multi-word terms of the index's vocabulary found in the text fields (see vocabulary.py)
        terms=fields.KEYWORD(lowercase=True, scorable=True, field_boost=2.0),
        subtitle=fields.STORED(),
        region=fields.STORED(),
        extra=fields.STORED(),
        # the static rank (documents.py) in millionths: Whoosh's float columns cannot be sortable
        rank=fields.NUMERIC(int, bits=64, stored=True, sortable=True),
    )


RANK_SCALE = 1_000_000


def _stored(doc: dict) -> dict:
    """A document as the Whoosh schema takes it."""
    return {**doc, "rank": round(doc["rank"] * RANK_SCALE)}


# --- where the index lives -----------------------------------------------------------------------------

_indexes: dict[str, object] = {}  # generation path → open Whoosh index
_idle: dict[str, list] = {}  # generation path → searchers not in use
_opened: dict[int, float] = {}  # id(searcher) → when it was opened (time.monotonic)
_refreshed: dict[str, float] = {}  # index folder → when a search last indexed the queued changes
_indexes_lock = threading.Lock()


def index_dir() -> Path:
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def _read_current(base: Path) -> dict | None:
    try:
        state = json.loads((base / "CURRENT").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("gen"), str) else None


def live_state(base: Path) -> dict | None:
    """CURRENT when it names a usable index of this schema version, else None (a rebuild is due)."""
    from whoosh import index

    state = _read_current(base)
    if state is None or state.get("schema") != SCHEMA_VERSION:
        return None
    path = str(base / state["gen"])
    return state if path in _indexes or index.exists_in(path) else None


class _MappedFile(io.RawIOBase):
    """A file read straight from a view of mapped memory (`_buffer_files_read_in_place`)."""

    def __init__(self, view) -> None:
        self._view, self._at = memoryview(view), 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = max(0, min(len(b), len(self._view) - self._at))
        b[:n] = self._view[self._at : self._at + n]
        self._at += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: len(self._view)}[whence]
        self._at = max(0, base + offset)
        return self._at

    def tell(self) -> int:
        return self._at


_READ_AHEAD = 2048  # a posting block's header, a pickle: small reads, each after a seek


def _buffer_files_read_in_place() -> None:
    """Whoosh opens each file of a segment inside its compound file as a `BufferFile` over a view of the mapped
    segment, and copied the whole view into a `BytesIO` for the reads in order (a posting block's header, a
    pickle): reopening a searcher of the 100,000-agency index after a change copied ~145 MB (the postings alone
    93 MB), ~100 ms of CPU holding the GIL and as much memory again per open searcher — a busy market's searches
    paid it every few seconds. Those reads now go through a buffered reader of the view itself (`_READ_AHEAD`
    bytes at a time); reads by position were already made from the view. Applied once per process, before an
    index is opened."""
    from whoosh.filedb.structfile import BufferFile

    if getattr(BufferFile, "_reads_in_place", False):
        return

    def __init__(self, buf, name=None, onclose=None):
        self._buf, self._name, self.onclose = buf, name, onclose
        self.file = io.BufferedReader(_MappedFile(buf), _READ_AHEAD)
        self.is_real = self.is_closed = False

    BufferFile.__init__ = __init__
    BufferFile._reads_in_place = True


def open_index(base: Path, state: dict):
    from whoosh import index

    _buffer_files_read_in_place()
    analyzer()  # jieba (with the trade words) is ready before the schema's analyzer tokenizes anything
    path = str(base / state["gen"])
    with _indexes_lock:
        ix = _indexes.get(path)
        if ix is None:
            ix = _indexes[path] = index.open_dir(path)
    return ix


def refresh_due(base: Path, every: float) -> bool:
    """Whether a search should index the queued changes now: at most every `every` seconds per process and
    index (always with 0). Marks the moment when it says yes."""
    if every <= 0:
        return True
    key, clock = str(base), time.monotonic()
    with _indexes_lock:
        if clock - _refreshed.get(key, float("-inf")) < every:
            return False
        _refreshed[key] = clock
    return True


@contextlib.contextmanager
def searching(base: Path, state: dict, max_age: float = 0) -> Iterator:
    """A searcher of the live index. Opening one of a large index takes tens of milliseconds, so searchers are
    kept open between searches (one per concurrent search, never shared) and replaced when the index changed
    since — once they are `max_age` seconds old (SEARCH_REFRESH_SECONDS): a busy market changes its index every
    moment, and a search a second behind beats one that reopens the index each time."""
    path = str(base / state["gen"])
    with _indexes_lock:
        idle = _idle.get(path)
        if idle:  # the youngest: an older one is the first to be out of date
            idle.sort(key=lambda s: _opened.get(id(s), 0.0))
        searcher = idle.pop() if idle else None
        stale = [s for p in list(_idle) if p != path for s in _idle.pop(p)]  # older generations
    fresh = searcher is not None and time.monotonic() - _opened.get(id(searcher), 0.0) < max_age
    if searcher is not None and not fresh and not searcher.up_to_date():
        # Not Searcher.refresh(): it reuses segment readers with their old deletions (and merged-away segments).
        # The idle ones opened before it are out of date too: closed now, so that a change is reopened by as
        # many searches as run at once, not once by every searcher the busiest moment left behind.
        opened = _opened.get(id(searcher), 0.0)
        with _indexes_lock:
            idle = _idle.get(path, [])
            older = [s for s in idle if _opened.get(id(s), 0.0) <= opened]
            idle[:] = [s for s in idle if _opened.get(id(s), 0.0) > opened]  # opened by another search since
            stale += [searcher, *older]
        searcher = None
    for old in stale:
        _opened.pop(id(old), None)
        old.close()
    if searcher is None:
        searcher = open_index(base, state).searcher()
        _opened[id(searcher)] = time.monotonic()
    try:
        yield searcher
    except BaseException:
        _opened.pop(id(searcher), None)
        searcher.close()
        raise
    with _indexes_lock:
        if path in _indexes:
            _idle.setdefault(path, []).append(searcher)
            return
    _opened.pop(id(searcher), None)
    searcher.close()


def close_all() -> None:
    """Forget the open indexes and close the idle searchers (as a restart would)."""
    with _indexes_lock:
        idle = [s for searchers in _idle.values() for s in searchers]
        _idle.clear()
        _indexes.clear()
        _opened.clear()
        _refreshed.clear()
    for searcher in idle:
        searcher.close()


def _lock_held(lock, timeout: float) -> bool:
    from whoosh.util.filelock import try_for

    return bool(try_for(lock.acquire, timeout=timeout, delay=0.05))


@contextlib.contextmanager
def _rebuild_lock(base: Path, timeout: float):
    """One full rebuild at a time, across processes."""
    from whoosh.filedb.filestore import FileStorage

    base.mkdir(parents=True, exist_ok=True)
    lock = FileStorage(str(base)).lock("REBUILD.lock")
    if not _lock_held(lock, timeout):
        raise IndexBusy("another process is rebuilding the search index")
    try:
        yield
    finally:
        lock.release()


class IndexBusy(RuntimeError):
    """Another process holds the index's lock for longer than we were willing to wait."""


class IndexNotReady(RuntimeError):
    """There is no index yet (or one of an older schema): a search never builds it on a request; `flask search
    reindex` or the clock does."""


def _delete_queue_rows(bind, ids: list[int] | None = None, up_to: int | None = None) -> None:
    with work_session(bind) as session:
        if up_to is not None:
            session.execute(delete(SearchQueue).where(SearchQueue.id <= up_to))
        for chunk in chunks(ids or []):
            if chunk:
                session.execute(delete(SearchQueue).where(SearchQueue.id.in_(chunk)))
        session.commit()


# --- rebuilding and draining ---------------------------------------------------------------------------


@dataclass
class ReindexReport:
    counts: dict[str, int]
    seconds: float
    generation: str


Progress = Callable[[str, int], None]  # (document kind, documents of that kind indexed so far)
PROGRESS_EVERY = 1000


def reindex(timeout: float = 60.0, bind=None, progress: Progress | None = None) -> ReindexReport:
    """Rebuild the whole index from the database into a fresh generation, then make it the live one."""
    base = index_dir()
    with _rebuild_lock(base, timeout):
        return _reindex_locked(base, timeout, bind, progress)


def _reindex_locked(base: Path, timeout: float, bind, progress: Progress | None = None) -> ReindexReport:
    from whoosh import index

    started = time.perf_counter()
    old = live_state(base) or _read_current(base)
    old_lock = None
    if old is not None and index.exists_in(str(base / old["gen"])):
        # Hold the live generation's write lock: no drain writes to it while we copy the database.
        old_lock = open_index(base, old).lock("WRITELOCK")
        if not _lock_held(old_lock, timeout):
            raise IndexBusy("another process is writing to the search index")
    try:
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path = base / name
        path.mkdir(parents=True)
        ix = index.create_in(str(path), schema())
        counts = dict.fromkeys(DOC_TYPES, 0)
        with work_session(bind) as session:
            # The queue's high-water mark first: every change queued up to it is in what we read next.
            high = session.scalar(select(func.max(SearchQueue.id)))
            vocabulary = vocabulary_of(synonyms(session))
            writer = ix.writer(limitmb=128)
            ranges: dict[str, list[int]] = {}
            try:
                # In static-rank order, one kind after the other (topn.py): docnum order is rank order.
                for doc_type in topn.ORDER:
                    docs = []
                    for doc in build(doc_type, session, None, vocabulary):
                        docs.append(_stored(doc))
                        counts[doc_type] += 1
                        if progress and counts[doc_type] % PROGRESS_EVERY == 0:
                            progress(doc_type, counts[doc_type])
                    docs.sort(key=topn.sort_key)
                    first = sum(counts[t] for t in ranges)
                    ranges[doc_type] = [first, first + len(docs)]
                    for doc in docs:
                        writer.add_document(**doc)
                    del docs
                    if progress:
                        progress(doc_type, counts[doc_type])
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            session.rollback()
        segments = ix._segments()
        ranked = {"segment": segments[0].segment_id(), "ranges": ranges} if len(segments) == 1 else None
        tmp = base / f"CURRENT.{uuid.uuid4().hex[:8]}"
        tmp.write_text(
            json.dumps(
                {"gen": name, "schema": SCHEMA_VERSION, "vocabulary": vocabulary, "ranked": ranked},
                ensure_ascii=False,
            ),
            "utf-8",
        )
        os.replace(tmp, base / "CURRENT")
    finally:
        if old_lock is not None:
            old_lock.release()
    if high is not None:
        _delete_queue_rows(bind, up_to=high)
    _remove_old_generations(base, keep={name, old["gen"] if old else name})
    return ReindexReport(counts, time.perf_counter() - started, name)


def _remove_old_generations(base: Path, keep: set[str]) -> None:
    """Keep the live generation and the one before it (a searcher may still be reading it)."""
    for child in base.iterdir():
        if child.is_dir() and child.name.startswith("gen-") and child.name not in keep:
            with _indexes_lock:
                _indexes.pop(str(child), None)
                idle = _idle.pop(str(child), [])
            for searcher in idle:
                searcher.close()
            shutil.rmtree(child, ignore_errors=True)


def ensure_index(bind=None, timeout: float = 60.0):
    """The live index; built from the database first when missing, empty or of an older schema."""
    base = index_dir()
    state = live_state(base)
    if state is None:
        with _rebuild_lock(base, timeout):
            state = live_state(base)  # someone else may have just built it
            if state is None:
                log.info("search: building the index in %s", base)
                _reindex_locked(base, timeout, bind)
                state = live_state(base)
    return open_index(base, state)


@dataclass
class DrainReport:
    rows: int = 0
    documents: int = 0
    locked: bool = False


STATS = {"drains": 0, "locked": 0}  # per process, for tests and logs


def drain(timeout: float = 0.2, bind=None, batch: int = 5000, build_missing: bool = False) -> DrainReport:
    """Index the queued documents from the database's current state; delete the rows handled.

    When another process holds the index's lock for longer than `timeout`, nothing happens and the rows
    stay queued for the next drain. Without an index, nothing happens unless `build_missing` (commands, the
    clock): the full build covers whatever is queued.
    """
    from whoosh.index import LockError

    base = index_dir()
    state = live_state(base)
    if state is None:
        if not build_missing:
            return DrainReport()
        ensure_index(bind)  # a full build covers (and clears) whatever was queued
        return DrainReport()
    ix = open_index(base, state)
    try:
        writer = ix.writer(timeout=timeout, delay=0.05)
    except LockError:
        STATS["locked"] += 1
        return DrainReport(locked=True)
    try:
        if _read_current(base) != state:  # a rebuild swapped generations while we waited for the lock
            writer.cancel()
            STATS["locked"] += 1
            return DrainReport(locked=True)
        with work_session(bind) as session:
            rows = session.execute(
                select(SearchQueue.id, SearchQueue.doc_type, SearchQueue.doc_id)
                .order_by(SearchQueue.id)
                .limit(batch)
            ).all()
            wanted: dict[str, set[int]] = {t: set() for t in DOC_TYPES}
            for _, doc_type, doc_id in rows:
                if doc_type in wanted:
                    wanted[doc_type].add(doc_id)
            rebuild = any(doc_type == REBUILD for _, doc_type, _ in rows)
            docs = []
            for doc_type, ids in wanted.items():
                if ids and not rebuild:
                    docs.extend(build(doc_type, session, list(ids), state.get("vocabulary", [])))
            session.rollback()  # end the read before writing the index
        if not rows or rebuild:
            writer.cancel()
            if not rows:
                return DrainReport()
            report = reindex(timeout=max(timeout, 10.0), bind=bind)  # covers and clears the queue
            return DrainReport(rows=len(rows), documents=sum(report.counts.values()))
        found = {doc["key"] for doc in docs}
        for doc_type, ids in wanted.items():
            for doc_id in ids:
                key = f"{doc_type}:{doc_id}"
                if key not in found:  # gone, or no longer public (suspended, closed …)
                    writer.delete_by_term("key", key)
        for doc in docs:
            writer.update_document(**_stored(doc))
        writer.commit(mergetype=topn.keep_ranked(state))
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    STATS["drains"] += 1
    _delete_queue_rows(bind, ids=[row[0] for row in rows])
    return DrainReport(rows=len(rows), documents=sum(len(ids) for ids in wanted.values()))


def drain_all(timeout: float = 10.0, bind=None) -> DrainReport:
    total = DrainReport()
    while True:
        report = drain(timeout=timeout, bind=bind)
        total.rows += report.rows
        total.documents += report.documents
        if report.locked:
            total.locked = True
            return total
        if report.rows == 0:
            return total


def pending(bind=None) -> int:
    """How many changes wait in the queue."""
    with work_session(bind) as session:
        return session.scalar(select(func.count(SearchQueue.id))) or 0


def has_pending(bind) -> bool:
    with work_session(bind) as session:
        return session.scalar(select(SearchQueue.id).limit(1)) is not None


def document_counts() -> dict[str, int] | None:
    """Documents per type in the live index; None when there is no index yet."""
    base = index_dir()
    state = live_state(base)
    if state is None:
        return None
    from whoosh.query import Term

    with searching(base, state) as searcher:
        return {t: len(searcher.search(Term("type", t), limit=1)) for t in DOC_TYPES}
