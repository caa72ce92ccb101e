"""The canonical message: what every platform adapter turns its records into."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


class SenderRole(StrEnum):
    """Who sent a message."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class RecordKind(StrEnum):
    """What a stored source record is.

    Every kind is stored in the transcript (so nothing a platform sent is lost), but only
    ``MESSAGE`` is conversation content said by a party; a ``RECALL`` is the event of a sender
    withdrawing an earlier message (which stays archived, marked recalled); a ``CONSENT`` is a
    customer agreeing to or refusing the archiving of the chat.
    """

    MESSAGE = "message"
    RECALL = "recall"
    CONSENT = "consent"


class CanonicalMessage(NamedTuple):
    """One source record in ChatKeeper's canonical form (see ``docs/formats.md``).

    A named tuple rather than a frozen dataclass: it is just as immutable, and ingest builds
    tens of thousands a second, where a frozen dataclass's ``__init__`` costs four times more.

    ``sent_at`` is timezone-aware. ``payload`` holds the structured, non-text part of a
    message (media ids and checksums, link titles, ...) as JSON-ready data; ``raw`` is the
    source record as the platform sent it, kept for audit when the canonical fields do not
    already hold all of it.
    """

    platform: str
    conversation_id: str
    message_id: str
    sent_at: datetime
    sender_role: SenderRole
    sender_id: str | None = None
    sender_name: str | None = None
    text: str | None = None
    msgtype: str = "text"
    department: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    customer_id: str | None = None
    customer_tags: tuple[str, ...] = ()
    service_type: str | None = None
    kind: RecordKind = RecordKind.MESSAGE
    ref_message_id: str | None = None
    consent: str | None = None
    payload: dict[str, object] | None = None
    raw: str | None = None

    @property
    def dedup_key(self) -> tuple[str, str]:
        """Re-ingesting a record with the same key adds nothing."""
        return (self.platform, self.message_id)
