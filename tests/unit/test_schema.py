"""The schema exists only through migrations; the catalogue comes with them; the audit log is append-only."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, func, select, text
from sqlalchemy.exc import DBAPIError

from marketplace.audit.models import AuditEntry
from marketplace.audit.services import record
from marketplace.catalogue.models import Category, FeeRegime, ServiceItem
from marketplace.extensions import db

# On PostgreSQL only, by design (migration 0028): the search table's generated tsvector and its GIN index. The
# model does not map them (SQLite has no tsvector; the postgres search backend queries them in SQL).
POSTGRES_ONLY = {
    "remove_column search_document.tsv",
    "remove_index ix_search_document_tsv",
    "remove_column search_document.title_tsv",  # migration 0033
    "remove_index ix_search_document_title_tsv",
    "remove_column agency_keywords.bigrams",  # migration 0039: agency_bigrams(words) stored …
    "remove_index ix_agency_keywords_bigram_set",  # … and GIN-indexed
}


# On SQLite only (migration 0038): the keyword filter's two-character pieces (stats/listing.py GRAMS), the
# counterpart of PostgreSQL's GIN index; not in the models' metadata. (Its index ix_offer_agency_low, also SQLite
# only, is on an expression: not reflected, so not compared; test_agency_listing.py checks that the plan uses it.)
SQLITE_ONLY = {"remove_table agency_keyword_grams"}


def _named(change) -> str:
    if change[0] == "remove_table":
        return f"remove_table {change[1].name}"
    if change[0] == "remove_column":
        return f"remove_column {change[2]}.{change[3].name}"
    if change[0] == "remove_index":
        return f"remove_index {change[1].name}"
    return ""


# SQLite cannot reflect indexes on expressions: the comparison skips them (said below), and the test looks for them
# by name instead.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_build_exactly_the_models(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        if db.engine.dialect.name == "postgresql":
            have = set(conn.scalars(text("SELECT indexname FROM pg_indexes")))
        else:
            have = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index'")))
    postgres = db.engine.dialect.name == "postgresql"
    extra = {_named(change) for change in diff if isinstance(change, tuple)} & (POSTGRES_ONLY | SQLITE_ONLY)
    assert extra == (POSTGRES_ONLY if postgres else SQLITE_ONLY)
    assert [change for change in diff if not (isinstance(change, tuple) and _named(change) in extra)] == []
    on_expressions = {
        index.name
        for table in db.metadata.tables.values()
        for index in table.indexes
        if any(not isinstance(e, Column) for e in index.expressions)
    }
    assert on_expressions and on_expressions <= have


def test_catalogue_is_seeded_by_the_migration():
    assert db.session.scalar(select(func.count()).select_from(Category)) == 18
    items = db.session.scalars(select(ServiceItem)).all()
    assert len(items) >= 80
    names = {i.name for i in items}
    for needed in ("节能评估", "工程造价咨询", "地质灾害危险性评估", "水土保持方案编制", "防雷装置检测"):
        assert any(needed in n for n in names), needed
    assert any("环境影响评价" in n for n in names)
    for item in items:
        assert item.standard_days > 0
        if item.fee_regime == FeeRegime.GUIDED:
            assert 0 < item.guide_min_fen < item.guide_max_fen
        else:
            assert item.guide_min_fen is None and item.guide_max_fen is None


def test_audit_log_refuses_updates_and_deletes():
    entry = record(None, "test.action", object_type="test", object_id=1, after={"x": 1})
    db.session.commit()
    entry.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    # Below the ORM the database triggers say the same.
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        nested = db.session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        nested.rollback()
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.id == entry.id)) == "test.action"
