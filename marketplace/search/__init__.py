"""Full-text search over member agencies, service items and open announcements (Whoosh + jieba).

The database is the source of truth; the index is a copy that can always be rebuilt (`flask search reindex`).

- vocabulary.py the trade's abbreviations and the catalogue's aliases, and how a query word expands
- analysis.py   how text becomes terms: jieba segmentation, pinyin
- documents.py  what each indexed document holds, built from the database (public text only)
- index.py      the index on disk: schema, generations, locks, full rebuilds, draining queued changes
- hooks.py      session events that queue changed documents in the changing transaction, drained after commit
- query.py      parsing and expanding a query, searching, the sound-alike and pinyin fallbacks
- results.py    hits, counts, pages and highlighting
- sessions.py   the sessions the search reads and writes with (never the caller's)
"""
