"""A canonical message made ready for storage, by pure code that can run in another process.

Everything the writer needs that does not depend on what is already stored is computed here:
milliseconds, the UTC offset, the payload's JSON, the text's index tokens and the first id
candidate. The result is a tuple of plain values, so that a worker process can prepare a batch
while the main process writes the previous one, and hand it over cheaply.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from chatkeeper.domain import CanonicalMessage
from chatkeeper.search import text_tokens
from chatkeeper.store import ids


class NewKey(NamedTuple):
    """A data key made for a batch, already wrapped by the KEK (a ``data_keys`` row)."""

    key_id: str
    owner_kind: str
    owner_ref: str
    suite: str
    kek_id: str
    wrapped: bytes


class VaultEntry(NamedTuple):
    """One personal value of a message, encrypted for the vault (``pii_vault``)."""

    pii_type: str
    start: int | None  # offsets in the original text; None for a value outside it (a name)
    end: int | None
    key_id: str
    ciphertext: bytes
    blind_index: bytes


class StorableMessage(NamedTuple):
    """The writer's input: a canonical message in storage form (see the module docstring)."""

    platform: str
    conversation_id: str
    message_id: str
    sent_at: int  # ms since the epoch, UTC
    utc_offset: int  # minutes
    sender_role: str
    sender_id: str | None
    sender_name: str | None
    text: str | None
    msgtype: str
    kind: str
    department: str | None
    agent_id: str | None
    agent_name: str | None
    customer_id: str | None
    customer_tags: tuple[str, ...]
    service_type: str | None
    ref_message_id: str | None
    consent: str | None
    payload: str | None  # JSON
    raw: str | None
    tokens: str  # index tokens of the text, space-separated
    id_candidate: int
    ciphertext: bytes | None = None  # the encrypted original (privacy on)
    key_id: str | None = None
    vault: tuple[VaultEntry, ...] = ()
    leaf_hash: bytes | None = None  # the message's leaf in the ledger (sealed messages only)
    klass: Any = None  # chatkeeper.classify.MessageClass, when classification ran
    risk: Any = None  # chatkeeper.classify.RiskMatch of the original text, when it matched


SEALED_FIELDS = StorableMessage._fields.index("ciphertext")  # where the sealing fields start


def prepare(record: CanonicalMessage) -> StorableMessage:
    """The storage form of one canonical message."""
    sent_at = record.sent_at
    offset = sent_at.utcoffset()
    ms = int(sent_at.timestamp() * 1000)
    return StorableMessage(
        record.platform,
        record.conversation_id,
        record.message_id,
        ms,
        int(offset.total_seconds() // 60) if offset is not None else 0,
        record.sender_role.value,
        record.sender_id,
        record.sender_name,
        record.text,
        record.msgtype,
        record.kind.value,
        record.department,
        record.agent_id,
        record.agent_name,
        record.customer_id,
        record.customer_tags,
        record.service_type,
        record.ref_message_id,
        record.consent,
        orjson.dumps(record.payload).decode() if record.payload else None,
        record.raw,
        " ".join(text_tokens(record.text)) if record.text else "",
        ids.first_candidate(ms, record.platform, record.message_id),
    )
