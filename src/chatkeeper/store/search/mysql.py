"""MySQL / MariaDB backend: an InnoDB ``FULLTEXT`` index over the bigram token documents.

MariaDB has no n-gram parser, so the documents are the same fixed-width ASCII tokens every
backend indexes, which InnoDB's default parser keeps whole (every token has at least three
characters, ``innodb_ft_min_token_size``'s default, and stop words were turned off when the index
was built). Boolean mode answers terms, phrases (``"t1 t2"``, adjacent tokens), AND (``+``), OR
and NOT (``-``) exactly.

One construct is not expressible there: a phrase whose last run is one character (``"退款 申"``
needs a prefix inside a phrase). A query that holds one is answered by a looser full-text query
whose candidates are then checked against the message text with the reference matcher, so the
answer is still exact (and ordered by time).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from chatkeeper.search import And, Node, Not, Or, Term, fold, matches, phrase_tokens
from chatkeeper.store.search import IndexQuery, IndexResult, SearchIndex


class _Loose(Exception):
    """The query needs the candidate-and-check path."""


def _term(term: Term, *, loose: bool) -> str:
    tokens, prefix = phrase_tokens(term.text)
    if prefix and len(tokens) > 1:
        if not loose:
            raise _Loose
        return "(" + " ".join(f"+{t}" for t in tokens[:-1]) + f" +{tokens[-1]}*)"
    if prefix:
        return f"{tokens[0]}*"
    return '"' + " ".join(tokens) + '"'


def compile_boolean(node: Node, *, loose: bool = False) -> str:
    """The ``IN BOOLEAN MODE`` expression of a parsed query.

    With ``loose``, a phrase with a trailing one-character run becomes the AND of its tokens
    and a NOT over such a phrase is dropped: the result is a superset to be checked.
    """
    if isinstance(node, Term):
        return _term(node, loose=loose)
    if isinstance(node, Or):
        return "(" + " ".join(compile_boolean(c, loose=loose) for c in node.children) + ")"
    if isinstance(node, And):
        parts = []
        for child in node.children:
            if isinstance(child, Not):
                try:
                    parts.append("-" + compile_boolean(child.child))
                except _Loose:
                    continue  # dropping an exclusion only widens the candidates
            else:
                parts.append("+" + compile_boolean(child, loose=loose))
        return "(" + " ".join(parts) + ")"
    raise ValueError("a bare NOT cannot be compiled")


class MysqlIndex(SearchIndex):
    """See the module docstring."""

    def add(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Index ``(id, document)`` rows."""
        if rows:
            connection.execute(
                text("INSERT INTO message_index (id, tokens) VALUES (:id, :doc)"),
                [{"id": id_, "doc": doc} for id_, doc in rows],
            )

    def remove(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Remove rows by id."""
        if rows:
            connection.execute(
                text("DELETE FROM message_index WHERE id = :id"), [{"id": r[0]} for r in rows]
            )

    def search(self, connection: Connection, query: IndexQuery) -> IndexResult:
        """Exact total and one page."""
        node: Node = query.node  # type: ignore[assignment]
        try:
            expression, loose = compile_boolean(node), False
        except _Loose:
            expression, loose = compile_boolean(node, loose=True), True
        expression = "+" + expression
        for group in query.filter_tokens:
            expression += " +(" + " ".join(group) + ")"
        where = "MATCH(i.tokens) AGAINST (:q IN BOOLEAN MODE)"
        params: dict[str, object] = {"q": expression}
        if query.low_id is not None:
            where += " AND i.id >= :low"
            params["low"] = query.low_id
        if query.high_id is not None:
            where += " AND i.id <= :high"
            params["high"] = query.high_id
        if loose:
            return self._checked(connection, node, where, params, query)
        total = connection.execute(
            text(f"SELECT count(*) FROM message_index i WHERE {where}"), params
        ).scalar_one()
        if total == 0 or query.limit == 0 or query.offset >= total:
            return IndexResult([], total)
        order = "i.id DESC"
        if query.order == "relevance":
            order = f"MATCH(i.tokens) AGAINST (:q IN BOOLEAN MODE) DESC, {order}"
        rows = connection.execute(
            text(
                f"SELECT i.id FROM message_index i WHERE {where} "
                f"ORDER BY {order} LIMIT :limit OFFSET :offset"
            ),
            {**params, "limit": query.limit, "offset": query.offset},
        )
        return IndexResult([row[0] for row in rows], total)

    @staticmethod
    def _checked(
        connection: Connection,
        node: Node,
        where: str,
        params: dict[str, object],
        query: IndexQuery,
    ) -> IndexResult:
        rows = connection.execute(
            text(
                f"SELECT i.id, m.text FROM message_index i JOIN messages m ON m.id = i.id "
                f"WHERE {where} ORDER BY i.id DESC"
            ),
            params,
        )
        ids = [id_ for id_, body in rows if body and matches(node, " ".join(fold(body).split()))]
        return IndexResult(ids[query.offset : query.offset + query.limit], len(ids))
