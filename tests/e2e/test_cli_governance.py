"""Users, roles and two-person approvals on the command line, end to end.

Who may run what is the permission matrix (``chatkeeper.governance.permissions``); key
operations (unmask, keys rotate, user set-role, ...) run only after another user approved
them. ``cli`` signs in as ``signin.RUNS_AS`` picks unless a test names the user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.e2e.signin import (
    ADMIN,
    PASSWORD,
    STAFF,
    Cli,
    add_user,
    approve,
    as_json,
    request_approval,
)
from tests.factories import record, write_jsonl

AFTER_SALES, COMPLAINTS, PRE_SALES = "售后服务部", "投诉处理部", "售前咨询部"
CONVERSATION = {AFTER_SALES: "conv-after", COMPLAINTS: "conv-complaint", PRE_SALES: "conv-pre"}
AGENT = {AFTER_SALES: "a001", COMPLAINTS: "a002", PRE_SALES: "a003"}
# message id, department, sent at, text
MESSAGES = [
    ("s1", AFTER_SALES, "2025-03-01T10:00:00+08:00", "我要申请退款，手机13812345678"),
    ("s2", AFTER_SALES, "2025-03-02T11:00:00+08:00", "您好，退款已经提交"),
    ("s3", AFTER_SALES, "2025-03-03T09:00:00+08:00", "好的谢谢"),
    ("c1", COMPLAINTS, "2025-03-03T10:00:00+08:00", "退款一直没到账，我要投诉"),
    ("c2", COMPLAINTS, "2025-03-04T10:00:00+08:00", "退款今天处理"),
    ("p1", PRE_SALES, "2025-03-04T12:00:00+08:00", "退款和发票能一起处理吗"),
]
UNMASKED_TEXT = MESSAGES[0][3]


def refunds(*departments: str) -> int:
    """How many messages of ``departments`` (all, if none named) mention 退款."""
    return sum(1 for _, dept, _, text in MESSAGES
               if "退款" in text and (not departments or dept in departments))  # fmt: skip


@pytest.fixture
def archive(cli: Cli, staffed: Path, tmp_path: Path) -> Path:
    """The staffed archive with MESSAGES ingested by admin, and ``sup1``: a supervisor of
    售后服务部."""
    records = [
        record(message_id=mid, department=dept, sent_at=sent_at, text=text,
               conversation_id=CONVERSATION[dept], agent_id=AGENT[dept])
        for mid, dept, sent_at, text in MESSAGES
    ]  # fmt: skip
    result = cli("ingest", write_jsonl(tmp_path / "m.jsonl", records), "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["ingested"] == len(MESSAGES)
    add_user(cli, "sup1", "supervisor", "--department", AFTER_SALES)
    return staffed


def error_of(result: Result, exit_code: int) -> dict[str, Any]:
    """The JSON error envelope of a failed ``--json`` command, after checking its exit code."""
    assert result.exit_code == exit_code, result.output
    body = as_json(result)
    assert body["ok"] is False
    return body["error"]


def search_total(cli: Cli, user: str, *args: str) -> int:
    """``search 退款 ARGS... --json`` as ``user``: the total."""
    result = cli("search", "退款", *args, "--json", user=user)
    assert result.exit_code == 0, result.output
    return int(as_json(result)["total"])


# --- init and signing in -----------------------------------------------------------------------

NO_ADMIN_PASSWORD: dict[str, str | None] = {"CHATKEEPER_ADMIN_PASSWORD": None}


class TestFirstAdmin:
    """GIVEN no CHATKEEPER_ADMIN_PASSWORD WHEN ``init`` runs THEN it creates ``admin`` with a
    generated password, shown once, that signs in."""

    def test_generated_password_is_shown_once_and_signs_in(self, cli: Cli) -> None:
        """GIVEN a new folder WHEN init --json THEN "admin" and "admin_password"; admin signs
        in with it (user list); a wrong one fails; a second init shows no password."""
        result = cli("init", "--json", env=NO_ADMIN_PASSWORD)
        assert result.exit_code == 0, result.output
        body = as_json(result)
        assert body["admin"] == ADMIN
        generated = body["admin_password"]
        assert len(generated) >= 8

        listed = cli("user", "list", "--json", user=ADMIN, password=generated)
        assert listed.exit_code == 0, listed.output
        assert [(u["name"], u["role"]) for u in as_json(listed)["users"]] == [(ADMIN, "admin")]
        wrong = cli("user", "list", "--json", user=ADMIN, password=generated + "x")
        assert error_of(wrong, 77)["code"] == "authentication_failed"

        again = cli("init", "--json", env=NO_ADMIN_PASSWORD)
        assert again.exit_code == 0, again.output
        assert "admin" not in as_json(again) and "admin_password" not in as_json(again)

    def test_human_output_shows_the_password(self, cli: Cli) -> None:
        """GIVEN a new folder WHEN init (no --json) THEN the generated password is printed,
        with a warning that it is shown only once, and it signs in."""
        result = cli("init", env=NO_ADMIN_PASSWORD)
        assert result.exit_code == 0, result.output
        assert "shown only this once" in result.stdout
        words = result.stdout.split()
        generated = words[words.index("password") + 1]
        assert cli("user", "list", "--json", user=ADMIN, password=generated).exit_code == 0


SIGN_IN_FAILURES = [
    pytest.param({"user": "legal1", "password": "not-the-password"}, "sign-in failed",
                 id="wrong-password"),
    pytest.param({"user": "nobody", "password": PASSWORD}, "sign-in failed", id="unknown-user"),
    pytest.param({"user": None, "password": None}, "--user NAME", id="no-user"),
    pytest.param({"user": "legal1", "password": None}, "CHATKEEPER_PASSWORD", id="no-password"),
]  # fmt: skip


class TestSignIn:
    """GIVEN a staffed archive WHEN a command runs THEN it runs as the user signed in, or
    fails with exit 77 and authentication_failed."""

    @pytest.mark.parametrize(("who", "says"), SIGN_IN_FAILURES)
    def test_failure_json(self, cli: Cli, staffed: Path, who: dict[str, Any], says: str) -> None:
        """GIVEN the bad sign-in WHEN search --json THEN exit 77, the error envelope with
        code authentication_failed and a message saying what to do."""
        error = error_of(cli("search", "退款", "--json", **who), 77)
        assert error["code"] == "authentication_failed"
        assert says in error["message"]

    @pytest.mark.parametrize(("who", "says"), SIGN_IN_FAILURES)
    def test_failure_human(self, cli: Cli, staffed: Path, who: dict[str, Any], says: str) -> None:
        """GIVEN the bad sign-in WHEN search THEN exit 77, the message on standard error and
        nothing on standard output."""
        result = cli("search", "退款", **who)
        assert result.exit_code == 77
        assert says in " ".join(result.stderr.split())
        assert result.stdout == ""

    def test_wrong_password_and_unknown_user_look_the_same(self, cli: Cli, staffed: Path) -> None:
        """GIVEN a wrong password, and an unknown user WHEN each signs in THEN the same
        message: it never says which part was wrong."""
        wrong = error_of(cli("stats", "--json", user="legal1", password="x" * 12), 77)
        unknown = error_of(cli("stats", "--json", user="nobody", password=PASSWORD), 77)
        assert wrong == unknown

    def test_user_option(self, cli: Cli, staffed: Path) -> None:
        """GIVEN --user sec1 on the command line (no CHATKEEPER_USER) and its password WHEN
        audit list runs THEN it runs as sec1: the log records the listing by sec1."""
        result = cli("--user", "sec1", "audit", "list", "--json", user=None, password=PASSWORD)
        assert result.exit_code == 0, result.output
        listings = cli("audit", "list", "--action", "audit.listed", "--json", user="auditor1")
        assert [e["actor"] for e in as_json(listings)["events"]] == ["sec1"]


# --- users and permissions ---------------------------------------------------------------------


class TestUsers:
    """GIVEN admin WHEN users are added THEN they are listed with role, departments and agent
    ids, and sign in with their password."""

    def test_add_then_list(self, cli: Cli, staffed: Path) -> None:
        """GIVEN admin WHEN user add an agent and a supervisor THEN user list --json shows
        every user by name, never a password; the new agent signs in."""
        added = add_user(cli, "agent1", "agent", "--agent-id", "a001", password="agent-pass-1")
        assert as_json(added) == {"name": "agent1", "role": "agent", "departments": [],
                                  "agent_ids": ["a001"]}  # fmt: skip
        add_user(cli, "sup1", "supervisor", "--department", AFTER_SALES,
                 "--department", COMPLAINTS)  # fmt: skip

        result = cli("user", "list", "--json")
        assert result.exit_code == 0, result.output
        users = {u["name"]: u for u in as_json(result)["users"]}
        assert list(users) == sorted(["agent1", "sup1", ADMIN, *STAFF])
        assert {name: u["role"] for name, u in users.items() if name in STAFF} == {
            name: role for name, (role, _) in STAFF.items()
        }
        assert (users["sup1"]["role"], users["sup1"]["departments"]) == (
            "supervisor", sorted([AFTER_SALES, COMPLAINTS])
        )  # fmt: skip
        assert (users["agent1"]["agent_ids"], users["agent1"]["disabled"]) == (["a001"], False)
        assert "agent-pass-1" not in result.stdout and PASSWORD not in result.stdout
        assert "argon2" not in result.stdout
        assert cli("stats", "--json", user="agent1", password="agent-pass-1").exit_code == 0

    def test_short_password_is_refused(self, cli: Cli, staffed: Path) -> None:
        """GIVEN a 7-character password WHEN user add THEN exit 64 naming the minimum, and no
        such user."""
        result = cli("user", "add", "shorty", "--role", "legal", "--json",
                     env={"CHATKEEPER_NEW_PASSWORD": "1234567"})  # fmt: skip
        error = error_of(result, 64)
        assert error["code"] == "governance_invalid"
        assert "8 characters" in error["message"]
        listed = as_json(cli("user", "list", "--json"))["users"]
        assert "shorty" not in {u["name"] for u in listed}

    def test_only_admin_adds_users(self, cli: Cli, staffed: Path) -> None:
        """GIVEN legal1 WHEN user add THEN exit 77, permission_denied."""
        result = cli("user", "add", "x1", "--role", "legal", "--json", user="legal1",
                     env={"CHATKEEPER_NEW_PASSWORD": PASSWORD})  # fmt: skip
        assert error_of(result, 77)["code"] == "permission_denied"


class TestPermissions:
    """GIVEN the permission matrix WHEN a role runs what it may not THEN exit 77 and
    permission_denied naming the roles that may."""

    @pytest.mark.parametrize(
        "args", [("search", "退款"), ("show", "conv-after")], ids=lambda a: a[0]
    )
    def test_admin_may_not_read_content(
        self, cli: Cli, archive: Path, args: tuple[str, ...]
    ) -> None:
        """GIVEN admin (who ingested the messages) WHEN search or show --json THEN exit 77,
        code permission_denied, the message names the roles that may."""
        error = error_of(cli(*args, "--json", user=ADMIN), 77)
        assert error["code"] == "permission_denied"
        assert "legal" in error["message"]
        assert "退款" not in error["message"]

    @pytest.mark.parametrize("user", ["legal1", "auditor1"])
    def test_legal_and_auditor_read_masked_content(
        self, cli: Cli, archive: Path, user: str
    ) -> None:
        """GIVEN s1 holds a mobile number WHEN legal1 or auditor1 searches and shows it THEN
        the message is there, the number masked."""
        found = cli("search", "申请", "--json", user=user)
        assert found.exit_code == 0, found.output
        assert [hit["message_id"] for hit in as_json(found)["hits"]] == ["s1"]
        shown = cli("show", "conv-after", "--json", user=user)
        assert shown.exit_code == 0, shown.output
        texts = {m["message_id"]: m["text"] for m in as_json(shown)["messages"]}
        assert "138****5678" in texts["s1"]
        for result in (found, shown):
            assert "13812345678" not in result.stdout

    def test_admin_search_human(self, cli: Cli, archive: Path) -> None:
        """GIVEN admin WHEN search (no --json) THEN exit 77, the refusal on standard error and
        nothing on standard output."""
        result = cli("search", "退款", user=ADMIN)
        assert result.exit_code == 77
        assert "may not run conversations.search" in " ".join(result.stderr.split())
        assert result.stdout == ""

    @pytest.mark.parametrize(
        ("user", "args"),
        [
            ("legal1", ("audit", "list")),
            ("legal1", ("ledger", "verify")),
            ("auditor1", ("ingest", "missing.jsonl")),
            ("legal1", ("keys", "rotate")),
            ("auditor1", ("offline", "s1", "--reason", "x")),
        ],
        ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]),
    )
    def test_other_refusals(
        self, cli: Cli, archive: Path, user: str, args: tuple[str, ...]
    ) -> None:
        """GIVEN a role the matrix leaves out WHEN the command runs THEN exit 77,
        permission_denied."""
        assert error_of(cli(*args, "--json", user=user), 77)["code"] == "permission_denied"


# --- two-person approvals ----------------------------------------------------------------------


class TestUnmaskApproval:
    """GIVEN legal1 WHEN they unmask a message THEN a request is filed; another legal or
    auditor approves it; then it runs once."""

    ARGS = ("unmask", "s1", "--reason", "核实身份")

    def test_request_approve_run_once(self, cli: Cli, archive: Path) -> None:
        """GIVEN legal1 WHEN unmask --json THEN exit 3 with {"approval_request": N} and no
        text; legal1 may not approve it; the approval cannot be used while pending; legal2
        approves; the re-run with --approval N returns the original; a second fails."""
        first = cli(*self.ARGS, "--json", user="legal1")
        assert first.exit_code == 3, first.output
        body = as_json(first)
        request_id = body["approval_request"]
        assert isinstance(request_id, int)
        assert f"--approval {request_id}" in body["message"]
        assert "13812345678" not in first.stdout

        own = cli("approvals", "approve", str(request_id), "--json", user="legal1")
        error = error_of(own, 77)
        assert "another user must" in error["message"]
        assert error["code"] == "self_approval"

        early = cli(*self.ARGS, "--approval", str(request_id), "--json", user="legal1")
        assert error_of(early, 64)["code"] == "approval_invalid"
        assert "pending" in as_json(early)["error"]["message"]

        assert approve(cli, request_id, "legal2")["state"] == "approved"
        run = cli(*self.ARGS, "--approval", str(request_id), "--json", user="legal1")
        assert run.exit_code == 0, run.output
        assert as_json(run) == {"conversation_id": "conv-after", "message_id": "s1",
                                "text": UNMASKED_TEXT}  # fmt: skip

        again = cli(*self.ARGS, "--approval", str(request_id), "--json", user="legal1")
        error = error_of(again, 64)
        assert error["code"] == "approval_invalid"
        assert "already been used" in error["message"]

    def test_approval_is_for_the_requester_and_the_parameters(
        self, cli: Cli, archive: Path
    ) -> None:
        """GIVEN legal1's unmask of s1 approved by auditor1 WHEN legal2 uses it, or legal1
        uses it for another message THEN both fail (approval_invalid); legal1's own run of
        s1 still works."""
        request_id = request_approval(cli, *self.ARGS, user="legal1")
        approve(cli, request_id, "auditor1")
        approval = ("--approval", str(request_id), "--json")
        other_user = cli(*self.ARGS, *approval, user="legal2")
        assert "another user" in error_of(other_user, 64)["message"]
        other_message = cli("unmask", "c1", "--reason", "核实身份", *approval, user="legal1")
        assert "other parameters" in error_of(other_message, 64)["message"]
        assert cli(*self.ARGS, *approval, user="legal1").exit_code == 0

    def test_a_role_the_rule_does_not_name_may_not_approve(self, cli: Cli, archive: Path) -> None:
        """GIVEN legal1's unmask request WHEN sec1 (security_admin) approves it THEN exit 77,
        permission_denied naming the approver roles; the request stays pending."""
        request_id = request_approval(cli, *self.ARGS, user="legal1")
        refused = cli("approvals", "approve", str(request_id), "--json", user="sec1")
        error = error_of(refused, 77)
        assert error["code"] == "permission_denied"
        assert "auditor, legal" in error["message"]
        shown = cli("approvals", "show", str(request_id), "--json", user="legal1")
        assert as_json(shown)["state"] == "pending"

    def test_human_output(self, cli: Cli, archive: Path) -> None:
        """GIVEN legal1 WHEN unmask (no --json) THEN exit 3 and standard error tells how to
        get it approved."""
        result = cli(*self.ARGS, user="legal1")
        assert result.exit_code == 3
        stderr = " ".join(result.stderr.split())
        assert "approval needed" in stderr and "chatkeeper approvals approve" in stderr


class TestSetRole:
    """GIVEN admin WHEN they change a role THEN another admin or security_admin approves it
    first."""

    def test_set_role_needs_a_second_person(self, cli: Cli, archive: Path) -> None:
        """GIVEN admin WHEN user set-role legal2 auditor --json THEN exit 3 and the role is
        unchanged; legal1 may not approve; sec1 approves; the re-run changes the role:
        legal2 now reads the audit log."""
        args = ("user", "set-role", "legal2", "auditor")
        request_id = request_approval(cli, *args, user=ADMIN)
        users = {u["name"]: u["role"] for u in as_json(cli("user", "list", "--json"))["users"]}
        assert users["legal2"] == "legal"
        assert error_of(cli("audit", "list", "--json", user="legal2"), 77)["code"] == (
            "permission_denied"
        )

        by_legal = cli("approvals", "approve", str(request_id), "--json", user="legal1")
        assert error_of(by_legal, 77)["code"] == "permission_denied"
        approve(cli, request_id, "sec1")
        result = cli(*args, "--approval", str(request_id), "--json", user=ADMIN)
        assert result.exit_code == 0, result.output
        assert as_json(result) == {"name": "legal2", "role": "auditor", "previous": "legal"}
        assert cli("audit", "list", "--json", user="legal2").exit_code == 0


# --- scope: departments and grants -------------------------------------------------------------


class TestSupervisorScope:
    """GIVEN sup1, a supervisor of 售后服务部 WHEN they search THEN only their department;
    after an approved access request, the other department too."""

    def test_search_is_limited_to_the_department(self, cli: Cli, archive: Path) -> None:
        """GIVEN 退款 WHEN legal1 and sup1 search --json THEN legal1's total is every match,
        sup1's is smaller: exactly the matches in 售后服务部."""
        everything = search_total(cli, "legal1")
        assert everything == refunds()
        mine = search_total(cli, "sup1")
        assert mine < everything
        assert mine == refunds(AFTER_SALES)
        assert search_total(cli, "sup1", "--department", COMPLAINTS) == 0

    def test_stats_are_limited_to_the_department(self, cli: Cli, archive: Path) -> None:
        """GIVEN sup1 WHEN stats --json THEN only 售后服务部's conversation and messages."""
        result = cli("stats", "--json", user="sup1")
        assert result.exit_code == 0, result.output
        stats = as_json(result)
        in_department = sum(1 for _, dept, _, _ in MESSAGES if dept == AFTER_SALES)
        assert (stats["conversations"], stats["messages"]) == (1, in_department)
        assert [row["value"] for row in stats["by_department"]] == [AFTER_SALES]

    def test_access_request_widens_the_scope(self, cli: Cli, archive: Path) -> None:
        """GIVEN sup1 outside 投诉处理部 (show is refused) WHEN sup1 requests access to it and
        legal2 approves THEN a grant; sup1's total includes 投诉处理部 and the conversation
        shows."""
        refused = cli("show", CONVERSATION[COMPLAINTS], "--json", user="sup1")
        assert "access request" in error_of(refused, 77)["message"]

        asked = cli("access", "request", "--department", COMPLAINTS, "--reason", "协查投诉",
                    "--json", user="sup1")  # fmt: skip
        assert asked.exit_code == 0, asked.output
        request = as_json(asked)
        assert (request["user"], request["department"]) == ("sup1", COMPLAINTS)
        assert search_total(cli, "sup1") == refunds(AFTER_SALES)  # nothing before approval

        decided = approve(cli, request["approval_request"], "legal2")
        assert isinstance(decided["grant"], int)
        assert search_total(cli, "sup1") == refunds(AFTER_SALES, COMPLAINTS)
        assert search_total(cli, "sup1", "--department", COMPLAINTS) == refunds(COMPLAINTS)
        shown = cli("show", CONVERSATION[COMPLAINTS], "--json", user="sup1")
        assert shown.exit_code == 0, shown.output
        assert search_total(cli, "sup1", "--department", PRE_SALES) == 0


# --- stats over weeks --------------------------------------------------------------------------


def test_stats_by_week(cli: Cli, archive: Path) -> None:
    """GIVEN messages on 1-4 March 2025 (Sat, Sun: ISO week 9; Mon, Tue: week 10) WHEN
    stats --by week --json THEN "by_week" counts them per ISO week, and no "by_day"."""
    result = cli("stats", "--by", "week", "--json")
    assert result.exit_code == 0, result.output
    stats = as_json(result)
    assert stats["period"] == "week"
    assert stats["by_week"] == [
        {"week": "2025-W09", "messages": 2},
        {"week": "2025-W10", "messages": 4},
    ]
    assert "by_day" not in stats


# --- the demo ----------------------------------------------------------------------------------


def test_demo_creates_users_who_sign_in(cli: Cli, tmp_path: Path) -> None:
    """GIVEN demo --messages 100 --json WHEN it builds its archive THEN it names its users and
    their password; legal signs in with it and searches, admin may not."""
    folder = tmp_path / "demo"
    result = cli("demo", "--messages", "100", "--data-dir", folder, "--json", data=False)
    assert result.exit_code == 0, result.output
    body = as_json(result)
    assert body["ingested"] == 100
    assert body["users"] == [ADMIN, "legal", "supervisor", "auditor"]
    password = body["password"]
    demo = Cli(folder)
    found = demo("search", "退", "--limit", "0", "--json", user="legal", password=password)
    assert found.exit_code == 0, found.output
    assert as_json(found)["total"] > 0
    refused = demo("search", "退", "--json", user=ADMIN, password=password)
    assert error_of(refused, 77)["code"] == "permission_denied"
