"""The message ledger on every backend: a leaf per stored message, in the same transaction,
signed checkpoints, proofs that verify, and leaves that recompute from what is stored."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from chatkeeper.crypto import decrypt, peek
from chatkeeper.domain import Actor
from chatkeeper.ledger import (
    SHA256,
    MemoryNodeStore,
    MerkleLog,
    inclusion_node_ids,
    parse_verifier_key,
    root,
    verify_checkpoint,
    verify_inclusion,
)
from chatkeeper.services import Context
from chatkeeper.services.ingest import ingest_files
from chatkeeper.store import original as original_record
from chatkeeper.store.ledger import MESSAGES_LOG, LedgerWriter, SqlNodeStore, message_leaf
from tests.factories import record, write_jsonl

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission


@pytest.fixture
def loaded(ctx: Context, tmp_path: Path) -> tuple[Context, Path]:
    lines = [
        record(conversation_id=f"L{i // 4}", text=f"第{i}条，电话1381234{i:04d}") for i in range(23)
    ]
    path = write_jsonl(tmp_path / "l.jsonl", lines)
    assert ingest_files(ctx, ACTOR, [path], "jsonl").ingested == 23
    return ctx, path


def _rows(ctx: Context) -> list[tuple]:
    with ctx.archive.reader() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT m.ledger_index, m.external_id, m.sent_at, m.sender_role, m.ciphertext, "
                "m.text, c.external_id, p.code FROM messages m "
                "JOIN conversations c ON c.id = m.conversation_id "
                "JOIN platforms p ON p.id = m.platform_id ORDER BY m.ledger_index"
            )
        )


def _state(ctx: Context) -> tuple[int, bytes, str]:
    with ctx.archive.reader() as conn:
        size, stored_root = conn.exec_driver_sql(
            f"SELECT size, root FROM ledger_logs WHERE log_id = {MESSAGES_LOG}"
        ).one()
        note = conn.exec_driver_sql(
            "SELECT note FROM ledger_checkpoints ORDER BY size DESC"
        ).first()[0]
    return int(size), bytes(stored_root), str(note)


class TestMessageLog:
    def test_every_stored_message_has_a_leaf_and_the_tree_recomputes(self, loaded):
        ctx, _ = loaded
        size, stored_root, _ = _state(ctx)
        rows = _rows(ctx)
        assert size == 23 and [row[0] for row in rows] == list(range(23))
        with ctx.archive.reader() as conn:
            leaves = SqlNodeStore(conn, MESSAGES_LOG).leaf_hashes(list(range(size)))
        assert root([leaves[i] for i in range(size)]) == stored_root

    def test_each_leaf_recomputes_from_the_stored_ciphertext_and_its_sealed_salt(self, loaded):
        ctx, _ = loaded
        ctx.load_keys()
        with ctx.archive.reader() as conn:
            leaves = SqlNodeStore(conn, MESSAGES_LOG).leaf_hashes(list(range(23)))
            for index, message, sent_at, role, blob, text, conversation, platform in _rows(ctx):
                key_id = peek(bytes(blob)).key_id
                key = ctx.keys(conn).by_id([key_id])[key_id]
                plain = decrypt(bytes(blob), key, f"{platform}:{message}".encode())
                original = original_record.unpack(plain, text)
                leaf = message_leaf(
            platform=platform, conversation_id=conversation, message_id=message,
            sent_at_ms=sent_at, sender_role=role, key_id=key_id, ciphertext=bytes(blob),
            text=original["text"], salt=original["salt"],
        )  # fmt: skip
                assert leaf.leaf_hash() == leaves[index], message
                assert "1381234" not in (text or "")

    def test_the_checkpoint_is_signed_and_proves_inclusion(self, loaded):
        ctx, _ = loaded
        size, stored_root, note = _state(ctx)
        verifier = parse_verifier_key(
            (ctx.data_dir / "keys" / "ledger-verifier.pub").read_text().strip()
        )
        checkpoint = verify_checkpoint(note, verifier.public_key, verifier.name)
        assert (checkpoint.size, checkpoint.root_hash) == (size, stored_root)
        with ctx.archive.reader() as conn:
            store = SqlNodeStore(conn, MESSAGES_LOG)
            log = MerkleLog(store, size=size)
            leaf = store.leaf_hashes([7])[7]
            verify_inclusion(leaf, 7, size, log.inclusion_proof(7), checkpoint.root_hash)

    def test_reingest_adds_no_leaf(self, loaded):
        ctx, path = loaded
        assert ingest_files(ctx, ACTOR, [path], "jsonl").ingested == 0
        assert _state(ctx)[0] == 23

    def test_a_changed_ciphertext_no_longer_matches_its_leaf(self, loaded):
        """GIVEN the leaf recomputed from a stored message WHEN one byte of the ciphertext
        changes THEN the recomputed leaf no longer matches the tree (what verify will name)."""
        ctx, _ = loaded
        ctx.load_keys()
        _, message, sent_at, role, blob, text, conversation, platform = _rows(ctx)[3]
        with ctx.archive.reader() as conn:
            stored = SqlNodeStore(conn, MESSAGES_LOG).leaf_hashes([3])[3]
            key_id = peek(bytes(blob)).key_id
            key = ctx.keys(conn).by_id([key_id])[key_id]
        original = original_record.unpack(
            decrypt(bytes(blob), key, f"{platform}:{message}".encode()), text
        )
        leaf = message_leaf(
            platform=platform, conversation_id=conversation, message_id=message,
            sent_at_ms=sent_at, sender_role=role, key_id=key_id, ciphertext=bytes(blob),
            text=original["text"], salt=original["salt"],
        )  # fmt: skip
        assert leaf.leaf_hash() == stored
        tampered = bytearray(bytes(blob))
        tampered[-1] ^= 1
        forged = dataclasses.replace(leaf, ciphertext_hash=hashlib.sha256(tampered).digest())
        assert forged.leaf_hash() != stored


LEAVES = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(600)]


class TestProofsFromTheDatabase:
    """GIVEN a log of 600 leaves in the database WHEN proofs are made from it in one query each
    THEN they equal the in-memory proofs, for the current size and for earlier ones, and a store
    kept for many proofs reads the tree's upper levels from the database only once."""

    @pytest.fixture
    def appended(self, ctx: Context) -> tuple[Context, MerkleLog]:
        with ctx.archive.writer() as writer:
            for start in range(0, 600, 250):
                LedgerWriter(writer.connection, MESSAGES_LOG, "test/messages").append(
                    LEAVES[start : start + 250]
                )
        reference = MerkleLog(MemoryNodeStore(), SHA256)
        reference.append_many(LEAVES)
        return ctx, reference

    def test_every_proof_equals_the_in_memory_one(self, appended):
        ctx, reference = appended
        with ctx.archive.reader() as conn:
            store = SqlNodeStore(conn, MESSAGES_LOG)
            for size in (1, 2, 7, 256, 257, 511, 512, 600):
                for index in range(0, size, max(1, size // 23)):
                    expected = reference.inclusion_proof(index, size)
                    assert store.inclusion_proof(index, size, SHA256) == expected, (index, size)

    def test_upper_levels_are_read_once_per_store(self, appended):
        ctx, _ = appended
        with ctx.archive.reader() as conn:
            store = SqlNodeStore(conn, MESSAGES_LOG)
            store.inclusion_proof(3, 600, SHA256)
            first = store.queried
            assert first == len(inclusion_node_ids(3, 600))
            store.inclusion_proof(3, 600, SHA256)
            lower = [n for n in inclusion_node_ids(3, 600) if n[0] < store.CACHE_MIN_LEVEL]
            assert store.queried - first == len(lower) < first

    def test_many_nodes_are_fetched_in_statements_of_bounded_size(self, appended):
        ctx, _ = appended
        wanted = [(0, i) for i in range(600)] + [(0, 600), (10, 0)]  # two that are not stored
        with ctx.archive.reader() as conn:
            found = SqlNodeStore(conn, MESSAGES_LOG).fetch(wanted)
        assert [found[(0, i)] for i in range(600)] == LEAVES and len(found) == 600

    def test_a_node_lost_from_the_database_is_named(self, appended):
        from chatkeeper.ledger.errors import NodeMissing

        ctx, _ = appended
        with ctx.archive.writer() as writer:
            writer.connection.exec_driver_sql(
                f"DELETE FROM ledger_nodes WHERE log_id = {MESSAGES_LOG} AND level = 0 AND idx = 4"
            )
        with ctx.archive.reader() as conn, pytest.raises(NodeMissing, match=r"\(0, 4\)"):
            SqlNodeStore(conn, MESSAGES_LOG).inclusion_proof(5, 8, SHA256)
