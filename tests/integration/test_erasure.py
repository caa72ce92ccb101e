"""Erasure of a person (PIPL art. 47), on every backend. GIVEN / WHEN / THEN."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.governance import ApprovalRequired
from chatkeeper.services import Context
from chatkeeper.services.accounts import add_user
from chatkeeper.services.approvals import decide
from chatkeeper.services.erasure import erase_person
from chatkeeper.services.holds import create_hold
from chatkeeper.services.ingest import ingest_files
from tests.factories import record, write_jsonl

SYSTEM = Actor("job", frozenset({"system"}))
LEGAL = Actor("legal1", frozenset({"legal"}))
LEGAL2 = Actor("legal2", frozenset({"legal"}))
PASSWORD = "correct horse battery"


@pytest.fixture
def world(ctx: Context, tmp_path: Path) -> Context:
    ctx.clock = lambda: datetime.fromisoformat("2025-08-01T00:00:00+08:00").timestamp()
    day = "2025-03-01T10:00:00+08:00"
    records = [
        record(conversation_id="buy", message_id="b1", customer_id="wang", sender_id="wang",
               service_type="transaction", sent_at=day, text="订单已付款"),
        record(conversation_id="ask", message_id="a1", customer_id="wang", sender_id="wang",
               service_type="consultation", sent_at=day, text="我的手机13812345678，请回电"),
        record(conversation_id="sued", message_id="s1", customer_id="wang", sender_id="wang",
               service_type="consultation", sent_at=day, text="你好"),
        record(conversation_id="li-1", message_id="l1", customer_id="li", sender_id="li",
               service_type="consultation", sent_at=day, text="我的手机13900001111"),
    ]  # fmt: skip
    ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "e.jsonl", records)], "jsonl")
    add_user(ctx, SYSTEM, "legal1", "legal", PASSWORD)
    add_user(ctx, SYSTEM, "legal2", "legal", PASSWORD)
    create_hold(ctx, LEGAL, "case-9", reason="诉讼", conversations=["sued"])
    return ctx


def _erase(ctx: Context, customer: str) -> dict:
    with pytest.raises(ApprovalRequired) as filed:
        erase_person(ctx, LEGAL, customer, "本人要求删除")
    decide(ctx, LEGAL2, filed.value.request_id, True)
    return erase_person(ctx, LEGAL, customer, "本人要求删除", approval=filed.value.request_id)


def _count(ctx: Context, sql: str) -> int:
    with ctx.archive.reader() as conn:
        return int(conn.exec_driver_sql(sql).scalar())


def test_what_a_hold_or_a_floor_keeps_stays_and_the_rest_goes(world) -> None:
    """GIVEN a customer with a transaction (3-year floor), a held and a plain conversation
    WHEN they are erased (approved by a second legal user) THEN only the plain one is deleted,
    the others are kept naming the hold and the law, and the customer's keys stay (still
    needed by what is kept)."""
    report = _erase(world, "wang")
    outcome = {r["conversation_id"]: (r["outcome"], r["why"]) for r in report["conversations"]}
    assert outcome["ask"] == ("deleted", "erasure requested")
    assert outcome["sued"][0] == "kept" and "legal hold" in outcome["sued"][1]
    assert outcome["buy"][0] == "kept" and "E-Commerce Law" in outcome["buy"][1]
    assert (report["deleted"], report["kept"], report["customer_keys_destroyed"]) == (1, 2, 0)
    assert report["certificate"] is not None
    assert _count(world, "SELECT count(*) FROM messages WHERE external_id = 'a1'") == 0


def test_a_customer_with_nothing_kept_loses_keys_vault_and_name(world) -> None:
    """GIVEN a customer whose only conversation nothing keeps WHEN erased THEN it is purged,
    their vault entries are gone, their keys destroyed and their name removed."""
    report = _erase(world, "li")
    assert (report["deleted"], report["kept"]) == (1, 0)
    assert report["customer_keys_destroyed"] >= 1
    assert _count(world, "SELECT count(*) FROM pii_vault v JOIN customers c ON c.id ="
                         " v.customer_id WHERE c.external_id = 'li'") == 0  # fmt: skip
    assert _count(world, "SELECT count(*) FROM data_keys WHERE owner_kind = 'customer' AND"
                         " owner_ref = 'webchat:li' AND destroyed_at IS NULL") == 0  # fmt: skip
    assert _count(world, "SELECT count(*) FROM customers WHERE external_id = 'li'"
                         " AND name IS NOT NULL") == 0  # fmt: skip
