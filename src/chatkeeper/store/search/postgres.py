"""PostgreSQL backend: a ``tsvector`` of bigram tokens per message, under a GIN index.

The vector and the query are written as ``tsvector``/``tsquery`` literals and cast, so no text
search parser or dictionary touches the tokens: what is indexed is exactly what
:func:`chatkeeper.store.search.document` produced. Phrases use the ``<->`` (followed-by) operator,
which PostgreSQL rechecks against the stored positions, so results are exact, not candidates.
(``pg_trgm`` cannot serve two-character queries well and ``pg_bigm`` is not packaged.)
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from chatkeeper.search import And, Node, Not, Or, Term, phrase_tokens
from chatkeeper.store.search import (
    IndexQuery,
    IndexResult,
    SearchIndex,
    count_and_page,
    id_bounds,
)

# PostgreSQL clamps positions to this; a phrase past it in a very long message can miss.
_MAX_POSITION = 16383


def tsvector_literal(document: str) -> str:
    """``'tok':1,4 'tik':2`` for the tokens of a document, positions from 1."""
    positions: dict[str, list[int]] = {}
    for position, token in enumerate(document.split(), start=1):
        positions.setdefault(token, []).append(min(position, _MAX_POSITION))
    return " ".join(
        f"'{token}':" + ",".join(map(str, sorted(set(where)))) for token, where in positions.items()
    )


def _term(term: Term) -> str:
    tokens, prefix = phrase_tokens(term.text)
    parts = [f"'{token}'" for token in tokens]
    if prefix:
        parts[-1] += ":*"
    return " <-> ".join(parts)


def compile_tsquery(node: Node) -> str:
    """The ``tsquery`` literal of a parsed (bounded) query."""
    if isinstance(node, Term):
        return _term(node)
    if isinstance(node, Or):
        return " | ".join(f"({compile_tsquery(child)})" for child in node.children)
    if isinstance(node, And):
        return " & ".join(
            f"!({compile_tsquery(child.child)})"
            if isinstance(child, Not)
            else f"({compile_tsquery(child)})"
            for child in node.children
        )
    raise ValueError("a bare NOT cannot be compiled")


class PostgresIndex(SearchIndex):
    """See the module docstring."""

    def add(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Index ``(id, document)`` rows."""
        if rows:
            connection.execute(
                text("INSERT INTO message_index (id, tsv) VALUES (:id, CAST(:tsv AS tsvector))"),
                [{"id": id_, "tsv": tsvector_literal(doc)} for id_, doc in rows],
            )

    def remove(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Remove rows by id."""
        if rows:
            connection.execute(
                text("DELETE FROM message_index WHERE id = :id"), [{"id": r[0]} for r in rows]
            )

    def search(self, connection: Connection, query: IndexQuery) -> IndexResult:
        """Exact total and one page."""
        tsquery = f"({compile_tsquery(query.node)})"  # type: ignore[arg-type]
        for group in query.filter_tokens:
            tsquery += " & (" + " | ".join(f"'{token}'" for token in group) + ")"
        params: dict[str, object] = {"q": tsquery}
        where = "i.tsv @@ CAST(:q AS tsquery)" + id_bounds(query, "i.id", params)
        order = "i.id DESC"
        if query.order == "relevance":
            order = f"ts_rank(i.tsv, CAST(:q AS tsquery)) DESC, {order}"
        return count_and_page(connection, "message_index i", where, params, order, query)

    def clear(self, connection: Connection) -> None:
        """Remove every row (before a rebuild)."""
        connection.exec_driver_sql("DELETE FROM message_index")
