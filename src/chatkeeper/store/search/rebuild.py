"""Rebuilding the search index from the stored (masked) messages.

Used by migrations that change what a document holds, and by repairs. Messages are read in id
order, in chunks, and every document is derived exactly as ingest derives it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from chatkeeper.store.search import ConversationMeta, document, index_for

CHUNK = 5000


def _metas(connection: Connection) -> dict[int, ConversationMeta]:
    tags: dict[int, list[int]] = {}
    for customer, tag in connection.exec_driver_sql(
        "SELECT customer_id, tag_id FROM customer_tags ORDER BY customer_id, tag_id"
    ):
        tags.setdefault(customer, []).append(tag)
    return {
        row[0]: ConversationMeta(
            row[1], row[2], row[3], row[4], tuple(tags.get(row[3], ())) if row[3] else ()
        )
        for row in connection.exec_driver_sql(
            "SELECT id, platform_id, department_id, customer_id, service_type_id FROM conversations"
        )
    }


def rebuild_index(connection: Connection, progress: Callable[[int], None] | None = None) -> int:
    """Empty the index and index every stored message again; the number indexed."""
    index = index_for(connection.dialect.name)
    metas = _metas(connection)
    index.clear(connection)
    done, last = 0, -1
    while True:
        rows = connection.exec_driver_sql(
            "SELECT id, conversation_id, text, sender_role, agent_id FROM messages"
            f" WHERE id > {int(last)} ORDER BY id LIMIT {CHUNK}"
        ).fetchall()
        if not rows:
            return done
        index.add(
            connection,
            [(id_, document(text, metas[conv], role, agent, conv))
             for id_, conv, text, role, agent in rows],
        )  # fmt: skip
        done += len(rows)
        last = rows[-1][0]
        if progress is not None:
            progress(done)
