"""Searching: the query as typed, its abbreviations and aliases expanded, and the sound-alike and pinyin
fallbacks.

jieba segments Chinese; trade abbreviations (环评, 安评 …) and the catalogue's aliases are expanded and ORed with
what was typed. When nothing matches, a word that sounds like a known term is searched as that term (环平 → 环评,
huanping → 环评), and failing that the pinyin field matches the syllables (cehui → 测绘).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from dataclasses import dataclass

from flask import current_app

from marketplace.extensions import db
from marketplace.search import pg, topn
from marketplace.search.analysis import (
    HAN,
    pinyin_of,
    pinyin_pairs,
    split_pinyin,
    syllables_of,
    tokens,
)
from marketplace.search.documents import DOC_TYPES, TEXT_FIELDS
from marketplace.search.index import (
    RANK_SCALE,
    IndexNotReady,
    drain,
    has_pending,
    index_dir,
    live_state,
    refresh_due,
    searching,
)
from marketplace.search.results import Hit, SearchResult, snippet
from marketplace.search.sessions import work_session
from marketplace.search.vocabulary import Table, abbreviations_in, expansions, synonyms

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 100


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
            for run in pinyin_of(word) if HAN.search(word) else [split_pinyin(word) or []]:
                if len(run) >= 2:
                    runs.append(run)
        return runs

    @functools.cached_property
    def pinyin(self):
        """The fallback when nothing matches: every syllable pair of the query in the pinyin field."""
        from whoosh import query as Q

        pairs = dict.fromkeys(p for run in self.syllables for p in pinyin_pairs(run))
        return Q.And([Q.Term("pinyin", p) for p in pairs]) if pairs else None


def _in_any_field(token: str, fields: tuple[str, ...] = TEXT_FIELDS):
    from whoosh import query as Q

    return Q.Or([Q.Term(f, token) for f in fields]) if len(fields) > 1 else Q.Term(fields[0], token)


def _expansion(text: str, put_in: tuple[str, ...], vocabulary: frozenset[str], fields=TEXT_FIELDS):
    """An expansion of a word: the full terms it put in (one posting list each where the index lists them in
    its `terms` field) and the words of the rest."""
    from whoosh import query as Q

    parts, rest = [], text
    for term in put_in:
        if term.lower() in vocabulary:
            parts.append(Q.Term("terms", term.lower()))
            rest = rest.replace(term, " ", 1)
    parts.extend(_in_any_field(t, fields) for t in tokens(rest))
    return Q.And(parts) if parts else None


def parse(
    q: str, table: Table, vocabulary: frozenset[str] = frozenset(), fields: tuple[str, ...] = TEXT_FIELDS
) -> ParsedQuery:
    """Words (split on spaces) must all match; each word matches as typed OR as any expansion of it.
    `vocabulary`: the terms the index lists per document (see vocabulary.py); `fields`: where words may match
    (the title alone for the title tier)."""
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
        alt_queries = [Q.And([_in_any_field(t, fields) for t in typed])] if typed else []
        for text, put_in in expansions(word, table):
            alt = _expansion(text, put_in, vocabulary, fields)
            if alt is not None:
                alt_queries.append(alt)
        if alt_queries:
            word_queries.append(Q.Or(alt_queries) if len(alt_queries) > 1 else alt_queries[0])
    query = (Q.And(word_queries) if len(word_queries) > 1 else word_queries[0]) if word_queries else None
    return ParsedQuery(words, query, sorted(highlight, key=len, reverse=True))


def sound_alike(words: list[str], table: Table) -> str | None:
    """The query with each word that sounds like a known term (环平 → 环评, cehui → 测绘) replaced by it."""
    vocabulary: dict[tuple[str, ...], str] = {}
    for term in sorted({*table, *(v for values in table.values() for v in values)}, key=len):
        if HAN.fullmatch(term):
            vocabulary.setdefault(syllables_of(term), term)
    changed, out = False, []
    for word in words:
        sounds = syllables_of(word) if HAN.fullmatch(word) else tuple(split_pinyin(word) or ())
        term = vocabulary.get(sounds) if len(sounds) >= 2 else None
        if term and term != word:
            out.append(term)
            changed = True
        else:
            out.append(word)
    return " ".join(out) if changed else None


_tables: dict[str, tuple] = {}  # "latest": (index version, table)


def _synonyms(bind, version) -> Table:
    """The synonyms table, read again when the index changed: a change to the catalogue is queued and
    indexed like any other, so a new index version follows every change to the aliases."""
    cached_version, table = _tables.get("latest", (None, None))
    if cached_version != version:
        with work_session(bind) as session:
            table = synonyms(session)
        _tables["latest"] = (version, table)
    return table


# --- the backends: the top N hits by (title tier, static rank), and counts per type ------------------------

Page = tuple[
    dict[str, int], list[tuple[dict, bool]], set[str]
]  # counts per type; (stored fields, title matched) per hit; the types whose count stopped at COUNT_CAP


def _whoosh_page(searcher, state, query, title_query, doc_type: str | None, start: int, end: int) -> Page:
    """The top `end` hits by static rank, no scoring (topn.py): those whose title matches first (the top
    `end` of them), then the others in rank order (the top `end` of all hits hold enough of them)."""
    leaves = topn.leaves(searcher, state)
    found = [topn.bits(leaf, query) for leaf in leaves]  # the matches as bitsets, one per segment
    counts, capped = topn.count(leaves, found)
    if not any(counts.values()):
        return {}, [], set()
    first: list[int] = []
    titled = [0] * len(leaves)
    if title_query is not None:
        titled = [b and b & topn.bits(leaf, title_query) for leaf, b in zip(leaves, found, strict=True)]
        first = topn.top(leaves, titled, doc_type, end)
    rest: list[int] = []
    if len(first) < end:
        others = [b & ~t for b, t in zip(found, titled, strict=True)]
        rest = topn.top(leaves, others, doc_type, end - len(first))
    ranked = [(d, True) for d in first] + [(d, False) for d in rest]
    hits = []
    for docnum, matched in ranked[start:end]:
        stored = searcher.stored_fields(docnum)
        hits.append(({**stored, "rank": (stored.get("rank") or 0) / RANK_SCALE}, matched))
    return counts, hits, capped


def _not_ready() -> IndexNotReady:
    return IndexNotReady("the search index is being built; run `flask search reindex`")


def search(
    q: str, doc_type: str | None = None, page: int = 1, per_page: int = 10, refresh: bool = True
) -> SearchResult:
    """Search the configured backend. `refresh` first indexes queued changes (cheaply). Never builds a missing
    index: raises IndexNotReady (`flask search reindex` and the clock build it).

    When nothing matches, a word that sounds like a known term is replaced by it (mode "corrected"),
    and failing that the pinyin field finds documents with the same syllables (mode "pinyin")."""
    started = time.perf_counter()
    q = (q or "").strip()
    bind = db.session.get_bind()
    postgres = current_app.config.get("SEARCH_BACKEND", "whoosh") == "postgres"
    if postgres:
        listed = pg.vocabulary(bind)  # None: never built
        if listed is None:
            raise _not_ready()
    elif live_state(index_dir()) is None:
        raise _not_ready()
    every = float(current_app.config.get("SEARCH_REFRESH_SECONDS") or 0)
    by_clock = bool(current_app.config.get("SEARCH_INDEX_BY_CLOCK"))
    if refresh and not by_clock and (postgres or refresh_due(index_dir(), every)):
        try:
            if has_pending(bind):
                timeout = float(current_app.config.get("SEARCH_WRITER_TIMEOUT", 0.2))
                pg.drain(bind) if postgres else drain(timeout=timeout, bind=bind)
        except Exception:  # stale results beat no results; the queue keeps the changes
            log.exception("search: indexing queued changes before a search failed")
    result = SearchResult(q, doc_type, page, per_page, [], dict.fromkeys(DOC_TYPES, 0), "none")
    start, end = (page - 1) * per_page, page * per_page
    if postgres:
        table = _synonyms(bind, ("postgres", pg.catalogue_version(bind)))
        vocabulary = frozenset(listed)  # what the table's documents were listed with
        _run(result, table, vocabulary, lambda query, title: pg.run(bind, query, title, doc_type, start, end))
    else:
        base = index_dir()
        state = live_state(base)  # (a drain may have rebuilt the index into a new generation)
        if state is None:
            raise _not_ready()
        with searching(base, state, max_age=every) as searcher:
            table = _synonyms(bind, (str(base / state["gen"]), searcher.ixreader.generation()))
            vocabulary = frozenset(state.get("vocabulary", ()))
            _run(
                result,
                table,
                vocabulary,
                lambda query, title: _whoosh_page(searcher, state, query, title, doc_type, start, end),
            )
    result.seconds = time.perf_counter() - started
    return result


def _run(result: SearchResult, table: Table, vocabulary: frozenset[str], page_of) -> None:
    """The query as typed; failing that, its sound-alike correction; failing that, its pinyin syllables."""
    parsed = parse(result.q, table, vocabulary)

    def attempt(query, title_query, terms: list[str], sounds: list[list[str]]) -> bool:
        if query is None:
            return False
        answer = page_of(query, title_query)
        if not answer or not answer[0]:
            return False
        counts, hits, capped = answer
        result.counts.update({t: counts.get(t, 0) for t in DOC_TYPES})
        result.capped = set(capped)
        for stored, title_matched in hits:
            result.hits.append(
                Hit(
                    type=stored.get("type") or stored["doc_type"],
                    id=stored["doc_id"],
                    title=stored["title"],
                    snippet=snippet(stored.get("body") or "", terms, sounds),
                    subtitle=stored.get("subtitle") or "",
                    region=stored.get("region") or "",
                    score=round(float(stored.get("rank") or 0.0) + (TITLE_TIER if title_matched else 0.0), 4),
                    extra=stored.get("extra") or {},
                    terms=terms,
                    syllables=sounds,
                )
            )
        return True

    def title_of(q: str):
        return parse(q, table, frozenset(), fields=("title",)).query

    if attempt(parsed.query, title_of(result.q), parsed.terms, []):
        result.mode = "exact"
    elif parsed.syllables:
        corrected = sound_alike(parsed.words, table)
        better = parse(corrected, table, vocabulary) if corrected else None
        if better is not None and attempt(better.query, title_of(corrected), better.terms, []):
            result.mode, result.corrected = "corrected", corrected
        elif attempt(parsed.pinyin, None, parsed.terms, parsed.syllables):
            result.mode = "pinyin"


TITLE_TIER = (
    10.0  # added to the static rank in a hit's score when its title matches (hits whose title matches first)
)
