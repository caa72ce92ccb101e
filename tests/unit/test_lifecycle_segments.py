"""Cold segments: round trip under a trained dictionary and AES-GCM, one read per conversation,
purge by rewrite (the purged ciphertext is gone, the rest still reads), and tamper detection."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chatkeeper.lifecycle import (
    FileSource,
    LocalSegmentStore,
    RecordCodec,
    SegmentDictionary,
    SegmentInfo,
    SegmentReader,
    train_dictionary,
)
from chatkeeper.lifecycle.errors import (
    ConversationNotInSegment,
    SegmentCorrupt,
    SegmentError,
    SegmentNotInStore,
)

PHRASES = (
    "您好，请问有什么可以帮您？",
    "我想申请退款，订单号是",
    "已为您登记，预计3个工作日内到账",
    "快递还没到",
)


def record(conversation: int, order: int) -> bytes:
    """A compact JSON record, as the service will store each message's original."""
    message = {
        "platform": "wecom",
        "conversation_id": f"c2026-{conversation:06d}",
        "message_id": f"m-{conversation:06d}-{order:04d}",
        "sent_at": f"2026-10-{1 + conversation % 28:02d}T10:{order % 60:02d}:00+08:00",
        "sender_role": "customer" if order % 2 else "agent",
        "text": PHRASES[(conversation + order) % len(PHRASES)] + str(conversation * 7919 % 100000),
        "department": "售后服务部",
        "service_type": "after_sales",
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


CONVERSATIONS = {f"c2026-{c:06d}": [record(c, o) for o in range(1, 3 + c % 9)] for c in range(60)}


class Keys:
    """One AES-256-GCM key per conversation, the conversation id bound as associated data."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}

    def seal(self, conversation_id: str, plaintext: bytes) -> bytes:
        key = self.keys.setdefault(conversation_id, AESGCM.generate_key(bit_length=256))
        nonce = os.urandom(12)
        return nonce + AESGCM(key).encrypt(nonce, plaintext, conversation_id.encode())

    def unseal(self, conversation_id: str, ciphertext: bytes) -> bytes:
        key = self.keys[conversation_id]
        return AESGCM(key).decrypt(ciphertext[:12], ciphertext[12:], conversation_id.encode())


@pytest.fixture(scope="module")
def dictionary() -> SegmentDictionary:
    samples = [r for records in CONVERSATIONS.values() for r in records]
    return train_dictionary(samples * 4, size=4096)


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def store(tmp_path: Path) -> LocalSegmentStore:
    return LocalSegmentStore(tmp_path / "cold")


def write(
    store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys, name: str = "seg-1"
) -> SegmentInfo:
    return store.write(name, CONVERSATIONS.items(), dictionary, keys.seal)


class CountingSource:
    """A file source that counts the reads made through it."""

    def __init__(self, path: Path) -> None:
        self.inner = FileSource(path)
        self.name, self.size = self.inner.name, self.inner.size
        self.reads: list[tuple[int, int]] = []

    def read_at(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self.inner.read_at(offset, length)

    def close(self) -> None:
        self.inner.close()


class TestRoundTrip:
    def test_every_conversation_reads_back_exactly(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        info = write(store, dictionary, keys)
        assert [e.conversation_id for e in info.entries] == list(CONVERSATIONS)
        assert info.size == store.path("seg-1").stat().st_size
        assert info.dictionary_id == dictionary.id
        with store.open("seg-1") as reader:
            assert reader.info == info
            for conversation_id, records in CONVERSATIONS.items():
                assert reader.read(conversation_id, keys.unseal) == records
            assert reader.verify() == len(CONVERSATIONS)

    def test_records_are_opaque_bytes(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        odd = [b"", b"\x00" * 300, os.urandom(70_000), "退款".encode()]
        store.write("odd", [("x", odd), ("empty", [])], dictionary, keys.seal)
        with store.open("odd") as reader:
            assert reader.read("x", keys.unseal) == odd
            assert reader.read("empty", keys.unseal) == []

    def test_the_dictionary_makes_blocks_smaller(self, dictionary: SegmentDictionary) -> None:
        records = CONVERSATIONS["c2026-000007"]
        raw = sum(map(len, records))
        with_dictionary = len(RecordCodec(dictionary).compress(records))
        assert with_dictionary < raw / 2

    def test_the_file_holds_no_plaintext(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        write(store, dictionary, keys)
        data = store.path("seg-1").read_bytes()
        assert "已为您登记".encode() not in data[len(dictionary.data) + 100 :]
        assert b'"message_id"' not in data[len(dictionary.data) + 100 :]

    def test_a_wrong_key_fails_in_the_callers_aead(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        write(store, dictionary, keys)
        other = Keys()
        other.keys = {c: AESGCM.generate_key(bit_length=256) for c in CONVERSATIONS}
        with store.open("seg-1") as reader, pytest.raises(InvalidTag):
            reader.read("c2026-000003", other.unseal)

    def test_unknown_conversation_and_segment(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        write(store, dictionary, keys)
        with store.open("seg-1") as reader, pytest.raises(ConversationNotInSegment, match="c-nope"):
            reader.read("c-nope", keys.unseal)
        with pytest.raises(SegmentNotInStore, match="seg-2"):
            store.open("seg-2")

    def test_segments_are_immutable(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        write(store, dictionary, keys)
        before = store.path("seg-1").read_bytes()
        with pytest.raises(SegmentError, match="never overwritten"):
            write(store, dictionary, keys)
        assert store.path("seg-1").read_bytes() == before
        assert store.segment_ids() == ["seg-1"]
        assert [p.name for p in store.directory.iterdir()] == ["seg-1.cks"]  # no temporary left

    @pytest.mark.parametrize("name", ["../escape", "", ".hidden", "a/b", "x" * 129])
    def test_segment_ids_cannot_leave_the_folder(self, store: LocalSegmentStore, name: str) -> None:
        with pytest.raises(SegmentError, match="segment id"):
            store.path(name)


class TestOneRead:
    def test_a_conversation_costs_one_ranged_read(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        write(store, dictionary, keys)
        source = CountingSource(store.path("seg-1"))
        with SegmentReader(source) as reader:
            opened = len(source.reads)
            entry = reader.entry("c2026-000042")
            records = reader.read("c2026-000042", keys.unseal)
            assert source.reads[opened:] == [(entry.offset, entry.length)]
        assert records == CONVERSATIONS["c2026-000042"]
        assert opened <= 4  # trailer, header (fixed part, dictionary), footer

    def test_an_index_entry_kept_elsewhere_reads_the_same(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        info = write(store, dictionary, keys)
        stored = {e.conversation_id: e for e in info.entries}  # e.g. rows in the database
        with store.open("seg-1") as reader:
            assert (
                reader.read_entry(stored["c2026-000005"], keys.unseal)
                == CONVERSATIONS["c2026-000005"]
            )


class TestPurgeByRewrite:
    def test_the_purged_ciphertext_is_gone_and_the_rest_still_reads(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        info = write(store, dictionary, keys)
        old = store.path("seg-1").read_bytes()
        purged = ("c2026-000010", "c2026-000011")
        blocks = {e.conversation_id: old[e.offset : e.offset + e.length] for e in info.entries}
        keep = [c for c in CONVERSATIONS if c not in purged]
        result = store.copy_without("seg-1", "seg-2", keep)
        store.remove("seg-1")
        new = store.path("seg-2").read_bytes()
        for conversation_id in purged:
            assert blocks[conversation_id] not in new
            assert conversation_id.encode() not in new  # nor its id in the index
        assert len(new) == result.size
        assert len(new) == len(old) - sum(len(blocks[c]) + 1 + len(c) + 48 for c in purged)
        with store.open("seg-2") as reader:
            assert list(reader.entries) == keep
            for conversation_id in reader.entries:
                assert reader.read(conversation_id, keys.unseal) == CONVERSATIONS[conversation_id]
                assert blocks[conversation_id] in new  # copied byte for byte, no key needed
            assert reader.info == result
        assert [p.name for p in store.directory.iterdir()] == ["seg-2.cks"]

    def test_a_rewrite_never_overwrites_a_segment_nor_keeps_what_is_not_there(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        write(store, dictionary, keys)
        before = store.path("seg-1").read_bytes()
        with pytest.raises(SegmentError, match="never overwritten"):
            store.copy_without("seg-1", "seg-1", ["c2026-000001"])
        with pytest.raises(ConversationNotInSegment):
            store.copy_without("seg-1", "seg-2", ["c-not-here"])
        assert store.path("seg-1").read_bytes() == before
        assert store.segment_ids() == ["seg-1"]

    def test_a_damaged_block_is_not_copied_into_the_rewrite(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        info = write(store, dictionary, keys)
        entry = info.entries[20]
        flip(store.path("seg-1"), entry.offset + 5)
        before = store.path("seg-1").read_bytes()
        with pytest.raises(SegmentCorrupt, match=f"offset {entry.offset}"):
            store.copy_without("seg-1", "seg-2", list(CONVERSATIONS))
        assert store.path("seg-1").read_bytes() == before
        assert store.segment_ids() == ["seg-1"]


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


class TestCorruption:
    def test_a_changed_block_byte_names_the_file_and_the_blocks_offset(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        info = write(store, dictionary, keys)
        entry = info.entries[3]
        flip(store.path("seg-1"), entry.offset + entry.length // 2)
        with store.open("seg-1") as reader:
            with pytest.raises(SegmentCorrupt) as caught:
                reader.read(entry.conversation_id, keys.unseal)
            assert reader.read("c2026-000004", keys.unseal)  # the others still read
            with pytest.raises(SegmentCorrupt):
                reader.verify()
        assert caught.value.file == str(store.path("seg-1"))
        assert caught.value.offset == entry.offset
        assert f"{store.path('seg-1')} is damaged at byte offset {entry.offset}" in str(
            caught.value
        )
        assert entry.conversation_id in str(caught.value)

    def test_a_changed_dictionary_byte_is_detected_on_open(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        write(store, dictionary, keys)
        flip(store.path("seg-1"), 16 + len(dictionary.data) // 2)
        with pytest.raises(SegmentCorrupt, match="offset 0: header does not match its SHA-256"):
            store.open("seg-1")

    def test_a_changed_index_byte_is_detected_on_open(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        info = write(store, dictionary, keys)
        footer_at = info.entries[-1].offset + info.entries[-1].length
        flip(store.path("seg-1"), footer_at + 10)
        with pytest.raises(SegmentCorrupt, match=f"offset {footer_at}: footer index"):
            store.open("seg-1")

    def test_a_truncated_file_is_detected_on_open(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        write(store, dictionary, keys)
        path = store.path("seg-1")
        path.write_bytes(path.read_bytes()[:-10])
        with pytest.raises(SegmentCorrupt, match="no CKSE end marker"):
            store.open("seg-1")

    def test_a_file_that_is_not_a_segment(self, store: LocalSegmentStore) -> None:
        store.path("junk").write_bytes(b"PK\x03\x04" + os.urandom(200))
        with pytest.raises(SegmentCorrupt, match="offset 0: not a ChatKeeper cold segment"):
            store.open("junk")

    def test_a_block_swapped_for_another_is_refused(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        """Checksums and AEAD both bind a block to its place: moving bytes around is caught."""
        info = write(store, dictionary, keys)
        a, b = info.entries[1], info.entries[2]
        data = bytearray(store.path("seg-1").read_bytes())
        data[a.offset : a.offset + 16] = data[b.offset : b.offset + 16]
        store.path("seg-1").write_bytes(bytes(data))
        with (
            store.open("seg-1") as reader,
            pytest.raises(SegmentCorrupt, match=f"offset {a.offset}"),
        ):
            reader.read(a.conversation_id, keys.unseal)

    def test_checksums_are_sha256_of_the_stored_block(
        self, store: LocalSegmentStore, dictionary: SegmentDictionary, keys: Keys
    ) -> None:
        info = write(store, dictionary, keys)
        data = store.path("seg-1").read_bytes()
        for entry in info.entries:
            assert (
                hashlib.sha256(data[entry.offset : entry.offset + entry.length]).digest()
                == entry.sha256
            )


class TestDictionary:
    def test_too_few_samples_is_a_clear_error(self) -> None:
        with pytest.raises(SegmentError, match=r"cannot train a dictionary .* from 2 samples"):
            train_dictionary([b"abc", b"def"], size=4096)

    def test_a_dictionary_round_trips_through_bytes(self, dictionary: SegmentDictionary) -> None:
        assert SegmentDictionary.from_bytes(dictionary.data) == dictionary
        with pytest.raises(SegmentError, match="not a zstd dictionary"):
            SegmentDictionary.from_bytes(b"not a dictionary at all")
