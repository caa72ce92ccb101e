"""Ingest and privacy operations on conversations in cold storage, on every backend.

Written GIVEN / WHEN / THEN. Conversations are made cold with ``tests.factories.make_cold``.
"""

from __future__ import annotations

import itertools
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chatkeeper.domain import Actor
from chatkeeper.governance import ApprovalRequired
from chatkeeper.services import Context
from chatkeeper.services.accounts import add_user, authenticate
from chatkeeper.services.approvals import decide
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.erasure import erase_person
from chatkeeper.services.holds import create_hold
from chatkeeper.services.ingest import IngestReport, ingest_files
from chatkeeper.services.privacy import find_by_value, take_offline, unmask_message, unmask_value
from chatkeeper.store import ids
from chatkeeper.store.cold import ext_hash
from tests.factories import make_cold, record, write_jsonl

SYSTEM = Actor("tests", frozenset({"system"}))  # a job of the system: every permission
PASSWORD = "correct horse battery"
MOBILE = "13812345678"
ID_CARD = "11010119900307663X"
TEXT = f"我叫王小明，手机{MOBILE}，身份证{ID_CARD}，请退款"


def _old_records() -> list[dict]:
    return [
        record(conversation_id="old", message_id="o1", text=TEXT,
               sent_at="2025-03-01T10:00:00+08:00"),
        record(conversation_id="old", message_id="o2", sender_role="agent", sender_id="a001",
               sender_name="陈静", text="您好，已收到退款申请",
               sent_at="2025-03-01T10:01:00+08:00"),
        record(conversation_id="old", message_id="o3", text="谢谢",
               sent_at="2025-03-01T10:02:00+08:00"),
        record(conversation_id="warm", message_id="w1", customer_id="cust-2",
               sender_id="cust-2", sender_name="李四", text="我的电话是138-1234-5678",
               sent_at="2025-03-02T09:00:00+08:00"),
    ]  # fmt: skip


@pytest.fixture
def cold(ctx: Context, tmp_path: Path) -> Context:
    """Two conversations ingested, ``old`` then moved to cold storage."""
    path = write_jsonl(tmp_path / "old.jsonl", _old_records())
    assert ingest_files(ctx, SYSTEM, [path], "jsonl").ingested == 4
    make_cold(ctx, ["old"])
    assert _state(ctx, "old") == "archived"
    return ctx


def _scalar(ctx: Context, sql: str) -> Any:
    with ctx.archive.reader() as conn:
        return conn.exec_driver_sql(sql).scalar()


def _state(ctx: Context, conversation: str) -> str:
    return str(
        _scalar(ctx, f"SELECT state FROM conversations WHERE external_id = '{conversation}'")
    )


def _hot(ctx: Context, conversation: str) -> int:
    sql = "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
    return int(_scalar(ctx, f"{sql} WHERE c.external_id = '{conversation}'"))


def _live_blocks(ctx: Context) -> int:
    return int(_scalar(ctx, "SELECT count(*) FROM cold_blocks WHERE state = 'live'"))


def _colliding_ids() -> tuple[str, str]:
    """Two message ids of platform 1 (the first one stored) with the same look-up hash."""
    seen: dict[int, str] = {}
    for n in itertools.count():
        message_id = f"hash-{n}"
        value = ext_hash(1, message_id)
        if value in seen:
            return seen[value], message_id
        seen[value] = message_id
    raise AssertionError("unreachable")


def _ingest(ctx: Context, path: Path, records: list[dict]) -> IngestReport:
    return ingest_files(ctx, SYSTEM, [write_jsonl(path, records)], "jsonl")


class TestDuplicates:
    def test_reingesting_cold_messages_counts_them_as_duplicates(self, cold, tmp_path):
        """GIVEN a file whose conversation is now cold WHEN it is ingested again THEN every
        record is a duplicate, nothing is stored twice and the conversation stays cold."""
        report = _ingest(cold, tmp_path / "again.jsonl", _old_records())
        assert (report.ingested, report.duplicates, report.rejected) == (0, 4, 0)
        assert _hot(cold, "old") == 0 and _state(cold, "old") == "archived"
        assert _scalar(cold, "SELECT count(*) FROM cold_messages") == 3
        assert _scalar(cold, "SELECT count(*) FROM messages") == 1
        assert _scalar(cold, "SELECT message_count FROM conversations"
                             " WHERE external_id = 'old'") == 3  # fmt: skip

    def test_message_ids_sharing_a_lookup_hash_are_both_found(self, ctx, tmp_path):
        """GIVEN two cold messages whose platform ids share a 31-bit look-up hash WHEN both are
        ingested again THEN both are duplicates (the hash only narrows the search)."""
        first, second = _colliding_ids()
        records = [record(conversation_id="pair", message_id=m) for m in (first, second)]
        assert _ingest(ctx, tmp_path / "a.jsonl", records).ingested == 2
        make_cold(ctx, ["pair"])
        report = _ingest(ctx, tmp_path / "b.jsonl", records)
        assert (report.ingested, report.duplicates) == (0, 2)

    def test_a_new_message_in_the_same_millisecond_and_slot_gets_another_id(self, cold, tmp_path):
        """GIVEN a cold message WHEN a message of another conversation arrives in the same
        millisecond with the same id slot THEN it gets the next slot: ids stay unique."""
        with cold.archive.reader() as conn:
            taken = int(conn.exec_driver_sql("SELECT min(id) FROM cold_messages").scalar())
        slot = taken & (ids.SLOTS - 1)
        twin = next(
            f"twin-{n}"
            for n in itertools.count()
            if zlib.crc32(f"webchat\x00twin-{n}".encode()) & (ids.SLOTS - 1) == slot
        )
        sent = (
            datetime.fromtimestamp(ids.sent_at_ms(taken) / 1000)
            .astimezone()
            .isoformat(timespec="milliseconds")
        )
        twin_record = record(conversation_id="fresh", message_id=twin, sent_at=sent)
        report = _ingest(cold, tmp_path / "twin.jsonl", [twin_record])
        assert report.ingested == 1
        with cold.archive.reader() as conn:
            stored = conn.exec_driver_sql(f"SELECT id FROM messages WHERE external_id = '{twin}'")
            assert stored.scalar() == ids.next_candidate(taken)
        assert _state(cold, "old") == "archived"


class TestLateMessages:
    def test_a_late_message_thaws_its_conversation(self, cold, tmp_path):
        """GIVEN a cold conversation WHEN a file with its old records and a new one is ingested
        THEN the old ones are duplicates, the conversation is active and hot again, and its
        transcript shows the old messages and the new one."""
        late = record(conversation_id="old", message_id="o4", text="退款到账了吗",
                      sent_at="2025-03-05T10:00:00+08:00")  # fmt: skip
        report = _ingest(cold, tmp_path / "late.jsonl", [*_old_records()[:3], late])
        assert (report.ingested, report.duplicates) == (1, 3)
        assert _state(cold, "old") == "active" and _hot(cold, "old") == 4
        assert _live_blocks(cold) == 0
        assert _scalar(cold, "SELECT count(*) FROM cold_messages") == 0
        transcript = show_conversation(cold, SYSTEM, "old")
        assert [m["message_id"] for m in transcript.messages] == ["o1", "o2", "o3", "o4"]
        assert transcript.conversation["state"] == "active"
        assert transcript.conversation["message_count"] == 4
        assert unmask_message(cold, SYSTEM, "o1", "核实").text == TEXT

    def test_a_recall_of_a_cold_message_marks_it_recalled(self, cold, tmp_path):
        """GIVEN a cold message WHEN a recall of it arrives in another conversation THEN the
        message is marked recalled (its conversation thawed for it)."""
        recall = record(conversation_id="warm", message_id="w2", customer_id="cust-2",
                        sender_id="cust-2", msgtype="revoke", text=None, ref_message_id="o3",
                        sent_at="2025-03-05T10:00:00+08:00")  # fmt: skip
        assert _ingest(cold, tmp_path / "recall.jsonl", [recall]).ingested == 1
        transcript = show_conversation(cold, SYSTEM, "old")
        assert {m["message_id"]: m["recalled"] for m in transcript.messages} == {
            "o1": False, "o2": False, "o3": True,
        }  # fmt: skip
        assert _state(cold, "old") == "active"

    def test_a_cold_recall_still_marks_a_message_that_arrives_after_it(self, ctx, tmp_path):
        """GIVEN a recall whose conversation went cold before the message it recalls arrived
        WHEN that message arrives in another conversation THEN it is stored recalled."""
        recall = record(conversation_id="r", message_id="r1", msgtype="revoke", text=None,
                        ref_message_id="t1", sent_at="2025-03-01T10:00:00+08:00")  # fmt: skip
        assert _ingest(ctx, tmp_path / "r.jsonl", [recall]).ingested == 1
        make_cold(ctx, ["r"])
        target = record(conversation_id="t", message_id="t1", text="发错了",
                        sent_at="2025-03-01T09:59:00+08:00")  # fmt: skip
        assert _ingest(ctx, tmp_path / "t.jsonl", [target]).ingested == 1
        transcript = show_conversation(ctx, SYSTEM, "t")
        assert [m["recalled"] for m in transcript.messages] == [True]
        assert _state(ctx, "r") == "archived"


class TestPrivacy:
    def test_unmasking_a_cold_message_with_an_approval_returns_the_original(self, cold):
        """GIVEN a cold message and a legal user WHEN they unmask it with a second legal
        user's approval THEN they get the original text and the value, and the conversation
        stays cold."""
        add_user(cold, SYSTEM, "legal1", "legal", PASSWORD)
        add_user(cold, SYSTEM, "legal2", "legal", PASSWORD)
        legal = authenticate(cold, "legal1", password=PASSWORD)
        second = authenticate(cold, "legal2", password=PASSWORD)
        with pytest.raises(ApprovalRequired) as filed:
            unmask_message(cold, legal, "o1", "客户投诉核实")
        decide(cold, second, filed.value.request_id, True)
        result = unmask_message(cold, legal, "o1", "客户投诉核实",
                                approval=filed.value.request_id)  # fmt: skip
        assert (result.conversation_id, result.text) == ("old", TEXT)
        assert unmask_value(cold, SYSTEM, "o1", TEXT.index(MOBILE), "核实") == MOBILE
        assert _state(cold, "old") == "archived" and _hot(cold, "old") == 0

    def test_a_value_is_found_in_cold_messages(self, cold):
        """GIVEN a value in a cold message and a hot one WHEN looked up THEN both are found."""
        found = find_by_value(cold, SYSTEM, MOBILE)
        assert {hit.message_id for hit in found.hits} == {"o1", "w1"}

    def test_taking_a_value_of_a_cold_message_offline(self, cold):
        """GIVEN a cold message WHEN one of its values is taken offline THEN its conversation is
        hot and active again, the value is gone from the original and the vault, the rest is
        kept, and no block holding the old original is left in any segment."""
        start = TEXT.index(ID_CARD)
        take_offline(cold, SYSTEM, "o1", "身份证下线", span=(start, start + len(ID_CARD)))
        assert _state(cold, "old") == "active" and _hot(cold, "old") == 3
        text = unmask_message(cold, SYSTEM, "o1", "核实").text
        assert text is not None and ID_CARD not in text and MOBILE in text
        assert find_by_value(cold, SYSTEM, ID_CARD).total == 0
        assert _scalar(cold, "SELECT count(*) FROM cold_blocks") == 0
        assert _scalar(cold, "SELECT count(*) FROM cold_segments") == 0
        assert cold.archive.segments is not None
        assert list(cold.archive.segments.segment_ids()) == []
        messages = show_conversation(cold, SYSTEM, "old").messages
        assert [m["message_id"] for m in messages] == ["o1", "o2", "o3"]

    def test_taking_a_whole_cold_message_offline(self, cold):
        """GIVEN a cold message WHEN it is taken offline THEN it has no original any more."""
        take_offline(cold, SYSTEM, "o1", "客户要求删除")
        assert _state(cold, "old") == "active"
        with pytest.raises(Exception, match="no original"):
            unmask_message(cold, SYSTEM, "o1", "再看一次")
        assert {hit.message_id for hit in find_by_value(cold, SYSTEM, MOBILE).hits} == {"w1"}


class TestErasure:
    @pytest.fixture
    def world(self, ctx: Context, tmp_path: Path) -> Context:
        ctx.clock = lambda: datetime.fromisoformat("2025-08-01T00:00:00+08:00").timestamp()
        day = "2025-03-01T10:00:00+08:00"
        records = [
            record(conversation_id="ask", message_id="a1", customer_id="wang", sender_id="wang",
                   service_type="consultation", sent_at=day, text=f"我的手机{MOBILE}，请回电"),
            record(conversation_id="sued", message_id="s1", customer_id="wang", sender_id="wang",
                   service_type="consultation", sent_at=day, text="你好"),
            record(conversation_id="now", message_id="n1", customer_id="wang", sender_id="wang",
                   service_type="consultation", sent_at=day, text="还在吗"),
            record(conversation_id="li-1", message_id="l1", customer_id="li", sender_id="li",
                   service_type="consultation", sent_at=day, text="我的手机13900001111"),
        ]  # fmt: skip
        assert _ingest(ctx, tmp_path / "e.jsonl", records).ingested == 4
        make_cold(ctx, ["ask", "sued", "li-1"])
        for name in ("legal1", "legal2"):
            add_user(ctx, SYSTEM, name, "legal", PASSWORD)
        create_hold(ctx, Actor("legal1", frozenset({"legal"})), "case-9", reason="诉讼",
                    conversations=["sued"])  # fmt: skip
        return ctx

    @staticmethod
    def _erase(ctx: Context, customer: str) -> dict:
        legal = Actor("legal1", frozenset({"legal"}))
        with pytest.raises(ApprovalRequired) as filed:
            erase_person(ctx, legal, customer, "本人要求删除")
        decide(ctx, Actor("legal2", frozenset({"legal"})), filed.value.request_id, True)
        return erase_person(ctx, legal, customer, "本人要求删除", approval=filed.value.request_id)

    def test_cold_conversations_are_erased_and_a_held_one_is_kept(self, world):
        """GIVEN a customer with a cold conversation, a cold held one and a hot one WHEN
        erased THEN the cold and the hot one are purged (blocks and segments rewritten), the
        held one is kept, cold and still readable."""
        report = self._erase(world, "wang")
        outcome = {r["conversation_id"]: r["outcome"] for r in report["conversations"]}
        assert outcome == {"ask": "deleted", "sued": "kept", "now": "deleted"}
        assert (report["deleted"], report["kept"]) == (2, 1)
        assert _state(world, "ask") == "purged" and _state(world, "sued") == "archived"
        blocks = (
            "SELECT count(*) FROM cold_blocks b JOIN conversations c ON c.id = b.conversation_id"
        )
        assert _scalar(world, f"{blocks} WHERE c.external_id = 'ask'") == 0
        assert find_by_value(world, SYSTEM, MOBILE).total == 0
        held = show_conversation(world, SYSTEM, "sued").messages
        assert [m["message_id"] for m in held] == ["s1"]
        assert _scalar(world, "SELECT count(*) FROM cold_messages") == 2  # s1 and l1

    def test_a_customer_whose_only_conversation_is_cold_loses_everything(self, world):
        """GIVEN a customer whose only conversation is cold WHEN erased THEN it is purged out of
        its segment, their keys are destroyed and their name removed."""
        report = self._erase(world, "li")
        assert (report["deleted"], report["kept"]) == (1, 0)
        assert report["customer_keys_destroyed"] >= 1
        assert _state(world, "li-1") == "purged"
        assert _scalar(world, "SELECT count(*) FROM cold_messages") == 2  # a1 and s1
        assert _scalar(world, "SELECT name FROM customers WHERE external_id = 'li'") is None
        assert find_by_value(world, SYSTEM, "13900001111").total == 0
        assert [m["message_id"] for m in show_conversation(world, SYSTEM, "ask").messages] == ["a1"]
