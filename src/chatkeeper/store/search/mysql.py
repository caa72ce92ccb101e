"""MySQL / MariaDB / TiDB backend: a bigram posting table, ``(term, message id)``.

MariaDB has no n-gram full-text parser, and InnoDB ``FULLTEXT`` over the bigram tokens proved
unreliable: the equivalence tests caught it returning too few rows, now and then, for phrases
mixed with prefixes and for several ``MATCH`` predicates in one query. So this backend keeps
the same tokens every backend indexes in a plain, transactional B-tree table keyed by
``(term, message_id)``, which every MySQL-compatible database (TiDB included) runs the same way.

How each term is answered:

* one character ``c``: every posting whose term starts with ``c``'s code (a range scan): exact;
* two characters: the postings of one bigram: exact;
* longer, or with spaces: messages holding all of the term's tokens (candidates), which are then
  checked against the message text with the reference matcher, since postings keep no
  positions.

A query with any candidate term is answered by computing the whole query over candidates in SQL
(a NOT over a candidate term is left to the check) and checking each candidate's text, so
every answer is exact; such answers are ordered by time.

The query runs over the ids of ``messages``, the universe a NOT is taken against. Cold messages
(``chatkeeper.store.cold``) have no row there but keep their postings, so while anything is
cold the same query also runs over ``cold_messages`` and the two answers are merged: totals
add up, pages merge newest first, and cold candidates are checked against the texts the query's
``cold_texts`` reads from their blocks. An archive with nothing cold pays one cheap query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from chatkeeper.errors import StoreError
from chatkeeper.search import And, Node, Not, Term, fold, matches, phrase_tokens
from chatkeeper.store.bulk import insert_many
from chatkeeper.store.search import (
    IndexQuery,
    IndexResult,
    SearchIndex,
    count_and_page,
    id_bounds,
)

_EXACT = "i.id IN (SELECT t.message_id FROM message_terms t WHERE t.term = :{name})"
_PREFIX = "i.id IN (SELECT t.message_id FROM message_terms t WHERE t.term LIKE :{name})"
_ANY = "i.id IN (SELECT t.message_id FROM message_terms t WHERE t.term IN ({names}))"


class _Compiler:
    """A query as a SQL condition over ``messages i``, with its parameters."""

    def __init__(self) -> None:
        self.params: dict[str, object] = {}
        self.loose = False

    def name(self, value: object) -> str:
        key = f"q{len(self.params)}"
        self.params[key] = value
        return key

    def term(self, term: Term) -> tuple[str, bool]:
        tokens, prefix = phrase_tokens(term.text)
        parts = [
            _PREFIX.format(name=self.name(token + "%"))
            if prefix and index == len(tokens) - 1
            else _EXACT.format(name=self.name(token))
            for index, token in enumerate(tokens)
        ]
        exact = len(tokens) == 1
        if not exact:
            self.loose = True
        return "(" + " AND ".join(parts) + ")", exact

    def compile(self, node: Node) -> tuple[str, bool]:
        """The condition, and whether it is exact (else a superset, to be checked)."""
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Not):
            inner, exact = self.compile(node.child)
            return (f"NOT {inner}", True) if exact else ("1 = 1", False)
        parts = [self.compile(child) for child in node.children]
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(p for p, _ in parts) + ")", all(e for _, e in parts)

    def any_of(self, tokens: tuple[str, ...]) -> str:
        return _ANY.format(names=", ".join(f":{self.name(token)}" for token in tokens))


class MysqlIndex(SearchIndex):
    """See the module docstring."""

    def clear(self, connection: Connection) -> None:
        """Remove every row (before a rebuild)."""
        connection.exec_driver_sql("DELETE FROM message_terms")

    def add(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Post every distinct token of each ``(id, document)`` row."""
        postings = sorted({(token, id_) for id_, doc in rows for token in doc.split()})
        insert_many(connection, "message_terms", ("term", "message_id"), postings)

    def remove(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Remove every posting of the messages."""
        _delete(connection, [id_ for id_, _ in rows])

    def search(self, connection: Connection, query: IndexQuery) -> IndexResult:
        """Exact total and one page."""
        node: Node = query.node  # type: ignore[assignment]
        compiler = _Compiler()
        where, _ = compiler.compile(node)
        for group in query.filter_tokens:
            where += " AND " + compiler.any_of(group)
        params = compiler.params
        where += id_bounds(query, "i.id", params)
        cold = _any_cold(connection)
        if compiler.loose:
            return self._checked(connection, node, where, params, query, cold)
        if not cold:
            return count_and_page(connection, "messages i", where, params, "i.id DESC", query)
        return _merged(connection, where, params, query)

    @staticmethod
    def _checked(
        connection: Connection,
        node: Node,
        where: str,
        params: dict[str, object],
        query: IndexQuery,
        cold: bool,
    ) -> IndexResult:
        rows: list[Any] = list(
            connection.execute(
                text(f"SELECT i.id, i.text FROM messages i WHERE {where} ORDER BY i.id DESC"),
                params,
            )
        )
        if cold:
            found = [
                row[0]
                for row in connection.execute(
                    text(f"SELECT i.id FROM cold_messages i WHERE {where}"), params
                )
            ]
            if found:
                if query.cold_texts is None:
                    raise StoreError(
                        "cold messages are search candidates, but the query has no reader of"
                        " their texts (search through SqlArchive.search_index)"
                    )
                texts = query.cold_texts(found)
                rows.extend((id_, texts.get(id_)) for id_ in found)
                rows.sort(key=lambda row: row[0], reverse=True)
        ids = [id_ for id_, body in rows if body and matches(node, " ".join(fold(body).split()))]
        return IndexResult(ids[query.offset : query.offset + query.limit], len(ids))


_SOURCES = ("messages i", "cold_messages i")


def _any_cold(connection: Connection) -> bool:
    """Whether any message is cold (most archives: none, and the index answers alone)."""
    return connection.exec_driver_sql("SELECT id FROM cold_messages LIMIT 1").first() is not None


def _merged(
    connection: Connection, where: str, params: dict[str, object], query: IndexQuery
) -> IndexResult:
    """An exact query over hot and cold messages: the totals added, the page cut from the
    newest ``offset + limit`` ids of each."""
    counts = [
        int(
            connection.execute(
                text(f"SELECT count(*) FROM {source} WHERE {where}"), params
            ).scalar_one()
        )
        for source in _SOURCES
    ]
    total = sum(counts)
    if total == 0 or query.limit == 0 or query.offset >= total:
        return IndexResult([], total)
    window = {**params, "limit": query.offset + query.limit}
    ids = [
        int(row[0])
        for source, count in zip(_SOURCES, counts, strict=True)
        if count
        for row in connection.execute(
            text(f"SELECT i.id FROM {source} WHERE {where} ORDER BY i.id DESC LIMIT :limit"),
            window,
        )
    ]
    ids.sort(reverse=True)
    return IndexResult(ids[query.offset : query.offset + query.limit], total)


def _delete(connection: Connection, message_ids: list[int]) -> None:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    for start in range(0, len(message_ids), 900):
        chunk = message_ids[start : start + 900]
        connection.exec_driver_sql(
            f"DELETE FROM message_terms WHERE message_id IN ({', '.join([mark] * len(chunk))})",
            tuple(chunk),
        )
