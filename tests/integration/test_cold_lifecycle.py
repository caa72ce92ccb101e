"""Hot and cold: the daily job moves conversations into segments; reads, the bin and purge
follow them there. On every backend.

GIVEN / WHEN / THEN, with the context's clock moved by the tests.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from chatkeeper.crypto import decrypt
from chatkeeper.crypto.errors import CryptoError
from chatkeeper.domain import Actor
from chatkeeper.errors import StoreError
from chatkeeper.services import Context
from chatkeeper.services.accounts import add_user
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.holds import create_hold, held_conversations
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.ledger import verify_ledger
from chatkeeper.services.lifecycle import lifecycle_status, run_lifecycle
from chatkeeper.services.purge import purge
from chatkeeper.services.recycle import move_to_bin, restore_from_bin
from chatkeeper.services.search import SearchRequest, search
from chatkeeper.services.stats import archive_stats
from chatkeeper.store.cold import block_context
from tests.factories import record, write_jsonl

SYSTEM = Actor("job", frozenset({"system"}))
LEGAL = Actor("legal1", frozenset({"legal"}))
PASSWORD = "correct horse battery"
DAY = 86_400.0


def _at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


CONVERSATIONS = {  # id: (service type, service date)
    "old-1": ("complaint", "2025-05-02T10:00:00+08:00"),
    "old-2": ("transaction", "2025-05-02T15:00:00+08:00"),
    "old-3": ("complaint", "2025-05-20T10:00:00+08:00"),
    "held": ("complaint", "2025-05-02T11:00:00+08:00"),
    "fresh": ("complaint", "2025-07-25T10:00:00+08:00"),
}
TEXTS = ("您好，我的订单一直没到", "手机13812345678，麻烦尽快退款", "好的，已为您登记")


def _records() -> list[dict]:
    out = []
    for conv, (kind, date) in CONVERSATIONS.items():
        start = datetime.fromisoformat(date)
        for i, text in enumerate(TEXTS):
            sent = start.replace(minute=i)
            out.append(
                record(conversation_id=conv, message_id=f"{conv}-{i}", service_type=kind,
                       sent_at=sent.isoformat(), customer_id=f"cust-{conv}",
                       sender_id=f"cust-{conv}", text=f"{text} {conv}")
            )  # fmt: skip
    return out


@pytest.fixture
def world(ctx: Context, tmp_path: Path) -> Context:
    ctx.clock = lambda: _at("2025-06-10T00:00:00+08:00")
    ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "c.jsonl", _records())], "jsonl")
    add_user(ctx, SYSTEM, "legal1", "legal", PASSWORD)
    add_user(ctx, SYSTEM, "legal2", "legal", PASSWORD)
    create_hold(ctx, LEGAL, "dispute-9", reason="诉讼", conversations=["held"])
    return ctx


def _states(ctx: Context) -> dict[str, str]:
    with ctx.archive.reader() as conn:
        rows = conn.exec_driver_sql("SELECT external_id, state FROM conversations").all()
    return {str(r[0]): str(r[1]) for r in rows}


def _count(ctx: Context, sql: str) -> int:
    with ctx.archive.reader() as conn:
        return int(conn.exec_driver_sql(sql).scalar() or 0)


def _pk(ctx: Context, external: str) -> int:
    with ctx.archive.reader() as conn:
        return int(
            conn.exec_driver_sql(
                f"SELECT id FROM conversations WHERE external_id = '{external}'"
            ).scalar_one()
        )


def _segment_files(ctx: Context) -> list[Path]:
    assert ctx.archive.segments is not None
    return sorted(ctx.archive.segments.directory.glob("*.cks"))


def _views(ctx: Context) -> dict:
    """Everything a reader sees: transcripts, search answers, counts by day."""
    out: dict = {}
    for conv in CONVERSATIONS:
        out[conv] = show_conversation(ctx, LEGAL, conv).messages
    for query in ("退款", "订单 没到", '"已为您登记"', "您好 -old-1"):
        result = search(ctx, LEGAL, SearchRequest(query, limit=50))
        out[query] = (result.total, [(h.conversation_id, h.message_id) for h in result.hits])
    out["stats"] = archive_stats(ctx, LEGAL, "day")
    return out


class TestGoingCold:
    def test_exactly_the_conversations_past_cold_after_move(self, world) -> None:
        """GIVEN conversations ended 2025-05-02, 05-20 and 07-25, one of 05-02 under a hold
        WHEN the job runs on 2025-06-10 (30 days after 05-02 and 05-20 have not both passed)
        THEN only old-1 and old-2 go cold, in one segment for their service day; the held and
        newer ones stay hot; their hot rows are gone."""
        summary = run_lifecycle(world, SYSTEM)
        assert summary["archived"] == 2 and summary["held"] == 1
        assert summary["cold"]["conversations"] == 2 and summary["cold"]["messages"] == 6
        assert summary["cold"]["segments"] == 1
        states = _states(world)
        assert [c for c, s in sorted(states.items()) if s == "archived"] == ["old-1", "old-2"]
        assert states["held"] == states["old-3"] == states["fresh"] == "active"
        assert _count(world, "SELECT COUNT(*) FROM messages") == 9
        assert _count(world, "SELECT COUNT(*) FROM cold_messages") == 6
        [segment] = _segment_files(world)
        assert segment.name.startswith("cold-20250502-")
        cold = lifecycle_status(world, SYSTEM)["cold"]
        assert (cold["segments"], cold["conversations"], cold["messages"]) == (1, 2, 6)
        assert cold["bytes"] == segment.stat().st_size and cold["segments_to_rewrite"] == 0

        world.clock = lambda: _at("2025-06-25T00:00:00+08:00")
        later = run_lifecycle(world, SYSTEM)
        assert later["cold"]["conversations"] == 1  # old-3, ended 05-20
        assert _states(world)["held"] == "active"  # a held conversation never moves

    def test_a_hold_by_query_covers_cold_conversations(self, world) -> None:
        """GIVEN old-1 and old-2 cold WHEN a hold is made by a query with a phrase THEN it
        covers the cold conversation the phrase is in (every backend: MariaDB checks phrases
        against the text, read from the block) and the job keeps it from the bin a year on."""
        run_lifecycle(world, SYSTEM)
        hold = create_hold(world, LEGAL, "order-7", reason="投诉", query='"订单一直没到" old-1')
        assert held_conversations(world)[hold["id"]] == {_pk(world, "old-1")}
        world.clock = lambda: _at("2026-06-01T00:00:00+08:00")
        plan = run_lifecycle(world, SYSTEM, dry_run=True)
        assert plan["by_rule"]["complaint"]["held"] == 2  # old-1 and "held"

    def test_a_dry_run_moves_nothing(self, world) -> None:
        plan = run_lifecycle(world, SYSTEM, dry_run=True)
        assert plan["archived"] == 2
        assert _count(world, "SELECT COUNT(*) FROM cold_blocks") == 0
        assert _segment_files(world) == []

    def test_reads_are_the_same_hot_and_cold(self, world) -> None:
        """GIVEN what transcripts, searches and daily counts show WHEN conversations go cold
        (and the key-encryption key is not loaded yet) THEN they show exactly the same."""
        before = _views(world)
        world.clock = lambda: _at("2025-09-01T00:00:00+08:00")
        assert run_lifecycle(world, SYSTEM)["cold"]["conversations"] == 4
        world.archive.kek = None  # reading cold blocks loads it on first need
        after = _views(world)
        assert _count(world, "SELECT COUNT(*) FROM messages") == 3  # only the held one is hot
        assert after == before

    def test_a_missing_segment_file_is_named_not_taken_for_a_missing_conversation(
        self, world
    ) -> None:
        """GIVEN old-1 cold WHEN its segment file is gone from the blob store THEN showing it
        fails with a store error naming the segment and what to do, and the file back makes it
        readable again (nothing in the database was touched)."""
        run_lifecycle(world, SYSTEM)
        [segment] = _segment_files(world)
        moved = segment.with_name("elsewhere.bak")
        segment.rename(moved)
        with pytest.raises(StoreError, match=f"segment {segment.stem}.*restore the file"):
            show_conversation(world, LEGAL, "old-1")
        moved.rename(segment)
        assert len(show_conversation(world, LEGAL, "old-1").messages) == 3

    def test_the_cold_files_hold_no_readable_text(self, world) -> None:
        run_lifecycle(world, SYSTEM)
        data = b"".join(p.read_bytes() for p in _segment_files(world))
        for text in ("订单", "13812345678", "138****5678", "old-1-0"):
            assert text.encode() not in data


class TestRaces:
    def test_a_message_stored_while_its_conversation_went_cold_is_kept_and_read(
        self, world, tmp_path, monkeypatch
    ) -> None:
        """GIVEN old-1 cold and a late message stored hot beside it (what a batch committed by
        another writer while the move ran leaves on PostgreSQL or MariaDB; reproduced here by
        keeping the batch from thawing the conversation) WHEN it is read, searched, verified
        and purged THEN the hot and the cold messages are one conversation throughout."""
        from chatkeeper.store.writer import ArchiveWriter

        run_lifecycle(world, SYSTEM)
        monkeypatch.setattr(ArchiveWriter, "thaw", lambda self, pks, now=None: 0)
        late = record(conversation_id="old-1", message_id="old-1-late", service_type="complaint",
                      sent_at="2025-05-02T10:30:00+08:00", customer_id="cust-old-1",
                      sender_id="cust-old-1", text="还在吗 old-1")  # fmt: skip
        ingest_files(world, SYSTEM, [write_jsonl(tmp_path / "late.jsonl", [late])], "jsonl")
        monkeypatch.undo()
        assert _states(world)["old-1"] == "archived"
        assert _count(world, "SELECT COUNT(*) FROM messages WHERE external_id = 'old-1-late'") == 1
        messages = show_conversation(world, LEGAL, "old-1").messages
        assert [m["message_id"] for m in messages] == [
            "old-1-0",
            "old-1-1",
            "old-1-2",
            "old-1-late",
        ]
        assert search(world, LEGAL, SearchRequest("old-1")).total == 4
        assert verify_ledger(world, SYSTEM).intact
        gone = _pk(world, "old-1")
        purge(world, SYSTEM, [gone], reason="测试")
        assert _count(world, f"SELECT COUNT(*) FROM messages WHERE conversation_id = {gone}") == 0
        assert search(world, LEGAL, SearchRequest("old-1")).total == 0
        assert verify_ledger(world, SYSTEM).intact


class TestBinAndPurge:
    def test_a_cold_conversation_goes_to_the_bin_and_back(self, world) -> None:
        run_lifecycle(world, SYSTEM)
        move_to_bin(world, LEGAL, [_pk(world, "old-1")], "过期")
        assert search(world, LEGAL, SearchRequest("old-1")).total == 0
        restore_from_bin(world, LEGAL, "old-1", "误删", _approved(world, "old-1"))
        assert search(world, LEGAL, SearchRequest("old-1")).total == 3
        assert _states(world)["old-1"] == "archived"

    def test_a_purged_cold_conversation_is_gone_everywhere(self, world) -> None:
        """GIVEN old-1 and old-2 cold in one segment, and a copy of old-1's sealed block
        WHEN old-1 is purged THEN it is gone from the database (rows, cold rows, blocks), the
        index and the segment (rewritten without it, the old file removed); old-2 still reads;
        the copied block decrypts under no key the archive still holds; the ledger verifies."""
        run_lifecycle(world, SYSTEM)
        gone = _pk(world, "old-1")
        [before] = _segment_files(world)
        with world.archive.reader() as conn:
            cold = world.archive.cold(conn)
            [block] = cold.blocks_of([gone])
        copied = before.read_bytes()[block.offset : block.offset + block.length]

        purge(world, SYSTEM, [gone], reason="测试")

        assert (
            _count(world, f"SELECT COUNT(*) FROM cold_blocks WHERE conversation_id = {gone}") == 0
        )
        assert _count(world, "SELECT COUNT(*) FROM cold_messages") == 3  # old-2's
        assert _count(world, f"SELECT COUNT(*) FROM messages WHERE conversation_id = {gone}") == 0
        assert search(world, LEGAL, SearchRequest("old-1")).total == 0
        [after] = _segment_files(world)
        assert after != before and not before.exists()
        assert copied not in after.read_bytes()
        assert len(show_conversation(world, LEGAL, "old-2").messages) == 3
        context = block_context(gone, block.first_message_id, block.last_message_id,
                                block.records)  # fmt: skip
        for key in _every_live_key(world):
            with pytest.raises(CryptoError):
                decrypt(copied, key, context)
        report = verify_ledger(world, SYSTEM)
        assert report.intact, report.findings

    def test_a_segment_whose_last_conversation_is_purged_is_removed(self, world) -> None:
        run_lifecycle(world, SYSTEM)
        purge(world, SYSTEM, [_pk(world, "old-1"), _pk(world, "old-2")], reason="测试")
        assert _segment_files(world) == []
        assert _count(world, "SELECT COUNT(*) FROM cold_segments") == 0

    def test_a_rewrite_a_crash_left_undone_is_done_by_the_next_run(self, world, monkeypatch):
        """GIVEN a purge that committed but died before rewriting its segment WHEN the daily
        job runs THEN it rewrites the segment, and an unlisted old file is swept away."""
        run_lifecycle(world, SYSTEM)
        [before] = _segment_files(world)
        monkeypatch.setattr(type(world.archive), "compact_segments", lambda self, ids, now: [])
        purge(world, SYSTEM, [_pk(world, "old-1")], reason="测试")
        monkeypatch.undo()
        assert before.exists()
        summary = run_lifecycle(world, SYSTEM)
        assert summary["cold"]["segments_rewritten"] == 1
        [after] = _segment_files(world)
        assert after != before and not before.exists()
        stray = after.with_name("cold-20250101-deadbeef.cks")
        stray.write_bytes(b"left over")
        with world.archive.reader() as conn:
            assert world.archive.cold(conn).sweep(older_than_s=0) == ["cold-20250101-deadbeef"]


def _every_live_key(ctx: Context) -> list:
    ctx.load_keys()
    with ctx.archive.reader() as conn:
        ids = [r[0] for r in conn.exec_driver_sql(
            "SELECT key_id FROM data_keys WHERE wrapped IS NOT NULL"
        )]  # fmt: skip
        return list(ctx.keys(conn).by_id(ids).values())


def _approved(ctx: Context, conversation: str) -> int:
    """File a restore request as legal1 (it raises ApprovalRequired), approve it as legal2."""
    from chatkeeper.governance import ApprovalRequired
    from chatkeeper.services.approvals import decide

    try:
        restore_from_bin(ctx, LEGAL, conversation, "误删")
    except ApprovalRequired as exc:
        decide(ctx, Actor("legal2", frozenset({"legal"})), exc.request_id, True)
        return exc.request_id
    raise AssertionError("the restore did not ask for an approval")
