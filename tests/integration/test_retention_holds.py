"""Retention policy versions, deadlines and legal holds, on every backend.

Written GIVEN / WHEN / THEN. The clock is the context's (``ctx.clock``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.errors import QuerySyntaxError
from chatkeeper.governance import ApprovalInvalid, ApprovalRequired, GovernanceError
from chatkeeper.lifecycle import ConversationFacts, HoldIndex, LegalHold
from chatkeeper.lifecycle.errors import LegalHoldActive, LifecycleConfigError, RetentionBelowFloor
from chatkeeper.services import Context
from chatkeeper.services.accounts import add_user
from chatkeeper.services.approvals import decide
from chatkeeper.services.holds import (
    create_hold,
    ensure_not_held,
    held_conversations,
    holds_for,
    list_holds,
    release_hold,
    show_hold,
)
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.retention import (
    change_policy,
    deadlines,
    policy_history,
    retention_of,
    show_policy,
)
from tests.factories import record, write_jsonl

SYSTEM = Actor("setup", frozenset({"system"}))
LEGAL = Actor("legal", frozenset({"legal"}))
LEGAL2 = Actor("legal2", frozenset({"legal"}))
ADMIN = Actor("admin", frozenset({"admin"}))
PASSWORD = "correct horse battery"
CST = timezone(timedelta(hours=8))

#: conversation: (service type, department, customer, tags, service date, text)
CONVERSATIONS = {
    "c-cons": ("consultation", "售前咨询部", "u1", [], "2025-03-01T10:00:00", "你好"),
    "c-vip": ("consultation", "售前咨询部", "u2", ["VIP"], "2025-03-02T10:00:00", "请把合同发给我"),
    "c-vip2": ("consultation", "售后服务部", "u4", ["VIP"], "2025-03-03T10:00:00", "你好"),
    "c-tx": ("transaction", "售后服务部", "u3", [], "2025-04-10T10:00:00", "合同已经签好了"),
    "c-legal": ("legal_dispute", "法务部", "u5", [], "2025-05-01T10:00:00", "你好"),
    "c-odd": ("survey", "售前咨询部", "u6", [], "2025-06-01T10:00:00", "谢谢"),
}  # fmt: skip

# Most specific wins (consultation, 6 months, over catch_all, 5 years; vip_webchat over
# consultation); on a tie of specificity the longest (presales_vip, 2 years, over vip_webchat,
# 1 year, listed first).
POLICY_V2 = """
[policy]
[[policy.rules]]
name = "consultation"
service_type = "consultation"
keep = "6 months"

[[policy.rules]]
name = "vip_webchat"
service_type = "consultation"
platform = "webchat"
tag = "VIP"
keep = "1 year"

[[policy.rules]]
name = "presales_vip"
service_type = "consultation"
department = "售前咨询部"
tag = "VIP"
keep = "2 years"

[[policy.rules]]
name = "transaction"
service_type = "transaction"
keep = "3 years"

[[policy.rules]]
name = "legal_dispute"
service_type = "legal_dispute"
keep = "permanent"

[[policy.rules]]
name = "catch_all"
service_type = "*"
keep = "5 years"
"""

BELOW_FLOOR = """
[policy]
[[policy.rules]]
name = "transaction"
service_type = "transaction"
keep = "1 year"
"""


def _record(conversation: str, n: int = 0, **over: object) -> dict:
    service, department, customer, tags, day, text = CONVERSATIONS.get(
        conversation, ("after_sales", "售后服务部", "u1", [], "2025-03-02T15:00:00", "合同的事")
    )
    fields = {
        "conversation_id": conversation, "message_id": f"{conversation}-{n}",
        "sent_at": f"{day}+08:00", "service_type": service, "department": department,
        "customer_id": customer, "sender_id": customer, "customer_tags": tags, "text": text,
    }  # fmt: skip
    fields.update(over)
    return record(**fields)


@pytest.fixture
def world(ctx: Context, tmp_path: Path) -> Context:
    records = [_record(c) for c in CONVERSATIONS]
    ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "r.jsonl", records)], "jsonl")
    for name, role in (("legal", "legal"), ("legal2", "legal"), ("admin", "admin")):
        add_user(ctx, SYSTEM, name, role, PASSWORD)
    ctx.clock = lambda: 1_800_000_000.0
    return ctx


def _pk(ctx: Context, conversation: str) -> int:
    with ctx.archive.reader() as connection:
        return int(ctx.archive.find_conversation(connection, conversation, None)["id"])


def _names(ctx: Context, pks: set[int] | list[int]) -> set[str]:
    by_pk = {_pk(ctx, c): c for c in [*CONVERSATIONS, "c-new"] if _exists(ctx, c)}
    return {by_pk[pk] for pk in pks}


def _exists(ctx: Context, conversation: str) -> bool:
    with ctx.archive.reader() as connection:
        return bool(
            connection.exec_driver_sql(
                f"SELECT count(*) FROM conversations WHERE external_id = '{conversation}'"
            ).scalar()
        )


def _count(ctx: Context, table: str) -> int:
    with ctx.archive.reader() as connection:
        return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def _approved_change(ctx: Context, document: str = POLICY_V2) -> tuple[int, dict]:
    try:
        change_policy(ctx, LEGAL, document, "新规")
    except ApprovalRequired as filed:
        decide(ctx, LEGAL2, filed.request_id, True)
        return filed.request_id, change_policy(ctx, LEGAL, document, "新规", filed.request_id)
    raise AssertionError("a policy change ran without approval")


def _ms(day: str, **delta: int) -> int:
    moment = datetime.fromisoformat(day).replace(tzinfo=CST)
    if "years" in delta:
        moment = moment.replace(year=moment.year + delta["years"])
    if "months" in delta:
        month = moment.month - 1 + delta["months"]
        moment = moment.replace(year=moment.year + month // 12, month=month % 12 + 1)
    return int(moment.timestamp() * 1000)


class TestPolicyChanges:
    def test_the_shipped_defaults_are_version_1_when_nothing_is_stored(self, world) -> None:
        """GIVEN a fresh archive WHEN legal shows the policy and its history THEN version 1
        is the shipped defaults, not yet stored, and the floors name their law and article."""
        shown = show_policy(world, LEGAL)
        assert shown["version"] == 1 and shown["stored"] is False
        assert {r["name"] for r in shown["rules"]} >= {"consultation", "transaction"}
        assert any(f["article"] == "art. 31" and f["minimum"] == "3 years" for f in shown["floors"])
        assert [v["version"] for v in policy_history(world, LEGAL)] == [1]

    def test_a_policy_below_a_floor_is_refused_naming_law_and_article(self, world) -> None:
        """GIVEN a policy keeping transactions 1 year WHEN legal sets it THEN it is refused
        naming the E-Commerce Law art. 31, no request is filed and nothing is stored."""
        with pytest.raises(RetentionBelowFloor) as refused:
            change_policy(world, LEGAL, BELOW_FLOOR, "缩短")
        assert "E-Commerce Law of the People's Republic of China art. 31" in refused.value.message
        assert "'transaction' keeps 1 year" in refused.value.message
        assert _count(world, "approval_requests") == 0
        assert _count(world, "retention_policies") == 0

    def test_a_file_with_floors_or_a_wrong_version_is_refused(self, world) -> None:
        """GIVEN a policy file that also holds floors, or names a version other than the next
        WHEN it is set THEN it is refused naming the key, and nothing is filed."""
        with pytest.raises(LifecycleConfigError, match="floors: a policy file holds only"):
            change_policy(world, LEGAL, POLICY_V2 + '[[floors]]\nlaw = "x"\n', "改", source="p")
        with pytest.raises(LifecycleConfigError, match=r"policy\.version: is 7"):
            change_policy(world, LEGAL, POLICY_V2.replace("[policy]", "[policy]\nversion = 7"),
                          "改")  # fmt: skip
        assert _count(world, "approval_requests") == 0

    def test_a_change_without_approval_files_a_request_and_changes_nothing(self, world) -> None:
        """GIVEN legal WHEN they set a new policy without an approval THEN a request is filed
        and the policy in force is still version 1."""
        with pytest.raises(ApprovalRequired):
            change_policy(world, LEGAL, POLICY_V2, "新规")
        assert show_policy(world, LEGAL)["version"] == 1
        assert _count(world, "retention_policies") == 0

    def test_approved_by_another_legal_user_it_runs_once_as_version_2(self, world) -> None:
        """GIVEN a change approved by a second legal user WHEN the requester runs it again
        THEN version 2 is in force, once; the history lists both versions with who and why."""
        request_id, result = _approved_change(world)
        assert result["version"] == 2
        with pytest.raises(GovernanceError, match="rules of version 2 already"):
            change_policy(world, LEGAL, POLICY_V2, "新规", request_id)
        history = policy_history(world, LEGAL)
        assert [v["version"] for v in history] == [1, 2]
        assert history[0]["stored"] and history[0]["created_by"] == "chatkeeper"
        assert "catch_all" not in {r["name"] for r in history[0]["rules"]}
        assert history[1]["created_by"] == "legal" and history[1]["approval_request"] == request_id
        assert history[1]["reason"] == "新规"
        assert show_policy(world, LEGAL)["version"] == 2

    def test_an_approval_covers_only_the_content_approved(self, world) -> None:
        """GIVEN an approved change WHEN the requester runs it with other rules THEN it is
        refused: the approval is for the content hash that was approved."""
        with pytest.raises(ApprovalRequired) as filed:
            change_policy(world, LEGAL, POLICY_V2, "新规")
        decide(world, LEGAL2, filed.value.request_id, True)
        other = POLICY_V2.replace('keep = "5 years"', 'keep = "6 years"')
        with pytest.raises(ApprovalInvalid, match="other parameters"):
            change_policy(world, LEGAL, other, "新规", filed.value.request_id)
        assert show_policy(world, LEGAL)["version"] == 1

    def test_the_same_rules_again_are_refused(self, world) -> None:
        """GIVEN version 2 in force WHEN the same rules are set again THEN it is refused before
        any request is filed."""
        _approved_change(world)
        before = _count(world, "approval_requests")
        with pytest.raises(GovernanceError, match="rules of version 2 already"):
            change_policy(world, ADMIN, POLICY_V2, "again")
        assert _count(world, "approval_requests") == before


class TestDeadlines:
    def test_the_shipped_policy_sets_deadlines_as_version_1(self, world) -> None:
        """GIVEN nothing stored WHEN deadlines are computed THEN they follow the shipped
        rules, record version 1 (now stored), and a conversation no rule matches has none."""
        result = deadlines(world, ADMIN)
        assert result["policy_version"] == 1 and result["conversations"] == len(CONVERSATIONS)
        assert result["rules"]["-"] == 1
        cons = retention_of(world, _pk(world, "c-cons"))
        assert cons is not None
        assert cons["rule"] == "consultation" and cons["policy_version"] == 1
        assert cons["deadline"] == "2025-09-01T10:00:00+08:00"
        odd = retention_of(world, _pk(world, "c-odd"))
        assert odd is not None and odd["rule"] is None and not odd["permanent"]
        assert policy_history(world, LEGAL)[0]["stored"] is True

    def test_most_specific_wins_then_longest_and_the_version_is_recorded(self, world) -> None:
        """GIVEN version 2 WHEN deadlines are computed THEN each names its rule: the most
        specific rule wins, the longest on a tie; legal disputes are permanent."""
        _approved_change(world)
        deadlines(world, LEGAL)
        with world.archive.reader() as connection:
            stored = {
                r[0]: r[1:]
                for r in connection.exec_driver_sql(
                    "SELECT c.external_id, r.rule, r.deadline, r.policy_version, r.floor"
                    " FROM conversation_retention r JOIN conversations c"
                    " ON c.id = r.conversation_id"
                )
            }
        assert stored == {
            "c-cons": ("consultation", _ms("2025-03-01T10:00:00", months=6), 2, None),
            "c-vip": ("presales_vip", _ms("2025-03-02T10:00:00", years=2), 2, None),
            "c-vip2": ("vip_webchat", _ms("2025-03-03T10:00:00", years=1), 2, None),
            "c-tx": ("transaction", _ms("2025-04-10T10:00:00", years=3), 2, None),
            "c-legal": ("legal_dispute", None, 2, None),
            "c-odd": ("catch_all", _ms("2025-06-01T10:00:00", years=5), 2, None),
        }
        legal = retention_of(world, _pk(world, "c-legal"))
        assert legal is not None and legal["permanent"] and legal["deadline"] is None

    def test_named_conversations_only_and_recomputed_in_place(self, world) -> None:
        """GIVEN deadlines under version 1 WHEN version 2 comes and one conversation is
        recomputed THEN only it records version 2."""
        deadlines(world, ADMIN)
        _approved_change(world)
        result = deadlines(world, ADMIN, ["c-vip"])
        assert result == {"policy_version": 2, "conversations": 1, "rules": {"presales_vip": 1}}
        vip, cons = (retention_of(world, _pk(world, c)) for c in ("c-vip", "c-cons"))
        assert vip is not None and vip["policy_version"] == 2
        assert cons is not None and cons["policy_version"] == 1
        assert _count(world, "conversation_retention") == len(CONVERSATIONS)


HOLDS = {
    "by-customer": {"customers": ["u1"]},
    "by-conversation": {"conversations": ["c-tx"]},
    "by-department": {"departments": ["售后服务部"]},
    "by-dates": {
        "since": datetime(2025, 3, 1, tzinfo=CST),
        "until": datetime(2025, 3, 3, tzinfo=CST),
    },
    "by-query": {"query": "合同"},
}
BEFORE = {
    "by-customer": {"c-cons"},
    "by-conversation": {"c-tx"},
    "by-department": {"c-vip2", "c-tx"},
    "by-dates": {"c-cons", "c-vip"},
    "by-query": {"c-vip", "c-tx"},
}
LATER = {"by-customer", "by-department", "by-dates", "by-query"}  # those c-new matches


class TestHolds:
    @pytest.fixture
    def holds(self, world) -> dict[str, int]:
        return {
            name: int(create_hold(world, LEGAL, name, "诉讼保全", **criteria)["id"])  # type: ignore[arg-type]
            for name, criteria in HOLDS.items()
        }

    def test_each_kind_of_criterion_covers_exactly_its_conversations(self, world, holds) -> None:
        """GIVEN holds by customer, conversation, department, service dates and query WHEN
        asked what they cover THEN each covers exactly the expected conversations."""
        covered = held_conversations(world)
        assert {name: _names(world, covered[holds[name]]) for name in HOLDS} == BEFORE
        shown = show_hold(world, LEGAL, holds["by-department"])
        assert {c["conversation_id"] for c in shown["conversations"]} == {"c-vip2", "c-tx"}
        assert shown["counts"]["total"] == 2
        assert shown["counts"]["by_department"] == {"售后服务部": 2}

    def test_a_hold_covers_a_conversation_ingested_after_it(self, world, holds, tmp_path):
        """GIVEN the holds WHEN a matching conversation is ingested later THEN every hold
        whose criteria it matches covers it too."""
        ingest_files(world, SYSTEM, [write_jsonl(tmp_path / "n.jsonl", [_record("c-new")])],
                     "jsonl")  # fmt: skip
        covered = held_conversations(world)
        for name in HOLDS:
            expected = BEFORE[name] | ({"c-new"} if name in LATER else set())
            assert _names(world, covered[holds[name]]) == expected, name
        new = _pk(world, "c-new")
        assert holds_for(world, [new]) == {new: tuple(sorted(holds[n] for n in LATER))}

    def test_the_database_answers_as_the_lifecycle_core_does(self, world, holds) -> None:
        """GIVEN the holds WHEN each conversation is matched by the pure core's HoldIndex
        (the query's matches given) THEN it finds the same holds as the database."""
        with world.archive.reader() as connection:
            rows = connection.exec_driver_sql(
                "SELECT c.id, c.external_id, c.started_at, c.ended_at, d.name, cu.external_id"
                " FROM conversations c LEFT JOIN departments d ON d.id = c.department_id"
                " LEFT JOIN customers cu ON cu.id = c.customer_id"
            ).all()
        covered = held_conversations(world)
        core = []
        for name, criteria in HOLDS.items():
            dates = (criteria["since"], criteria["until"]) if "since" in criteria else None
            core.append(LegalHold(
                str(holds[name]), frozenset(criteria.get("customers", ())),  # type: ignore[arg-type]
                frozenset(criteria.get("conversations", ())),  # type: ignore[arg-type]
                frozenset(criteria.get("departments", ())), dates,  # type: ignore[arg-type]
                query_matches=frozenset(c for c in BEFORE[name] if name == "by-query"),
            ))  # fmt: skip
        index = HoldIndex(core)
        when = lambda ms: datetime.fromtimestamp(ms / 1000, CST)  # noqa: E731
        for pk, ext, start, end, department, customer in rows:
            facts = ConversationFacts(ext, None, when(end), department=department,
                                      customer=customer, started_at=when(start))  # fmt: skip
            database = {str(h) for h, pks in covered.items() if pk in pks}
            assert set(index.match(facts)) == database, ext

    def test_release_needs_approval_and_then_the_hold_stops(self, world, holds) -> None:
        """GIVEN a hold WHEN legal releases it without approval THEN a request is filed and the
        hold still covers; approved by another legal user THEN it is released once."""
        hold = holds["by-conversation"]
        tx = _pk(world, "c-tx")
        with pytest.raises(ApprovalRequired) as filed:
            release_hold(world, LEGAL, hold, "案件结束")
        assert hold in holds_for(world, [tx])[tx]
        with pytest.raises(LegalHoldActive, match="c-tx is under legal hold"):
            ensure_not_held(world, tx, "c-tx")
        decide(world, LEGAL2, filed.value.request_id, True)
        released = release_hold(world, LEGAL, hold, "案件结束", filed.value.request_id)
        assert released["state"] == "released" and released["released_by"] == "legal"
        assert hold not in holds_for(world, [tx]).get(tx, ())
        assert hold not in held_conversations(world)
        with pytest.raises(GovernanceError, match="released already"):
            release_hold(world, LEGAL, hold, "again")
        states = {h["id"]: h["state"] for h in list_holds(world, LEGAL)}
        assert states[hold] == "released" and states[holds["by-query"]] == "active"

    def test_the_audit_log_names_no_customer_id_nor_query(self, world) -> None:
        """GIVEN a hold by customer id and by query WHEN it is made and shown THEN the audit
        events name the hold's number and kinds of criteria, not the values."""
        made = create_hold(world, LEGAL, "secret", "诉讼", customers=["u-secret-42"],
                           query="合同")  # fmt: skip
        show_hold(world, LEGAL, made["id"])
        with world.archive.reader() as connection:
            events = [
                row
                for row in connection.exec_driver_sql(
                    "SELECT action, target_id, details FROM audit_events"
                )
                if row[0].startswith("hold.")
            ]
        assert {e[0] for e in events} == {"hold.created", "hold.viewed"}
        for _, target, details in events:
            assert target == str(made["id"])
            assert "u-secret-42" not in (details or "") and "合同" not in (details or "")

    def test_a_hold_without_criteria_or_with_a_bad_query_is_refused(self, world) -> None:
        """GIVEN no criteria, half a date range or an unparsable query WHEN a hold is made
        THEN it is refused and nothing is stored."""
        with pytest.raises(GovernanceError, match="needs criteria"):
            create_hold(world, LEGAL, "empty", "诉讼")
        with pytest.raises(GovernanceError, match="both --from and --to"):
            create_hold(world, LEGAL, "half", "诉讼", since=datetime(2025, 1, 1, tzinfo=CST))
        with pytest.raises(QuerySyntaxError, match="unclosed quote"):
            create_hold(world, LEGAL, "bad", "诉讼", query='"')
        assert _count(world, "legal_holds") == 0
