"""The leaf formats byte for byte (docs/ledger.md, "Leaf formats"), the content commitment and
what a leaf must never reveal or accept."""

from __future__ import annotations

import dataclasses
import hashlib
import struct
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatkeeper.ledger import (
    AuditLeaf,
    MessageLeaf,
    content_commitment,
    decode_leaf,
    details_digest,
    leaf_hash,
    new_salt,
)
from chatkeeper.ledger.errors import LeafMalformed

SALT = bytes(range(32))
CONTENT = "您好，我的订单 2025030112345 还没发货，手机 13800138000。".encode()
CIPHERTEXT = b"CKE\x01\x01\x05dk_01" + bytes(40)
SENT = datetime(2025, 3, 1, 10, 11, 12, 345678, tzinfo=timezone(timedelta(hours=8)))
MESSAGE = MessageLeaf.commit(
    conversation_id="c_0001",
    message_id="m_0042",
    sent_at=SENT,
    sender_role="customer",
    key_id="dk_01",
    ciphertext=CIPHERTEXT,
    content=CONTENT,
    salt=SALT,
)
AUDIT = AuditLeaf(
    event_id="ev_9",
    occurred_at=datetime(2025, 3, 2, tzinfo=UTC),
    actor_id="u_7",
    actor_role="legal",
    action="conversation.purged",
    target_type="conversation",
    target_id="c_0001",
    result="ok",
    source="cli",
    approval_id="",
    details_digest=details_digest({"reason": "retention", "count": 3}),
)


def s8(text: str) -> bytes:
    """A ``str8`` field."""
    return bytes([len(text.encode())]) + text.encode()


def s16(text: str) -> bytes:
    """A ``str16`` field."""
    return struct.pack(">H", len(text.encode())) + text.encode()


class TestMessageLeaf:
    """GIVEN a stored message WHEN committed THEN the leaf is exactly the documented bytes."""

    def test_bytes_follow_the_table(self) -> None:
        micros = 1740795072345678  # 2025-03-01T02:11:12.345678Z
        expected = (
            b"\x01\x01"
            + s16("c_0001")
            + s16("m_0042")
            + struct.pack(">q", micros)
            + s8("customer")
            + s8("dk_01")
            + b"\x20"
            + hashlib.sha256(CIPHERTEXT).digest()
            + b"\x20"
            + hashlib.sha256(b"chatkeeper.content.v1\x00" + SALT + CONTENT).digest()
        )
        assert MESSAGE.encode() == expected
        assert MESSAGE.leaf_hash() == hashlib.sha256(b"\x00" + expected).digest()
        assert MESSAGE.leaf_hash() == leaf_hash(expected)

    def test_never_contains_the_content(self) -> None:
        data = MESSAGE.encode()
        assert CONTENT not in data and b"13800138000" not in data

    def test_same_instant_in_another_zone_is_the_same_leaf(self) -> None:
        utc = dataclasses.replace(MESSAGE, sent_at=SENT.astimezone(UTC))
        assert utc.encode() == MESSAGE.encode()

    def test_commitment_depends_on_salt_and_content(self) -> None:
        assert content_commitment(SALT, CONTENT) != content_commitment(new_salt(), CONTENT)
        assert content_commitment(SALT, CONTENT) != content_commitment(SALT, CONTENT + b" ")
        assert new_salt() != new_salt() and len(new_salt()) == 32

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"message_id": ""}, "message_id must be 1"),
            ({"sender_role": "x" * 256}, "sender_role must be 1 to 255"),
            ({"sent_at": datetime(2025, 3, 1)}, "naive"),
            ({"ciphertext_hash": b"short"}, "ciphertext_hash has 5 bytes"),
            ({"content_commitment": b""}, "content_commitment has 0 bytes"),
        ],
    )
    def test_out_of_range_fields_are_refused(self, change: dict[str, Any], reason: str) -> None:
        with pytest.raises(LeafMalformed, match=reason):
            dataclasses.replace(MESSAGE, **change).encode()

    def test_short_salt_is_refused(self) -> None:
        with pytest.raises(LeafMalformed, match="32 bytes"):
            content_commitment(b"salt", CONTENT)


class TestAuditLeaf:
    """GIVEN an audit event WHEN committed THEN optional fields may be empty, the type differs."""

    def test_round_trip(self) -> None:
        assert decode_leaf(AUDIT.encode()) == AUDIT

    def test_details_are_hashed_canonically(self) -> None:
        assert (
            details_digest({"b": 1, "a": "二"})
            == hashlib.sha256('{"a":"二","b":1}'.encode()).digest()
        )
        assert details_digest({}) == b""

    def test_floats_in_details_are_refused(self) -> None:
        with pytest.raises(LeafMalformed, match=r"\$.nested\[0\] is a float"):
            details_digest({"nested": [1.5]})

    def test_type_byte_separates_message_and_audit(self) -> None:
        assert AUDIT.encode()[:2] == b"\x01\x02" and MESSAGE.encode()[:2] == b"\x01\x01"


class TestDecode:
    """GIVEN leaf bytes WHEN decoded THEN only what encode produces is accepted."""

    def test_message_round_trip_is_utc(self) -> None:
        decoded = decode_leaf(MESSAGE.encode())
        assert isinstance(decoded, MessageLeaf)
        assert decoded.sent_at == SENT and decoded.sent_at.tzinfo == UTC
        assert decoded.encode() == MESSAGE.encode()

    @pytest.mark.parametrize(
        ("data", "reason"),
        [
            (MESSAGE.encode()[:-1], "truncated"),
            (MESSAGE.encode() + b"\x00", "trailing"),
            (b"\x02" + MESSAGE.encode()[1:], "version"),
            (b"\x01\x03" + MESSAGE.encode()[2:], "type"),
            (b"\x01\x01\x00\x00" + MESSAGE.encode()[10:], "conversation_id must be 1"),
        ],
    )
    def test_malformed_bytes_are_named(self, data: bytes, reason: str) -> None:
        with pytest.raises(LeafMalformed, match=reason):
            decode_leaf(data)

    @given(
        st.text(min_size=1, max_size=40),
        st.text(min_size=1, max_size=40),
        st.datetimes(timezones=st.just(UTC)),
        st.sampled_from(["customer", "agent", "bot", "system"]),
        st.binary(min_size=32, max_size=32),
    )
    def test_any_message_leaf_round_trips(
        self, conversation: str, message: str, sent: datetime, role: str, digest: bytes
    ) -> None:
        leaf = MessageLeaf(conversation, message, sent, role, "dk_x", digest, digest[::-1])
        assert decode_leaf(leaf.encode()) == leaf


@given(
    conversation=st.text(min_size=1, max_size=40),
    message=st.text(min_size=1, max_size=40),
    micros=st.integers(min_value=-(10**15), max_value=10**16),
    role=st.sampled_from(["customer", "agent", "bot", "system"]),
    key=st.text(alphabet="0123456789abcdef", min_size=1, max_size=32),
)
def test_the_fast_encoding_is_the_checked_one(conversation, message, micros, role, key) -> None:
    """Ingest's one-join encoding gives exactly the field-by-field bytes."""
    from datetime import UTC, datetime, timedelta

    from chatkeeper.ledger.hashing import SHA256
    from chatkeeper.ledger.leaves import MessageLeaf

    sent = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    leaf = MessageLeaf(conversation, message, sent, role, key, b"\x01" * 32, b"\x02" * 32)
    assert leaf.encode() == leaf._encode_checked(SHA256)
