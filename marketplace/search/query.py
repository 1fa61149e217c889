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
    drain,
    ensure_index,
    has_pending,
    index_dir,
    live_state,
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


def _in_any_field(token: str):
    from whoosh import query as Q

    return Q.Or([Q.Term(f, token) for f in TEXT_FIELDS])


def _expansion(text: str, put_in: tuple[str, ...], vocabulary: frozenset[str]):
    """An expansion of a word: the full terms it put in (one posting list each where the index lists them in
    its `terms` field) and the words of the rest."""
    from whoosh import query as Q

    parts, rest = [], text
    for term in put_in:
        if term.lower() in vocabulary:
            parts.append(Q.Term("terms", term.lower()))
            rest = rest.replace(term, " ", 1)
    parts.extend(_in_any_field(t) for t in tokens(rest))
    return Q.And(parts) if parts else None


def parse(q: str, table: Table, vocabulary: frozenset[str] = frozenset()) -> ParsedQuery:
    """Words (split on spaces) must all match; each word matches as typed OR as any expansion of it.
    `vocabulary`: the terms the index lists per document (see vocabulary.py)."""
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
        alt_queries = [Q.And([_in_any_field(t) for t in typed])] if typed else []
        for text, put_in in expansions(word, table):
            alt = _expansion(text, put_in, vocabulary)
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


def _synonyms(bind, version: tuple[str, int]) -> Table:
    """The synonyms table, read again when the index changed: a change to the catalogue is queued and
    indexed like any other, so a new index version follows every change to the aliases."""
    cached_version, table = _tables.get("latest", (None, None))
    if cached_version != version:
        with work_session(bind) as session:
            table = synonyms(session)
        _tables["latest"] = (version, table)
    return table


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
            if has_pending(bind):
                drain(timeout=float(current_app.config.get("SEARCH_WRITER_TIMEOUT", 0.2)), bind=bind)
        except Exception:  # stale results beat no results; the queue keeps the changes
            log.exception("search: indexing queued changes before a search failed")
    base = index_dir()
    state = live_state(base)  # (a drain may have rebuilt the index into a new generation)
    if state is None:
        return SearchResult(q, doc_type, page, per_page, [], dict.fromkeys(DOC_TYPES, 0), "none")
    result = SearchResult(q, doc_type, page, per_page, [], dict.fromkeys(DOC_TYPES, 0), "none")
    with searching(base, state) as searcher:
        table = _synonyms(bind, (str(base / state["gen"]), searcher.ixreader.generation()))
        vocabulary = frozenset(state.get("vocabulary", ()))
        parsed = parse(q, table, vocabulary)

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
            better = parse(corrected, table, vocabulary) if corrected else None
            if better is not None and attempt(better.query, better.terms, []):
                result.mode, result.corrected = "corrected", corrected
            elif attempt(parsed.pinyin, parsed.terms, parsed.syllables):
                result.mode = "pinyin"
    result.seconds = time.perf_counter() - started
    return result
