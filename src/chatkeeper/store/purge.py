"""The recycle bin and purge: the rows they read, move and delete.

Plain SQL on a caller's connection, inside the caller's transaction; the services decide (who,
which conversations, holds, the window) and audit. Index documents are derived exactly as
``store.search.rebuild`` derives them, because a contentless FTS5 index removes a row only when
handed the document it indexed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from chatkeeper.search import filter_token
from chatkeeper.store.bulk import CHUNK, execute_in, insert_many, select_in
from chatkeeper.store.cold import ColdStore
from chatkeeper.store.ledger import MESSAGES_LOG
from chatkeeper.store.search import ConversationMeta, SearchIndex, document
from chatkeeper.store.tables import (
    conversations,
    deletion_certificates,
    departments,
    platforms,
    purged_leaves,
    recycle_bin,
    service_types,
)

# Tables keyed by message id that hold something of a purged message, deleted before it.
_BY_MESSAGE = ("pii_vault", "message_risks", "recall_events", "consent_records")
# Tables keyed by conversation id whose rows go with the conversation's content.
_BY_CONVERSATION = (
    "pii_vault",
    "message_risks",
    "consent_records",
    "conversation_class",
    "conversation_retention",
    "conversation_agents",
)


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- conversations ----------------------------------------------------------------------------


def conversation_facts(connection: Connection, pks: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Id, reference (``platform:external id``), state and department of each conversation that
    exists among ``pks``."""
    out: dict[int, dict[str, Any]] = {}
    rows = select_in(
        connection,
        "SELECT c.id, p.code, c.external_id, c.state, c.department_id FROM conversations c "
        "JOIN platforms p ON p.id = c.platform_id WHERE c.id IN ({params})",
        sorted(set(pks)),
    )
    for pk, platform, external, state, department in rows:
        out[pk] = {
            "id": pk,
            "ref": f"{platform}:{external}",
            "conversation_id": external,
            "platform": platform,
            "state": state,
            "department_id": department,
        }
    return out


def set_state(connection: Connection, pks: Sequence[int], state: str, now: int) -> None:
    """Move conversations to a lifecycle state."""
    c = conversations
    for chunk in _chunks(sorted(pks)):
        connection.execute(
            update(c).where(c.c.id.in_(list(chunk))).values(state=state, updated_at=now)
        )


# -- the bin ------------------------------------------------------------------------------------


def put_in_bin(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Bin entries: ``(conversation id, binned at, by, reason, previous state, run id)``."""
    insert_many(
        connection,
        "recycle_bin",
        ("conversation_id", "binned_at", "binned_by", "reason", "previous_state", "run_id"),
        rows,
    )


def take_from_bin(connection: Connection, pk: int) -> bool:
    """Remove one bin entry; whether there was one."""
    result = connection.execute(delete(recycle_bin).where(recycle_bin.c.conversation_id == pk))
    return bool(result.rowcount)


def bin_rows(connection: Connection, pks: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Bin entries with their conversation's reference, department and service type, oldest
    first (every entry, or those of ``pks``)."""
    b, c = recycle_bin, conversations
    query = (
        select(
            b,
            c.c.external_id,
            platforms.c.code.label("platform"),
            c.c.message_count,
            departments.c.name.label("department"),
            service_types.c.code.label("service_type"),
        )
        .join(c, c.c.id == b.c.conversation_id)
        .join(platforms, platforms.c.id == c.c.platform_id)
        .outerjoin(departments, departments.c.id == c.c.department_id)
        .outerjoin(service_types, service_types.c.id == c.c.service_type_id)
        .order_by(b.c.binned_at, b.c.conversation_id)
    )
    if pks is None:
        return [dict(r) for r in connection.execute(query).mappings()]
    out: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(set(pks))):
        query_chunk = query.where(b.c.conversation_id.in_(list(chunk)))
        out.extend(dict(r) for r in connection.execute(query_chunk).mappings())
    return out


# -- the search index ---------------------------------------------------------------------------


def _metas(connection: Connection, pks: Sequence[int]) -> dict[int, ConversationMeta]:
    """As ``store.search.rebuild``: the conversation's filter values and its customer's tags."""
    rows = list(
        select_in(
            connection,
            "SELECT id, platform_id, department_id, customer_id, service_type_id "
            "FROM conversations WHERE id IN ({params})",
            sorted(set(pks)),
        )
    )
    tags: dict[int, list[int]] = {}
    for customer, tag in select_in(
        connection,
        "SELECT customer_id, tag_id FROM customer_tags WHERE customer_id IN ({params}) "
        "ORDER BY customer_id, tag_id",
        sorted({row[3] for row in rows if row[3] is not None}),
    ):
        tags.setdefault(customer, []).append(tag)
    return {
        row[0]: ConversationMeta(
            row[1], row[2], row[3], row[4], tuple(sorted(tags.get(row[3], ()))) if row[3] else ()
        )
        for row in rows
    }


def message_rows(
    connection: Connection, pks: Sequence[int], cold: ColdStore | None = None
) -> list[tuple[Any, ...]]:
    """``(id, conversation, text, sender role, agent, ledger index)`` of the conversations'
    messages, hot and (given ``cold``) cold, in id order."""
    rows = list(
        select_in(
            connection,
            "SELECT id, conversation_id, text, sender_role, agent_id, ledger_index FROM messages "
            "WHERE conversation_id IN ({params})",
            sorted(set(pks)),
        )
    )
    if cold is not None:
        rows.extend(tuple(m.row[c] for c in _ROW) for m in cold.messages(pks))
    rows.sort(key=lambda row: row[0])
    return rows


_ROW = ("id", "conversation_id", "text", "sender_role", "agent_id", "ledger_index")


def _indexed_tags(
    connection: Connection, metas: dict[int, ConversationMeta]
) -> dict[tuple[int, int], bool]:
    """SQLite: which of its customer's current tags each conversation's messages were indexed
    with, as ``(message id, tag) -> True``.

    A tag that a later batch gave the customer is not in the documents of the customer's other
    conversations indexed before it (ingest re-indexes only the conversations of that batch), so
    the document ``rebuild`` derives can hold a tag token the index never saw; handing such a
    document to a contentless FTS5 index corrupts it. The index itself says which tags it holds:
    one query per tag, over the conversations whose customer carries it."""
    by_tag: dict[int, list[int]] = {}
    for pk, meta in metas.items():
        for tag in meta.tag_ids:
            by_tag.setdefault(tag, []).append(pk)
    found: dict[tuple[int, int], bool] = {}
    for tag, pks in by_tag.items():
        for chunk in _chunks(sorted(pks), 400):
            scope = " OR ".join(f'"{filter_token("v", pk)}"' for pk in chunk)
            match = f'"{filter_token("t", tag)}" AND ({scope})'
            for (rowid,) in connection.exec_driver_sql(
                "SELECT rowid FROM message_index WHERE message_index MATCH ?", (match,)
            ):
                found[(int(rowid), tag)] = True
    return found


def index_documents(
    connection: Connection,
    pks: Sequence[int],
    rows: Sequence[tuple[Any, ...]] | None = None,
    cold: ColdStore | None = None,
) -> list[tuple[int, str]]:
    """The ``(message id, document)`` the index holds for every message of the conversations:
    derived as ``store.search.rebuild`` derives it, with, on SQLite, only the tags the index
    holds for it (:func:`_indexed_tags`)."""
    metas = _metas(connection, pks)
    if rows is None:
        rows = message_rows(connection, pks, cold)
    if connection.dialect.name != "sqlite" or not any(m.tag_ids for m in metas.values()):
        return [(row[0], document(row[2], metas[row[1]], row[3], row[4], row[1])) for row in rows]
    held = _indexed_tags(connection, {pk: m for pk, m in metas.items() if m.tag_ids})
    out = []
    for id_, conversation, text, role, agent, *_ in rows:
        meta = metas[conversation]
        tags = tuple(tag for tag in meta.tag_ids if (id_, tag) in held)
        if tags != meta.tag_ids:
            meta = replace(meta, tag_ids=tags)
        out.append((id_, document(text, meta, role, agent, conversation)))
    return out


def unindex(
    connection: Connection, index: SearchIndex, pks: Sequence[int], cold: ColdStore | None = None
) -> int:
    """Remove the conversations' messages from the search index; how many."""
    documents = index_documents(connection, pks, cold=cold)
    index.remove(connection, documents)
    return len(documents)


def reindex(
    connection: Connection, index: SearchIndex, pks: Sequence[int], cold: ColdStore | None = None
) -> int:
    """Add the conversations' messages to the search index again; how many."""
    documents = index_documents(connection, pks, cold=cold)
    index.add(connection, documents)
    return len(documents)


# -- purge --------------------------------------------------------------------------------------


def conversation_keys(connection: Connection, refs: Sequence[str]) -> list[tuple[str, str]]:
    """``(owner reference, key id)`` of every live data key the conversations own."""
    return [
        (str(row[0]), str(row[1]))
        for row in select_in(
            connection,
            "SELECT owner_ref, key_id FROM data_keys WHERE owner_kind = 'conversation' "
            "AND destroyed_at IS NULL AND owner_ref IN ({params})",
            sorted(set(refs)),
        )
    ]


def destroy_keys(connection: Connection, key_ids: Sequence[str], now: int) -> None:
    """Crypto-shred: clear the wrapped material and record when (``store.keys``' contract)."""
    execute_in(
        connection,
        "UPDATE data_keys SET wrapped = NULL, destroyed_at = {p} "
        "WHERE destroyed_at IS NULL AND key_id IN ({params})",
        sorted(set(key_ids)),
        (now,),
    )


def delete_content(connection: Connection, pks: Sequence[int], message_ids: Sequence[int]) -> int:
    """Delete the messages and every row that holds something of them or of the conversations
    (vault entries, risk marks, recalls, consents, class, deadline, agents, reviews); the
    number of vault entries deleted."""
    vault = execute_in(
        connection, "DELETE FROM pii_vault WHERE message_id IN ({params})", message_ids
    )
    for table in _BY_MESSAGE[1:]:
        execute_in(connection, f"DELETE FROM {table} WHERE message_id IN ({{params}})", message_ids)
    execute_in(connection, "DELETE FROM messages WHERE id IN ({params})", message_ids)
    conversation_pks = sorted(set(pks))
    vault += execute_in(
        connection, "DELETE FROM pii_vault WHERE conversation_id IN ({params})", conversation_pks
    )
    for table in _BY_CONVERSATION[1:]:
        execute_in(
            connection,
            f"DELETE FROM {table} WHERE conversation_id IN ({{params}})",
            conversation_pks,
        )
    execute_in(
        connection,
        "DELETE FROM review_steps WHERE item_id IN (SELECT id FROM review_items"
        " WHERE conversation_id IN ({params}))",
        conversation_pks,
    )
    execute_in(
        connection, "DELETE FROM review_items WHERE conversation_id IN ({params})", conversation_pks
    )
    execute_in(
        connection, "DELETE FROM recycle_bin WHERE conversation_id IN ({params})", conversation_pks
    )
    return vault


def tombstone(connection: Connection, pks: Sequence[int], now: int) -> None:
    """Leave each conversation as a tombstone: its ids, state ``purged``, no customer, no
    messages."""
    c = conversations
    for chunk in _chunks(sorted(pks)):
        connection.execute(
            update(c)
            .where(c.c.id.in_(list(chunk)))
            .values(state="purged", customer_id=None, message_count=0, updated_at=now)
        )


def retention_rows(connection: Connection, pks: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The recorded deadline, rule, policy version and floor of each conversation that has one."""
    columns = ("deadline", "rule", "policy_version", "floor")
    rows = select_in(
        connection,
        "SELECT conversation_id, deadline, rule, policy_version, floor FROM conversation_retention"
        " WHERE conversation_id IN ({params})",
        sorted(set(pks)),
    )
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}


# -- certificates -------------------------------------------------------------------------------


def new_certificate(connection: Connection, **values: Any) -> int:
    """Insert a certificate row (its document is completed by :func:`complete_certificate`)."""
    result = connection.execute(
        insert(deletion_certificates).values(
            document="", digest="", signature="", key_id="", html="", **values
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def complete_certificate(connection: Connection, certificate_id: int, **values: Any) -> None:
    """Store the signed document, its digest, signature, key id and page."""
    d = deletion_certificates
    connection.execute(update(d).where(d.c.id == certificate_id).values(**values))


def record_purged_leaves(
    connection: Connection, certificate_id: int, indexes: Sequence[int]
) -> None:
    """List the purged messages' leaves of the message log under their certificate."""
    insert_many(
        connection,
        "purged_leaves",
        ("log_id", "ledger_index", "certificate_id"),
        [(MESSAGES_LOG, index, certificate_id) for index in sorted(indexes)],
    )


def certificate_rows(connection: Connection, *, documents: bool = False) -> list[dict[str, Any]]:
    """Every certificate, oldest first (with the signed document when ``documents``)."""
    d = deletion_certificates
    columns = [
        d.c.id,
        d.c.created_at,
        d.c.actor,
        d.c.run_id,
        d.c.conversations,
        d.c.messages,
        d.c.digest,
        d.c.signature,
        d.c.key_id,
    ]
    if documents:
        columns.append(d.c.document)
    return [dict(r) for r in connection.execute(select(*columns).order_by(d.c.id)).mappings()]


def certificate_row(connection: Connection, certificate_id: int) -> dict[str, Any] | None:
    """One certificate, everything included."""
    d = deletion_certificates
    row = connection.execute(select(d).where(d.c.id == certificate_id)).mappings().first()
    return dict(row) if row else None


def purge_digests(connection: Connection) -> set[str]:
    """The certificate digests the ``conversation.purged`` audit events name."""
    out: set[str] = set()
    for (details,) in connection.exec_driver_sql(
        "SELECT details FROM audit_events WHERE action = 'conversation.purged'"
    ):
        digest = orjson.loads(details).get("digest") if details else None
        if isinstance(digest, str):
            out.add(digest)
    return out


def listed_purged_leaves(connection: Connection) -> set[int]:
    """Every message-log index ``purged_leaves`` lists."""
    p = purged_leaves
    query = select(p.c.ledger_index).where(p.c.log_id == MESSAGES_LOG)
    return {int(row[0]) for row in connection.execute(query)}
