"""Privacy on every backend: masked storage, blind-index look-up, audited unmask, offline,
key rotation and crypto-shredding."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from chatkeeper.crypto import decrypt, peek
from chatkeeper.crypto.errors import CryptoError
from chatkeeper.domain import Actor
from chatkeeper.errors import NotFound
from chatkeeper.services import Context
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.keys import rotate_kek
from chatkeeper.services.privacy import find_by_value, take_offline, unmask_message
from chatkeeper.services.search import SearchRequest, search
from chatkeeper.store import tables
from tests.factories import record, write_jsonl

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission
MOBILE = "13812345678"
ID_CARD = "11010119900307663X"
TEXT = f"我叫王小明，手机{MOBILE}，身份证{ID_CARD}，请退款"


@pytest.fixture
def loaded(ctx: Context, tmp_path: Path) -> Context:
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            record(message_id="p1", conversation_id="pc", text=TEXT, sender_name="王小明"),
            record(message_id="p2", conversation_id="pc", sender_role="agent", sender_id="a001",
                   sender_name="陈静", text="王小明您好，已收到退款申请"),
            record(message_id="p3", conversation_id="other", customer_id="cust-2",
                   sender_id="cust-2", sender_name="李四", text="我的电话是138-1234-5678"),
        ],
    )  # fmt: skip
    assert ingest_files(ctx, ACTOR, [path], "jsonl").ingested == 3
    return ctx


def _events(ctx: Context, action: str) -> list[tuple]:
    with ctx.archive.reader() as conn:
        audit = tables.audit_events
        query = select(audit.c.actor, audit.c.reason, audit.c.target_id).where(
            audit.c.action == action
        )
        return [tuple(row) for row in conn.execute(query)]


class TestMaskedStorage:
    def test_stored_and_shown_text_is_masked(self, loaded):
        """GIVEN a message with a name, mobile and ID WHEN shown THEN all three are masked."""
        messages = show_conversation(loaded, ACTOR, "pc").messages
        first, second = messages[0]["text"], messages[1]["text"]
        assert MOBILE not in first and ID_CARD not in first and "王小明" not in first
        assert "138****5678" in first and "王**" in first
        assert "王小明" not in second  # the customer's name, in the agent's words
        assert messages[0]["sender_name"] == "王**"
        assert messages[1]["sender_name"] == "陈静"  # agents' names stay readable

    def test_full_text_search_sees_only_masked_text(self, loaded):
        assert search(loaded, ACTOR, SearchRequest("12345678")).total == 0
        assert search(loaded, ACTOR, SearchRequest("退款")).total == 2


class TestBlindIndex:
    @pytest.mark.parametrize("written", [MOBILE, "+86 138 1234 5678", "138-1234-5678"])
    def test_any_written_form_finds_every_message_with_the_value(self, loaded, written):
        found = find_by_value(loaded, ACTOR, written)
        assert {hit.message_id for hit in found.hits} == {"p1", "p3"}

    def test_an_id_number_is_found_in_either_case(self, loaded):
        found = find_by_value(loaded, ACTOR, ID_CARD.lower())
        assert [hit.message_id for hit in found.hits] == ["p1"]

    def test_an_unknown_value_finds_nothing(self, loaded):
        assert find_by_value(loaded, ACTOR, "13999999999").total == 0

    def test_the_value_is_not_in_the_audit_log(self, loaded):
        find_by_value(loaded, ACTOR, MOBILE)
        assert all(MOBILE not in str(event) for event in _events(loaded, "pii.searched"))


class TestUnmaskAndOffline:
    def test_unmask_returns_the_original_and_is_recorded(self, loaded):
        result = unmask_message(loaded, ACTOR, "p1", "客户投诉核实")
        assert result.text == TEXT
        assert _events(loaded, "message.unmasked") == [("tests", "客户投诉核实", "webchat:p1")]

    def test_offline_destroys_the_original_and_its_vault_entries(self, loaded):
        take_offline(loaded, ACTOR, "p1", "客户要求删除")
        with pytest.raises(NotFound):
            unmask_message(loaded, ACTOR, "p1", "再看一次")
        assert {hit.message_id for hit in find_by_value(loaded, ACTOR, MOBILE).hits} == {"p3"}
        assert _events(loaded, "message.taken_offline")[0][1] == "客户要求删除"

    def test_offline_of_a_span_keeps_the_rest(self, loaded):
        start = TEXT.index(ID_CARD)
        take_offline(loaded, ACTOR, "p1", "身份证下线", span=(start, start + len(ID_CARD)))
        text = unmask_message(loaded, ACTOR, "p1", "核实").text
        assert ID_CARD not in text and MOBILE in text
        assert find_by_value(loaded, ACTOR, ID_CARD).total == 0
        assert find_by_value(loaded, ACTOR, MOBILE).total == 2


class TestKeys:
    def test_rotation_rewraps_and_the_data_still_opens(self, loaded):
        before = loaded.archive.kek.kek_id
        result = rotate_kek(loaded, ACTOR)
        assert result["previous_kek_id"] == before and result["rewrapped"] >= 3
        assert unmask_message(loaded, ACTOR, "p1", "轮换后核实").text == TEXT
        key_files = list((loaded.data_dir / "keys").glob("kek.json*"))
        assert len(key_files) == 1

    def test_a_shredded_conversation_cannot_be_decrypted_with_any_key_left(self, loaded):
        """GIVEN a ciphertext copied before WHEN its conversation key is destroyed THEN no key
        the system still holds decrypts it."""
        with loaded.archive.reader() as conn:
            m = tables.messages
            blob = conn.execute(select(m.c.ciphertext).where(m.c.external_id == "p1")).scalar()
        copied = bytes(blob)
        key_id = peek(copied).key_id
        with loaded.archive.writer() as writer:
            assert loaded.keys(writer.connection).destroy([key_id]) == 1
        with pytest.raises(Exception):  # noqa: B017 - KeyDestroyed, whichever layer says it
            unmask_message(loaded, ACTOR, "p1", "销毁后")
        with loaded.archive.reader() as conn:
            live = [row[0] for row in conn.execute(
                select(tables.data_keys.c.key_id).where(tables.data_keys.c.wrapped.is_not(None))
            )]  # fmt: skip
            keys = loaded.keys(conn).by_id(live)
            count = conn.execute(select(func.count()).select_from(tables.data_keys)).scalar()
        assert key_id not in keys and count >= 4
        for key in keys.values():
            with pytest.raises(CryptoError):
                decrypt(copied, key, b"webchat:p1")


class TestVault:
    def test_every_vault_entry_decrypts_to_the_value_its_blind_index_names(self, loaded):
        """GIVEN an ingest WHEN every vault entry is opened with the key it names THEN each
        decrypts, and its blind index is that of the value it holds."""
        from chatkeeper.ingest.privacy import blind_index
        from chatkeeper.privacy.findings import PiiType
        from chatkeeper.privacy.normalise import canonical_value

        blind_key = loaded.system_key("blind-index")
        v, m, p = tables.pii_vault, tables.messages, tables.platforms
        with loaded.archive.reader() as conn:
            rows = conn.execute(
                select(v.c.pii_type, v.c.key_id, v.c.ciphertext, v.c.blind_index,
                       m.c.external_id, p.c.code)
                .join(m, m.c.id == v.c.message_id).join(p, p.c.id == m.c.platform_id)
            ).all()  # fmt: skip
            keys = loaded.keys(conn).by_id({row[1] for row in rows})
        assert len(rows) >= 6
        for kind, key_id, blob, blind, message, platform in rows:
            value = decrypt(bytes(blob), keys[key_id], f"{platform}:{message}".encode()).decode()
            expected = blind_index(blind_key, PiiType(kind), canonical_value(PiiType(kind), value))
            assert bytes(blind) == expected
