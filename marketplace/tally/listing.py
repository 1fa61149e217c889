"""Keeps the list's rows (stats/listing.py): each active agency's sort keys per scope, refreshed inside the
transaction that changed what they are made of, and rebuilt from the agencies on `flask stats rebuild`.

What changes a row: the agency itself (admitted, suspended, its categories), its offers, its running statistics
(orders accepted, ratings, deadline lights, amended contracts, violations: the tally's events) and its credit
grade. Those changes only mark the agency (session.info); just before the transaction commits, the marked
agencies' rows are recomputed from their own rows in one set-based pass (the same statements as the rebuild,
narrowed to them) and the scope counts move by the difference. A GET marks nothing, so it never writes.
The keyword filter's words (stats/listing.py AgencyKeywords) are kept the same way: an agency's name or
introduction, its categories and offers mark it, and a renamed service item or category marks its agencies. On
SQLite their two-character pieces (stats/listing.py GRAMS) move with them: the pieces of the old words that the new
ones lack are deleted, the new ones inserted.
"""

from __future__ import annotations

from sqlalchemy import (
    String,
    and_,
    bindparam,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from marketplace import events
from marketplace.agencies.models import Agency, AgencyStatus, Offer, agency_category
from marketplace.catalogue.models import Category, ServiceItem
from marketplace.credit import rules as credit_rules
from marketplace.credit.models import AgencyCredit
from marketplace.extensions import db
from marketplace.stats.figures import NO_DATA_COMPOSITE, PRIOR_MEAN
from marketplace.stats.listing import (
    ALL,
    BIG,
    CATEGORY,
    GRAMS,
    ITEM,
    ITEM_IN_CATEGORY,
    SEP,
    AgencyKeywords,
    AgencyListing,
    AgencyListingCount,
    grams,
)
from marketplace.stats.models import AgencyStats

_MARKS = "listing_dirty_agencies"
_CHUNK = 500
COLUMNS = ("agency_id", "kind", "ref", "k_grade", "k_composite", "k_sales", "k_rating", "k_price", "k_days")


def _selects(agency_ids) -> list:
    """One SELECT per scope kind giving the rows of COLUMNS (for every active agency, or the ones given: a list
    or an expanding bound parameter)."""
    base_grade = credit_rules.GRADE_RANK[credit_rules.grade(credit_rules.BASE)]
    low = func.coalesce(Offer.price_fen, Offer.price_min_fen)
    agencies = (
        select(
            Agency.id.label("agency_id"),
            func.coalesce(AgencyCredit.grade_rank, base_grade).label("k_grade"),
            (-func.coalesce(AgencyStats.composite, NO_DATA_COMPOSITE)).label("k_composite"),
            (-func.coalesce(AgencyStats.completed_orders, 0)).label("k_sales"),
            (-func.coalesce(AgencyStats.rating_rank, PRIOR_MEAN)).label("k_rating"),
        )
        .outerjoin(AgencyStats, AgencyStats.agency_id == Agency.id)
        .outerjoin(AgencyCredit, AgencyCredit.agency_id == Agency.id)
        .where(Agency.status == AgencyStatus.ACTIVE)
    )
    offers = select(Offer.agency_id, func.min(low).label("low"), func.min(Offer.promised_days).label("days"))
    by_item = select(
        Offer.agency_id,
        Offer.service_item_id,
        func.min(low).label("low"),
        func.min(Offer.promised_days).label("days"),
    )
    if agency_ids is not None:
        agencies = agencies.where(Agency.id.in_(agency_ids))
        offers = offers.where(Offer.agency_id.in_(agency_ids))
        by_item = by_item.where(Offer.agency_id.in_(agency_ids))
    a = agencies.subquery("a")
    best = offers.where(Offer.active.is_(True)).group_by(Offer.agency_id).subquery("best")
    item = (
        by_item.where(Offer.active.is_(True)).group_by(Offer.agency_id, Offer.service_item_id).subquery("bi")
    )
    figures = (a.c.k_grade, a.c.k_composite, a.c.k_sales, a.c.k_rating)
    overall = (func.coalesce(best.c.low, BIG), func.coalesce(best.c.days, BIG))
    in_item = (func.coalesce(item.c.low, BIG), func.coalesce(item.c.days, BIG))
    member = agency_category.c
    return [
        select(a.c.agency_id, literal(ALL), literal(0), *figures, *overall).outerjoin(
            best, best.c.agency_id == a.c.agency_id
        ),
        select(a.c.agency_id, literal(CATEGORY), member.category_id, *figures, *overall)
        .join(agency_category, member.agency_id == a.c.agency_id)
        .outerjoin(best, best.c.agency_id == a.c.agency_id),
        select(a.c.agency_id, literal(ITEM), item.c.service_item_id, *figures, *in_item).join(
            item, item.c.agency_id == a.c.agency_id
        ),
        select(a.c.agency_id, literal(ITEM_IN_CATEGORY), item.c.service_item_id, *figures, *in_item)
        .join(item, item.c.agency_id == a.c.agency_id)
        .join(ServiceItem, ServiceItem.id == item.c.service_item_id)
        .join(
            agency_category,
            and_(member.agency_id == a.c.agency_id, member.category_id == ServiceItem.category_id),
        ),
    ]


def _insert(agency_ids: list[int] | None) -> None:
    table = AgencyListing.__table__
    for stmt in _selects(agency_ids):
        db.session.execute(insert(table).from_select(list(COLUMNS), stmt))


_REFRESH: dict = {}  # per dialect: the statements of refresh(), built once (the agency ids are a bound list)


def _refresh_statements(dialect: str):
    """The kept rows of some agencies, and the rows they should have (the rebuild's four SELECTs as one UNION ALL,
    narrowed to the agencies by an expanding bound parameter, so that it is built and compiled once)."""
    if dialect not in _REFRESH:
        ids = bindparam("ids", expanding=True)
        kept = select(*(AgencyListing.__table__.c[c] for c in COLUMNS)).where(
            AgencyListing.agency_id.in_(ids)
        )
        _REFRESH[dialect] = (kept, union_all(*_selects(ids)))
    return _REFRESH[dialect]


def _key(key: tuple) -> dict:
    return dict(zip(("k_agency", "k_kind", "k_ref"), key, strict=True))


def _by_key(stmt):
    c = AgencyListing.__table__.c
    return stmt.where(
        c.agency_id == bindparam("k_agency"), c.kind == bindparam("k_kind"), c.ref == bindparam("k_ref")
    )


def refresh(agency_ids) -> None:
    """Recompute the rows of these agencies (any status: one that left the list loses its rows) and move the
    scope counts by the difference. Only the rows that differ are written (their five sort indexes are not
    touched for an unchanged row)."""
    ids = sorted(set(agency_ids))
    kept_stmt, should_stmt = _refresh_statements(db.session.get_bind().dialect.name)
    table = AgencyListing.__table__
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        kept = {tuple(r[:3]): tuple(r[3:]) for r in db.session.execute(kept_stmt, {"ids": chunk})}
        should = {tuple(r[:3]): tuple(r[3:]) for r in db.session.execute(should_stmt, {"ids": chunk})}
        gone = [k for k in kept if k not in should]
        changed = [k for k, v in should.items() if k in kept and kept[k] != v]
        new = [k for k in should if k not in kept]
        if gone:
            db.session.execute(_by_key(delete(table)), [_key(k) for k in gone])
        if changed:
            values = {c: bindparam(f"v_{c}") for c in COLUMNS[3:]}
            db.session.execute(
                _by_key(update(table)).values(values),
                [
                    _key(k) | {f"v_{c}": v for c, v in zip(COLUMNS[3:], should[k], strict=True)}
                    for k in changed
                ],
            )
        if new:
            db.session.execute(
                insert(table), [dict(zip(COLUMNS, (*k, *should[k]), strict=True)) for k in new]
            )
        _refresh_keywords(chunk)
        moved: dict[tuple[int, int], int] = {}
        for (_agency, kind, ref), sign in [*((k, -1) for k in gone), *((k, 1) for k in new)]:
            moved[(kind, ref)] = moved.get((kind, ref), 0) + sign
        for scope, delta in moved.items():
            if delta:
                _add_count(*scope, delta)


def _keyword_rows(agency_ids: list[int] | None) -> dict[int, str]:
    """The words of these active agencies (all of them for None), as the keyword filter of the reference query
    looks in them: name, introduction, category names, and each active offer's item name and aliases (as the
    database casts the JSON to text) — pieces sorted, so that a rebuild gives the same text."""
    agencies = select(Agency.id, Agency.name, Agency.intro).where(Agency.status == AgencyStatus.ACTIVE)
    cats = select(agency_category.c.agency_id, Category.name).join(
        Category, Category.id == agency_category.c.category_id
    )
    items = (
        select(Offer.agency_id, ServiceItem.name, cast(ServiceItem.aliases, String))
        .join(ServiceItem, ServiceItem.id == Offer.service_item_id)
        .where(Offer.active.is_(True))
    )
    if agency_ids is not None:
        agencies = agencies.where(Agency.id.in_(agency_ids))
        cats = cats.where(agency_category.c.agency_id.in_(agency_ids))
        items = items.where(Offer.agency_id.in_(agency_ids))
    head = {i: [name or "", intro or ""] for i, name, intro in db.session.execute(agencies)}
    rest: dict[int, set[str]] = {}
    for agency_id, *names in (*db.session.execute(cats), *db.session.execute(items)):
        if agency_id in head:
            rest.setdefault(agency_id, set()).update(n for n in names if n)
    return {i: SEP.join([*pieces, *sorted(rest.get(i, ()))]) for i, pieces in head.items()}


def _refresh_keywords(ids: list[int]) -> None:
    """Only the rows whose words changed are written (each write moves the PostgreSQL bigram index)."""
    table = AgencyKeywords.__table__
    kept = dict(
        db.session.execute(select(table.c.agency_id, table.c.words).where(table.c.agency_id.in_(ids))).all()
    )
    should = _keyword_rows(ids)
    gone = [i for i in kept if i not in should]
    if gone:
        db.session.execute(delete(table).where(table.c.agency_id.in_(gone)))
    changed = [{"k_agency": i, "v_words": w} for i, w in should.items() if i in kept and kept[i] != w]
    if changed:
        db.session.execute(
            update(table)
            .where(table.c.agency_id == bindparam("k_agency"))
            .values(words=bindparam("v_words")),
            changed,
        )
    new = [{"agency_id": i, "words": w} for i, w in should.items() if i not in kept]
    if new:
        db.session.execute(insert(table), new)
    if db.session.get_bind().dialect.name == "sqlite":  # the words' pieces (stats/listing.py GRAMS) follow
        old = {(g, i) for i in kept if kept[i] != should.get(i) for g in grams(kept[i])}
        now = {(g, i) for i, w in should.items() if kept.get(i) != w for g in grams(w)}
        _write_grams(removed=old - now, added=now - old)


def _rebuild_grams(words: list[dict]) -> None:
    """Every agency's pieces anew (SQLite): appended to a temporary table, then copied in key order, so that the
    index is written front to back (inserting millions of rows at random places takes twice as long)."""
    db.session.execute(delete(GRAMS))
    cursor = db.session.connection().connection.dbapi_connection.cursor()  # plain tuples: millions of them
    try:
        cursor.execute("DROP TABLE IF EXISTS grams_load")
        cursor.execute("CREATE TEMP TABLE grams_load (gram INTEGER, agency_id INTEGER)")
        for start in range(0, len(words), 5000):
            pairs = [(g, r["agency_id"]) for r in words[start : start + 5000] for g in grams(r["words"])]
            cursor.executemany("INSERT INTO grams_load (gram, agency_id) VALUES (?, ?)", pairs)
        cursor.execute(
            f"INSERT INTO {GRAMS.name} (gram, agency_id) SELECT gram, agency_id FROM grams_load ORDER BY gram, agency_id"
        )
        cursor.execute("DROP TABLE grams_load")
    finally:
        cursor.close()


def _write_grams(*, removed=(), added=()) -> None:
    """Delete and insert (gram, agency_id) pairs of agency_keyword_grams (SQLite only), in its key order."""
    conn = db.session.connection()
    if removed:
        conn.exec_driver_sql(f"DELETE FROM {GRAMS.name} WHERE gram = ? AND agency_id = ?", sorted(removed))
    if added:
        conn.exec_driver_sql(f"INSERT INTO {GRAMS.name} (gram, agency_id) VALUES (?, ?)", sorted(added))


def _add_count(kind: int, ref: int, delta: int) -> None:
    """`agencies = agencies + delta`, creating the scope's row if needed, in one atomic upsert (INSERT … ON
    CONFLICT DO UPDATE on both databases): no savepoint, so concurrent transactions never lose a count and nothing
    else flushed meanwhile can be rolled back with a savepoint."""
    table = AgencyListingCount.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    stmt = upsert(table).values(kind=kind, ref=ref, agencies=delta)
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c.kind, table.c.ref], set_={"agencies": table.c.agencies + delta}
        )
    )


def rebuild() -> int:
    """Every row and count from the agencies, their offers, statistics and credit. Returns the rows kept."""
    db.session.execute(delete(AgencyListing))
    db.session.execute(delete(AgencyListingCount))
    db.session.execute(delete(AgencyKeywords))
    _insert(None)
    words = [{"agency_id": i, "words": w} for i, w in _keyword_rows(None).items()]
    for start in range(0, len(words), 5000):
        db.session.execute(insert(AgencyKeywords.__table__), words[start : start + 5000])
    if db.session.get_bind().dialect.name == "sqlite":
        _rebuild_grams(words)
    db.session.execute(
        insert(AgencyListingCount.__table__).from_select(
            ["kind", "ref", "agencies"],
            select(AgencyListing.kind, AgencyListing.ref, func.count()).group_by(
                AgencyListing.kind, AgencyListing.ref
            ),
        )
    )
    return db.session.scalar(select(func.count()).select_from(AgencyListing)) or 0


def snapshot() -> dict:
    """Every kept row and count, for comparing the kept rows with rebuilt ones."""
    rows = {
        f"{r.agency_id}:{r.kind}:{r.ref}": [getattr(r, c) for c in COLUMNS[3:]]
        for r in db.session.scalars(select(AgencyListing))
    }
    counts = {f"{c.kind}:{c.ref}": c.agencies for c in db.session.scalars(select(AgencyListingCount))}
    words = dict(db.session.execute(select(AgencyKeywords.agency_id, AgencyKeywords.words)).all())
    kept = {"rows": rows, "counts": {k: v for k, v in counts.items() if v}, "words": words}
    if db.session.get_bind().dialect.name == "sqlite":
        kept["grams"] = sorted(tuple(r) for r in db.session.execute(select(GRAMS.c.gram, GRAMS.c.agency_id)))
    return kept


# --- marking and refreshing --------------------------------------------------------------------------------------


def mark(agency_id: int | None) -> None:
    if agency_id is not None:
        db.session.info.setdefault(_MARKS, set()).add(agency_id)


# What a row is made of, per written model: an UPDATE setting none of these leaves the agency's rows as they are.
_DEPENDS: dict = {
    Agency: ("status", "categories", "name", "intro"),  # name, intro: the keyword filter's words
    Offer: ("agency_id", "service_item_id", "active", "price_fen", "price_min_fen", "promised_days"),
    AgencyCredit: ("agency_id", "grade_rank"),
}


def _matters(obj) -> bool:
    names = _DEPENDS.get(type(obj))
    if names is None:  # AgencyStats: any change (its figures are also moved by UPDATEs the events mark)
        return True
    attrs = inspect(obj).attrs
    return any(attrs[n].history.has_changes() for n in names)


def _renamed(obj) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[n].history.has_changes() for n in ("name", "aliases") if n in attrs)


def _named_by(obj):
    if isinstance(obj, ServiceItem):
        return select(Offer.agency_id).where(Offer.service_item_id == obj.id)
    return select(agency_category.c.agency_id).where(agency_category.c.category_id == obj.id)


def _before_flush(session: Session, _context, _instances) -> None:
    marks = session.info.setdefault(_MARKS, set())
    for obj in session.dirty:  # a renamed item or category: the words of the agencies offering or listing it
        if isinstance(obj, ServiceItem | Category) and _renamed(obj):
            with session.no_autoflush:
                marks.update(session.scalars(_named_by(obj)))
    for obj in (*session.new, *(o for o in session.dirty if _matters(o)), *session.deleted):
        if isinstance(obj, Agency):
            marks.add(obj.id)  # status, categories (a collection change makes the agency dirty)
        elif isinstance(obj, Offer | AgencyStats | AgencyCredit):
            marks.add(obj.agency_id)
    marks.discard(None)


def _after_flush(session: Session, _context) -> None:
    marks = session.info.get(_MARKS)
    if marks is not None:  # a new agency has its id only now
        for obj in session.new:
            if isinstance(obj, Agency | Offer):
                marks.add(obj.id if isinstance(obj, Agency) else obj.agency_id)
        marks.discard(None)


def _before_commit(session: Session) -> None:
    for _ in range(10):
        session.flush()
        marks = session.info.pop(_MARKS, None)
        if not marks:
            return
        if session is not db.session():
            return
        refresh(marks)


def _after_rollback(session: Session) -> None:
    session.info.pop(_MARKS, None)


def _order(order, **_) -> None:
    mark(order.agency_id)


def _rating(rating, **_) -> None:
    mark(rating.agency_id)


def _agency_id(sender, **_) -> None:
    mark(sender if isinstance(sender, int) else getattr(sender, "agency_id", None))


_connected = False


def connect() -> None:
    global _connected
    for signal in (events.order_accepted, events.order_light_changed, events.contract_amended):
        signal.connect(_order)
    events.rating_given.connect(_rating)
    events.violation_changed.connect(_agency_id)
    events.credit_grade_changed.connect(_agency_id)
    if not _connected:  # session events are process-wide: once
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_soft_rollback", lambda s, _t: _after_rollback(s))
        _connected = True
