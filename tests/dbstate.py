"""The whole database's contents, to prove that something changed nothing: every row of every table (the
tables are read from the database itself, so a new table is included without anyone remembering), compared
before and after, with a readable account of what differs."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine


@dataclass
class Table:
    columns: tuple[str, ...]
    key: tuple[int, ...]  # positions of the primary key columns (all columns when there is none)
    rows: Counter  # row tuple -> how many times

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for row in sorted(repr(r) for r in self.rows.elements()):
            h.update(row.encode())
        return h.hexdigest()


def _plain(value):
    """A hashable stand-in for a column value (PostgreSQL hands back JSON columns as dicts and lists)."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return value


def primary_keys(conn: Connection) -> dict[str, list[str]]:
    """Every table of the database (read from the database itself) with its primary key columns."""
    insp = inspect(conn)
    return {
        name: insp.get_pk_constraint(name).get("constrained_columns") or []
        for name in sorted(insp.get_table_names())
    }


def snapshot(conn: Connection, tables: dict[str, list[str]]) -> dict[str, Table]:
    """Every row of every table in `tables` (from `primary_keys`)."""
    quote = conn.dialect.identifier_preparer.quote
    out = {}
    for name, pk in tables.items():
        result = conn.execute(text(f"SELECT * FROM {quote(name)}"))
        columns = tuple(result.keys())
        key = tuple(columns.index(c) for c in pk) or tuple(range(len(columns)))
        out[name] = Table(columns, key, Counter(tuple(_plain(v) for v in r) for r in result))
    return out


def _short(value) -> str:
    s = str(value) if isinstance(value, date) else repr(value)
    return s if len(s) <= 60 else s[:57] + "..."


def differences(before: dict[str, Table], after: dict[str, Table]) -> list[str]:
    """What changed, table by table: rows added, removed, and the columns of changed rows (by primary key)."""
    out = []
    for name in sorted(set(before) | set(after)):
        if name not in after or name not in before:
            out.append(f"table {name} {'dropped' if name not in after else 'created'}")
            continue
        b, a = before[name], after[name]
        if b.rows == a.rows:
            continue
        gone, new = b.rows - a.rows, a.rows - b.rows

        def keyed(rows, table):
            return {tuple(r[i] for i in table.key): r for r in rows.elements()}

        old_by_key, new_by_key = keyed(gone, b), keyed(new, a)
        for key in sorted(set(old_by_key) & set(new_by_key), key=repr):
            old, now = old_by_key[key], new_by_key[key]
            changed = [
                f"{col}: {_short(o)} → {_short(n)}"
                for col, o, n in zip(a.columns, old, now, strict=True)
                if o != n
            ]
            out.append(f"{name} {_short(key[0] if len(key) == 1 else key)} changed: " + "; ".join(changed))
        for key in sorted(set(new_by_key) - set(old_by_key), key=repr):
            row = dict(zip(a.columns, new_by_key[key], strict=True))
            detail = ", ".join(
                f"{c}={_short(row[c])}"
                for c in ("action", "kind", "status", "object_type", "object_id", "doc_type")
                if c in row
            )
            out.append(
                f"{name} row added {_short(key[0] if len(key) == 1 else key)}"
                + (f" ({detail})" if detail else "")
            )
        for key in sorted(set(old_by_key) - set(new_by_key), key=repr):
            out.append(f"{name} row removed {_short(key[0] if len(key) == 1 else key)}")
    return out


_READ_ONLY = re.compile(r"\s*(SELECT|SAVEPOINT|RELEASE|ROLLBACK TO)\b", re.IGNORECASE)


@contextlib.contextmanager
def statements_that_may_write(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent through `engine` (every connection, every session) that is not a plain read or
    savepoint bookkeeping. When none ran, no row can have changed, so the full comparison can be skipped."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if not _READ_ONLY.match(statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)
