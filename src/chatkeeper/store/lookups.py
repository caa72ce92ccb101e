"""Name-to-id look-ups for the small tables (platforms, departments, tags, people), in bulk.

Each call resolves a whole batch's worth of names with one SELECT per chunk, inserts the missing
ones and selects them again: a handful of statements per batch, whatever its size, and nothing
cached across transactions (a rolled-back insert can never leave a stale id behind).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from chatkeeper.store.bulk import insert_many, select_in, update_many


def resolve_names(
    connection: Connection, table: str, column: str, names: Iterable[str]
) -> dict[str, int]:
    """Ids of ``names`` in ``table.column``, inserting the missing ones."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    query = f"SELECT {column}, id FROM {table} WHERE {column} IN ({{params}})"
    found: dict[str, int] = dict(select_in(connection, query, wanted))
    missing = [name for name in wanted if name not in found]
    if missing:
        insert_many(connection, table, (column,), [(name,) for name in missing])
        found.update(select_in(connection, query, missing))
    return found


def resolve_people(
    connection: Connection,
    table: str,
    scope: tuple[str, ...],
    wanted: dict[tuple[Any, ...], dict[str, Any]],
) -> dict[tuple[Any, ...], int]:
    """Ids of people (customers, participants) keyed by ``(*scope values, external_id)``.

    ``wanted`` maps each key to the row to insert if it is new (with a ``name``, which may be
    ``None``). A stored person without a name gets the one this batch gives.
    """
    found: dict[tuple[Any, ...], tuple[int, str | None]] = {}
    where = " AND ".join(f"{column} = {{p}}" for column in scope)
    query = (
        f"SELECT external_id, id, name FROM {table} WHERE {where} AND external_id IN ({{params}})"
    )

    def load(keys: Iterable[tuple[Any, ...]]) -> None:
        groups: dict[tuple[Any, ...], list[str]] = {}
        for key in keys:
            groups.setdefault(key[:-1], []).append(key[-1])
        for scope_values, externals in groups.items():
            for external, id_, name in select_in(connection, query, externals, scope_values):
                found[(*scope_values, external)] = (id_, name)

    load(wanted)
    missing = [key for key in wanted if key not in found]
    if missing:
        columns = tuple(wanted[missing[0]])
        insert_many(
            connection, table, columns, [tuple(wanted[k][c] for c in columns) for k in missing]
        )
        load(missing)
    named = [
        (wanted[key]["name"], found[key][0])
        for key in wanted
        if wanted[key].get("name") and found[key][1] is None
    ]
    update_many(connection, f"UPDATE {table} SET name = {{p}} WHERE id = {{p}}", named)
    return {key: value[0] for key, value in found.items()}
