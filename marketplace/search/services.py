"""Full-text search over member agencies, service items and open announcements (Whoosh + jieba).

The database is the source of truth; the index is a copy that can always be rebuilt (`flask search reindex`).

Keeping it current: SQLAlchemy session events queue the documents a flush touched as `search_queue` rows in
the same transaction (a rolled-back change queues nothing). After a real commit, and before every search, the
queue is *drained*: the writer takes Whoosh's lock with a short timeout, indexes each queued document from
the database's current state and only then deletes the rows it handled. A process that cannot get the lock
leaves the rows for the next drain, so two processes never crash on the lock nor lose an update.

On disk, `SEARCH_INDEX_DIR` holds generations (`gen-…`, each a Whoosh index) and a `CURRENT` file naming the
live one. A full rebuild writes a fresh generation while holding the live one's write lock, then swaps
`CURRENT`; searchers keep reading the old generation until the swap.

Queries: jieba segments Chinese; trade abbreviations (环评, 安评 …) and the catalogue's aliases are expanded
and ORed with what was typed. When nothing matches, a word that sounds like a known term is searched as that
term (环平 → 环评, huanping → 环评), and failing that the pinyin field matches the syllables (cehui → 测绘).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import json
import logging
import math
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, has_app_context, url_for
from markupsafe import Markup, escape
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, selectinload

from marketplace.agencies.models import Agency, AgencyStatus, Offer, Qualification, agency_category
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.extensions import db
from marketplace.requests.models import RequestStatus, ServiceRequest
from marketplace.search.models import SearchQueue

log = logging.getLogger(__name__)

# Bump when the schema, the analysis or what goes into a document changes: the next search rebuilds the index.
SCHEMA_VERSION = 1
DOC_TYPES = ("agency", "service", "request")
REBUILD = "all"  # a queue row asking for a full rebuild (after bulk inserts)
MAX_QUERY_LENGTH = 100

# Abbreviations the trade uses, and what they stand for (ORed with the typed term at query time). The
# catalogue's own aliases (service_item.aliases) are added from the database.
TRADE_TERMS: dict[str, tuple[str, ...]] = {
    "环评": ("环境影响评价",),
    "安评": ("安全评价", "安全预评价", "安全验收评价", "安全现状评价"),
    "能评": ("节能评估",),
    "水保": ("水土保持",),
    "地灾评估": ("地质灾害危险性评估",),
    "地灾": ("地质灾害",),
    "稳评": ("社会稳定风险评估",),
    "社稳评估": ("社会稳定风险评估",),
    "职评": ("职业病危害",),
    "洪评": ("洪水影响评价", "防洪评价"),
    "水评": ("水资源论证",),
    "交评": ("交通影响评价",),
    "震评": ("地震安全性评价",),
    "地震安评": ("地震安全性评价",),
    "雷评": ("雷电灾害风险评估",),
    "防雷": ("防雷装置检测", "雷电防护"),
    "造价": ("工程造价",),
    "可研": ("可行性研究",),
    "文评": ("文物影响评估",),
    "图审": ("施工图审查",),
    "特检": ("特种设备检验",),
    "土调": ("土壤污染状况调查",),
    "环保验收": ("竣工环境保护验收",),
    "压矿": ("压覆矿产",),
    "修规": ("修建性详细规划",),
    "全咨": ("全过程工程咨询",),
}
# Full terms → their abbreviation, so 环境影响评价 also finds a request titled "…环评".
_REVERSE_TERMS: dict[str, tuple[str, ...]] = {}
for _short, _longs in TRADE_TERMS.items():
    for _long in _longs:
        _REVERSE_TERMS.setdefault(_long, ())
        _REVERSE_TERMS[_long] += (_short,)

# Valid pinyin syllables (toneless, ü as v), for splitting pinyin typed in Latin letters.
_SYLLABLE_TEXT = """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce
    cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun chuo
    ci cong cou cu cuan cui cun cuo da dai dan dang dao de den deng di dian diao die ding diu dong dou du duan
    dui dun duo e ei en eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng
    gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan
    huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang kao ke ken
    keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia lian liang liao lie
    lin ling liu lo long lou lu luan lun luo lv lve ma mai man mang mao me mei men meng mi mian miao mie min
    ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu
    nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian
    qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run
    ruo sa sai san sang sao se sen seng sha shai shan shang shao she shen sheng shi shou shu shua shuai shuan
    shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te teng ti tian tiao tie ting
    tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin xing xiong
    xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei
    zen zeng zha zhai zhan zhang zhao zhe zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo
    zi zong zou zu zuan zui zun zuo"""
SYLLABLES = frozenset(_SYLLABLE_TEXT.split())

_HAN = re.compile(r"[\u4e00-\u9fff]+")
_PARENTHESES = re.compile(r"[（(][^）)]*[）)]")

# --- analysis ------------------------------------------------------------------------------------------

_init_lock = threading.Lock()
_analysis: dict[str, object] = {}


def analyzer():
    """The Chinese analyzer (jieba, search mode), initialised once per process (~1–3 s the first time)."""
    if "analyzer" not in _analysis:
        with _init_lock:
            if "analyzer" not in _analysis:
                import jieba
                from jieba.analyse import ChineseAnalyzer

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                for word in TRADE_TERMS:
                    jieba.add_word(word)
                _analysis["analyzer"] = ChineseAnalyzer()
    return _analysis["analyzer"]


def tokens(text: str) -> list[str]:
    """The index terms of a text, in order, without repeats."""
    seen: dict[str, None] = {}
    for token in analyzer()(text, mode="query"):
        seen.setdefault(token.text, None)
    return list(seen)


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
        subtitle=fields.STORED(),
        region=fields.STORED(),
        extra=fields.STORED(),
    )


TEXT_FIELDS = ("title", "names", "body", "place")


@functools.lru_cache(maxsize=50_000)
def _syllables(run: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin  # ~0.4 s and ~50 MB once per process, so only when needed

    return tuple(lazy_pinyin(run))


def _pinyin_of(text: str) -> list[list[str]]:
    """The toneless syllables of each run of Chinese characters."""
    return [list(_syllables(run)) for run in _HAN.findall(text)]


def _pairs(syllables: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in itertools.pairwise(syllables)]


def pinyin_keys(*texts: str) -> str:
    keys: dict[str, None] = {}
    for text in texts:
        for run in _pinyin_of(text or ""):
            for pair in _pairs(run):
                keys.setdefault(pair, None)
    return " ".join(keys)


def split_pinyin(word: str) -> list[str] | None:
    """`huanping` → [huan, ping] (fewest syllables); None when the letters are not pinyin."""
    word = word.lower().replace("ü", "v").replace("'", "")
    if not word.isascii() or not word.isalpha() or len(word) > 60:
        return None
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            if head is not None and word[start:end] in SYLLABLES:
                candidate = head + [word[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[-1]


# --- documents -----------------------------------------------------------------------------------------


def _item_words(item: ServiceItem) -> list[str]:
    return [item.name, *(item.aliases or [])]


def _chunks(ids: list[int] | None, size: int = 500) -> Iterator[list[int] | None]:
    if ids is None:
        yield None
        return
    ids = sorted(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _agency_docs(session: Session, ids: list[int] | None) -> Iterator[dict]:
    """Active members only; never contacts, addresses, files or anything about bids."""
    for chunk in _chunks(ids):
        stmt = (
            select(Agency)
            .where(Agency.status == AgencyStatus.ACTIVE)
            .options(
                selectinload(Agency.categories),
                selectinload(Agency.qualifications),
                selectinload(Agency.offers).selectinload(Offer.service_item),
            )
            .order_by(Agency.id)
        )
        if chunk is not None:
            stmt = stmt.where(Agency.id.in_(chunk))
        for agency in session.scalars(stmt):
            live = [o for o in agency.offers if o.active]
            category_names = [c.name for c in agency.categories]
            item_words = [w for o in live for w in _item_words(o.service_item)]
            names = [
                *category_names,
                *item_words,
                *(f"{q.name} {q.level.value}" for q in agency.qualifications),
            ]
            yield {
                "key": f"agency:{agency.id}",
                "type": "agency",
                "doc_id": agency.id,
                "title": agency.name,
                "names": " ".join(names),
                "body": agency.intro or "",
                "place": agency.region or "",
                "pinyin": pinyin_keys(agency.name, *category_names, *item_words),
                "subtitle": "、".join(category_names),
                "region": agency.region or "",
                "extra": {"offers": len(live)},
            }


def _service_docs(session: Session, ids: list[int] | None) -> Iterator[dict]:
    for chunk in _chunks(ids):
        stmt = select(ServiceItem).options(selectinload(ServiceItem.category)).order_by(ServiceItem.id)
        if chunk is not None:
            stmt = stmt.where(ServiceItem.id.in_(chunk))
        for item in session.scalars(stmt):
            body = "；".join(
                p for p in (item.approval, item.department, item.legal_basis, item.qualification) if p
            )
            yield {
                "key": f"service:{item.id}",
                "type": "service",
                "doc_id": item.id,
                "title": item.name,
                "names": " ".join([*(item.aliases or []), item.category.name]),
                "body": body,
                "place": "",
                "pinyin": pinyin_keys(*_item_words(item), item.category.name),
                "subtitle": item.category.name,
                "region": "",
                "extra": {"standard_days": item.standard_days},
            }


def _request_docs(session: Session, ids: list[int] | None) -> Iterator[dict]:
    """Open announcements (status bidding) only; never bids, prices offered or the draw seed."""
    for chunk in _chunks(ids):
        stmt = (
            select(ServiceRequest)
            .where(ServiceRequest.status == RequestStatus.BIDDING)
            .options(selectinload(ServiceRequest.service_item))
            .order_by(ServiceRequest.id)
        )
        if chunk is not None:
            stmt = stmt.where(ServiceRequest.id.in_(chunk))
        for req in session.scalars(stmt):
            item = req.service_item
            yield {
                "key": f"request:{req.id}",
                "type": "request",
                "doc_id": req.id,
                "title": req.title,
                "names": " ".join([req.project_code, *_item_words(item)]),
                "body": req.scope or "",
                "place": req.region or "",
                "pinyin": pinyin_keys(req.title, *_item_words(item)),
                "subtitle": item.name,
                "region": req.region or "",
                "extra": {"bid_deadline": req.bid_deadline.isoformat() if req.bid_deadline else None},
            }


BUILDERS = {"agency": _agency_docs, "service": _service_docs, "request": _request_docs}

# --- where the index lives -----------------------------------------------------------------------------

_indexes: dict[str, object] = {}
_indexes_lock = threading.Lock()


def _base() -> Path:
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def _read_current(base: Path) -> dict | None:
    try:
        state = json.loads((base / "CURRENT").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("gen"), str) else None


def _live_state(base: Path) -> dict | None:
    """CURRENT when it names a usable index of this schema version, else None (a rebuild is due)."""
    from whoosh import index

    state = _read_current(base)
    if state is None or state.get("schema") != SCHEMA_VERSION:
        return None
    path = base / state["gen"]
    return state if index.exists_in(str(path)) else None


def _open(base: Path, state: dict):
    from whoosh import index

    analyzer()  # jieba (with the trade words) is ready before the schema's analyzer tokenizes anything
    path = str(base / state["gen"])
    with _indexes_lock:
        ix = _indexes.get(path)
        if ix is None:
            ix = _indexes[path] = index.open_dir(path)
    return ix


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


# --- sessions used for indexing ------------------------------------------------------------------------

_draining: contextvars.ContextVar[bool] = contextvars.ContextVar("search_draining", default=False)


def _is_external_transaction(bind) -> bool:
    """True when the session joined a transaction it does not own (tests): its 'commit' commits nothing."""
    return isinstance(bind, Connection) and bind.in_transaction()


@contextlib.contextmanager
def _work_session(bind=None) -> Iterator[Session]:
    """A session of its own (never the caller's), on the caller's database."""
    bind = bind if bind is not None else db.session.get_bind()
    if isinstance(bind, Connection):
        session = Session(bind=bind, join_transaction_mode="create_savepoint")
    else:
        session = Session(bind=bind)
    token = _draining.set(True)
    try:
        yield session
    finally:
        _draining.reset(token)
        session.close()


def _delete_queue_rows(bind, ids: list[int] | None = None, up_to: int | None = None) -> None:
    with _work_session(bind) as session:
        if up_to is not None:
            session.execute(delete(SearchQueue).where(SearchQueue.id <= up_to))
        for chunk in _chunks(ids or []):
            if chunk:
                session.execute(delete(SearchQueue).where(SearchQueue.id.in_(chunk)))
        session.commit()


# --- rebuilding and draining ---------------------------------------------------------------------------


@dataclass
class ReindexReport:
    counts: dict[str, int]
    seconds: float
    generation: str


def reindex(timeout: float = 60.0, bind=None) -> ReindexReport:
    """Rebuild the whole index from the database into a fresh generation, then make it the live one."""
    base = _base()
    with _rebuild_lock(base, timeout):
        return _reindex_locked(base, timeout, bind)


def _reindex_locked(base: Path, timeout: float, bind) -> ReindexReport:
    from whoosh import index

    started = time.perf_counter()
    old = _live_state(base) or _read_current(base)
    old_lock = None
    if old is not None and index.exists_in(str(base / old["gen"])):
        # Hold the live generation's write lock: no drain writes to it while we copy the database.
        old_lock = _open(base, old).lock("WRITELOCK")
        if not _lock_held(old_lock, timeout):
            raise IndexBusy("another process is writing to the search index")
    try:
        name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path = base / name
        path.mkdir(parents=True)
        ix = index.create_in(str(path), schema())
        counts = dict.fromkeys(DOC_TYPES, 0)
        with _work_session(bind) as session:
            # The queue's high-water mark first: every change queued up to it is in what we read next.
            high = session.scalar(select(func.max(SearchQueue.id)))
            writer = ix.writer(limitmb=128)
            try:
                for doc_type, build in BUILDERS.items():
                    for doc in build(session, None):
                        writer.add_document(**doc)
                        counts[doc_type] += 1
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            session.rollback()
        tmp = base / f"CURRENT.{uuid.uuid4().hex[:8]}"
        tmp.write_text(json.dumps({"gen": name, "schema": SCHEMA_VERSION}), "utf-8")
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
            shutil.rmtree(child, ignore_errors=True)


def ensure_index(bind=None, timeout: float = 60.0):
    """The live index; built from the database first when missing, empty or of an older schema."""
    base = _base()
    state = _live_state(base)
    if state is None:
        with _rebuild_lock(base, timeout):
            state = _live_state(base)  # someone else may have just built it
            if state is None:
                log.info("search: building the index in %s", base)
                _reindex_locked(base, timeout, bind)
                state = _live_state(base)
    return _open(base, state)


@dataclass
class DrainReport:
    rows: int = 0
    documents: int = 0
    locked: bool = False


STATS = {"drains": 0, "locked": 0}  # per process, for tests and logs


def drain(timeout: float = 0.2, bind=None, batch: int = 5000, build_missing: bool = True) -> DrainReport:
    """Index the queued documents from the database's current state; delete the rows handled.

    When another process holds the index's lock for longer than `timeout`, nothing happens and the rows
    stay queued for the next drain.
    """
    from whoosh.index import LockError

    base = _base()
    state = _live_state(base)
    if state is None:
        if not build_missing:
            return DrainReport()
        ensure_index(bind)  # a full build covers (and clears) whatever was queued
        return DrainReport()
    ix = _open(base, state)
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
        with _work_session(bind) as session:
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
                    docs.extend(BUILDERS[doc_type](session, list(ids)))
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
            writer.update_document(**doc)
        writer.commit()
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
    with _work_session(bind) as session:
        return session.scalar(select(func.count(SearchQueue.id))) or 0


def _has_pending(bind) -> bool:
    with _work_session(bind) as session:
        return session.scalar(select(SearchQueue.id).limit(1)) is not None


# --- queueing changes, in the changing transaction -----------------------------------------------------

_PENDING = "search_pending"
_DELETING = "search_deleting"
_last_auto_drain = [0.0]


_TRACKED = (Agency, Offer, Qualification, ServiceItem, Category, ServiceRequest)


def _dependents(conn, items: set[int], categories: set[int]) -> set[tuple[str, int]]:
    """Documents that carry an item's or a category's name: its items, the agencies, the open requests."""
    targets: set[tuple[str, int]] = set()
    if categories:
        ids = conn.scalars(select(ServiceItem.id).where(ServiceItem.category_id.in_(categories))).all()
        items = items | set(ids)
        targets.update(("service", i) for i in ids)
        stmt = select(agency_category.c.agency_id).where(agency_category.c.category_id.in_(categories))
        targets.update(("agency", a) for a in conn.scalars(stmt))
    if items:
        stmt = select(Offer.agency_id).where(Offer.service_item_id.in_(items)).distinct()
        targets.update(("agency", a) for a in conn.scalars(stmt))
        stmt = select(ServiceRequest.id).where(
            ServiceRequest.service_item_id.in_(items), ServiceRequest.status == RequestStatus.BIDDING
        )
        targets.update(("request", r) for r in conn.scalars(stmt))
    return targets


def _target_of(obj) -> tuple[str, int] | None:
    if isinstance(obj, Agency):
        return ("agency", obj.id)
    if isinstance(obj, Offer | Qualification):
        return ("agency", obj.agency_id)
    if isinstance(obj, ServiceItem):
        return ("service", obj.id)
    if isinstance(obj, ServiceRequest):
        return ("request", obj.id)
    return None


def _before_flush(session: Session, _flush_context, _instances) -> None:
    """Deleted rows cannot be read after the flush: note what they belong to while they still exist."""
    deleting = session.info.setdefault(_DELETING, set())
    for obj in session.deleted:
        if isinstance(obj, Category):
            deleting |= _dependents(session.connection(), set(), {obj.id})
        elif isinstance(obj, _TRACKED):
            deleting.add(_target_of(obj))


def _targets(session: Session) -> set[tuple[str, int]]:
    """The documents a flush touches (the session still shows its pre-flush state in after_flush)."""
    targets: set[tuple[str, int]] = session.info.pop(_DELETING, set())
    items: set[int] = set()
    categories: set[int] = set()
    changed = itertools.chain(
        ((o, True) for o in session.new),
        ((o, False) for o in session.dirty),
    )
    for obj, certain in changed:
        if not isinstance(obj, _TRACKED):
            continue
        if not certain and not session.is_modified(obj, include_collections=True):
            continue
        if isinstance(obj, Category):
            categories.add(obj.id)
            continue
        targets.add(_target_of(obj))
        if isinstance(obj, ServiceItem) and not certain:
            items.add(obj.id)
    if categories or items:
        targets |= _dependents(session.connection(), items, categories)
    return {t for t in targets if t is not None and t[1] is not None}


def _queue(session: Session, targets: set[tuple[str, int]]) -> None:
    """Queue rows in the session's own transaction: they commit, or roll back, with the change."""
    rows = [{"doc_type": t, "doc_id": i} for t, i in sorted(targets) if i is not None]
    if rows:
        session.connection().execute(insert(SearchQueue.__table__), rows)
        session.info[_PENDING] = True


def _after_flush(session: Session, _flush_context) -> None:
    _queue(session, _targets(session))


def _before_bulk(state) -> None:
    """`session.execute(update(Model)…)` / `delete(Model)…` bypass the flush: queue the rows they match.
    A bulk `insert(Model)` does not say which ids it makes: it queues a full rebuild."""
    if not (state.is_update or state.is_delete or state.is_insert) or state.bind_mapper is None:
        return
    model = state.bind_mapper.class_
    if not issubclass(model, _TRACKED):
        return
    if state.is_insert:
        _queue(state.session, {(REBUILD, 0)})
        return
    where = state.statement.whereclause
    ids: list[int] = []
    if where is None and isinstance(state.parameters, list):  # bulk UPDATE by primary key
        ids = [p["id"] for p in state.parameters if isinstance(p, dict) and "id" in p]
        if not ids:
            return
    conn = state.session.connection()
    column = model.agency_id if model in (Offer, Qualification) else model.id
    stmt = select(column).distinct()
    if ids:
        stmt = stmt.where(model.id.in_(ids))
    elif where is not None:
        stmt = stmt.where(where)
    found = set(conn.scalars(stmt))
    kind = {Agency: "agency", Offer: "agency", Qualification: "agency", ServiceRequest: "request"}
    if model in kind:
        targets = {(kind[model], i) for i in found}
    elif model is ServiceItem:
        targets = {("service", i) for i in found} | _dependents(conn, found, set())
    else:
        targets = _dependents(conn, set(), found)
    _queue(state.session, targets)


def _after_commit(session: Session) -> None:
    """After a real commit that queued something: index it now (at most every SEARCH_DRAIN_INTERVAL s)."""
    if not session.info.pop(_PENDING, False) or _draining.get() or not has_app_context():
        return
    config = current_app.config
    if not config.get("SEARCH_DRAIN_ON_COMMIT", True):
        return
    try:
        bind = session.get_bind()
        if _is_external_transaction(bind):
            return  # nothing is committed yet: the enclosing transaction may still roll back
        interval = float(config.get("SEARCH_DRAIN_INTERVAL", 1.0))
        started = time.monotonic()
        if started - _last_auto_drain[0] < interval:
            return  # a burst of commits (imports, demo data): the next drain or search picks these up
        _last_auto_drain[0] = started
        # Before the first search built the index, leave the rows: that build covers them.
        drain(timeout=float(config.get("SEARCH_WRITER_TIMEOUT", 0.2)), bind=bind, build_missing=False)
    except Exception:  # the change is committed; indexing it later is fine, failing the caller is not
        log.exception("search: indexing after commit failed; the queue keeps the changes")


_registered = [False]


def register_listeners() -> None:
    """Once per process, on the Session class: catches Flask-SQLAlchemy's and any test session."""
    if _registered[0]:
        return
    _registered[0] = True
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _before_bulk)
    event.listen(Session, "after_commit", _after_commit)


register_listeners()

# --- searching -----------------------------------------------------------------------------------------


def synonyms(bind=None) -> dict[str, tuple[str, ...]]:
    """Abbreviation → full terms: the trade's list, the reverse of it, and the catalogue's aliases."""
    table: dict[str, set[str]] = {k: set(v) for k, v in TRADE_TERMS.items()}
    for k, v in _REVERSE_TERMS.items():
        table.setdefault(k, set()).update(v)
    with _work_session(bind) as session:
        rows = session.execute(select(ServiceItem.name, ServiceItem.aliases)).all()
    for name, aliases in rows:
        full = _PARENTHESES.sub("", name).strip()
        for alias in aliases or []:
            alias = alias.strip()
            if len(alias) >= 2 and alias != full and alias not in full:
                table.setdefault(alias, set()).add(full)
    return {k: tuple(sorted(v)) for k, v in table.items() if v}


def abbreviations_in(word: str, table: dict[str, tuple[str, ...]]) -> list[str]:
    """The known abbreviations inside a word, longest first where they overlap, in reading order."""
    found: list[tuple[int, str]] = []
    taken = [False] * len(word)
    for key in sorted(table, key=len, reverse=True):
        start = word.find(key)
        while start != -1:
            if not any(taken[start : start + len(key)]):
                found.append((start, key))
                for i in range(start, start + len(key)):
                    taken[i] = True
            start = word.find(key, start + 1)
    return [key for _, key in sorted(found)]


def alternatives(word: str, table: dict[str, tuple[str, ...]], limit: int = 12) -> list[str]:
    """The word and its expansions: every known abbreviation inside it replaced by what it stands for."""
    out = [word]
    options = [(key, (key, *table[key])) for key in abbreviations_in(word, table)[:3]]
    for combo in itertools.product(*(choices for _, choices in options)):
        text = word
        for (key, _), replacement in zip(options, combo, strict=True):
            text = text.replace(key, replacement, 1)
        if text not in out:
            out.append(text)
        if len(out) >= limit:
            break
    return out


@dataclass
class ParsedQuery:
    words: list[str]
    query: object | None
    terms: list[str]  # for highlighting, longest first

    @functools.cached_property
    def syllables(self) -> list[list[str]]:
        """What was typed, as runs of pinyin syllables (from characters or from Latin letters)."""
        runs: list[list[str]] = []
        for word in self.words:
            for run in _pinyin_of(word) if _HAN.search(word) else [split_pinyin(word) or []]:
                if len(run) >= 2:
                    runs.append(run)
        return runs

    @functools.cached_property
    def pinyin(self):
        """The fallback when nothing matches: every syllable pair of the query in the pinyin field."""
        from whoosh import query as Q

        pairs = dict.fromkeys(p for run in self.syllables for p in _pairs(run))
        return Q.And([Q.Term("pinyin", p) for p in pairs]) if pairs else None


def parse(q: str, table: dict[str, tuple[str, ...]]) -> ParsedQuery:
    """Words (split on spaces) must all match; each word matches as typed OR as any expansion of it."""
    from whoosh import query as Q

    words = [w for w in re.split(r"\s+", q.strip()) if w]
    word_queries = []
    highlight: set[str] = set()
    for word in words:
        typed = tokens(word)
        # Shown in <mark>: what was typed (and its words), and the full terms its abbreviations stand for.
        highlight.update([word, *(t for t in typed if len(t) > 1 or len(typed) == 1)])
        for key in abbreviations_in(word, table):
            highlight.update(table[key])
        alt_queries = []
        for alt in alternatives(word, table):
            toks = typed if alt == word else tokens(alt)
            if toks:
                alt_queries.append(Q.And([Q.Or([Q.Term(f, t) for f in TEXT_FIELDS]) for t in toks]))
        if alt_queries:
            word_queries.append(Q.Or(alt_queries) if len(alt_queries) > 1 else alt_queries[0])
    query = (Q.And(word_queries) if len(word_queries) > 1 else word_queries[0]) if word_queries else None
    return ParsedQuery(words, query, sorted(highlight, key=len, reverse=True))


@dataclass
class Hit:
    type: str
    id: int
    title: str
    snippet: str
    subtitle: str
    region: str
    score: float
    extra: dict
    terms: list[str] = field(default_factory=list, repr=False)
    syllables: list[list[str]] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        if self.type == "agency":
            return url_for("agencies.store", agency_id=self.id)
        if self.type == "service":
            return url_for("catalogue.item", item_id=self.id)
        return url_for("requests.detail", request_id=self.id)

    @property
    def title_html(self) -> Markup:
        return highlight(self.title, self.terms, self.syllables)

    @property
    def snippet_html(self) -> Markup:
        return highlight(self.snippet, self.terms, self.syllables)


@dataclass
class SearchResult:
    q: str
    type: str | None
    page: int
    per_page: int
    hits: list[Hit]
    counts: dict[str, int]
    mode: str  # exact | corrected (a sound-alike term) | pinyin (syllables) | none
    seconds: float = 0.0
    corrected: str | None = None  # the query actually run in mode "corrected"

    @property
    def total(self) -> int:
        return self.counts.get(self.type, 0) if self.type else sum(self.counts.values())

    @property
    def all_total(self) -> int:
        return sum(self.counts.values())

    # The attributes templates' pager expects (like Flask-SQLAlchemy's Pagination).
    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, left_edge=1, left_current=2, right_current=2, right_edge=1) -> Iterable[int | None]:
        last = 0
        for num in range(1, self.pages + 1):
            if (
                num <= left_edge
                or self.page - left_current - 1 < num < self.page + right_current + 1
                or num > self.pages - right_edge
            ):
                if last + 1 != num:
                    yield None
                yield num
                last = num

    def pagination(self) -> dict:
        """The X-Pagination header, as flask-smorest writes it for the other lists."""
        info = {"total": self.total, "total_pages": self.pages}
        if self.pages:
            info.update(first_page=1, last_page=self.pages, page=self.page)
            if self.has_prev:
                info["previous_page"] = self.prev_num
            if self.has_next:
                info["next_page"] = self.next_num
        return info


def sound_alike(words: list[str], table: dict[str, tuple[str, ...]]) -> str | None:
    """The query with each word that sounds like a known term (环平 → 环评, cehui → 测绘) replaced by it."""
    vocabulary: dict[tuple[str, ...], str] = {}
    for term in sorted({*table, *(v for values in table.values() for v in values)}, key=len):
        if _HAN.fullmatch(term):
            vocabulary.setdefault(_syllables(term), term)
    changed, out = False, []
    for word in words:
        sounds = _syllables(word) if _HAN.fullmatch(word) else tuple(split_pinyin(word) or ())
        term = vocabulary.get(sounds) if len(sounds) >= 2 else None
        if term and term != word:
            out.append(term)
            changed = True
        else:
            out.append(word)
    return " ".join(out) if changed else None


def search(
    q: str, doc_type: str | None = None, page: int = 1, per_page: int = 10, refresh: bool = True
) -> SearchResult:
    """Search the index. `refresh` first builds a missing index and indexes queued changes (cheaply).

    When nothing matches, a word that sounds like a known term is replaced by it (mode "corrected"),
    and failing that the pinyin field finds documents with the same syllables (mode "pinyin")."""
    started = time.perf_counter()
    q = (q or "").strip()
    bind = db.session.get_bind()
    if refresh:
        ensure_index(bind)
        try:
            if _has_pending(bind):
                drain(timeout=float(current_app.config.get("SEARCH_WRITER_TIMEOUT", 0.2)), bind=bind)
        except Exception:  # stale results beat no results; the queue keeps the changes
            log.exception("search: indexing queued changes before a search failed")
    state = _live_state(_base())  # (a drain may have rebuilt the index into a new generation)
    if state is None:
        return SearchResult(q, doc_type, page, per_page, [], dict.fromkeys(DOC_TYPES, 0), "none")
    ix = _open(_base(), state)
    table = synonyms(bind)
    parsed = parse(q, table)
    result = SearchResult(q, doc_type, page, per_page, [], dict.fromkeys(DOC_TYPES, 0), "none")
    with ix.searcher() as searcher:

        def attempt(query, terms: list[str], sounds: list[list[str]]) -> bool:
            if query is None:
                return False
            found = searcher.search(query, limit=None, groupedby="type")
            groups = found.groups("type")
            if not any(groups.values()):
                return False
            result.counts.update({t: len(groups.get(t, [])) for t in DOC_TYPES})
            ranked = list(found.items())
            if doc_type:
                keep = set(groups.get(doc_type, []))
                ranked = [pair for pair in ranked if pair[0] in keep]
            start = (page - 1) * per_page
            for docnum, score in ranked[start : start + per_page]:
                stored = searcher.stored_fields(docnum)
                result.hits.append(
                    Hit(
                        type=stored["type"],
                        id=stored["doc_id"],
                        title=stored["title"],
                        snippet=snippet(stored.get("body") or "", terms, sounds),
                        subtitle=stored.get("subtitle") or "",
                        region=stored.get("region") or "",
                        score=round(float(score), 4),
                        extra=stored.get("extra") or {},
                        terms=terms,
                        syllables=sounds,
                    )
                )
            return True

        if attempt(parsed.query, parsed.terms, []):
            result.mode = "exact"
        elif parsed.syllables:
            corrected = sound_alike(parsed.words, table)
            better = parse(corrected, table) if corrected else None
            if better is not None and attempt(better.query, better.terms, []):
                result.mode, result.corrected = "corrected", corrected
            elif attempt(parsed.pinyin, parsed.terms, parsed.syllables):
                result.mode = "pinyin"
    result.seconds = time.perf_counter() - started
    return result


# --- showing matches -----------------------------------------------------------------------------------


def _spans(text: str, terms: list[str], syllables: list[list[str]]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    if terms:
        pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
        spans.extend(m.span() for m in pattern.finditer(text))
    if syllables and _HAN.search(text):
        from pypinyin import lazy_pinyin

        for m in _HAN.finditer(text):
            sounds = lazy_pinyin(m.group())
            for run in syllables:
                n = len(run)
                for i in range(len(sounds) - n + 1):
                    if sounds[i : i + n] == run:
                        spans.append((m.start() + i, m.start() + i + n))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, terms: list[str], syllables: list[list[str]] | None = None) -> Markup:
    """The text, HTML-escaped, with the matched terms in <mark>."""
    out = []
    last = 0
    for start, end in _spans(text, terms, syllables or []):
        out.append(escape(text[last:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def snippet(body: str, terms: list[str], syllables: list[list[str]] | None = None, width: int = 110) -> str:
    """A window of the body around its first match (or its beginning)."""
    body = re.sub(r"\s+", " ", body).strip()
    if len(body) <= width:
        return body
    spans = _spans(body, terms, syllables or [])
    start = max(0, spans[0][0] - 25) if spans else 0
    end = min(len(body), start + width)
    start = max(0, end - width)
    return ("…" if start else "") + body[start:end] + ("…" if end < len(body) else "")


def document_counts() -> dict[str, int] | None:
    """Documents per type in the live index; None when there is no index yet."""
    base = _base()
    state = _live_state(base)
    if state is None:
        return None
    from whoosh.query import Term

    with _open(base, state).searcher() as searcher:
        return {t: len(searcher.search(Term("type", t), limit=1)) for t in DOC_TYPES}
