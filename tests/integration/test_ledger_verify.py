"""``ledger verify`` on every backend: intact data passes; each tampering is found and named.

Each test ingests 12 messages, changes one thing directly in the database (as an operator with
database access could), and checks that verification names it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.ledger import SHA256, Checkpoint, generate_signing_key, sign_checkpoint
from chatkeeper.services import Context
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.ledger import verify_ledger
from chatkeeper.services.privacy import take_offline
from tests.factories import record, write_jsonl

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission


@pytest.fixture
def loaded(ctx: Context, tmp_path: Path) -> Context:
    first = write_jsonl(
        tmp_path / "1.jsonl",
        [record(conversation_id="v", text=f"第{i}条 手机13812345{i:03d}") for i in range(8)],
    )
    second = write_jsonl(
        tmp_path / "2.jsonl", [record(conversation_id="w", text=f"补充{i}") for i in range(4)]
    )
    ingest_files(ctx, ACTOR, [first], "jsonl")
    ingest_files(ctx, ACTOR, [second], "jsonl")  # a second batch: a second checkpoint
    return ctx


def _sql(ctx: Context, sql: str, params: tuple = ()) -> None:
    with ctx.archive.writer() as writer:
        mark = "?" if ctx.archive.dialect == "sqlite" else "%s"
        writer.connection.exec_driver_sql(sql.replace("?", mark), params)


def _kinds(ctx: Context) -> list[str]:
    return [finding.kind for finding in verify_ledger(ctx, ACTOR).findings]


def _message_id(ctx: Context, n: int) -> int:
    with ctx.archive.reader() as conn:
        return conn.exec_driver_sql("SELECT id FROM messages ORDER BY ledger_index").all()[n][0]


class TestIntact:
    def test_untouched_data_verifies(self, loaded):
        report = verify_ledger(loaded, ACTOR)
        assert report.intact and report.size == 12 and report.checkpoints == 4  # 2 per log

    def test_a_message_taken_offline_is_reported_as_such_not_as_tampering(self, loaded):
        with loaded.archive.reader() as conn:
            external = conn.exec_driver_sql("SELECT external_id FROM messages").first()[0]
        take_offline(loaded, ACTOR, external, "测试")
        report = verify_ledger(loaded, ACTOR)
        assert report.intact and report.purged == 1


class TestProgress:
    def test_the_counts_add_up_to_the_messages_checked(self, loaded, monkeypatch):
        """GIVEN 12 messages and a step of 5 WHEN verify reports progress THEN it is called with
        5, 5 and the last 2, after being told the total (the log's size)."""
        from chatkeeper.services import ledger as ledger_service

        monkeypatch.setattr(ledger_service, "_CHUNK", 5)
        calls: list[int] = []
        totals: list[int] = []
        report = verify_ledger(loaded, ACTOR, progress=calls.append, total=totals.append)
        assert calls == [5, 5, 2] and sum(calls) == report.messages == 12
        assert totals == [12]


class TestTampering:
    def test_a_flipped_byte_in_a_ciphertext(self, loaded):
        target = _message_id(loaded, 2)
        with loaded.archive.reader() as conn:
            blob = bytearray(
                conn.exec_driver_sql(
                    f"SELECT ciphertext FROM messages WHERE id = {target}"
                ).scalar()
            )
        blob[-3] ^= 0x40
        _sql(loaded, "UPDATE messages SET ciphertext = ? WHERE id = ?", (bytes(blob), target))
        assert _kinds(loaded) == ["message_altered"]

    def test_an_edited_readable_text(self, loaded):
        target = _message_id(loaded, 0)
        _sql(loaded, "UPDATE messages SET text = ? WHERE id = ?", ("我同意放弃退款", target))
        assert _kinds(loaded) == ["text_altered"]

    def test_an_inserted_forged_message(self, loaded):
        with loaded.archive.reader() as conn:
            row = conn.exec_driver_sql("SELECT conversation_id, platform_id FROM messages").first()
        _sql(loaded, "INSERT INTO messages (id, conversation_id, platform_id, external_id, "
             "sent_at, utc_offset, sender_role, msgtype, kind, text) "
             "VALUES (?, ?, ?, 'forged', 1740000000000, 480, 'agent', 'text', 'message', ?)",
             (1740000000000 << 12, row[0], row[1], "我们承诺赔偿一万元"))  # fmt: skip
        assert _kinds(loaded) == ["leaf_missing"]

    def test_a_deleted_message_row(self, loaded):
        target = _message_id(loaded, 5)
        _sql(loaded, "DELETE FROM pii_vault WHERE message_id = ?", (target,))
        _sql(loaded, "DELETE FROM messages WHERE id = ?", (target,))
        assert _kinds(loaded) == ["message_missing"]

    def test_a_forged_message_moved_onto_another_leaf(self, loaded):
        target = _message_id(loaded, 1)
        _sql(loaded, "UPDATE messages SET ledger_index = 4 WHERE id = ?", (target,))
        assert set(_kinds(loaded)) == {"message_altered", "message_missing"}

    def test_an_altered_tree_node(self, loaded):
        _sql(
            loaded,
            "UPDATE ledger_nodes SET hash = ? WHERE log_id = 1 AND level = 1 AND idx = 0",
            (b"\\x00" * 32,),
        )
        assert "node_altered" in _kinds(loaded)

    def test_a_truncated_log(self, loaded):
        _sql(loaded, "UPDATE ledger_logs SET size = 10 WHERE log_id = 1")
        kinds = _kinds(loaded)
        assert "message_missing" not in kinds and "root_mismatch" in kinds

    def test_a_replaced_checkpoint_signed_by_another_key(self, loaded):
        with loaded.archive.reader() as conn:
            origin, root = conn.exec_driver_sql(
                "SELECT origin, root FROM ledger_logs WHERE log_id = 1"
            ).one()
        forger = generate_signing_key(origin)
        note = sign_checkpoint(Checkpoint.of(origin, 12, bytes(root), SHA256), forger)
        _sql(
            loaded, "UPDATE ledger_checkpoints SET note = ? WHERE log_id = 1 AND size = 12", (note,)
        )
        assert _kinds(loaded) == ["checkpoint_invalid"]


class TestAuditLog:
    def _events(self, ctx: Context) -> list[tuple]:
        with ctx.archive.reader() as conn:
            return conn.exec_driver_sql(
                "SELECT id, action, ledger_index FROM audit_events ORDER BY id"
            ).all()

    def test_every_event_is_a_leaf_and_verifies(self, loaded):
        events = self._events(loaded)
        assert [e[1] for e in events] == ["ingest.completed", "ingest.completed"]
        assert [e[2] for e in events] == [0, 1]
        report = verify_ledger(loaded, ACTOR)
        assert report.intact and report.audit_events == 2

    def test_an_edited_event(self, loaded):
        _sql(loaded, "UPDATE audit_events SET actor = ? WHERE ledger_index = 0", ("someone-else",))
        assert _kinds(loaded) == ["event_altered"]

    def test_reordered_events(self, loaded):
        _sql(loaded, "UPDATE audit_events SET ledger_index = 9 WHERE ledger_index = 0")
        _sql(loaded, "UPDATE audit_events SET ledger_index = 0 WHERE ledger_index = 1")
        _sql(loaded, "UPDATE audit_events SET ledger_index = 1 WHERE ledger_index = 9")
        assert _kinds(loaded) == ["event_altered", "event_altered"]

    def test_a_deleted_event(self, loaded):
        _sql(loaded, "DELETE FROM audit_events WHERE ledger_index = 1")
        assert _kinds(loaded) == ["event_missing"]


class TestAnchor:
    def test_the_newest_checkpoints_are_dropped_once_and_verify(self, loaded, tmp_path):
        from chatkeeper.config import LedgerConfig
        from chatkeeper.ledger import parse_verifier_key, verify_checkpoint
        from chatkeeper.services.ledger import anchor_checkpoints

        folder = tmp_path / "notary"
        loaded.settings = loaded.settings.model_copy(
            update={"ledger": LedgerConfig(anchor=f"file:{folder}")}
        )
        published = anchor_checkpoints(loaded, ACTOR)
        assert [(p["log"], p["size"]) for p in published] == [("messages", 12), ("audit", 2)]
        # again: the messages checkpoint is not dropped twice (the audit log has moved on:
        # anchoring is itself an audited, checkpointed event)
        assert [p["log"] for p in anchor_checkpoints(loaded, ACTOR)] == ["audit"]
        verifier = parse_verifier_key(
            (loaded.data_dir / "keys" / "ledger-verifier.pub").read_text().strip()
        )
        dropped = sorted(folder.glob("messages-*-12.checkpoint"))
        assert len(dropped) == 1
        checkpoint = verify_checkpoint(dropped[0].read_text(), verifier.public_key, verifier.name)
        assert checkpoint.size == 12


def test_an_operation_without_the_keys_loaded_still_ends_signed(loaded, data_dir):
    """GIVEN a fresh process that never loads the encryption keys (a plain search) WHEN it
    records its audit event THEN the audit log's newest checkpoint covers that event."""
    from chatkeeper.config import load_settings
    from chatkeeper.services import open_context
    from chatkeeper.services.search import SearchRequest, search

    settings = loaded.settings
    fresh = open_context(load_settings(data_dir=data_dir, database_url=settings.database_url))
    try:
        search(fresh, ACTOR, SearchRequest("补充"))
        with fresh.archive.reader() as conn:
            size = conn.exec_driver_sql("SELECT size FROM ledger_logs WHERE log_id = 2").scalar()
            signed = conn.exec_driver_sql(
                "SELECT max(size) FROM ledger_checkpoints WHERE log_id = 2"
            ).scalar()
        assert signed == size == 3
    finally:
        fresh.close()
