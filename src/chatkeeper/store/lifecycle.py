"""Retention policy versions, conversations' deadlines and legal holds: the rows they live in.

Plain SQLAlchemy Core on a caller's connection. A hold's criteria are stored as JSON and
evaluated here when asked (:func:`covered`), so a hold covers conversations ingested after it
was made; its search query is evaluated by the real full-text index (:func:`query_matches`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from chatkeeper.search import filter_token
from chatkeeper.store.bulk import CHUNK, insert_many, select_in
from chatkeeper.store.search import IndexQuery, IndexResult
from chatkeeper.store.tables import (
    conversation_class,
    conversation_retention,
    conversations,
    customer_tags,
    customers,
    departments,
    legal_holds,
    platforms,
    retention_policies,
    service_types,
    tags,
)

# Up to this many conversations, a query is asked only about them (one filter group of the
# index); beyond, the whole query is evaluated and intersected.
_SCOPED_QUERY_MAX = 200
_PAGE = 5000  # conversations read per statement when reading them all


#: Asks the full-text index (``SqlArchive.search_index``: with cold messages' texts at hand).
Search = Callable[[Connection, IndexQuery], IndexResult]


def _chunks(values: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


# -- retention policy versions ----------------------------------------------------------------


def policy_rows(connection: Connection) -> list[dict[str, Any]]:
    """Every stored policy version, oldest first."""
    query = select(retention_policies).order_by(retention_policies.c.version)
    return [dict(r) for r in connection.execute(query).mappings()]


def latest_policy_row(connection: Connection) -> dict[str, Any] | None:
    """The newest stored policy version (``None``: none stored, the shipped defaults rule)."""
    row = (
        connection.execute(
            select(retention_policies).order_by(retention_policies.c.version.desc()).limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def insert_policy(connection: Connection, **values: Any) -> None:
    """Store one policy version (``version`` is the primary key: a concurrent twin fails)."""
    connection.execute(insert(retention_policies).values(**values))


# -- conversations and their deadlines --------------------------------------------------------


def conversation_rows(
    connection: Connection, pks: Sequence[int] | None = None
) -> Iterator[dict[str, Any]]:
    """What retention looks at, per conversation (every one when ``pks`` is ``None``), in id
    order: id, external id, platform, department, customer, service type, start, end, state
    and tags (the customer's and the classification's)."""
    c = conversations
    query = (
        select(
            c.c.id,
            c.c.external_id,
            platforms.c.code.label("platform"),
            departments.c.name.label("department"),
            customers.c.external_id.label("customer"),
            service_types.c.code.label("service_type"),
            c.c.started_at,
            c.c.ended_at,
            c.c.state,
            c.c.customer_id,
            conversation_class.c.tags.label("class_tags"),
        )
        .join(platforms, platforms.c.id == c.c.platform_id)
        .outerjoin(departments, departments.c.id == c.c.department_id)
        .outerjoin(customers, customers.c.id == c.c.customer_id)
        .outerjoin(service_types, service_types.c.id == c.c.service_type_id)
        .outerjoin(conversation_class, conversation_class.c.conversation_id == c.c.id)
        .order_by(c.c.id)
    )
    if pks is None:  # every conversation: the daily job's scan, kept lean
        yield from _all_rows(connection)
        return
    for chunk in _chunks(sorted(set(pks))):
        rows = [dict(r) for r in connection.execute(query.where(c.c.id.in_(chunk))).mappings()]
        yield from _with_tags(connection, rows)


_KEYS = (
    "id", "external_id", "platform", "department", "customer", "service_type", "started_at",
    "ended_at", "state",
)  # fmt: skip
_SCAN = (
    "SELECT c.id, c.external_id, p.code, d.name, cu.external_id, s.code, c.started_at,"
    " c.ended_at, c.state, c.customer_id, k.tags FROM conversations c"
    " JOIN platforms p ON p.id = c.platform_id"
    " LEFT JOIN departments d ON d.id = c.department_id"
    " LEFT JOIN customers cu ON cu.id = c.customer_id"
    " LEFT JOIN service_types s ON s.id = c.service_type_id"
    " LEFT JOIN conversation_class k ON k.conversation_id = c.id"
    " WHERE c.id > {mark} ORDER BY c.id LIMIT {page}"
)


def _all_rows(connection: Connection) -> Iterator[dict[str, Any]]:
    """Every conversation, a page at a time (keyset on the id), through the driver: the same
    rows as the query above, without building SQLAlchemy row objects a million times."""
    tagged: dict[int, frozenset[str]] = {}
    for customer, name in connection.exec_driver_sql(
        "SELECT ct.customer_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id"
    ):
        tagged[customer] = tagged.get(customer, frozenset()) | {name}
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = _SCAN.format(mark=mark, page=_PAGE)
    none: frozenset[str] = frozenset()
    last = 0
    while True:
        page = connection.exec_driver_sql(sql, (last,)).fetchall()
        if not page:
            return
        last = page[-1][0]
        for row in page:
            out = dict(zip(_KEYS, row, strict=False))
            found = tagged.get(row[9], none)
            if row[10]:
                found = found | frozenset(orjson.loads(row[10]))
            out["tags"] = found
            yield out


def _with_tags(connection: Connection, rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    by_customer = _customer_tags(connection, {r["customer_id"] for r in rows} - {None})
    for row in rows:
        found = set(by_customer.get(row.pop("customer_id"), ()))
        class_tags = row.pop("class_tags")
        if class_tags:
            found.update(orjson.loads(class_tags))
        row["tags"] = frozenset(found)
        yield row


def _customer_tags(connection: Connection, ids: set[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for chunk in _chunks(sorted(ids)):
        query = (
            select(customer_tags.c.customer_id, tags.c.name)
            .join(tags, tags.c.id == customer_tags.c.tag_id)
            .where(customer_tags.c.customer_id.in_(chunk))
        )
        for customer, name in connection.execute(query):
            out.setdefault(customer, []).append(name)
    return out


def save_retention(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Replace the recorded deadlines of some conversations; each row is (conversation id,
    deadline or None, rule, policy version, floor citation, computed at)."""
    ids = [row[0] for row in rows]
    for chunk in _chunks(ids):
        connection.execute(
            delete(conversation_retention).where(
                conversation_retention.c.conversation_id.in_(chunk)
            )
        )
    columns = ("conversation_id", "deadline", "rule", "policy_version", "floor", "computed_at")
    insert_many(connection, "conversation_retention", columns, list(rows))


def retention_row(connection: Connection, conversation_pk: int) -> dict[str, Any] | None:
    """The recorded deadline of one conversation (``None``: never computed)."""
    row = (
        connection.execute(
            select(conversation_retention).where(
                conversation_retention.c.conversation_id == conversation_pk
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


# -- legal holds ------------------------------------------------------------------------------


def insert_hold(connection: Connection, **values: Any) -> int:
    """Store a hold; its id."""
    result = connection.execute(insert(legal_holds).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def hold_row(connection: Connection, hold_id: int) -> dict[str, Any] | None:
    """One hold (``None`` if there is none)."""
    row = connection.execute(select(legal_holds).where(legal_holds.c.id == hold_id)).mappings()
    found = row.first()
    return dict(found) if found else None


def hold_named(connection: Connection, name: str) -> dict[str, Any] | None:
    """The hold called ``name``."""
    row = connection.execute(select(legal_holds).where(legal_holds.c.name == name)).mappings()
    found = row.first()
    return dict(found) if found else None


def hold_rows(connection: Connection, *, live_only: bool = False) -> list[dict[str, Any]]:
    """Holds by id (only those not released, with ``live_only``)."""
    query = select(legal_holds).order_by(legal_holds.c.id)
    if live_only:
        query = query.where(legal_holds.c.released_at.is_(None))
    return [dict(r) for r in connection.execute(query).mappings()]


def release_hold(connection: Connection, hold_id: int, **values: Any) -> bool:
    """Mark a hold released; ``False`` if it was released already (compare-and-swap)."""
    result = connection.execute(
        update(legal_holds)
        .where(legal_holds.c.id == hold_id, legal_holds.c.released_at.is_(None))
        .values(**values)
    )
    return result.rowcount == 1


def covered(
    connection: Connection,
    index: Search,
    criteria: Mapping[str, Any],
    node: object | None,
    within: Sequence[int] | None = None,
) -> set[int]:
    """The conversations one hold's criteria cover (any criterion suffices), among ``within``
    if given. ``criteria`` holds ``customers``, ``conversations``, ``departments`` (lists of
    platform ids and names) and ``service_dates`` (``[start, end)`` in epoch ms: a
    conversation whose span ``started_at … ended_at`` overlaps it); ``node`` is the parsed
    search query, if the hold has one."""
    c = conversations.c
    conditions: list[ColumnElement[bool]] = []
    if criteria.get("customers"):
        ids = select(customers.c.id).where(customers.c.external_id.in_(criteria["customers"]))
        conditions.append(c.customer_id.in_(ids))
    if criteria.get("conversations"):
        conditions.append(c.external_id.in_(criteria["conversations"]))
    if criteria.get("departments"):
        ids = select(departments.c.id).where(departments.c.name.in_(criteria["departments"]))
        conditions.append(c.department_id.in_(ids))
    if criteria.get("service_dates"):
        start, end = criteria["service_dates"]
        conditions.append(and_(c.started_at < end, c.ended_at >= start))
    found: set[int] = set()
    if conditions:
        query = select(c.id).where(or_(*conditions))
        if within is None:
            found.update(r[0] for r in connection.execute(query))
        else:
            for chunk in _chunks(within):
                found.update(r[0] for r in connection.execute(query.where(c.id.in_(chunk))))
    if node is not None:
        found |= query_matches(connection, index, node, within)
    return found


def query_matches(
    connection: Connection, index: Search, node: object, within: Sequence[int] | None = None
) -> set[int]:
    """The conversations with at least one message the full-text index matches ``node`` in
    (among ``within`` if given): the same answer ``chatkeeper search`` gives, unpaged."""
    groups: tuple[tuple[str, ...], ...] = ()
    if within is not None:
        if not within:
            return set()
        if len(within) <= _SCOPED_QUERY_MAX:
            groups = (tuple(filter_token("v", pk) for pk in sorted(set(within))),)
    query = IndexQuery(node, groups, None, None, "time", 0, 0)
    total = index(connection, query).total
    if not total:
        return set()
    message_ids = index(connection, dataclasses.replace(query, limit=total)).ids
    found = {
        row[0]
        for row in select_in(
            connection,
            "SELECT DISTINCT conversation_id FROM messages WHERE id IN ({params})",
            message_ids,
        )
    }
    found |= {  # cold messages: their block names the conversation (no key needed)
        row[0]
        for row in select_in(
            connection,
            "SELECT DISTINCT b.conversation_id FROM cold_messages m JOIN cold_blocks b"
            " ON b.id = m.block_id WHERE m.id IN ({params})",
            message_ids,
        )
    }
    return found if within is None else found & set(within)


def count_conversations(connection: Connection) -> int:
    """How many conversations are stored."""
    return int(connection.execute(select(func.count()).select_from(conversations)).scalar_one())


def ended_at(connection: Connection, pks: Sequence[int]) -> dict[int, int]:
    """Each conversation's service date (end), epoch milliseconds."""
    return {
        int(row[0]): int(row[1])
        for row in select_in(
            connection,
            "SELECT id, ended_at FROM conversations WHERE id IN ({params})",
            sorted(set(pks)),
        )
    }
