"""The leaf formats: what a message leaf and an audit-event leaf commit to, byte for byte.

docs/ledger.md, "Leaf formats", is the specification. A leaf never holds a message's content:
only the hash of the stored ciphertext and a salted hash of the original. The salt lives only
encrypted under the conversation's data key, so once a purge destroys that key nobody can test a
guessed content against the leaf, while the leaf's hash keeps every proof of the tree valid.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chatkeeper.ledger.errors import LeafMalformed
from chatkeeper.ledger.hashing import SHA256, HashAlgorithm

LEAF_VERSION = 0x01
MESSAGE_LEAF = 0x01
AUDIT_LEAF = 0x02
SALT_SIZE = 32
CONTENT_TAG = b"chatkeeper.content.v1\x00"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MESSAGE_HEAD = bytes((LEAF_VERSION, MESSAGE_LEAF))


def new_salt() -> bytes:
    """32 fresh random bytes from the operating system: one per message, never reused."""
    return os.urandom(SALT_SIZE)


def content_commitment(salt: bytes, content: bytes, algorithm: HashAlgorithm = SHA256) -> bytes:
    """``H("chatkeeper.content.v1" ‖ 0x00 ‖ salt ‖ content)``: hides ``content`` while ``salt``
    is secret, binds it for ever.

    The tag separates this use of the hash from leaves and nodes; the fixed salt size makes the
    split between salt and content unambiguous.
    """
    if len(salt) != SALT_SIZE:
        raise LeafMalformed(f"a content salt has {SALT_SIZE} bytes, not {len(salt)}")
    return algorithm.digest(CONTENT_TAG + salt + content)


def _canonical(value: object, path: str) -> None:
    """Refuse values whose JSON text another language might write differently (floats)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise LeafMalformed(f"audit details key at {path} is not a string")
            _canonical(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            _canonical(item, f"{path}[{position}]")
    elif value is not None and not isinstance(value, str | int | bool):
        raise LeafMalformed(
            f"audit details value at {path} is a {type(value).__name__}; only strings, integers, "
            "booleans, null, lists and objects can be hashed canonically"
        )


def details_digest(details: Mapping[str, object], algorithm: HashAlgorithm = SHA256) -> bytes:
    """``H(canonical JSON of details)``, or ``b""`` when there are none (docs/ledger.md)."""
    if not details:
        return b""
    _canonical(details, "$")
    text = json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return algorithm.digest(text.encode("utf-8"))


class _Writer:
    """Builds leaf bytes field by field, refusing values the format cannot hold."""

    def __init__(self, leaf_type: int) -> None:
        self.out = bytearray((LEAF_VERSION, leaf_type))

    def text(self, name: str, value: str, width: int, *, empty: bool = False) -> None:
        """A ``str8`` (width 1) or ``str16`` (width 2) field."""
        data = value.encode("utf-8")
        if len(data) >= 1 << (8 * width) or (not data and not empty):
            raise LeafMalformed(f"leaf field {name} must be 1 to {(1 << (8 * width)) - 1} bytes")
        self.out += len(data).to_bytes(width, "big") + data

    def digest(self, name: str, value: bytes, size: int, *, empty: bool = False) -> None:
        """A ``hash8`` field of the algorithm's digest size (or empty where allowed)."""
        if len(value) != size and not (empty and not value):
            raise LeafMalformed(f"leaf field {name} has {len(value)} bytes, not {size}")
        self.out += bytes((len(value),)) + value

    def time(self, name: str, value: datetime) -> None:
        """A signed 64-bit count of microseconds since the Unix epoch, UTC."""
        if value.tzinfo is None or value.utcoffset() is None:
            raise LeafMalformed(f"leaf field {name} is a naive time; a UTC offset is required")
        self.out += ((value - _EPOCH) // _MICROSECOND).to_bytes(8, "big", signed=True)


class _Reader:
    """Reads leaf bytes back, refusing truncation and trailing bytes."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, count: int) -> bytes:
        """The next ``count`` bytes."""
        if self.pos + count > len(self.data):
            raise LeafMalformed("leaf data is truncated")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def text(self, width: int) -> str:
        """A ``str8``/``str16`` field."""
        try:
            return self.take(int.from_bytes(self.take(width), "big")).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LeafMalformed("leaf text field is not UTF-8") from exc

    def digest(self) -> bytes:
        """A ``hash8`` field."""
        return self.take(self.take(1)[0])

    def time(self) -> datetime:
        """A ``time`` field, as an aware UTC datetime."""
        micros = int.from_bytes(self.take(8), "big", signed=True)
        try:
            return _EPOCH + micros * _MICROSECOND
        except OverflowError as exc:
            raise LeafMalformed("leaf time is outside the years 1 to 9999") from exc

    def end(self) -> None:
        """Refuse trailing bytes: a leaf has one encoding only."""
        if self.pos != len(self.data):
            raise LeafMalformed(f"leaf data has {len(self.data) - self.pos} trailing bytes")


@dataclass(frozen=True, slots=True)
class MessageLeaf:
    """A message's commitment: ids, time, sender role, key id and two hashes; never content."""

    conversation_id: str
    message_id: str
    sent_at: datetime
    sender_role: str
    key_id: str
    ciphertext_hash: bytes
    content_commitment: bytes

    @classmethod
    def commit(
        cls,
        *,
        conversation_id: str,
        message_id: str,
        sent_at: datetime,
        sender_role: str,
        key_id: str,
        ciphertext: bytes,
        content: bytes,
        salt: bytes,
        algorithm: HashAlgorithm = SHA256,
    ) -> MessageLeaf:
        """The leaf for a stored message, hashing its ciphertext and committing to its content."""
        return cls(
            conversation_id,
            message_id,
            sent_at,
            sender_role,
            key_id,
            algorithm.digest(ciphertext),
            content_commitment(salt, content, algorithm),
        )

    def encode(self, algorithm: HashAlgorithm = SHA256) -> bytes:
        """The leaf data (docs/ledger.md, "Message leaf").

        Ingest encodes one leaf per message, so the common case is built in one join; anything
        unusual (an empty or oversized field, a naive time, a digest of the wrong size) takes
        the field-by-field path, which names what is wrong. Both give the same bytes.
        """
        c, m = self.conversation_id.encode(), self.message_id.encode()
        r, k = self.sender_role.encode(), self.key_id.encode()
        width = algorithm.digest_size
        cipher, content = self.ciphertext_hash, self.content_commitment
        offset = self.sent_at.utcoffset()
        if (
            0 < len(c) < 65536 and 0 < len(m) < 65536 and 0 < len(r) < 256 and 0 < len(k) < 256
            and len(cipher) == width and len(content) == width and offset is not None
        ):  # fmt: skip
            micros = (self.sent_at - _EPOCH) // _MICROSECOND
            return b"".join((
                _MESSAGE_HEAD, len(c).to_bytes(2, "big"), c, len(m).to_bytes(2, "big"), m,
                micros.to_bytes(8, "big", signed=True), bytes((len(r),)), r, bytes((len(k),)), k,
                bytes((width,)), cipher, bytes((width,)), content,
            ))  # fmt: skip
        return self._encode_checked(algorithm)

    def _encode_checked(self, algorithm: HashAlgorithm) -> bytes:
        out = _Writer(MESSAGE_LEAF)
        out.text("conversation_id", self.conversation_id, 2)
        out.text("message_id", self.message_id, 2)
        out.time("sent_at", self.sent_at)
        out.text("sender_role", self.sender_role, 1)
        out.text("key_id", self.key_id, 1)
        out.digest("ciphertext_hash", self.ciphertext_hash, algorithm.digest_size)
        out.digest("content_commitment", self.content_commitment, algorithm.digest_size)
        return bytes(out.out)

    def leaf_hash(self, algorithm: HashAlgorithm = SHA256) -> bytes:
        """``H(0x00 ‖ leaf data)``: what the tree stores for this message."""
        return algorithm.leaf(self.encode(algorithm))


@dataclass(frozen=True, slots=True)
class AuditLeaf:
    """An audit event's commitment: who did what, to what, when, from where, with what result."""

    event_id: str
    occurred_at: datetime
    actor_id: str
    actor_role: str
    action: str
    target_type: str
    target_id: str
    result: str
    source: str
    approval_id: str
    details_digest: bytes

    def encode(self, algorithm: HashAlgorithm = SHA256) -> bytes:
        """The leaf data (docs/ledger.md, "Audit-event leaf")."""
        out = _Writer(AUDIT_LEAF)
        out.text("event_id", self.event_id, 2)
        out.time("occurred_at", self.occurred_at)
        out.text("actor_id", self.actor_id, 2, empty=True)
        out.text("actor_role", self.actor_role, 1, empty=True)
        out.text("action", self.action, 1)
        out.text("target_type", self.target_type, 1, empty=True)
        out.text("target_id", self.target_id, 2, empty=True)
        out.text("result", self.result, 1)
        out.text("source", self.source, 2, empty=True)
        out.text("approval_id", self.approval_id, 2, empty=True)
        out.digest("details_digest", self.details_digest, algorithm.digest_size, empty=True)
        return bytes(out.out)

    def leaf_hash(self, algorithm: HashAlgorithm = SHA256) -> bytes:
        """``H(0x00 ‖ leaf data)``: what the audit tree stores for this event."""
        return algorithm.leaf(self.encode(algorithm))


def decode_leaf(data: bytes, algorithm: HashAlgorithm = SHA256) -> MessageLeaf | AuditLeaf:
    """Parse leaf data back into its fields; refuses anything ``encode`` would not produce."""
    reader = _Reader(data)
    version, leaf_type = reader.take(2)
    if version != LEAF_VERSION:
        raise LeafMalformed(f"unknown leaf version {version}")
    leaf: MessageLeaf | AuditLeaf
    if leaf_type == MESSAGE_LEAF:
        leaf = MessageLeaf(
            reader.text(2),
            reader.text(2),
            reader.time(),
            reader.text(1),
            reader.text(1),
            reader.digest(),
            reader.digest(),
        )
    elif leaf_type == AUDIT_LEAF:
        leaf = AuditLeaf(
            reader.text(2),
            reader.time(),
            reader.text(2),
            reader.text(1),
            reader.text(1),
            reader.text(1),
            reader.text(2),
            reader.text(1),
            reader.text(2),
            reader.text(2),
            reader.digest(),
        )
    else:
        raise LeafMalformed(f"unknown leaf type {leaf_type}")
    reader.end()
    # Re-encoding checks every length rule (empty ids, digest sizes) in one place.
    if leaf.encode(algorithm) != data:
        raise LeafMalformed("leaf data is not in canonical form")
    return leaf
