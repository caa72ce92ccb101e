"""The index returns exactly what a linear scan of the same messages returns, on every backend.

GIVEN 2,500 sample messages ingested with known filter values (their personal data masked:
      the stored, masked text is what both the index and the scan read)
WHEN any query (1- to 4-character terms, phrases, ASCII, AND / OR / NOT) is searched, with and
     without filters
THEN the exact total and the full set of hits equal the linear scan's.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chatkeeper.domain import Actor
from chatkeeper.services import Context
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.search import SearchRequest, search
from tests import corpus
from tests.factories import write_jsonl

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission
COUNT = 2500


def _all_hits(ctx: Context, query: str, **filters: Any) -> tuple[int, set[str]]:
    found: set[str] = set()
    offset, total = 0, None
    while True:
        result = search(ctx, ACTOR, SearchRequest(query, limit=1000, offset=offset, **filters))
        total = result.total
        found.update(hit.message_id for hit in result.hits)
        offset += 1000
        if offset >= total:
            return total, found


def _queries(records: list[dict[str, Any]]) -> list[str]:
    rng = random.Random(11)
    queries = ["退", "退款", "订单", "发票", "的", "您好", "增值税", "vip", "@", "138", "qq", "。"]
    for length in (1, 2, 3, 4):
        for _ in range(12):
            text = rng.choice(records)["text"]
            start = rng.randrange(max(1, len(text) - length))
            piece = text[start : start + length].strip()
            if piece and '"' not in piece and "(" not in piece and ")" not in piece:
                queries.append(f'"{piece}"')
    spaced = [r["text"] for r in records if " " in r["text"].strip()]
    for text in spaced[:6]:
        at = text.strip().index(" ") + (len(text) - len(text.lstrip()))
        queries.append(f'"{text[max(0, at - 2) : at + 2]}"')  # a phrase ending in a 1-char run
    queries += [
        "号码 OR 号",
        "手机 (号码 OR 号)",
        "退款 订单",
        "退款 OR 发票",
        "退款 NOT 订单",
        "(退款 OR 退货) 快递",
        '"申请 退款"',
        "-订单 退款",
        "手机 AND (号码 OR 号) NOT 快递",
        "ＶＩＰ",
        "ab",
        "不存在的词语组合",
    ]
    return queries


@pytest.fixture
def loaded(ctx: Context, tmp_path: Path) -> tuple[Context, list[dict[str, Any]]]:
    records = corpus.build(COUNT)
    path = write_jsonl(tmp_path / "corpus.jsonl", records)
    report = ingest_files(ctx, ACTOR, [path], "jsonl")
    assert report.ingested == COUNT
    # What is searched is the stored text, in which personal data is masked: the scan reads it.
    # Classification may have given a conversation another service type than its source did
    # (a complaint rule overrides it): the scan reads the stored one.
    masked = corpus.as_stored(ctx, records)
    assert sum(m["text"] != r["text"] for m, r in zip(masked, records, strict=True)) > 100
    return ctx, masked


class TestPlainQueries:
    def test_every_query_equals_the_linear_scan(self, loaded):
        ctx, records = loaded
        for query in _queries(records):
            total, hits = _all_hits(ctx, query)
            want = corpus.expected(records, query)
            assert (total, hits) == (len(want), want), query


class TestFilteredQueries:
    @pytest.mark.parametrize(
        "filters",
        [
            {"departments": ("售后服务部",)},
            {"departments": ("售后服务部", "投诉处理部")},
            {"agents": ("a003",)},
            {"customers": ("cust-0007",)},
            {"customer_tags": ("vip",)},
            {"service_types": ("complaint",)},
            {"sender_roles": ("agent",)},
            {"platforms": ("wecom",)},
            {"platforms": ("wecom",), "sender_roles": ("customer",), "customer_tags": ("高风险",)},
        ],
    )
    def test_filters_equal_the_linear_scan(self, loaded, filters):
        ctx, records = loaded
        for query in ("的", "退款", "订单号", "您好 OR 谢谢"):
            total, hits = _all_hits(ctx, query, **filters)
            want = corpus.expected(records, query, **filters)
            assert (total, hits) == (len(want), want), (query, filters)

    def test_time_range_is_exact_at_the_bounds(self, loaded):
        ctx, records = loaded
        since = corpus.START + timedelta(days=30)
        until = corpus.START + timedelta(days=60)
        bounded = {"since": since, "until": until, "departments": ("投诉处理部",)}
        for query in ("的", "退款"):
            total, hits = _all_hits(ctx, query, **bounded)
            want = corpus.expected(records, query, **bounded)
            assert (total, hits) == (len(want), want), query

    def test_an_unknown_filter_value_matches_nothing(self, loaded):
        ctx, _ = loaded
        assert _all_hits(ctx, "的", departments=("没有这个部门",)) == (0, set())


class TestPaging:
    def test_pages_are_disjoint_newest_first_and_cover_the_total(self, loaded):
        ctx, records = loaded
        want = corpus.expected(records, "的")
        pages = [search(ctx, ACTOR, SearchRequest("的", limit=50, offset=o)) for o in (0, 50, 100)]
        ids = [hit.message_id for page in pages for hit in page.hits]
        assert len(ids) == len(set(ids)) == 150
        assert set(ids) <= want
        times = [hit.sent_at for page in pages for hit in page.hits]
        assert times == sorted(times, reverse=True)
        assert all(page.total == len(want) for page in pages)

    def test_relevance_order_returns_the_same_set(self, loaded):
        ctx, records = loaded
        result = search(ctx, ACTOR, SearchRequest("退款", order="relevance", limit=1000))
        assert {h.message_id for h in result.hits} == corpus.expected(records, "退款")

    def test_snippets_mark_the_match(self, loaded):
        ctx, _ = loaded
        result = search(ctx, ACTOR, SearchRequest("退款", limit=5))
        assert result.hits and all("«退款»" in hit.snippet for hit in result.hits)
