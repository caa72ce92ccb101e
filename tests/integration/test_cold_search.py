"""Search, classification and re-indexing over conversations in cold storage, on every backend.

A cold conversation has no ``messages`` rows, but its index entries stay: every backend must
answer exactly as it did while the conversation was hot (MariaDB, whose index is read through
the hot table, included), and what re-indexes a conversation (a new service type, a new tag of
its customer) must reach cold ones too.

GIVEN / WHEN / THEN.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chatkeeper.config import ClassifyConfig
from chatkeeper.domain import Actor
from chatkeeper.services import Context
from chatkeeper.services.accounts import add_user
from chatkeeper.services.classify import classify_conversations
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.search import SearchRequest, search
from tests import corpus
from tests.factories import make_cold, record, write_jsonl

SYSTEM = Actor("tests", frozenset({"system"}))  # a job of the system: every permission
SUPERVISOR = Actor("sup1", frozenset({"supervisor"}))
PASSWORD = "correct horse battery"
COUNT = 900
QUERIES = (
    "的",
    "退款",
    "订单号",
    "您好 OR 谢谢",
    '"申请退款"',
    '"请提供订单"',
    "退款 NOT 订单",
    "-订单 退款",
    '"您好" -"订单号"',
    "手机 AND (号码 OR 号) NOT 快递",
    "(退款 OR 退货) 快递",
)
FILTERS: tuple[dict[str, Any], ...] = (
    {"departments": ("售后服务部",)},
    {"departments": ("售后服务部", "投诉处理部")},
    {"agents": ("a003",)},
    {"customer_tags": ("vip",)},
    {"service_types": ("complaint",)},
    {"sender_roles": ("agent",)},
    {"platforms": ("wecom",), "sender_roles": ("customer",)},
    {
        "since": corpus.START + timedelta(days=30),
        "until": corpus.START + timedelta(days=60),
        "departments": ("投诉处理部",),
    },
)


def _answer(ctx: Context, actor: Actor, query: str, page: int = 1000, **filters: Any) -> Any:
    """The total and every hit's message id, page after page, in the order given."""
    found: list[str] = []
    offset = 0
    while True:
        result = search(ctx, actor, SearchRequest(query, limit=page, offset=offset, **filters))
        found.extend(hit.message_id for hit in result.hits)
        offset += page
        if offset >= result.total:
            return result.total, found


@pytest.fixture
def loaded(ctx: Context, tmp_path: Path) -> tuple[Context, list[dict[str, Any]]]:
    """The corpus ingested; its records as stored (masked text, the stored service type)."""
    records = corpus.build(COUNT)
    report = ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "c.jsonl", records)], "jsonl")
    assert report.ingested == COUNT
    masked = corpus.as_stored(ctx, records)
    add_user(ctx, SYSTEM, "sup1", "supervisor", PASSWORD, ["售后服务部"], [])
    return ctx, masked


def _every_other(records: list[dict[str, Any]]) -> list[str]:
    conversations = sorted({r["conversation_id"] for r in records})
    return conversations[::2]


def _cold_count(ctx: Context) -> int:
    with ctx.archive.reader() as connection:
        return int(connection.exec_driver_sql("SELECT COUNT(*) FROM cold_messages").scalar_one())


class TestSearchOverCold:
    def test_queries_answer_the_same_after_half_goes_cold(self, loaded) -> None:
        """GIVEN the corpus searched while hot (terms of 1 to 6 characters, phrases, OR,
        NOT) WHEN every other conversation goes cold THEN each query gives the same total and
        the same hits in the same order, and both equal the linear scan."""
        ctx, records = loaded
        before = {q: _answer(ctx, SYSTEM, q) for q in QUERIES}
        make_cold(ctx, _every_other(records))
        assert _cold_count(ctx) > COUNT // 3
        cold = {r["message_id"] for r in records if r["conversation_id"] in _every_other(records)}
        for query in QUERIES:
            total, hits = _answer(ctx, SYSTEM, query)
            assert (total, hits) == before[query], query
            want = corpus.expected(records, query)
            assert (total, set(hits)) == (len(want), want), query
        assert cold & set(before["的"][1])  # cold messages are among the answers

    @pytest.mark.parametrize("filters", FILTERS)
    def test_filters_answer_the_same_after_half_goes_cold(self, loaded, filters) -> None:
        """GIVEN filtered searches while hot WHEN every other conversation goes cold THEN
        each gives the same total and hits, equal to the linear scan."""
        ctx, records = loaded
        queries = ("的", "退款", "订单号", '"请提供订单"', "您好 NOT 谢谢")
        before = {q: _answer(ctx, SYSTEM, q, **filters) for q in queries}
        make_cold(ctx, _every_other(records))
        for query in queries:
            total, hits = _answer(ctx, SYSTEM, query, **filters)
            assert (total, hits) == before[query], (query, filters)
            want = corpus.expected(records, query, **filters)
            assert (total, set(hits)) == (len(want), want), (query, filters)

    def test_a_department_scope_answers_the_same(self, loaded) -> None:
        """GIVEN a supervisor of one department WHEN every other conversation goes cold THEN
        their searches (a scope filter) answer as before, with that department's messages
        only."""
        ctx, records = loaded
        queries = ("的", '"申请退款"', "退款 NOT 订单")
        before = {q: _answer(ctx, SUPERVISOR, q) for q in queries}
        make_cold(ctx, _every_other(records))
        for query in queries:
            assert _answer(ctx, SUPERVISOR, query) == before[query], query
            want = corpus.expected(records, query, departments=("售后服务部",))
            assert set(before[query][1]) == want, query

    def test_small_pages_merge_hot_and_cold_newest_first(self, loaded) -> None:
        """GIVEN every other conversation cold WHEN the answers are read 37 at a time THEN
        the pages are disjoint, newest first, and together the whole answer."""
        ctx, records = loaded
        make_cold(ctx, _every_other(records))
        for query in ("的", '"请提供订单"'):
            whole = _answer(ctx, SYSTEM, query)
            paged = _answer(ctx, SYSTEM, query, page=37)
            assert paged == whole and len(set(whole[1])) == whole[0], query
            result = search(ctx, SYSTEM, SearchRequest(query, limit=1000))
            times = [hit.sent_at for hit in result.hits]
            assert times == sorted(times, reverse=True), query

    def test_everything_cold_still_equals_the_linear_scan(self, loaded) -> None:
        """GIVEN every conversation cold (no hot rows at all) WHEN searched THEN the answers
        equal the linear scan."""
        ctx, records = loaded
        make_cold(ctx)
        assert _cold_count(ctx) == COUNT
        for query in ("的", '"申请退款"', "-订单 退款", "不存在的词语组合"):
            total, hits = _answer(ctx, SYSTEM, query)
            want = corpus.expected(records, query)
            assert (total, set(hits)) == (len(want), want), query


def _conversation(conv: str, texts: list[str], **fields: Any) -> list[dict[str, Any]]:
    return [
        record(conversation_id=conv, message_id=f"{conv}-{i}", text=text, **fields)
        for i, text in enumerate(texts)
    ]


def _types(ctx: Context) -> dict[str, str]:
    with ctx.archive.reader() as connection:
        rows = connection.exec_driver_sql(
            "SELECT c.external_id, s.code FROM conversations c"
            " JOIN service_types s ON s.id = c.service_type_id"
        ).all()
    return {str(r[0]): str(r[1]) for r in rows}


def _risks(ctx: Context) -> list[tuple[int, int, str]]:
    with ctx.archive.reader() as connection:
        rows = connection.exec_driver_sql(
            "SELECT message_id, level, terms FROM message_risks ORDER BY message_id"
        ).all()
    return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


def _conversations_found(ctx: Context, query: str, **filters: Any) -> tuple[int, set[str]]:
    result = search(ctx, SYSTEM, SearchRequest(query, limit=100, **filters))
    return result.total, {hit.conversation_id for hit in result.hits}


class TestReindexingCold:
    def test_rerun_retypes_a_cold_conversation_from_its_originals(self, ctx, tmp_path) -> None:
        """GIVEN cold conversations: one about a return, one whose customer gave a phone
        number (masked in the stored text), one risky WHEN classify --rerun under rules that
        make returns and that number complaints THEN both are retyped from what their
        originals say, the type filter finds their messages under the new type only, and the
        risky one keeps its type and risk marks."""
        records = [
            *_conversation("calm", ["请问怎么退货", "好的谢谢"], service_type=None),
            *_conversation("phone", ["我的手机是13812345678", "好的"], service_type=None),
            *_conversation("risky", ["你好", "再不退款我就去12315投诉，还要起诉你们"],
                           service_type=None),
            *_conversation("hot", ["我要退货", "请稍等"], service_type=None),
        ]  # fmt: skip
        ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "r.jsonl", records)], "jsonl")
        types, risks = _types(ctx), _risks(ctx)
        assert risks and types["calm"] == types["hot"] == "after_sales"
        make_cold(ctx, ["calm", "phone", "risky"])
        rules = tmp_path / "rules.toml"
        rules.write_text(
            '[[rule]]\nname = "returns_are_complaints"\nservice_type = "complaint"\n'
            'priority = 50\noverride_source = true\nkeywords_any = ["退货", "13812345678"]\n',
            encoding="utf-8",
        )
        ctx.settings = ctx.settings.model_copy(
            update={"classify": ClassifyConfig(rules_file=rules)}
        )
        result = classify_conversations(ctx, SYSTEM, rerun=True)
        assert result["conversations"] == 4 and result["retyped"] == 3
        after = _types(ctx)
        assert after["calm"] == after["phone"] == after["hot"] == "complaint"
        assert after["risky"] == types["risky"] == "legal_dispute"
        assert _risks(ctx) == risks
        assert _conversations_found(ctx, "退货", service_types=("complaint",)) == (
            2,
            {"calm", "hot"},
        )
        assert _conversations_found(ctx, "退货", service_types=("after_sales",)) == (0, set())
        assert _conversations_found(ctx, "好的", service_types=("complaint",)) == (
            2,
            {"calm", "phone"},
        )
        assert _conversations_found(ctx, "退货") == (2, {"calm", "hot"})  # nothing twice

    def test_a_new_customer_tag_reaches_the_cold_conversations(self, ctx, tmp_path) -> None:
        """GIVEN a customer's two conversations, tagged vip, gone cold WHEN a later batch
        tags the customer 企业 in a new conversation THEN the tag filter finds the cold
        conversations' messages too, the vip filter still finds each message once, and the
        cold ones stay cold."""
        first = [
            *_conversation("old-1", ["请问怎么退货", "好的谢谢"], customer_id="cust-9"),
            *_conversation("old-2", ["退货运费谁出", "我们承担"], customer_id="cust-9"),
        ]
        ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "a.jsonl", first)], "jsonl")
        make_cold(ctx, ["old-1", "old-2"])
        later = _conversation(
            "new-1", ["又要退货了"], customer_id="cust-9", customer_tags=["vip", "企业"]
        )
        ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "b.jsonl", later)], "jsonl")
        assert _cold_count(ctx) == 4
        everyone = {"old-1", "old-2", "new-1"}
        assert _conversations_found(ctx, "退货", customer_tags=("企业",)) == (3, everyone)
        assert _conversations_found(ctx, "退货", customer_tags=("vip",)) == (3, everyone)
        assert _conversations_found(ctx, "好的", customer_tags=("企业",)) == (1, {"old-1"})
        with ctx.archive.reader() as connection:
            states = dict(
                connection.exec_driver_sql("SELECT external_id, state FROM conversations").all()
            )
        assert states == {"old-1": "archived", "old-2": "archived", "new-1": "active"}
