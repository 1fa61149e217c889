"""Full-text search over member agencies, service items and open announcements (jieba; Whoosh or PostgreSQL).

The database is the source of truth; the index is a copy that can always be rebuilt (`flask search reindex`);
a search never builds it (without one it answers "being built"; the clock builds a missing one).

- vocabulary.py the trade's abbreviations and the catalogue's aliases, and how a query word expands
- analysis.py   how text becomes terms: jieba segmentation, pinyin
- documents.py  what each indexed document holds, built from the database (public text only)
- index.py      the index on disk (SEARCH_BACKEND=whoosh): schema, generations, locks, rebuilds, draining
- pg.py         the index as a table (SEARCH_BACKEND=postgres): tsvector + GIN, the query tree as a tsquery
- backends.py   the configured backend, for commands, the clock and the after-commit hook
- hooks.py      session events that queue changed documents in the changing transaction, drained after commit
- query.py      parsing and expanding a query, searching, the sound-alike and pinyin fallbacks
- results.py    hits, counts, pages and highlighting
- sessions.py   the sessions the search reads and writes with (never the caller's)
"""
