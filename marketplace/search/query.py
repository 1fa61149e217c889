"""Searching: the query as typed, its abbreviations and aliases expanded, and the sound-alike and pinyin
fallbacks.

jieba segments Chinese; trade abbreviations (环评, 安评 …) and the catalogue's aliases are expanded and ORed with
what was typed. When nothing matches, a word that sounds like a known term is searched as that term (环平 → 环评,
huanping → 环评), and failing that the pinyin field matches the syllables (cehui → 测绘).
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from marketplace.catalogue.models import ServiceItem
from marketplace.extensions import db
from marketplace.search.analysis import (
    HAN,
    PARENTHESES,
    REVERSE_TERMS,
    TRADE_TERMS,
    pinyin_of,
    pinyin_pairs,
    split_pinyin,
    syllables_of,
    tokens,
)
from marketplace.search.documents import DOC_TYPES
from marketplace.search.index import (
    TEXT_FIELDS,
    drain,
    ensure_index,
    has_pending,
    index_dir,
    live_state,
    open_index,
    work_session,
)
from marketplace.search.results import Hit, SearchResult, snippet

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 100


def synonyms(bind=None) -> dict[str, tuple[str, ...]]:
    """Abbreviation → full terms: the trade's list, the reverse of it, and the catalogue's aliases."""
    table: dict[str, set[str]] = {k: set(v) for k, v in TRADE_TERMS.items()}
    for k, v in REVERSE_TERMS.items():
        table.setdefault(k, set()).update(v)
    with work_session(bind) as session:
        rows = session.execute(select(ServiceItem.name, ServiceItem.aliases)).all()
    for name, aliases in rows:
        full = PARENTHESES.sub("", name).strip()
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


def sound_alike(words: list[str], table: dict[str, tuple[str, ...]]) -> str | None:
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
    state = live_state(index_dir())  # (a drain may have rebuilt the index into a new generation)
    if state is None:
        return SearchResult(q, doc_type, page, per_page, [], dict.fromkeys(DOC_TYPES, 0), "none")
    ix = open_index(index_dir(), state)
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
