"""``ledger verify`` and evidence bundles over cold storage, on every backend.

Written GIVEN / WHEN / THEN. Conversations are moved to cold segments with ``make_cold``; the
segment files are then damaged or removed as someone with access to the blob store could.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.services import Context
from chatkeeper.services.evidence import export_evidence, verify_evidence
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.ledger import verify_ledger
from chatkeeper.services.purge import purge
from tests.factories import make_cold, record, write_jsonl

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission
standalone = pytest.importorskip("chatkeeper.ledger.standalone")


@pytest.fixture
def loaded(ctx: Context, tmp_path: Path) -> Context:
    """12 messages in three conversations: ``v`` (6) and ``w`` (4) go cold, ``h`` (2) stays."""
    lines = [record(conversation_id="v", text=f"第{i}条 手机13812345{i:03d}") for i in range(6)]
    lines += [record(conversation_id="w", text=f"补充{i}") for i in range(4)]
    lines += [record(conversation_id="h", text=f"还在热表{i}") for i in range(2)]
    ingest_files(ctx, ACTOR, [write_jsonl(tmp_path / "c.jsonl", lines)], "jsonl")
    return ctx


@pytest.fixture
def cold(loaded: Context) -> Context:
    make_cold(loaded, ["v", "w"])
    return loaded


def _scalar(ctx: Context, sql: str) -> object:
    with ctx.archive.reader() as conn:
        return conn.exec_driver_sql(sql).scalar()


def _block(ctx: Context, conversation: str) -> tuple[str, int, int]:
    """``(segment id, byte offset, byte length)`` of a conversation's cold block."""
    with ctx.archive.reader() as conn:
        segment, offset, length = conn.exec_driver_sql(
            "SELECT b.segment_id, b.byte_offset, b.byte_length FROM cold_blocks b "
            "JOIN conversations c ON c.id = b.conversation_id "
            f"WHERE c.external_id = '{conversation}'"
        ).one()
    return str(segment), int(offset), int(length)


def _leaves(ctx: Context, conversation: str) -> set[str]:
    """The ``message_missing`` targets a conversation's leaves would be reported under."""
    pk = int(_scalar(ctx, f"SELECT id FROM conversations WHERE external_id = '{conversation}'"))
    with ctx.archive.reader() as conn:
        messages = ctx.archive.cold(conn).messages([pk])
    return {f"leaf {m['ledger_index']}" for m in messages}


class TestIntact:
    def test_cold_messages_are_recomputed_and_counted(self, cold: Context) -> None:
        """GIVEN v and w moved to a cold segment (no hot rows left), h still hot WHEN the ledger
        is verified THEN it is intact and all 12 messages are counted as checked."""
        assert _scalar(cold, "SELECT COUNT(*) FROM messages") == 2
        assert _scalar(cold, "SELECT COUNT(*) FROM cold_messages") == 10
        report = verify_ledger(cold, ACTOR)
        assert report.intact, report.findings
        assert report.size == report.messages == 12 and report.purged == 0

    def test_the_progress_counts_cold_messages_too(self, cold: Context, monkeypatch) -> None:
        """GIVEN 12 messages, 10 of them cold, and a step of 5 WHEN verify reports progress
        THEN it is called with 5, 5 and the last 2, after being told the total."""
        from chatkeeper.services import ledger as ledger_service

        monkeypatch.setattr(ledger_service, "_CHUNK", 5)
        calls: list[int] = []
        totals: list[int] = []
        report = verify_ledger(cold, ACTOR, progress=calls.append, total=totals.append)
        assert calls == [5, 5, 2] and sum(calls) == report.messages == 12
        assert totals == [12]

    def test_a_conversation_purged_from_cold_counts_as_purged(self, cold: Context) -> None:
        """GIVEN v purged while cold (its block dropped, its key destroyed, its segment
        rewritten) WHEN the ledger is verified THEN it is intact, v's 6 leaves counted as
        purged and the other 6 messages checked."""
        pk = int(_scalar(cold, "SELECT id FROM conversations WHERE external_id = 'v'"))
        purge(cold, ACTOR, [pk], reason="到期")
        assert _scalar(cold, "SELECT COUNT(*) FROM cold_blocks") == 1
        report = verify_ledger(cold, ACTOR)
        assert report.intact, report.findings
        assert report.purged == 6 and report.messages == 6


class TestDamagedSegments:
    def test_a_flipped_byte_in_a_block_names_the_segment_and_offset(self, cold: Context) -> None:
        """GIVEN one byte of v's block flipped in its segment file WHEN the ledger is verified
        THEN a segment_corrupt finding names the segment and the block's offset, v's leaves are
        reported missing, and w and h are still checked."""
        segment, offset, length = _block(cold, "v")
        leaves = _leaves(cold, "v")
        path = cold.archive.segments.path(segment)
        data = bytearray(path.read_bytes())
        data[offset + length // 2] ^= 0x01
        path.write_bytes(bytes(data))
        report = verify_ledger(cold, ACTOR)
        corrupt = [f for f in report.findings if f.kind == "segment_corrupt"]
        assert len(corrupt) == 1 and corrupt[0].target == f"segment {segment}"
        assert f"byte offset {offset}" in corrupt[0].detail
        missing = {f.target for f in report.findings if f.kind == "message_missing"}
        assert missing == leaves and len(leaves) == 6
        assert {f.kind for f in report.findings} == {"segment_corrupt", "message_missing"}
        assert report.messages == 6  # w (4) and h (2)

    def test_a_damaged_thawed_block_is_found_too(self, cold: Context) -> None:
        """GIVEN v thawed back to the hot tables (its block dead but still in the file), then a
        byte of that block flipped WHEN the ledger is verified THEN the damage is reported
        against the segment, and all 12 messages (v's hot again) are checked."""
        segment, offset, length = _block(cold, "v")
        pk = int(_scalar(cold, "SELECT id FROM conversations WHERE external_id = 'v'"))
        with cold.archive.writer() as writer:
            assert cold.archive.cold(writer.connection).thaw([pk], cold.now_ms()) == 6
        path = cold.archive.segments.path(segment)
        data = bytearray(path.read_bytes())
        data[offset + length // 2] ^= 0x01
        path.write_bytes(bytes(data))
        report = verify_ledger(cold, ACTOR)
        assert [(f.kind, f.target) for f in report.findings] == [
            ("segment_corrupt", f"segment {segment}")
        ]
        assert report.messages == 12

    def test_a_truncated_segment_file_is_corrupt(self, cold: Context) -> None:
        """GIVEN a segment file cut short by one byte (its trailer gone) WHEN the ledger is
        verified THEN a segment_corrupt finding names the segment and the 10 messages that
        cannot be checked, and h is still checked."""
        segment, _, _ = _block(cold, "v")
        path = cold.archive.segments.path(segment)
        path.write_bytes(path.read_bytes()[:-1])
        report = verify_ledger(cold, ACTOR)
        corrupt = [f for f in report.findings if f.kind == "segment_corrupt"]
        assert [f.target for f in corrupt] == [f"segment {segment}"]
        assert "the 10 messages of its 2 live blocks" in corrupt[0].detail
        assert {f.kind for f in report.findings} == {"segment_corrupt", "message_missing"}
        assert report.messages == 2

    def test_a_deleted_segment_file_is_reported_missing(self, cold: Context) -> None:
        """GIVEN the segment file of v and w deleted WHEN the ledger is verified THEN one
        segment_missing finding names it, their 10 leaves are reported missing, and the rest
        (h, the audit log, the checkpoints) is verified as usual."""
        segment, _, _ = _block(cold, "v")
        cold.archive.segments.path(segment).unlink()
        report = verify_ledger(cold, ACTOR)
        kinds = [f.kind for f in report.findings]
        assert kinds.count("segment_missing") == 1 and kinds.count("message_missing") == 10
        assert len(kinds) == 11
        missing = next(f for f in report.findings if f.kind == "segment_missing")
        assert missing.target == f"segment {segment}" and "10 messages" in missing.detail
        assert report.messages == 2 and report.checkpoints > 0 and report.audit_events > 0

    def test_a_block_listed_for_other_messages_does_not_open(self, cold: Context) -> None:
        """GIVEN v's cold_blocks row edited to claim one more message id WHEN the ledger is
        verified THEN the block, whose bytes still match, is reported as unreadable."""
        with cold.archive.writer() as writer:
            writer.connection.exec_driver_sql(
                "UPDATE cold_blocks SET last_message_id = last_message_id + 1 WHERE "
                "conversation_id = (SELECT id FROM conversations WHERE external_id = 'v')"
            )
        kinds = {f.kind for f in verify_ledger(cold, ACTOR).findings}
        assert kinds == {"block_unreadable", "message_missing"}


class TestEvidence:
    def test_a_cold_conversation_exports_the_same_bundle_and_verifies(
        self, loaded: Context, tmp_path: Path
    ) -> None:
        """GIVEN v's bundle exported while hot WHEN v goes cold and is exported again THEN the
        new bundle holds the same messages, proofs, checkpoint and transcript, and verifies
        offline and with ``evidence verify``."""
        hot = export_evidence(loaded, ACTOR, "v", tmp_path / "hot.zip")
        make_cold(loaded, ["v"])
        assert _scalar(loaded, "SELECT state FROM conversations WHERE external_id = 'v'") == (
            "archived"
        )
        cold = export_evidence(loaded, ACTOR, "v", tmp_path / "cold.zip")
        assert hot["messages"] == cold["messages"] == 6
        before, after = _bundle(tmp_path / "hot.zip"), _bundle(tmp_path / "cold.zip")
        assert after["evidence.json"]["messages"] == before["evidence.json"]["messages"]
        assert after["evidence.json"]["checkpoint"] == before["evidence.json"]["checkpoint"]
        assert after["transcript.json"]["messages"] == before["transcript.json"]["messages"]
        assert standalone.verify_bundle(tmp_path / "cold.zip")["ok"]
        assert verify_evidence(tmp_path / "cold.zip")["ok"]


def _bundle(path: Path) -> dict[str, dict]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: json.loads(archive.read(name)) for name in ("evidence.json", "transcript.json")
        }
