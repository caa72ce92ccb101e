"""``chatkeeper retention`` and ``chatkeeper hold``, end to end, signed in as real users.

Written GIVEN / WHEN / THEN; legal1 runs these commands (``signin.DEFAULT_USER``), legal2
approves the key operations.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.signin import Cli, as_json, request_approval, run_approved
from tests.factories import record, write_jsonl

POLICY = """
[policy]
[[policy.rules]]
name = "consultation"
service_type = "consultation"
keep = "1 year"

[[policy.rules]]
name = "transaction"
service_type = "transaction"
keep = "3 years"

[[policy.rules]]
name = "catch_all"
service_type = "*"
keep = "5 years"
"""

BELOW = '[policy]\n[[policy.rules]]\nname = "t"\nservice_type = "transaction"\nkeep = "6m"\n'


def _ingest(cli: Cli, tmp_path: Path, name: str, records: list[dict]) -> None:
    result = cli("ingest", write_jsonl(tmp_path / name, records), "--json")
    assert result.exit_code == 0, result.output


def _seed(cli: Cli, tmp_path: Path) -> None:
    _ingest(cli, tmp_path, "seed.jsonl", [
        record(conversation_id="k1", message_id="k1-1", service_type="consultation",
               sent_at="2025-03-01T10:00:00+08:00", customer_id="u1", sender_id="u1",
               department="售前咨询部", text="你好"),
        record(conversation_id="k2", message_id="k2-1", service_type="transaction",
               sent_at="2025-04-01T10:00:00+08:00", customer_id="u2", sender_id="u2",
               department="售后服务部", text="合同寄出了吗"),
    ])  # fmt: skip


class TestRetentionCommands:
    def test_show_set_with_approval_history_and_deadlines(self, staffed, cli, tmp_path):
        """GIVEN a staffed archive WHEN legal1 sets a policy, legal2 approves, legal1 re-runs
        THEN show and history report version 2 and deadlines record it."""
        _seed(cli, tmp_path)
        shown = as_json(cli("retention", "show", "--json"))
        assert shown["version"] == 1
        assert any(f["article"] == "art. 31" for f in shown["floors"])
        policy = tmp_path / "policy.toml"
        policy.write_text(POLICY, encoding="utf-8")
        args = ("retention", "set", "--file", policy, "--reason", "咨询保存一年")
        request_id, result = run_approved(cli, *args, approver="legal2")
        assert result.exit_code == 0, result.output
        assert as_json(result)["version"] == 2
        history = as_json(cli("retention", "history", "--json"))["versions"]
        assert [(v["version"], v["approval_request"]) for v in history] == [
            (1, None),
            (2, request_id),
        ]
        assert as_json(cli("retention", "show", "--json"))["version"] == 2
        done = cli("retention", "deadlines", "--json")
        assert done.exit_code == 0, done.output
        assert as_json(done) == {
            "policy_version": 2,
            "conversations": 2,
            "rules": {"consultation": 1, "transaction": 1},
        }
        plain = cli("retention", "show")
        assert plain.exit_code == 0 and "catch_all" in plain.stdout

    def test_a_policy_below_a_floor_is_refused_naming_law_and_article(self, staffed, cli,
                                                                       tmp_path):  # fmt: skip
        """GIVEN a policy keeping transactions 6 months WHEN legal1 sets it THEN the command
        fails naming the E-Commerce Law art. 31, and nothing is filed."""
        policy = tmp_path / "below.toml"
        policy.write_text(BELOW, encoding="utf-8")
        result = cli("retention", "set", "--file", policy, "--reason", "缩短", "--json")
        assert result.exit_code == 78, result.output
        error = as_json(result)["error"]
        assert "E-Commerce Law of the People's Republic of China art. 31" in error["message"]
        assert as_json(cli("approvals", "list", "--json"))["requests"] == []

    def test_who_may_not_is_refused(self, staffed, cli):
        """GIVEN the security admin WHEN they ask for the policy THEN it is refused (77)."""
        assert cli("retention", "show", user="sec1").exit_code == 77


class TestHoldCommands:
    def test_create_list_show_cover_later_conversations_and_release(self, staffed, cli,
                                                                   tmp_path):  # fmt: skip
        """GIVEN conversations WHEN legal1 holds a customer's and a query's conversations THEN
        show lists them, a later conversation of that customer is covered too, and the
        release needs legal2's approval."""
        _seed(cli, tmp_path)
        made = cli("hold", "create", "案件A", "--reason", "诉讼保全", "--customer", "u1",
                   "--query", "合同", "--json")  # fmt: skip
        assert made.exit_code == 0, made.output
        hold = as_json(made)
        assert hold["covered"] == 2 and hold["criteria"] == ["customers", "query"]
        dated = cli("hold", "create", "三月", "--reason", "调查", "--from", "2025-03-01",
                    "--to", "2025-03-31", "--json")  # fmt: skip
        assert as_json(dated)["covered"] == 1
        _ingest(cli, tmp_path, "later.jsonl", [
            record(conversation_id="k3", message_id="k3-1", customer_id="u1", sender_id="u1",
                   sent_at="2025-05-01T10:00:00+08:00", text="你好"),
        ])  # fmt: skip
        shown = as_json(cli("hold", "show", str(hold["id"]), "--json"))
        assert {c["conversation_id"] for c in shown["conversations"]} == {"k1", "k2", "k3"}
        assert shown["counts"]["by_criterion"] == {"customers": 2, "query": 1}
        listed = as_json(cli("hold", "list", "--json", user="auditor1"))["holds"]
        assert [(h["name"], h["covered"]) for h in listed] == [("案件A", 3), ("三月", 1)]
        request_id = request_approval(cli, "hold", "release", str(hold["id"]), "--reason", "结案")
        assert cli("hold", "show", str(hold["id"]), "--json").exit_code == 0
        _, result = run_approved(cli, "hold", "release", str(hold["id"]), "--reason", "结案2",
                                 approver="legal2")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert as_json(result)["state"] == "released"
        assert request_id != as_json(result)["release_approval_request"]
        plain = cli("hold", "list")
        assert plain.exit_code == 0 and "released" in plain.stdout

    def test_an_auditor_may_not_make_a_hold(self, staffed, cli):
        """GIVEN an auditor WHEN they make a hold THEN it is refused (77)."""
        result = cli("hold", "create", "x", "--reason", "r", "--customer", "u1",
                     user="auditor1")  # fmt: skip
        assert result.exit_code == 77, result.output
