"""Scopes, grants and two-person approvals, on every backend.

Written GIVEN / WHEN / THEN. The clock is the context's (``ctx.clock``), moved by the tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.governance import (
    ApprovalInvalid,
    ApprovalRequired,
    GovernanceError,
    PermissionDenied,
)
from chatkeeper.services import Context
from chatkeeper.services.access import list_grants, request_access, revoke_grant
from chatkeeper.services.accounts import add_user, authenticate, list_users, set_role
from chatkeeper.services.approvals import decide, list_requests
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.privacy import unmask_message
from chatkeeper.services.search import SearchRequest, search
from chatkeeper.services.stats import archive_stats
from tests.factories import record, write_jsonl

SYSTEM = Actor("setup", frozenset({"system"}))
PASSWORD = "correct horse battery"
DAY = 86_400.0
DEPARTMENTS = ("售后服务部", "投诉处理部", "售前咨询部")


def _records() -> list[dict]:
    out = []
    for d, department in enumerate(DEPARTMENTS):
        for c in range(4):
            conv = f"c{d}{c}"
            agent = f"a{d}{c % 2}"
            for m in range(5):
                text = ["我要退款", "退款什么时候到", "好的，已经处理", "谢谢", "退款到账了"][m]
                role = "agent" if m == 2 else "customer"
                out.append(record(conversation_id=conv, message_id=f"{conv}-{m}",
                                  department=department, agent_id=agent, sender_role=role,
                                  sender_id=agent if role == "agent" else f"u{conv}",
                                  text=text))  # fmt: skip
    return out


@pytest.fixture
def world(ctx: Context, tmp_path: Path) -> tuple[Context, dict[str, Actor], list[dict]]:
    records = _records()
    ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "g.jsonl", records)], "jsonl")
    users = {
        "sup": ("supervisor", ["售后服务部"], []),
        "sup2": ("supervisor", ["投诉处理部"], []),
        "agent": ("agent", [], ["a00"]),
        "legal": ("legal", [], []),
        "legal2": ("legal", [], []),
        "admin": ("admin", [], []),
        "admin2": ("admin", [], []),
    }
    for name, (role, depts, agents) in users.items():
        add_user(ctx, SYSTEM, name, role, PASSWORD, depts, agents)
    actors = {name: authenticate(ctx, name, password=PASSWORD) for name in users}
    ctx.clock = lambda: 1_800_000_000.0
    return ctx, actors, records


def _expected(records: list[dict], departments: set[str], conversations: set[str] = frozenset(),
              word: str = "退款") -> int:  # fmt: skip
    return sum(
        1 for r in records
        if word in r["text"] and (r["department"] in departments or r["conversation_id"]
                                  in conversations)
    )  # fmt: skip


class TestScopes:
    def test_a_supervisor_searches_their_departments_only(self, world) -> None:
        """GIVEN a supervisor of 售后服务部 WHEN they search THEN the total is exactly the
        matching messages of that department; legal's is every department's."""
        ctx, actors, records = world
        total = search(ctx, actors["sup"], SearchRequest("退款")).total
        assert total == _expected(records, {"售后服务部"}) > 0
        assert search(ctx, actors["legal"], SearchRequest("退款")).total == _expected(
            records, set(DEPARTMENTS)
        )

    def test_an_agent_sees_their_own_conversations(self, world) -> None:
        """GIVEN an agent linked to platform agent a00 WHEN they search THEN only the
        conversations a00 served count; another conversation cannot be opened."""
        ctx, actors, records = world
        own = {r["conversation_id"] for r in records if r["agent_id"] == "a00"}
        result = search(ctx, actors["agent"], SearchRequest("退款", limit=100))
        assert result.total == _expected(records, set(), own) > 0
        assert {h.conversation_id for h in result.hits} == own
        with pytest.raises(PermissionDenied, match="outside what agent may reach"):
            show_conversation(ctx, actors["agent"], "c10")

    def test_stats_are_scoped(self, world) -> None:
        ctx, actors, records = world
        stats = archive_stats(ctx, actors["sup"])
        assert stats["messages"] == sum(r["department"] == "售后服务部" for r in records)
        assert [row["value"] for row in stats["by_department"]] == ["售后服务部"]


class TestGrants:
    def test_a_grant_widens_the_scope_until_it_expires(self, world) -> None:
        """GIVEN a supervisor of 售后服务部 WHEN they ask for 投诉处理部 for 7 days and a
        supervisor of it approves THEN their total includes it, a view is audited with the
        grant, and 8 days later it does not."""
        ctx, actors, records = world
        filed = request_access(ctx, actors["sup"], "投诉处理部", "跟进投诉", days=7)
        assert search(ctx, actors["sup"], SearchRequest("退款")).total == _expected(
            records, {"售后服务部"}
        )
        with pytest.raises(PermissionDenied, match="not a supervisor of 投诉处理部"):
            decide(ctx, _supervisor_of_other(ctx), filed["approval_request"], True)
        approved = decide(ctx, actors["sup2"], filed["approval_request"], True, "同意")
        grant = approved["grant"]
        assert search(ctx, actors["sup"], SearchRequest("退款")).total == _expected(
            records, {"售后服务部", "投诉处理部"}
        )
        show_conversation(ctx, actors["sup"], "c10")
        with ctx.archive.reader() as conn:
            details = conn.exec_driver_sql(
                "SELECT details FROM audit_events WHERE action = 'conversation.viewed'"
                " ORDER BY id DESC"
            ).scalar()
        assert f'"grants":[{grant}]' in details
        ctx.clock = lambda: 1_800_000_000.0 + 8 * DAY
        assert search(ctx, actors["sup"], SearchRequest("退款")).total == _expected(
            records, {"售后服务部"}
        )
        assert [g["state"] for g in list_grants(ctx, actors["sup"])] == ["expired"]

    def test_a_grant_of_named_conversations_covers_only_them(self, world) -> None:
        ctx, actors, records = world
        filed = request_access(ctx, actors["sup"], "投诉处理部", "核实", conversations=["c11"])
        decide(ctx, actors["legal"], filed["approval_request"], True)
        assert search(ctx, actors["sup"], SearchRequest("退款")).total == _expected(
            records, {"售后服务部"}, {"c11"}
        )
        with pytest.raises(PermissionDenied):
            show_conversation(ctx, actors["sup"], "c10")

    def test_a_revoked_grant_ends_at_once(self, world) -> None:
        ctx, actors, records = world
        filed = request_access(ctx, actors["sup"], "投诉处理部", "跟进")
        grant = decide(ctx, actors["legal"], filed["approval_request"], True)["grant"]
        revoke_grant(ctx, actors["sup"], grant)
        assert search(ctx, actors["sup"], SearchRequest("退款")).total == _expected(
            records, {"售后服务部"}
        )


def _supervisor_of_other(ctx: Context) -> Actor:
    add_user(ctx, SYSTEM, "sup3", "supervisor", PASSWORD, ["售前咨询部"])
    return authenticate(ctx, "sup3", password=PASSWORD)


class TestApprovals:
    def test_without_approval_a_request_is_filed_and_nothing_changes(self, world) -> None:
        """GIVEN admin WHEN they change a role without approval THEN a request is filed (exit
        code 3) and the role is unchanged."""
        ctx, actors, _ = world
        with pytest.raises(ApprovalRequired) as filed:
            set_role(ctx, actors["admin"], "legal2", "auditor")
        assert filed.value.exit_code == 3
        assert _role(ctx, "legal2") == "legal"
        assert [r["state"] for r in list_requests(ctx, actors["admin2"])] == ["pending"]

    def test_self_approval_is_refused(self, world) -> None:
        ctx, actors, _ = world
        with pytest.raises(ApprovalRequired) as filed:
            set_role(ctx, actors["admin"], "legal2", "auditor")
        with pytest.raises(GovernanceError, match="cannot decide it: another user must"):
            decide(ctx, actors["admin"], filed.value.request_id, True)

    def test_an_approved_request_runs_once_with_its_parameters(self, world) -> None:
        """GIVEN a request approved by another admin WHEN the requester runs it THEN it runs;
        again, or with other parameters, it is refused."""
        ctx, actors, _ = world
        with pytest.raises(ApprovalRequired) as filed:
            set_role(ctx, actors["admin"], "legal2", "auditor")
        request = filed.value.request_id
        with pytest.raises(PermissionDenied, match="approver roles"):
            decide(ctx, actors["legal"], request, True)
        decide(ctx, actors["admin2"], request, True, "ok")
        with pytest.raises(ApprovalInvalid, match="approved other parameters"):
            set_role(ctx, actors["admin"], "legal2", "agent", approval=request)
        assert set_role(ctx, actors["admin"], "legal2", "auditor", approval=request)["role"] == (
            "auditor"
        )
        with pytest.raises(ApprovalInvalid, match="already been used"):
            set_role(ctx, actors["admin"], "legal2", "auditor", approval=request)
        with ctx.archive.reader() as conn:
            row = conn.exec_driver_sql(
                "SELECT approval_id FROM audit_events WHERE action = 'user.role_changed'"
            ).one()
        assert row[0] == request

    def test_another_users_approval_cannot_be_used(self, world) -> None:
        ctx, actors, _ = world
        with pytest.raises(ApprovalRequired) as filed:
            unmask_message(ctx, actors["legal"], "c00-0", "核实")
        decide(ctx, actors["legal2"], filed.value.request_id, True)
        with pytest.raises(ApprovalInvalid, match="filed by another user"):
            unmask_message(ctx, actors["legal2"], "c00-0", "核实", approval=filed.value.request_id)
        assert unmask_message(ctx, actors["legal"], "c00-0", "核实",
                              approval=filed.value.request_id).text == "我要退款"  # fmt: skip

    def test_rejected_and_expired_requests_cannot_run(self, world) -> None:
        ctx, actors, _ = world
        with pytest.raises(ApprovalRequired) as first:
            unmask_message(ctx, actors["legal"], "c00-0", "核实")
        decide(ctx, actors["legal2"], first.value.request_id, False, "不需要")
        with pytest.raises(ApprovalInvalid, match="rejected"):
            unmask_message(ctx, actors["legal"], "c00-0", "核实", approval=first.value.request_id)
        with pytest.raises(ApprovalRequired) as second:
            unmask_message(ctx, actors["legal"], "c00-1", "核实")
        decide(ctx, actors["legal2"], second.value.request_id, True)
        ctx.clock = lambda: 1_800_000_000.0 + 4 * DAY
        with pytest.raises(ApprovalInvalid, match="expired"):
            unmask_message(ctx, actors["legal"], "c00-1", "核实", approval=second.value.request_id)


def _role(ctx: Context, name: str) -> str:
    return next(u["role"] for u in list_users(ctx, SYSTEM) if u["name"] == name)
