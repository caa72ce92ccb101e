"""Full-text index backends: one per database, the same answers from each.

Every backend indexes the document :func:`document` builds (bigram tokens of the message text
plus filter tokens) under the message's time-ordered id, and answers a parsed query with
exactly the ids whose text contains the query's terms; the search service then reads the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.engine import Connection

from chatkeeper.search import filter_token, text_tokens

ROLE_CODES = {"customer": "c", "agent": "a", "bot": "b", "system": "s"}


@dataclass(frozen=True, slots=True)
class ConversationMeta:
    """The conversation-level filter values a message is indexed under."""

    platform_id: int
    department_id: int | None
    customer_id: int | None
    service_type_id: int | None
    tag_ids: tuple[int, ...]


@lru_cache(maxsize=4096)
def conversation_tokens(meta: ConversationMeta) -> str:
    """The filter tokens every message of a conversation shares."""
    out = [filter_token("p", meta.platform_id)]
    if meta.department_id is not None:
        out.append(filter_token("d", meta.department_id))
    if meta.customer_id is not None:
        out.append(filter_token("c", meta.customer_id))
    if meta.service_type_id is not None:
        out.append(filter_token("s", meta.service_type_id))
    out.extend(filter_token("t", tag) for tag in meta.tag_ids)
    return " ".join(out)


@lru_cache(maxsize=4096)
def _message_tokens(role: str, agent_id: int | None) -> str:
    token = filter_token("r", ROLE_CODES[role])
    return token if agent_id is None else f"{token} {filter_token('a', agent_id)}"


def meta_tokens(
    meta: ConversationMeta, role: str, agent_id: int | None, conversation_id: int
) -> str:
    """The filter tokens of one message: its conversation's values and the conversation
    itself (scopes of named conversations), its sender role, its agent."""
    return (
        f"{conversation_tokens(meta)} {filter_token('v', conversation_id)} "
        f"{_message_tokens(role, agent_id)}"
    )


def document(
    text: str | None,
    meta: ConversationMeta,
    role: str,
    agent_id: int | None,
    conversation_id: int,
) -> str:
    """The index document of one message: its text tokens, then its filter tokens."""
    if not text:
        return meta_tokens(meta, role, agent_id, conversation_id)
    return " ".join(text_tokens(text)) + " " + meta_tokens(meta, role, agent_id, conversation_id)


@dataclass(frozen=True, slots=True)
class IndexQuery:
    """What the search service asks an index: a query and filters as index terms."""

    node: object  # chatkeeper.search.Node
    filter_tokens: tuple[tuple[str, ...], ...]  # AND of groups; a group is an OR of tokens
    low_id: int | None
    high_id: int | None
    order: str  # "time" or "relevance"
    limit: int
    offset: int
    # The readable (masked) texts of cold messages by id: a backend that checks candidates
    # against the text (MySQL) reads them here, since cold messages have no ``messages`` row.
    cold_texts: Callable[[Sequence[int]], dict[int, str | None]] | None = field(
        default=None, compare=False
    )


@dataclass(frozen=True, slots=True)
class IndexResult:
    """Matching ids in the order asked for (one page) and the exact total."""

    ids: list[int]
    total: int


def id_bounds(query: IndexQuery, column: str, params: dict[str, object]) -> str:
    """The time range as SQL on the id column (``""`` without one), adding its parameters."""
    sql = ""
    if query.low_id is not None:
        sql += f" AND {column} >= :low"
        params["low"] = query.low_id
    if query.high_id is not None:
        sql += f" AND {column} <= :high"
        params["high"] = query.high_id
    return sql


def count_and_page(
    connection: Connection,
    source: str,
    where: str,
    params: dict[str, object],
    order: str,
    query: IndexQuery,
) -> IndexResult:
    """The exact count of ``source`` rows matching ``where``, then the requested page of ids
    (``source`` names its id column ``i.id``)."""
    total = connection.execute(
        text(f"SELECT count(*) FROM {source} WHERE {where}"), params
    ).scalar_one()
    if total == 0 or query.limit == 0 or query.offset >= total:
        return IndexResult([], total)
    rows = connection.execute(
        text(
            f"SELECT i.id FROM {source} WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": query.limit, "offset": query.offset},
    )
    return IndexResult([row[0] for row in rows], total)


class SearchIndex:
    """Interface every backend implements (see the modules beside this one)."""

    def add(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Index ``(message id, document)`` rows."""
        raise NotImplementedError

    def remove(self, connection: Connection, rows: list[tuple[int, str]]) -> None:
        """Remove rows; ``document`` is what was indexed (contentless indexes need it)."""
        raise NotImplementedError

    def search(self, connection: Connection, query: IndexQuery) -> IndexResult:
        """The page of matching ids and the exact total."""
        raise NotImplementedError

    def clear(self, connection: Connection) -> None:
        """Remove every row (before a rebuild)."""
        raise NotImplementedError


def index_for(dialect: str) -> SearchIndex:
    """The backend for a SQLAlchemy dialect name."""
    if dialect == "sqlite":
        from chatkeeper.store.search.sqlite_fts5 import Fts5Index

        return Fts5Index()
    if dialect == "postgresql":
        from chatkeeper.store.search.postgres import PostgresIndex

        return PostgresIndex()
    from chatkeeper.store.search.mysql import MysqlIndex

    return MysqlIndex()
