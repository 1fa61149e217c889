"""The top N hits of a Whoosh query by the static rank, without scoring nor visiting every hit.

A full rebuild writes the documents in static-rank order (service items, agencies, open announcements; within
a kind the highest rank first, ties by id) into one segment, the *ranked* segment, and notes in CURRENT its id
and the docnum range of each kind. In that segment the first N matches in docnum order ARE the top N by rank:
the N lowest bits of the query's bitset (see bits()); counts are bit counts per kind's range, shown up to
COUNT_CAP as PostgreSQL counts them.
Documents changed since (drained into later, small segments) are collected whole and merged by their rank
column; drains never merge the ranked segment (keep_ranked), and the clock rebuilds once they hold more than
DELTA_LIMIT documents (backends.missing_ids).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from itertools import accumulate

COUNT_CAP = 1000  # counts stop here per kind: "1,000+"
DELTA_LIMIT = 5000  # documents outside the ranked segment before the clock rebuilds the index
ORDER = ("service", "agency", "request")  # the kinds in static-rank order (documents.TYPE_BASE)


def sort_key(doc: dict) -> tuple:
    """The order documents are written in by a full rebuild: the same as PostgreSQL's ORDER BY."""
    return (-doc["rank"], doc["doc_id"])


@dataclass
class Leaf:
    searcher: object
    offset: int
    ranges: dict[str, tuple[int, int]] | None  # docnum range per kind in the ranked segment; None elsewhere

    def column(self, name: str):
        return self.searcher.reader().column_reader(name)

    @property
    def reader(self):
        return self.searcher.reader()


def _segment_id(reader) -> str | None:
    segment = getattr(reader, "segment", None)
    return segment().segment_id() if segment else None


def leaves(searcher, state: dict) -> list[Leaf]:
    ranked = state.get("ranked") or {}
    out = []
    for sub, offset in searcher.leaf_searchers():
        is_ranked = ranked.get("segment") is not None and _segment_id(sub.reader()) == ranked["segment"]
        ranges = {t: tuple(r) for t, r in ranked["ranges"].items()} if is_ranked else None
        out.append(Leaf(sub, offset, ranges))
    return out


# --- a query as a bitset of docnums ----------------------------------------------------------------------
# A Python int with bit d set when document d of the segment matches: And is &, Or is |, a count is
# bit_count(), the top n of a rank-ordered range its n lowest bits — all in C, never a matcher stepped through
# the hits in Python (which cost ~0.1 ms per hit at 100k agencies). A term's bitset is read once from its
# posting blocks and kept (TERM_CACHE_BYTES): segments never change but for deletions, applied per search.

TERM_CACHE_BYTES = 32 * 1024 * 1024
_term_bits: OrderedDict[tuple, int] = OrderedDict()
_term_bytes = [0]
_cache_lock = threading.Lock()


def _posting_bits(reader, fieldname: str, text) -> int:
    """The docnums holding the term, deletions included (they are masked per search)."""
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.matching.wrappers import FilterMatcher
    from whoosh.reading import TermNotFound

    try:
        m = reader.postings(fieldname, text)
    except TermNotFound:
        return 0
    while isinstance(m, FilterMatcher):  # the deletions' filter: masked per search instead
        m = m.child
    buf = bytearray((reader.doc_count_all() >> 3) + 1)
    if isinstance(m, W3LeafMatcher):
        # The blocks as stored (ids delta-encoded from 0 per block): no matcher step per posting.
        while m.is_active():
            m._read_data()
            for d in accumulate(m._data[0]):
                buf[d >> 3] |= 1 << (d & 7)
            m._next_block()
    else:  # an inlined posting list (a single document) or another codec
        for d in m.all_ids():
            buf[d >> 3] |= 1 << (d & 7)
    return int.from_bytes(buf, "little")


def term_bits(reader, fieldname: str, text) -> int:
    key = (_segment_id(reader) or id(reader), fieldname, text)
    with _cache_lock:
        found = _term_bits.get(key)
        if found is not None:
            _term_bits.move_to_end(key)
            return found
    found = _posting_bits(reader, fieldname, text)
    size = (found.bit_length() >> 3) + 64
    with _cache_lock:
        if key not in _term_bits:
            _term_bits[key] = found
            _term_bytes[0] += size
            while _term_bytes[0] > TERM_CACHE_BYTES and len(_term_bits) > 1:
                _, old = _term_bits.popitem(last=False)
                _term_bytes[0] -= (old.bit_length() >> 3) + 64
    return found


def clear_cache() -> None:
    with _cache_lock:
        _term_bits.clear()
        _term_bytes[0] = 0
        _deleted.clear()


def _bits_of(ids) -> int:
    buf = bytearray()
    for d in ids:
        if (d >> 3) >= len(buf):
            buf.extend(bytes((d >> 3) + 1 - len(buf)))
        buf[d >> 3] |= 1 << (d & 7)
    return int.from_bytes(buf, "little")


def _evaluate(leaf: Leaf, query) -> int:
    from whoosh import query as Q

    if isinstance(query, Q.Term):
        return term_bits(leaf.reader, query.fieldname, query.text)
    if isinstance(query, Q.And):
        out = None
        for sub in query.subqueries:
            b = _evaluate(leaf, sub)
            out = b if out is None else out & b
            if not out:
                return 0
        return out or 0
    if isinstance(query, Q.Or):
        out = 0
        for sub in query.subqueries:
            out |= _evaluate(leaf, sub)
        return out
    # any other kind of query: Whoosh's matcher (deletions already left out)
    m = query.matcher(leaf.searcher, leaf.searcher.boolean_context())
    return _bits_of(m.all_ids()) if m.is_active() else 0


def bits(leaf: Leaf, query) -> int:
    """The segment's live documents matching the query (Term, And and Or as the query parser builds them)."""
    if query is None:
        return 0
    found = _evaluate(leaf, query)
    if found and leaf.reader.has_deletions():
        found &= ~_deleted_bits(leaf.reader)
    return found


_deleted: dict[str, tuple[int, int]] = {}  # segment id → (deletions, their bitset): they only ever grow


def _deleted_bits(reader) -> int:
    deleted = reader.deleted_docs_set
    key = _segment_id(reader) or str(id(reader))
    known = _deleted.get(key)
    if known is None or known[0] != len(deleted):
        known = _deleted[key] = (len(deleted), _bits_of(deleted))
    return known[1]


def _span(lo: int, hi: int) -> int:
    return ((1 << hi) - 1) ^ ((1 << lo) - 1)


_NONZERO = re.compile(rb"[^\x00]")


def lowest(b: int, n: int) -> list[int]:
    """The n lowest set bits (docnums in increasing order)."""
    out: list[int] = []
    if n <= 0 or not b:
        return out
    data = b.to_bytes((b.bit_length() + 7) >> 3, "little")
    for m in _NONZERO.finditer(data):
        byte, base = data[m.start()], m.start() << 3
        for bit in range(8):
            if byte >> bit & 1:
                out.append(base + bit)
                if len(out) == n:
                    return out
    return out


def count(leaves_: list[Leaf], found: list[int]) -> tuple[dict[str, int], set[str]]:
    """Matches per kind (`found`: bits() per leaf), each capped at COUNT_CAP (those kinds returned as capped).
    Exact counts cost nothing here; the cap keeps both backends alike (PostgreSQL stops counting there)."""
    counts = dict.fromkeys(ORDER, 0)
    for leaf, b in zip(leaves_, found, strict=True):
        if not b:
            continue
        if leaf.ranges is None:
            types = leaf.column("type")
            for docnum in lowest(b, b.bit_count()):
                counts[types[docnum]] = counts.get(types[docnum], 0) + 1
            continue
        for kind in ORDER:
            lo, hi = leaf.ranges.get(kind, (0, 0))
            counts[kind] += (b & _span(lo, hi)).bit_count()
    capped = {kind for kind in ORDER if counts[kind] > COUNT_CAP}
    for kind in capped:
        counts[kind] = COUNT_CAP
    return counts, capped


def top(leaves_: list[Leaf], found: list[int], doc_type: str | None, n: int) -> list[int]:
    """The global docnums of the first n hits by static rank (of one kind, or all); `found`: bits() per leaf."""
    if n <= 0:
        return []
    hits: list[tuple[float, int]] = []
    for leaf, b in zip(leaves_, found, strict=True):
        if not b:
            continue
        ranks = leaf.column("rank")
        if leaf.ranges is not None:
            if doc_type:
                b &= _span(*leaf.ranges.get(doc_type, (0, 0)))
            hits.extend((-ranks[d], leaf.offset + d) for d in lowest(b, n))
        else:
            types = leaf.column("type") if doc_type else None
            for d in lowest(b, b.bit_count()):
                if types is None or types[d] == doc_type:
                    hits.append((-ranks[d], leaf.offset + d))
    hits.sort()
    return [docnum for _, docnum in hits[:n]]


def keep_ranked(state: dict):
    """A merge policy for drains: Whoosh's usual one, except that the ranked segment is never merged (a merge
    would append other documents to it out of rank order)."""
    from whoosh.writing import MERGE_SMALL

    ranked = (state.get("ranked") or {}).get("segment")

    def merge(writer, segments):
        kept = [s for s in segments if s.segment_id() == ranked]
        others = [s for s in segments if s.segment_id() != ranked]
        return kept + MERGE_SMALL(writer, others)

    return merge


def delta_documents(ix, state: dict) -> int:
    """Documents outside the ranked segment (all of them for an index written before it had one)."""
    ranked = (state.get("ranked") or {}).get("segment")
    return sum(s.doc_count() for s in ix._segments() if s.segment_id() != ranked)
