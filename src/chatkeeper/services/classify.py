"""Classification on demand: ``chatkeeper classify [--rerun]``.

Ingest classifies as it stores; this classifies conversations that have no class yet (stored
before classification existed), or, with ``rerun``, every conversation again under the rules
and lexicon configured now. It reads each message's original (decrypting it), so rules and
lexicon see what they saw at ingest; a purged or offline message is classified on its masked
text.
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
from chatkeeper.store.classes import replace_class

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


def _messages(ctx: Context, connection: Any, conversation_id: int) -> list[CanonicalMessage]:
    rows = connection.exec_driver_sql(
        "SELECT m.external_id, m.sent_at, m.sender_role, m.msgtype, m.kind, m.text, m.ciphertext,"
        " m.key_id, p.code, c.external_id, d.name, cu.external_id, pa.external_id"
        " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " JOIN platforms p ON p.id = m.platform_id"
        " LEFT JOIN departments d ON d.id = c.department_id"
        " LEFT JOIN customers cu ON cu.id = c.customer_id"
        " LEFT JOIN participants pa ON pa.id = m.agent_id"
        f" WHERE m.conversation_id = {int(conversation_id)} ORDER BY m.id"
    ).all()
    keys = ctx.keys(connection).by_id(sorted({r[7] for r in rows if r[7]}))
    out = []
    for (
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
    ) in rows:
        payload = None
        if sealed is not None and key_id in keys:
            plain = decrypt(bytes(sealed), keys[key_id], f"{platform}:{mid}".encode())
            original = original_record.unpack(plain, text)
            text, payload = original["text"], original["payload"]
        out.append(CanonicalMessage(
            platform=platform, conversation_id=conv, message_id=mid,
            sent_at=datetime.fromtimestamp(sent / 1000, UTC), sender_role=SenderRole(role),
            text=text, msgtype=msgtype, department=dept, agent_id=agent, customer_id=cust,
            kind=RecordKind(kind), payload=payload if isinstance(payload, dict) else None,
        ))  # fmt: skip
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
        with ctx.archive.writer() as writer:
            conn = writer.connection
            for conversation_id, source in targets[start : start + CHUNK]:
                klass: ConversationClass | None = None
                risks: dict[int, Any] = {}
                messages = _messages(ctx, conn, conversation_id)
                for message in messages:
                    klass = combine(klass, rules.classify(message), source)
                ids = [r[0] for r in conn.exec_driver_sql(
                    f"SELECT id FROM messages WHERE conversation_id = {conversation_id}"
                    " ORDER BY id")]  # fmt: skip
                for message_id, message in zip(ids, messages, strict=True):
                    if message.kind is RecordKind.MESSAGE and message.text:
                        match = lexicon.match(message.text)
                        if match.count:
                            risks[message_id] = match
                retyped += replace_class(conn, ctx.archive.index, conversation_id, klass, risks)
                risky += bool(risks)
        if progress is not None:
            progress(min(CHUNK, len(targets) - start))
    opened = open_reviews(ctx, actor)
    result = {"conversations": len(targets), "retyped": retyped, "with_risk": risky,
              "reviews_opened": opened}  # fmt: skip
    with ctx.archive.writer() as writer:
        writer.audit(actor, "classify.ran", details={**result, "rerun": rerun})
    return result
