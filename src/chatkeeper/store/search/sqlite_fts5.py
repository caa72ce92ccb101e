"""SQLite FTS5 backend: a contentless FTS5 table of bigram tokens keyed by message id.

Contentless (``content=''``) keeps the index from storing the documents a second time; a row is
removed by handing FTS5 the document it indexed, which ChatKeeper re-derives from the stored
message. ``detail=full`` keeps token positions, which phrase queries (every term of three or more
characters) need. Filters are index tokens, and the time range is a rowid range, so every
filtered query is answered from the index alone.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from chatkeeper.search import And, Node, Not, Or, Term, phrase_tokens
from chatkeeper.store.search import IndexQuery, IndexResult, SearchIndex


def _term(term: Term) -> str:
    tokens, prefix = phrase_tokens(term.text)
    return '"' + " ".join(tokens) + '"' + ("*" if prefix else "")


def compile_match(node: Node) -> str:
    """The FTS5 MATCH expression of a parsed (bounded) query."""
    if isinstance(node, Term):
        return _term(node)
    if isinstance(node, Or):
        return " OR ".join(f"({compile_match(child)})" for child in node.children)
    if isinstance(node, And):
        positive = [c for c in node.children if not isinstance(c, Not)]
        negative = [c.child for c in node.children if isinstance(c, Not)]
        expression = " AND ".join(f"({compile_match(child)})" for child in positive)
        for child in negative:
            expression = f"({expression}) NOT ({compile_match(child)})"
        return expression
    raise ValueError("a bare NOT cannot be compiled")  # parse() refuses these


def _filters(groups: tuple[tuple[str, ...], ...]) -> str:
    return " AND ".join(
        "(" + " OR ".join(f'"{token}"' for token in group) + ")" for group in groups
    )


class Fts5Index(SearchIndex):
    """See the module docstring."""

    def add(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Index ``(id, document)`` rows, in id order.

        FTS5 flushes its in-memory segment whenever a rowid arrives that is not above the
        previous one in the transaction; unsorted input makes ingest four times slower and
        the index half as large again.
        """
        if rows:
            connection.exec_driver_sql(
                "INSERT INTO message_index(rowid, tokens) VALUES (?, ?)", sorted(rows)
            )

    def remove(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Remove rows by handing back the documents they were indexed with."""
        if rows:
            connection.exec_driver_sql(
                "INSERT INTO message_index(message_index, rowid, tokens) VALUES ('delete', ?, ?)",
                rows,
            )

    @staticmethod
    def _where(query: IndexQuery) -> tuple[str, list[object]]:
        match = f"({compile_match(query.node)})"  # type: ignore[arg-type]
        if query.filter_tokens:
            match += f" AND {_filters(query.filter_tokens)}"
        where = "message_index MATCH ?"
        params: list[object] = [match]
        if query.low_id is not None:
            where += " AND rowid >= ?"
            params.append(query.low_id)
        if query.high_id is not None:
            where += " AND rowid <= ?"
            params.append(query.high_id)
        return where, params

    def page(self, connection: Connection, query: IndexQuery) -> list[int]:
        """One page of ids, without the total."""
        where, params = self._where(query)
        order = "rank" if query.order == "relevance" else "rowid DESC"
        rows = connection.exec_driver_sql(
            f"SELECT rowid FROM message_index WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, query.limit, query.offset),
        )
        return [row[0] for row in rows]

    def search(self, connection: Connection, query: IndexQuery) -> IndexResult:
        """Exact total and one page, from the index alone (plain SQL: no compile per call)."""
        where, params = self._where(query)
        total = connection.exec_driver_sql(
            f"SELECT count(*) FROM message_index WHERE {where}", tuple(params)
        ).scalar_one()
        if total == 0 or query.limit == 0 or query.offset >= total:
            return IndexResult([], total)
        return IndexResult(self.page(connection, query), total)

    def clear(self, connection: Connection) -> None:
        """Remove every row (before a rebuild)."""
        connection.exec_driver_sql("INSERT INTO message_index(message_index) VALUES ('delete-all')")
