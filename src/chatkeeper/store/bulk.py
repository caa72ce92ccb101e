"""Bulk statements that bypass SQL compilation on the ingest hot path.

SQLAlchemy Core compiles an ``IN`` list of N values into N bound parameters on every call; at
tens of thousands of rows a second that compilation costs more than the database's own work.
These helpers write the few hot statements as plain SQL in the driver's parameter style and
hand them to the driver directly. Everything else uses Core.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.engine import Connection

CHUNK = 900  # under every backend's limit on bound parameters per statement


def _mark(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def select_in(
    connection: Connection,
    sql: str,
    values: Sequence[Any],
    leading: Sequence[Any] = (),
) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` (which holds ``{params}`` where the IN list goes, and ``{p}`` for each
    leading parameter) for every chunk of ``values``."""
    mark = _mark(connection)
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        statement = sql.replace("{p}", mark).replace("{params}", ",".join([mark] * len(chunk)))
        for row in connection.exec_driver_sql(statement, (*leading, *chunk)):
            yield tuple(row)


def execute_in(
    connection: Connection,
    sql: str,
    values: Sequence[Any],
    leading: Sequence[Any] = (),
) -> int:
    """Run ``sql`` (an UPDATE or DELETE holding ``{params}`` where the IN list goes, ``{p}`` for
    each leading parameter) for every chunk of ``values``; the rows it changed."""
    mark = _mark(connection)
    done = 0
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        statement = sql.replace("{p}", mark).replace("{params}", ",".join([mark] * len(chunk)))
        result = connection.exec_driver_sql(statement, (*leading, *chunk))
        done += max(int(result.rowcount or 0), 0)
    return done


def insert_many(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples in ``columns`` order."""
    if rows:
        mark = _mark(connection)
        statement = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
        )
        connection.exec_driver_sql(statement, list(rows))


def update_many(connection: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run a statement (``{p}`` for each parameter) once per row."""
    if rows:
        connection.exec_driver_sql(sql.replace("{p}", _mark(connection)), list(rows))
