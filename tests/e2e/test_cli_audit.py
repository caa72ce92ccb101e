"""``chatkeeper audit`` and ``chatkeeper ledger verify`` as a user runs them."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from tests.e2e.signin import STAFF, Cli, as_json, run_approved
from tests.factories import record, write_jsonl


def _run(cli: Cli, *args: str | Path) -> Any:
    """Run ``ARGS... --json`` as the user ``signin.RUNS_AS`` picks; require success."""
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return as_json(result)


def test_actions_are_listed_exported_and_verified(cli: Cli, staffed: Path, tmp_path: Path) -> None:
    """GIVEN admin and the staff (init, user add), an ingest by admin, a search by legal1 and
    an unmask legal1 asked for and legal2 approved WHEN auditor1 lists, filters and exports
    the audit log and verifies the ledger THEN every action is there, newest first, by the
    user who did it, without the personal data; the export holds the listings too; the
    ledger is intact over every event."""
    path = write_jsonl(tmp_path / "a.jsonl", [record(message_id="x1", text="手机13812345678")])
    _run(cli, "ingest", path)
    _run(cli, "search", "手机")
    request_id, unmasked = run_approved(
        cli, "unmask", "x1", "--reason", "核实身份", user="legal1", approver="legal2"
    )
    assert unmasked.exit_code == 0, unmasked.output

    events = _run(cli, "audit", "list")["events"]
    assert [(e["action"], e["actor"]) for e in events] == [
        ("message.unmasked", "legal1"),
        ("approval.approved", "legal2"),
        ("approval.requested", "legal1"),
        ("messages.searched", "legal1"),
        ("ingest.completed", "admin"),
        *[("user.added", "admin") for _ in STAFF],
        ("user.added", "init"),
    ]
    assert events[0]["reason"] == "核实身份" and events[0]["approval_id"] == request_id
    assert "13812345678" not in json.dumps(events) and "手机" not in json.dumps(events)
    only = _run(cli, "audit", "list", "--action", "message.unmasked")
    assert len(only["events"]) == 1
    out = tmp_path / "audit.csv"
    # the two listings above are themselves audited
    assert _run(cli, "audit", "export", "-o", out)["exported"] == len(events) + 2
    with out.open(encoding="utf-8-sig") as handle:
        actions = [row["action"] for row in csv.DictReader(handle)]
    assert actions == ["audit.listed", "audit.listed", *[e["action"] for e in events]]
    report = _run(cli, "ledger", "verify")
    assert report["intact"] and report["log_size"] == 1
    assert report["audit_events_checked"] == len(events) + 3  # the export, too
