"""The divisions' per-process cache can be filled from an after-commit hook (the search index is drained there: the
clock's first pass after a start named regions only then, and every drain failed until something else loaded them)."""

from sqlalchemy import event, text

from marketplace.extensions import db
from marketplace.regions import services as regions


def test_divisions_load_inside_an_after_commit_hook(app):
    regions.forget()
    seen = []
    session = db.session()

    def hook(_session):
        seen.append(regions.full_name("320102"))

    event.listen(session, "after_commit", hook)
    try:
        db.session.execute(text("SELECT 1"))
        db.session.commit()
    finally:
        event.remove(session, "after_commit", hook)
    assert seen == [regions.full_name("320102")] and "南京" in seen[0]
