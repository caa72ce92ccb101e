"""Classification, risk marks and the three-level review, on every backend.

GIVEN / WHEN / THEN; the clock is the context's, moved by the tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatkeeper.config import ClassifyConfig
from chatkeeper.domain import Actor
from chatkeeper.governance import GovernanceError, PermissionDenied
from chatkeeper.services import Context
from chatkeeper.services.accounts import add_user
from chatkeeper.services.classify import classify_conversations
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.review import list_reviews, show_review, submit_review
from chatkeeper.services.search import SearchRequest, search
from tests.factories import record, write_jsonl

SYSTEM = Actor("setup", frozenset({"system"}))
PASSWORD = "correct horse battery"
T0 = 1_800_000_000.0
DAY = 86_400.0


def _conversation(conv: str, department: str, agent: str, texts: list[str], **extra) -> list:
    return [
        record(conversation_id=conv, message_id=f"{conv}-{i}", department=department,
               agent_id=agent, text=text, **extra)
        for i, text in enumerate(texts)
    ]  # fmt: skip


@pytest.fixture
def world(ctx: Context, tmp_path: Path) -> Context:
    ctx.clock = lambda: T0
    records = [
        *_conversation("risky", "投诉处理部", "a1",
                       ["你好", "再不退款我就去12315投诉，还要起诉你们"], service_type=None),
        *_conversation("calm", "售后服务部", "a2", ["请问怎么退货", "好的谢谢"], service_type=None),
        *_conversation("sourced", "售后服务部", "a2", ["我要投诉", "请稍等"],
                       service_type="consultation"),
    ]  # fmt: skip
    ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "r.jsonl", records)], "jsonl")
    for name, role, depts, agents in (
        ("agent1", "agent", [], ["a1"]), ("sup1", "supervisor", ["投诉处理部"], []),
        ("sup2", "supervisor", ["售后服务部"], []), ("legal1", "legal", [], []),
    ):  # fmt: skip
        add_user(ctx, SYSTEM, name, role, PASSWORD, depts, agents)
    return ctx


AGENT = Actor("agent1", frozenset({"agent"}))
SUP = Actor("sup1", frozenset({"supervisor"}))
SUP2 = Actor("sup2", frozenset({"supervisor"}))
LEGAL = Actor("legal1", frozenset({"legal"}))


def _types(ctx: Context) -> dict[str, str]:
    with ctx.archive.reader() as conn:
        return dict(conn.exec_driver_sql(
            "SELECT c.external_id, s.code FROM conversations c"
            " JOIN service_types s ON s.id = c.service_type_id"
        ).all())  # fmt: skip


class TestClassification:
    def test_rules_set_the_service_type_and_search_filters_by_it(self, world) -> None:
        """GIVEN conversations without a source type, and one the source called a
        consultation WHEN ingested THEN rules type them, a complaint rule overriding the
        source; a service-type filter finds the messages under the new type."""
        types = _types(world)
        assert types["risky"] == "legal_dispute"  # 起诉 outranks 投诉 and 退款
        assert types["calm"] == "after_sales"
        assert types["sourced"] == "complaint"  # the complaint rule overrides the source
        found = search(world, LEGAL, SearchRequest("投诉", service_types=("complaint",)))
        assert {h.conversation_id for h in found.hits} == {"sourced"}

    def test_risky_messages_are_marked_with_lexicon_terms_only(self, world) -> None:
        with world.archive.reader() as conn:
            marks = conn.exec_driver_sql(
                "SELECT m.external_id, r.level, r.terms FROM message_risks r"
                " JOIN messages m ON m.id = r.message_id ORDER BY m.external_id"
            ).all()
        assert [(m, lvl) for m, lvl, _ in marks][:1] == [("risky-1", 3)]
        assert "12315" in marks[0][2] and "起诉" in marks[0][2]
        assert "退款" not in marks[0][2]  # chat text is not stored here, only lexicon terms

    def test_rerun_applies_new_rules_to_stored_conversations(self, world, tmp_path) -> None:
        """GIVEN a rules file that makes 退货 a complaint WHEN classify --rerun THEN the
        stored conversation is retyped and re-indexed under the new type."""
        rules = tmp_path / "rules.toml"
        rules.write_text(
            '[[rule]]\nname = "returns_are_complaints"\nservice_type = "complaint"\n'
            'priority = 50\noverride_source = true\nkeywords_any = ["退货"]\n',
            encoding="utf-8",
        )
        world.settings = world.settings.model_copy(
            update={"classify": ClassifyConfig(rules_file=rules)}
        )
        result = classify_conversations(world, SYSTEM, rerun=True)
        assert result["conversations"] == 3 and result["retyped"] == 1
        assert _types(world)["calm"] == "complaint"
        found = search(world, LEGAL, SearchRequest("退货", service_types=("complaint",)))
        assert found.total == 1


class TestReview:
    def test_a_risky_conversation_goes_agent_supervisor_legal(self, world) -> None:
        """GIVEN a high-risk conversation WHEN ingested THEN one review item opens at the
        agent stage; the agent, the supervisor and legal each act in turn; it closes."""
        items = list_reviews(world, LEGAL)
        assert [(i["conversation_id"], i["stage"]) for i in items] == [("risky", "agent")]
        item = items[0]["id"]
        assert [i["id"] for i in list_reviews(world, AGENT)] == [item]
        assert list_reviews(world, SUP2) == []  # not their department
        with pytest.raises(GovernanceError, match="only its agent \\(or legal\\) acts"):
            submit_review(world, SUP, item, "account", "先看看")
        submit_review(world, AGENT, item, "account", "客户情绪激动，已安抚")
        with pytest.raises(PermissionDenied):
            submit_review(world, SUP2, item, "forward", "不是我的部门")
        submit_review(world, SUP, item, "forward", "涉及起诉，转法务")
        done = submit_review(world, LEGAL, item, "close", "已和解")
        assert (done["state"], done["outcome"]) == ("closed", "closed")
        assert [s["stage"] for s in show_review(world, LEGAL, item)["steps"]] == [
            "agent",
            "supervisor",
            "legal",
        ]
        with world.archive.reader() as conn:
            audited = conn.exec_driver_sql(
                "SELECT count(*) FROM audit_events WHERE action = 'review.submitted'"
            ).scalar()
        assert audited == 3

    def test_items_past_their_deadline_are_overdue(self, world) -> None:
        """GIVEN an open item due in 2 days WHEN 3 days pass THEN it is listed as overdue."""
        assert list_reviews(world, LEGAL, overdue=True) == []
        world.clock = lambda: T0 + 3 * DAY
        overdue = list_reviews(world, LEGAL, overdue=True)
        assert [i["conversation_id"] for i in overdue] == ["risky"] and overdue[0]["overdue"]

    def test_legal_deciding_hold_places_a_legal_hold(self, world) -> None:
        """GIVEN a review item at the legal stage WHEN legal decides "hold" THEN a legal hold
        covers the conversation."""
        from chatkeeper.services.holds import list_holds

        item = list_reviews(world, LEGAL)[0]["id"]
        submit_review(world, AGENT, item, "account", "已说明")
        submit_review(world, SUP, item, "forward", "转法务")
        submit_review(world, LEGAL, item, "hold", "客户已起诉，保全")
        holds = list_holds(world, LEGAL)
        assert [h["name"] for h in holds] == [f"review-{item}"]
