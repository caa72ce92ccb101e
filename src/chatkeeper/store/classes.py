"""Conversations' classes and risk marks as a batch adds messages to them.

A conversation's class is combined from its messages' classes (``chatkeeper.classify.combine``)
and kept in ``conversation_class`` so that the next batch resumes from it. When the combined
service type differs from the conversation's, the conversation takes it before the batch is
indexed, and its earlier messages are re-indexed (the same path as a late filter value).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from chatkeeper.classify import ConversationClass, combine
from chatkeeper.store.bulk import insert_many, select_in
from chatkeeper.store.cold import ColdStore
from chatkeeper.store.conversations import ConversationState
from chatkeeper.store.lookups import resolve_names
from chatkeeper.store.prepared import StorableMessage

_CLASS = (
    "conversation_id", "service_type", "rule", "priority", "tags", "override_source",
    "source_service_type", "risk_level", "risk_terms", "classified_at",
)  # fmt: skip


def _stored(
    connection: Connection, ids: list[int]
) -> dict[int, tuple[ConversationClass, int, set[str]]]:
    rows = select_in(
        connection,
        "SELECT conversation_id, service_type, rule, priority, tags, override_source, "
        "source_service_type, risk_level, risk_terms FROM conversation_class "
        "WHERE conversation_id IN ({params})",
        ids,
    )
    out = {}
    for cid, service, rule, priority, tags, override, source, level, terms in rows:
        klass = ConversationClass(
            service, rule, int(priority), tuple(orjson.loads(tags)) if tags else (),
            bool(override), source,
        )  # fmt: skip
        out[cid] = (klass, int(level), set(orjson.loads(terms)) if terms else set())
    return out


def classify_batch(
    connection: Connection,
    records: Sequence[StorableMessage],
    states: dict[tuple[int, str], ConversationState],
    platforms: dict[str, int],
) -> None:
    """Fold the batch's message classes and risks into its conversations (before indexing)."""
    touched: dict[tuple[int, str], list[StorableMessage]] = {}
    for r in records:
        if r.klass is not None or r.risk is not None or r.service_type:
            touched.setdefault((platforms[r.platform], r.conversation_id), []).append(r)
    if not touched:
        return
    stored = _stored(connection, [states[k].id for k in touched if not states[k].new])
    service_codes: dict[int, str] = {
        int(row[0]): str(row[1])
        for row in connection.exec_driver_sql("SELECT id, code FROM service_types")
    }
    rows: list[tuple[Any, ...]] = []
    wanted: dict[tuple[int, str], str] = {}
    for key, batch in touched.items():
        state = states[key]
        klass, level, terms = stored.get(state.id, (None, 0, set()))
        before = klass
        current = service_codes.get(state.meta.service_type_id or -1)
        for r in batch:
            if r.klass is not None or r.service_type:
                source = r.service_type or (current if klass is None else None)
                klass = combine(klass, r.klass or _NONE, source)
            if r.risk is not None:
                level = max(level, int(r.risk.level))
                terms.update(r.risk.terms)
        if klass is not None and klass.service_type and klass.service_type != current:
            wanted[key] = klass.service_type
        if klass != before or terms or level:
            k = klass or ConversationClass()
            rows.append((
                state.id, k.service_type, k.rule, k.priority,
                orjson.dumps(list(k.tags)).decode() if k.tags else None, int(k.override_source),
                k.source_service_type, level,
                orjson.dumps(sorted(terms)).decode() if terms else None, int(time.time() * 1000),
            ))  # fmt: skip
    _retype(connection, states, wanted)
    _save(connection, rows, [states[k].id for k in touched if states[k].id in stored])


class _NoClass:
    service_type = None
    rule = None
    priority = 0
    tags: tuple[str, ...] = ()
    override_source = False


_NONE: Any = _NoClass()


def _retype(
    connection: Connection,
    states: dict[tuple[int, str], ConversationState],
    wanted: dict[tuple[int, str], str],
) -> None:
    if not wanted:
        return
    ids = resolve_names(connection, "service_types", "code", set(wanted.values()))
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    for key, code in wanted.items():
        state = states[key]
        if not state.new and state.indexed_meta is None:
            state.indexed_meta = state.meta  # what the earlier messages are indexed under
        state.meta = dataclasses.replace(state.meta, service_type_id=ids[code])
        if state.new:  # created by resolve() already; save() updates only the others
            connection.exec_driver_sql(
                f"UPDATE conversations SET service_type_id = {mark} WHERE id = {mark}",
                (ids[code], state.id),
            )


def _save(connection: Connection, rows: list[tuple[Any, ...]], existing: list[int]) -> None:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    for start in range(0, len(existing), 500):
        chunk = existing[start : start + 500]
        connection.exec_driver_sql(
            "DELETE FROM conversation_class WHERE conversation_id IN"
            f" ({', '.join([mark] * len(chunk))})",
            tuple(chunk),
        )
    insert_many(connection, "conversation_class", _CLASS, rows)


def mark_risks(
    connection: Connection,
    records: Sequence[StorableMessage],
    message_ids: list[int],
    states: dict[tuple[int, str], ConversationState],
    platforms: dict[str, int],
) -> None:
    """One ``message_risks`` row per message whose original matched the lexicon."""
    rows = [
        (message_id, states[(platforms[r.platform], r.conversation_id)].id, int(r.risk.level),
         ",".join(r.risk.categories), orjson.dumps(list(r.risk.terms)).decode())
        for r, message_id in zip(records, message_ids, strict=True)
        if r.risk is not None
    ]  # fmt: skip
    columns = ("message_id", "conversation_id", "level", "categories", "terms")
    insert_many(connection, "message_risks", columns, rows)


def conversation_meta(connection: Connection, conversation_id: int) -> Any:
    """The filter values a conversation's messages are indexed under now."""
    from chatkeeper.store.search import ConversationMeta

    row = connection.exec_driver_sql(
        "SELECT platform_id, department_id, customer_id, service_type_id FROM conversations"
        f" WHERE id = {int(conversation_id)}"
    ).one()
    tags: tuple[int, ...] = ()
    if row[2] is not None:
        tags = tuple(
            r[0]
            for r in connection.exec_driver_sql(
                "SELECT tag_id FROM customer_tags"
                f" WHERE customer_id = {int(row[2])} ORDER BY tag_id"
            )
        )
    return ConversationMeta(row[0], row[1], row[2], row[3], tags)


def replace_class(
    connection: Connection,
    index: Any,
    conversation_id: int,
    klass: ConversationClass | None,
    risks: dict[int, Any],
    cold: ColdStore | None = None,
) -> bool:
    """Store a conversation's class and risk marks computed afresh (``classify --rerun``);
    retype and re-index it when its service type changes (its messages read from ``cold``
    when given: the conversation is cold). Whether the type changed."""
    from chatkeeper.store.search import document

    old = conversation_meta(connection, conversation_id)
    changed = False
    if klass is not None and klass.service_type:
        new_id = resolve_names(connection, "service_types", "code", {klass.service_type})[
            klass.service_type
        ]
        if new_id != old.service_type_id:
            changed = True
            connection.exec_driver_sql(
                f"UPDATE conversations SET service_type_id = {int(new_id)}"
                f" WHERE id = {int(conversation_id)}"
            )
            new = dataclasses.replace(old, service_type_id=new_id)
            rows: list[Any]
            if cold is None:
                rows = list(
                    connection.exec_driver_sql(
                        "SELECT id, text, sender_role, agent_id FROM messages"
                        f" WHERE conversation_id = {int(conversation_id)}"
                    )
                )
            else:
                rows = [
                    (m["id"], m["text"], m["sender_role"], m["agent_id"])
                    for m in cold.messages([conversation_id])
                ]
            index.remove(connection, [(i, document(x, old, r, a, conversation_id))
                                      for i, x, r, a in rows])  # fmt: skip
            index.add(connection, [(i, document(x, new, r, a, conversation_id))
                                   for i, x, r, a in rows])  # fmt: skip
    for table in ("conversation_class", "message_risks"):
        connection.exec_driver_sql(
            f"DELETE FROM {table} WHERE conversation_id = {int(conversation_id)}"
        )
    level = max((int(r.level) for r in risks.values()), default=0)
    terms = sorted({term for r in risks.values() for term in r.terms})
    k = klass or ConversationClass()
    insert_many(connection, "conversation_class", _CLASS, [(
        conversation_id, k.service_type, k.rule, k.priority,
        orjson.dumps(list(k.tags)).decode() if k.tags else None, int(k.override_source),
        k.source_service_type, level, orjson.dumps(terms).decode() if terms else None,
        int(time.time() * 1000),
    )])  # fmt: skip
    marks = [
        (mid, conversation_id, int(r.level), ",".join(r.categories),
         orjson.dumps(list(r.terms)).decode())
        for mid, r in sorted(risks.items())
    ]  # fmt: skip
    columns = ("message_id", "conversation_id", "level", "categories", "terms")
    insert_many(connection, "message_risks", columns, marks)
    return changed
