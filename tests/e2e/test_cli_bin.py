"""``chatkeeper bin`` and ``chatkeeper lifecycle certificates``, end to end, signed in as real
users.

Written GIVEN / WHEN / THEN; legal1 runs these commands (``signin.DEFAULT_USER``), legal2
approves the key operations. The purge itself has no command yet (the daily job runs it): the
tests call the service as the system, on the same data folder.
"""

from __future__ import annotations

from pathlib import Path

from chatkeeper.config import load_settings
from chatkeeper.domain import Actor
from chatkeeper.ledger import parse_verifier_key
from chatkeeper.services import open_context
from chatkeeper.services.keyring import VERIFIER_KEY_FILE
from chatkeeper.services.purge import purge, verify_certificate_file
from tests.e2e.signin import Cli, as_json, run_approved
from tests.factories import record, write_jsonl


def _seed(cli: Cli, tmp_path: Path) -> None:
    records = [
        record(conversation_id="b1", message_id=f"b1-{n}", text="退款什么时候到账")
        for n in range(2)
    ] + [record(conversation_id="b2", message_id="b2-0", text="退款收到了")]
    result = cli("ingest", write_jsonl(tmp_path / "seed.jsonl", records), "--json")
    assert result.exit_code == 0, result.output


def _total(cli: Cli) -> int:
    return int(as_json(cli("search", "退款", "--json"))["total"])


class TestBinCommands:
    def test_move_list_and_restore_with_approval(self, staffed, cli, tmp_path):
        """GIVEN two conversations WHEN legal1 bins b1 THEN search loses its messages and
        `bin list` shows it with its purge date; WHEN legal1 restores it, legal2 approving,
        THEN search finds them again and the bin is empty."""
        _seed(cli, tmp_path)
        assert _total(cli) == 3
        moved = cli("bin", "move", "b1", "--reason", "到期", "--json")
        assert moved.exit_code == 0, moved.output
        assert as_json(moved)["binned"] == ["webchat:b1"]
        assert _total(cli) == 1
        listed = as_json(cli("bin", "list", "--json", user="auditor1"))["conversations"]
        assert [(e["conversation_id"], e["messages"], e["restorable"]) for e in listed] == [
            ("b1", 2, True)
        ]
        assert listed[0]["purge_due_at"] > listed[0]["binned_at"]
        assert cli("bin", "list").exit_code == 0  # the table (its width is the terminal's)
        _, restored = run_approved(
            cli, "bin", "restore", "b1", "--reason", "误删", approver="legal2"
        )
        assert restored.exit_code == 0, restored.output
        assert as_json(restored)["state"] == "active"
        assert _total(cli) == 3
        assert as_json(cli("bin", "list", "--json"))["conversations"] == []

    def test_who_may_use_the_bin(self, staffed, cli, tmp_path):
        """GIVEN a staffed archive WHEN admin bins a conversation or sec1 lists the bin THEN
        both are refused (exit 77); restoring one that is not in the bin exits 4."""
        _seed(cli, tmp_path)
        assert cli("bin", "move", "b1", "--reason", "到期", user="admin").exit_code == 77
        assert cli("bin", "list", user="sec1").exit_code == 77
        missing = cli("bin", "restore", "b2", "--reason", "误删", "--json")
        assert missing.exit_code == 4
        assert "not in the recycle bin" in as_json(missing)["error"]["message"]


class TestCertificateCommands:
    def test_list_write_out_and_verify(self, staffed, cli, tmp_path):
        """GIVEN b1 purged by the system WHEN an auditor lists the certificates and legal1
        writes one out THEN it is listed as valid, and cert.json verifies with the
        deployment's published key while cert.html names the conversation."""
        _seed(cli, tmp_path)
        ctx = open_context(load_settings(data_dir=staffed))
        try:
            with ctx.archive.reader() as connection:
                pk = ctx.archive.find_conversation(connection, "b1", None)["id"]
            done = purge(ctx, Actor("job", frozenset({"system"})), [pk], reason="到期")
        finally:
            ctx.close()
        assert _total(cli) == 1
        listed = as_json(cli("lifecycle", "certificates", "--json", user="auditor1"))
        assert [(c["id"], c["valid"], c["messages"]) for c in listed["certificates"]] == [
            (done["id"], True, 2)
        ]
        out = tmp_path / "cert"
        written = cli("lifecycle", "certificates", "--id", str(done["id"]), "--out", out, "--json")
        assert written.exit_code == 0, written.output
        verifier = parse_verifier_key((staffed / "keys" / VERIFIER_KEY_FILE).read_text().strip())
        assert verify_certificate_file(out / "cert.json", verifier)["counts"]["messages"] == 2
        assert "webchat:b1" in (out / "cert.html").read_text(encoding="utf-8")
        assert cli("lifecycle", "certificates", "--out", out).exit_code == 64
        assert cli("lifecycle", "certificates", user="sec1").exit_code == 77
