"""A module's world built once, kept as ids (tests/conftest.py `module_transaction`): the module fixture builds
inside the module's rolled-back transaction and returns `keep(name=object, …)`; a function fixture returns
`load(kept)`, the same objects read by id in the test's fresh session (each test runs in a savepoint undone after
it, so what one test changes the next does not see).

Make the module fixture `autouse`: every test of the module then runs in a savepoint of the module's transaction.
A test outside it would run in a transaction on a second connection, and wait forever for the audit chain's head
row (marketplace/audit/chain.py), which the module's transaction locked when its world's entries were sealed."""

from __future__ import annotations

from types import SimpleNamespace

from marketplace.extensions import db


def keep(**objects) -> dict:
    """Each object as (its class, its id); values that are not rows (ids, strings) are kept as they are."""
    db.session.commit()  # the module's world is complete before the first test's savepoint starts
    return {
        name: (type(obj), obj.id) if hasattr(obj, "__table__") else (None, obj)
        for name, obj in objects.items()
    }


def load(kept: dict) -> SimpleNamespace:
    """The kept objects, each read by id in the current session."""
    return SimpleNamespace(
        **{name: db.session.get(model, value) if model else value for name, (model, value) in kept.items()}
    )
