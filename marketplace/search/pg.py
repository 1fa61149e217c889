"""SEARCH_BACKEND=postgres: the documents in the `search_document` table, shared by every machine.

The same documents as the Whoosh index (documents.py), their text segmented by the same jieba analyzer into
`title_lexemes` and `lexemes` (pinyin pairs as `py…` words); PostgreSQL turns them into a generated tsvector
('simple' configuration: the words as they are, title words weighted A) with a GIN index (migration 0028).
A query is the Whoosh query tree query.py builds, written as a tsquery: the same words, abbreviations,
aliases and pinyin fallback, so both backends answer alike. Hits come in the same order as Whoosh's: those
whose title matches first (`title_tsv`, migration 0033), then by the static rank, the database keeping the top
N (see run()); counts stop at topn.COUNT_CAP per kind.

The same queue (hooks.py) keeps the table current: drained after commit and before a search, rows taken
with SKIP LOCKED so several machines drain side by side.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from marketplace.search import topn
from marketplace.search.analysis import analyzer
from marketplace.search.documents import DOC_TYPES, TYPE_BASE, build, vocabulary_of
from marketplace.search.models import SearchDocument, SearchQueue
from marketplace.search.sessions import work_session
from marketplace.search.vocabulary import synonyms

_WORD = re.compile(r"[^\W_]+")  # what PostgreSQL's parser keeps as one word: no punctuation, no underscore
_BATCH = 1000
# One row that is not a document: the vocabulary the documents' `t…` words were listed with (as Whoosh keeps
# it in CURRENT), so documents and queries agree until the next rebuild. Its presence means "built".
META_KEY = "meta:vocabulary"


class BackendUnavailable(RuntimeError):
    """SEARCH_BACKEND=postgres on a database that is not PostgreSQL."""


def check(bind) -> None:
    name = bind.dialect.name
    if name != "postgresql":
        raise BackendUnavailable(
            f"SEARCH_BACKEND=postgres needs a PostgreSQL database (DATABASE_URL is {name}); "
            "use SEARCH_BACKEND=whoosh on this database"
        )


# --- documents as lexemes --------------------------------------------------------------------------------


def words(text_: str) -> list[str]:
    """The index terms of a text, as the Whoosh index makes them, each cut to what PostgreSQL keeps as a word."""
    return list(_words(text_)) if text_ else []


@functools.lru_cache(maxsize=20_000)
def _words(text_: str) -> tuple[str, ...]:
    """(Cached: agencies share their category and item names, and places: a rebuild segments each once.)"""
    return tuple(w for token in analyzer()(text_) for w in _WORD.findall(token.text.lower()))


def pinyin_word(pair: str) -> str:
    return "py" + "".join(_WORD.findall(pair.lower()))


def term_word(term: str) -> str:
    """A multi-word term of the vocabulary the document contains (Whoosh's `terms` field)."""
    return "t" + "".join(_WORD.findall(term.lower()))


def row_of(doc: dict) -> dict:
    rest = [*words(doc["names"]), *words(doc["body"]), *words(doc["place"])]
    rest.extend(pinyin_word(p) for p in doc["pinyin"].split())
    rest.extend(term_word(t) for t in doc["terms"].split())
    return {
        "key": doc["key"],
        "doc_type": doc["type"],
        "doc_id": doc["doc_id"],
        "title": doc["title"],
        "subtitle": doc["subtitle"] or "",
        "region": doc["region"] or "",
        "body": doc["body"] or "",
        "extra": doc["extra"] or {},
        "rank": doc["rank"],
        "title_lexemes": " ".join(words(doc["title"])),
        "lexemes": " ".join(rest),
    }


def _upsert(session, rows: list[dict]) -> None:
    if not rows:
        return
    stmt = pg_insert(SearchDocument.__table__).values(rows)
    columns = {c: stmt.excluded[c] for c in rows[0] if c != "key"}
    session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=columns))


# --- queries as tsquery ------------------------------------------------------------------------------------


def tsquery(query, weight: str = "") -> str | None:
    """A Whoosh query tree (And / Or / Term) as a to_tsquery string; `weight` "A": the title's words only."""
    from whoosh import query as Q

    suffix = f":{weight}" if weight else ""
    if isinstance(query, Q.Term):
        if query.fieldname == "pinyin":
            parts = [pinyin_word(query.text)]
        elif query.fieldname == "terms":
            parts = [term_word(query.text)]
        else:
            parts = _WORD.findall(str(query.text).lower())
        parts = [p + suffix for p in parts if p]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"
    if isinstance(query, Q.And | Q.Or):
        subs = list(dict.fromkeys(s for s in (tsquery(q, weight) for q in query.subqueries) if s))
        if not subs:
            return None
        joiner = " & " if isinstance(query, Q.And) else " | "
        return subs[0] if len(subs) == 1 else "(" + joiner.join(subs) + ")"
    raise TypeError(f"cannot write {type(query).__name__} as a tsquery")


# --- state, rebuilding, draining ---------------------------------------------------------------------------


def vocabulary(bind) -> list[str] | None:
    """The vocabulary the table was built with; None when it was never built."""
    check(bind)
    with work_session(bind) as session:
        extra = session.scalar(select(SearchDocument.extra).where(SearchDocument.key == META_KEY))
    return None if extra is None else list(extra.get("vocabulary", []))


def is_built(bind) -> bool:
    return vocabulary(bind) is not None


def document_counts(bind) -> dict[str, int] | None:
    check(bind)
    with work_session(bind) as session:
        counts = dict(
            session.execute(
                select(SearchDocument.doc_type, func.count()).group_by(SearchDocument.doc_type)
            ).all()
        )
    if "meta" not in counts:
        return None
    return {t: counts.get(t, 0) for t in DOC_TYPES}


def catalogue_version(bind) -> str:
    """Changes whenever an item's indexed words change (the synonyms table of the aliases is cached by it)."""
    with work_session(bind) as session:
        return session.scalar(
            text(
                "SELECT md5(coalesce(string_agg(title || ' ' || lexemes, '|' ORDER BY key), '')) "
                "FROM search_document WHERE doc_type = 'service'"
            )
        )


@dataclass
class PgReindexReport:
    counts: dict[str, int]
    seconds: float
    generation: str = "search_document"


def reindex(bind, progress=None) -> PgReindexReport:
    """Rebuild the table from the database in one transaction: searches see the old rows until it commits."""
    from marketplace.search.index import PROGRESS_EVERY

    check(bind)
    started = time.perf_counter()
    counts = dict.fromkeys(DOC_TYPES, 0)
    with work_session(bind) as session:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('search_document_reindex'))"))
        high = session.scalar(select(func.max(SearchQueue.id)))
        session.execute(delete(SearchDocument))
        words_listed = vocabulary_of(synonyms(session))
        meta = {"key": META_KEY, "doc_type": "meta", "doc_id": 0, "title": "", "subtitle": "", "region": ""}
        meta |= {
            "body": "",
            "extra": {"vocabulary": words_listed},
            "rank": 0.0,
            "title_lexemes": "",
            "lexemes": "",
        }
        _upsert(session, [meta])
        for doc_type in DOC_TYPES:
            batch: list[dict] = []
            for doc in build(doc_type, session, None, words_listed):
                batch.append(row_of(doc))
                counts[doc_type] += 1
                if len(batch) >= _BATCH:
                    _upsert(session, batch)
                    batch = []
                if progress and counts[doc_type] % PROGRESS_EVERY == 0:
                    progress(doc_type, counts[doc_type])
            _upsert(session, batch)
            if progress:
                progress(doc_type, counts[doc_type])
        if high is not None:
            session.execute(delete(SearchQueue).where(SearchQueue.id <= high))
        session.commit()
    return PgReindexReport(counts, time.perf_counter() - started)


def drain(bind, batch: int = 5000):
    """Write the queued documents from the database's current state; delete the rows handled. Rows another
    machine is draining are skipped (SKIP LOCKED), not waited for."""
    from marketplace.search.index import REBUILD, DrainReport

    words_listed = vocabulary(bind) or []
    with work_session(bind) as session:
        rows = session.execute(
            select(SearchQueue.id, SearchQueue.doc_type, SearchQueue.doc_id)
            .order_by(SearchQueue.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return DrainReport()
        if any(doc_type == REBUILD for _, doc_type, _ in rows):
            session.rollback()
            report = reindex(bind)
            return DrainReport(rows=len(rows), documents=sum(report.counts.values()))
        wanted: dict[str, set[int]] = {t: set() for t in DOC_TYPES}
        for _, doc_type, doc_id in rows:
            if doc_type in wanted:
                wanted[doc_type].add(doc_id)
        found: list[dict] = []
        for doc_type, ids in wanted.items():
            if ids:
                found.extend(row_of(doc) for doc in build(doc_type, session, list(ids), words_listed))
        keys = {f"{t}:{i}" for t, ids in wanted.items() for i in ids}
        gone = sorted(keys - {row["key"] for row in found})  # gone, or no longer public
        if gone:
            session.execute(delete(SearchDocument).where(SearchDocument.key.in_(gone)))
        for start in range(0, len(found), _BATCH):
            _upsert(session, found[start : start + _BATCH])
        session.execute(delete(SearchQueue).where(SearchQueue.id.in_([r[0] for r in rows])))
        session.commit()
    return DrainReport(rows=len(rows), documents=len(keys))


# --- searching ----------------------------------------------------------------------------------------------

_COLUMNS = "key, doc_type, doc_id, title, subtitle, region, body, extra, rank"
_MATCH = "tsv @@ to_tsquery('simple', :q)"
_TITLE = "title_tsv @@ to_tsquery('simple', :tq)"
# The plan of a top-N query, chosen by how many rows match (PostgreSQL's estimate for a tsquery can be far
# off): a broad one walks ix_search_document_rank from the top and stops after N matches; a narrow one takes
# its few matches from the GIN index and sorts them.
_BROAD = (
    "SET LOCAL enable_bitmapscan = off",
    "SET LOCAL enable_seqscan = off",
    "SET LOCAL enable_indexscan = on",
)
_NARROW = (
    "SET LOCAL enable_bitmapscan = on",
    "SET LOCAL enable_seqscan = on",
    "SET LOCAL enable_indexscan = off",
)


def _kind(doc_type: str | None) -> str:
    """Rows of one kind, written so that the rank index can serve it (each kind has its own band of ranks)."""
    if not doc_type:
        return ""
    base = TYPE_BASE[doc_type]
    return f" AND doc_type = :t AND rank >= {base!r} AND rank < {base + 1.0!r}"


def _count(session, where: str, params: dict) -> int:
    """Matching rows, counting no further than topn.COUNT_CAP + 1."""
    return session.scalar(
        text(f"SELECT count(*) FROM (SELECT 1 FROM search_document WHERE {where} LIMIT :cap) s"),
        {**params, "cap": topn.COUNT_CAP + 1},
    )


def _top(session, where: str, params: dict, broad: bool, n: int) -> list[dict]:
    if n <= 0:
        return []
    for setting in _BROAD if broad else _NARROW:
        session.execute(text(setting))
    rows = session.execute(
        text(f"SELECT {_COLUMNS} FROM search_document WHERE {where} ORDER BY rank DESC, doc_id LIMIT :n"),
        {**params, "n": n},
    ).mappings()
    return [dict(row) for row in rows]


def run(bind, query, title_query, doc_type: str | None, start: int, end: int):
    """(counts per type, the hits from position start to end as (stored fields, title matched), the types whose
    count stopped at COUNT_CAP), or None when the query has no words PostgreSQL can search.

    Hits: the top `end` by static rank of those whose title matches, then of the others: never more rows
    read than the page needs (topn.py does the same in the Whoosh index)."""
    q = tsquery(query)
    if q is None:
        return None
    tq = tsquery(title_query) if title_query is not None else None
    params = {"q": q, "tq": tq, "t": doc_type}
    with work_session(bind) as session:
        # Counting goes through the GIN index (a bitmap of the matches): the planner's estimate for a broad
        # tsquery makes it read the table instead, detoasting every row's tsvector (5× slower at 100k).
        session.execute(text("SET LOCAL enable_seqscan = off"))
        counts, capped = {}, set()
        for kind in topn.ORDER:
            n = _count(session, _MATCH + _kind(kind), {**params, "t": kind})
            if n > topn.COUNT_CAP:
                n = topn.COUNT_CAP
                capped.add(kind)
            if n:
                counts[kind] = n
        if not counts:
            session.rollback()
            return {}, [], set()
        scope = _MATCH + _kind(doc_type)
        broad = bool(capped & ({doc_type} if doc_type else set(topn.ORDER)))
        first: list[dict] = []
        if tq:
            titled = f"{scope} AND {_TITLE}"
            first = _top(session, titled, params, _count(session, titled, params) > topn.COUNT_CAP, end)
        rest: list[dict] = []
        if len(first) < end:
            rest = _top(
                session, f"{scope} AND NOT {_TITLE}" if tq else scope, params, broad, end - len(first)
            )
        session.rollback()
    ranked = [(row, True) for row in first] + [(row, False) for row in rest]
    return counts, ranked[start:end], capped
