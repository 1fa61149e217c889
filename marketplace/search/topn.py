"""The top N hits of a Whoosh query by the static rank, without scoring nor visiting every hit.

A full rebuild writes the documents in static-rank order (service items, agencies, open announcements; within
a kind the highest rank first, ties by id) into one segment, the *ranked* segment, and notes in CURRENT its id
and the docnum range of each kind. In that segment the first N matches in docnum order ARE the top N by rank:
the matcher stops after N (and counting stops at COUNT_CAP per kind, then skips to the next kind's range).
Documents changed since (drained into later, small segments) are collected whole and merged by their rank
column; drains never merge the ranked segment (keep_ranked), and the clock rebuilds once they hold more than
DELTA_LIMIT documents (backends.missing_ids).
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def matcher(self, query):
        return query.matcher(self.searcher, self.searcher.boolean_context())

    def column(self, name: str):
        return self.searcher.reader().column_reader(name)


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


def count(leaves_: list[Leaf], query) -> tuple[dict[str, int], set[str]]:
    """Matches per kind, each stopping at COUNT_CAP (those kinds are returned as capped)."""
    counts = dict.fromkeys(ORDER, 0)
    capped: set[str] = set()
    for leaf in leaves_:
        m = leaf.matcher(query)
        if leaf.ranges is None:
            if m.is_active():
                types = leaf.column("type")
                for docnum in m.all_ids():
                    counts[types[docnum]] = counts.get(types[docnum], 0) + 1
            continue
        for kind in ORDER:
            lo, hi = leaf.ranges.get(kind, (0, 0))
            if m.is_active() and m.id() < lo:
                m.skip_to(lo)
            n, cap = 0, COUNT_CAP
            while m.is_active() and m.id() < hi:
                if n == cap:
                    capped.add(kind)
                    break
                n += 1
                m.next()
            counts[kind] += n
    for kind in ORDER:
        if kind in capped or counts[kind] > COUNT_CAP:  # (the small segments may push it over too)
            counts[kind] = min(counts[kind], COUNT_CAP)
            capped.add(kind)
    return counts, capped


def top(leaves_: list[Leaf], query, doc_type: str | None, n: int) -> list[int]:
    """The global docnums of the first n hits by static rank (of one kind, or all)."""
    found: list[tuple[float, int]] = []
    if n <= 0:
        return []
    for leaf in leaves_:
        m = leaf.matcher(query)
        if not m.is_active():
            continue
        ranks = leaf.column("rank")
        if leaf.ranges is not None:
            if doc_type:
                lo, hi = leaf.ranges.get(doc_type, (0, 0))
            else:
                lo, hi = 0, leaf.searcher.reader().doc_count_all()
            if m.id() < lo:
                m.skip_to(lo)
            taken = 0
            while taken < n and m.is_active() and m.id() < hi:
                docnum = m.id()
                found.append((-ranks[docnum], leaf.offset + docnum))
                taken += 1
                m.next()
        else:
            types = leaf.column("type") if doc_type else None
            for docnum in m.all_ids():
                if types is None or types[docnum] == doc_type:
                    found.append((-ranks[docnum], leaf.offset + docnum))
    found.sort()
    return [docnum for _, docnum in found[:n]]


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
