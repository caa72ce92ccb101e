"""Name-to-id look-ups for the small tables (platforms, departments, tags, people), in bulk.

Each call resolves a whole batch's worth of names with one SELECT, inserts the missing ones and
selects again: a handful of statements per batch, whatever its size, and nothing cached across
transactions (a rolled-back insert can never leave a stale id behind).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Table, and_, select, tuple_
from sqlalchemy.engine import Connection

_CHUNK = 500


def _chunks(items: Sequence[object]) -> Iterable[Sequence[object]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def resolve_names(
    connection: Connection, table: Table, column: str, names: Iterable[str]
) -> dict[str, int]:
    """Ids of ``names`` in ``table.column``, inserting the missing ones."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    col = table.c[column]
    found: dict[str, int] = {}
    for chunk in _chunks(wanted):
        found.update(
            (k, v) for k, v in connection.execute(select(col, table.c.id).where(col.in_(chunk)))
        )
    missing = [name for name in wanted if name not in found]
    if missing:
        connection.execute(table.insert(), [{column: name} for name in missing])
        for chunk in _chunks(missing):
            found.update(
                (k, v) for k, v in connection.execute(select(col, table.c.id).where(col.in_(chunk)))
            )
    return found


def resolve_keys(
    connection: Connection,
    table: Table,
    key_columns: tuple[str, ...],
    rows: dict[tuple[object, ...], dict[str, object]],
) -> dict[tuple[object, ...], int]:
    """Ids of rows identified by a composite key, inserting the missing ones with their values.

    ``rows`` maps each key to the full row to insert if the key is new.
    """
    if not rows:
        return {}
    cols = [table.c[name] for name in key_columns]
    keys = list(rows)
    found: dict[tuple[object, ...], int] = {}

    def load(batch: Sequence[tuple[object, ...]]) -> None:
        for chunk in _chunks(batch):
            query = select(*cols, table.c.id).where(tuple_(*cols).in_(chunk))
            for row in connection.execute(query):
                found[tuple(row[:-1])] = row[-1]

    load(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        connection.execute(table.insert(), [rows[key] for key in missing])
        load(missing)
    return found


def fill_missing_names(connection: Connection, table: Table, names: dict[int, str | None]) -> None:
    """Set ``name`` where the stored one is empty (a later record may name a person)."""
    updates = [{"b_id": id_, "b_name": name} for id_, name in names.items() if name]
    if updates:
        from sqlalchemy import bindparam

        connection.execute(
            table.update()
            .where(and_(table.c.id == bindparam("b_id"), table.c.name.is_(None)))
            .values(name=bindparam("b_name")),
            updates,
        )
