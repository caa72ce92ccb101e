"""Classification on demand: ``chatkeeper classify [--rerun]``.

Ingest classifies as it stores; this classifies conversations that have no class yet (stored
before classification existed), or, with ``rerun``, every conversation again under the rules
and lexicon configured now. It reads each message's original (decrypting it), so rules and
lexicon see what they saw at ingest; a purged or offline message is classified on its masked
text. A cold conversation's messages are read from its block, whose records hold the originals'
plaintext, and classified the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chatkeeper.classify import ConversationClass, combine
from chatkeeper.crypto import decrypt
from chatkeeper.domain import Actor, CanonicalMessage, RecordKind, SenderRole
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.ingest import classifiers
from chatkeeper.services.review import open_reviews
from chatkeeper.store import original as original_record
from chatkeeper.store.bulk import select_in
from chatkeeper.store.classes import replace_class
from chatkeeper.store.cold import ColdStore

CHUNK = 200


def _targets(ctx: Context, rerun: bool) -> list[tuple[int, str | None]]:
    """Conversation ids to classify, with the source's own service type of each."""
    sql = (
        "SELECT c.id, COALESCE(k.source_service_type, CASE WHEN k.conversation_id IS NULL"
        " THEN s.code END) FROM conversations c"
        " LEFT JOIN conversation_class k ON k.conversation_id = c.id"
        " LEFT JOIN service_types s ON s.id = c.service_type_id"
    )
    if not rerun:
        sql += " WHERE k.conversation_id IS NULL"
    with ctx.archive.reader() as connection:
        return [(int(r[0]), r[1]) for r in connection.exec_driver_sql(sql + " ORDER BY c.id")]


# A hot conversation's messages as classification reads them (``_cold_rows``: a cold one's).
_HOT = (
    "SELECT m.id, m.external_id, m.sent_at, m.sender_role, m.msgtype, m.kind, m.text,"
    " m.ciphertext, m.key_id, p.code, c.external_id, d.name, cu.external_id, pa.external_id"
    " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
    " JOIN platforms p ON p.id = m.platform_id"
    " LEFT JOIN departments d ON d.id = c.department_id"
    " LEFT JOIN customers cu ON cu.id = c.customer_id"
    " LEFT JOIN participants pa ON pa.id = m.agent_id"
    " WHERE m.conversation_id = {} ORDER BY m.id"
)


def _cold_rows(connection: Any, cold: ColdStore, conversation_id: int) -> list[tuple[Any, ...]]:
    """A cold conversation's messages in :data:`_HOT`'s columns, each with its original's
    plaintext last (read from the block: nothing to decrypt)."""
    messages = cold.messages([conversation_id])
    conversation = connection.exec_driver_sql(
        "SELECT p.code, c.external_id, d.name, cu.external_id FROM conversations c"
        " JOIN platforms p ON p.id = c.platform_id"
        " LEFT JOIN departments d ON d.id = c.department_id"
        " LEFT JOIN customers cu ON cu.id = c.customer_id"
        f" WHERE c.id = {int(conversation_id)}"
    ).one()
    agents = dict(
        select_in(
            connection,
            "SELECT id, external_id FROM participants WHERE id IN ({params})",
            sorted({m["agent_id"] for m in messages if m["agent_id"] is not None}),
        )
    )
    return [
        (m["id"], m["external_id"], m["sent_at"], m["sender_role"], m["msgtype"], m["kind"],
         m["text"], m["ciphertext"], m["key_id"], *conversation, agents.get(m["agent_id"]),
         m.original)
        for m in messages
    ]  # fmt: skip


def _messages(
    ctx: Context, connection: Any, conversation_id: int, cold: ColdStore | None
) -> list[tuple[int, CanonicalMessage]]:
    """A conversation's messages with their ids, hot and (given ``cold``) cold, in id order."""
    hot = connection.exec_driver_sql(_HOT.format(int(conversation_id)))
    rows = [(*row, None) for row in hot]  # no plaintext: the original is to decrypt
    if cold is not None:  # a conversation that went cold as a late message arrived has both
        rows.extend(_cold_rows(connection, cold, conversation_id))
        rows.sort(key=lambda row: row[0])
    needed = sorted({r[8] for r in rows if r[8] and r[-1] is None})  # key ids still needed
    keys = ctx.keys(connection).by_id(needed) if needed else {}
    out = []
    for (
        id_,
        mid,
        sent,
        role,
        msgtype,
        kind,
        text,
        sealed,
        key_id,
        platform,
        conv,
        dept,
        cust,
        agent,
        plain,
    ) in rows:
        payload = None
        if plain is None and sealed is not None and key_id in keys:
            plain = decrypt(bytes(sealed), keys[key_id], f"{platform}:{mid}".encode())
        if plain is not None:
            original = original_record.unpack(plain, text)
            text, payload = original["text"], original["payload"]
        out.append((id_, CanonicalMessage(
            platform=platform, conversation_id=conv, message_id=mid,
            sent_at=datetime.fromtimestamp(sent / 1000, UTC), sender_role=SenderRole(role),
            text=text, msgtype=msgtype, department=dept, agent_id=agent, customer_id=cust,
            kind=RecordKind(kind), payload=payload if isinstance(payload, dict) else None,
        )))  # fmt: skip
    return out


def classify_conversations(
    ctx: Context,
    actor: Actor,
    *,
    rerun: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Classify unclassified conversations (every one with ``rerun``); counts of the run."""
    authorize(ctx, actor, "classify.run")
    rules, lexicon = classifiers(ctx.settings)
    ctx.load_keys()
    targets = _targets(ctx, rerun)
    retyped = risky = 0
    for start in range(0, len(targets), CHUNK):
        chunk = targets[start : start + CHUNK]
        with ctx.archive.writer() as writer:
            conn = writer.connection
            cold = ctx.archive.cold(conn) if ctx.archive.segments is not None else None
            cold_pks = cold.cold_conversations(pk for pk, _ in chunk) if cold else set()
            for conversation_id, source in chunk:
                klass: ConversationClass | None = None
                risks: dict[int, Any] = {}
                store = cold if conversation_id in cold_pks else None
                messages = _messages(ctx, conn, conversation_id, store)
                for _, message in messages:
                    klass = combine(klass, rules.classify(message), source)
                for message_id, message in messages:
                    if message.kind is RecordKind.MESSAGE and message.text:
                        match = lexicon.match(message.text)
                        if match.count:
                            risks[message_id] = match
                retyped += replace_class(
                    conn, ctx.archive.index, conversation_id, klass, risks, store
                )
                risky += bool(risks)
        if progress is not None:
            progress(min(CHUNK, len(targets) - start))
    opened = open_reviews(ctx, actor)
    result = {"conversations": len(targets), "retyped": retyped, "with_risk": risky,
              "reviews_opened": opened}  # fmt: skip
    with ctx.archive.writer() as writer:
        writer.audit(actor, "classify.ran", details={**result, "rerun": rerun})
    return result
