"""``chatkeeper audit`` and ``chatkeeper ledger verify`` as a user runs them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from chatkeeper.cli.app import app
from tests.factories import record, write_jsonl

RUNNER = CliRunner()


def _run(args: list[str]) -> dict:
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_actions_are_listed_exported_and_verified(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    assert RUNNER.invoke(app, ["init", "--data-dir", data]).exit_code == 0
    path = write_jsonl(tmp_path / "a.jsonl", [record(message_id="x1", text="手机13812345678")])
    _run(["ingest", str(path), "--data-dir", data, "--json"])
    _run(["search", "手机", "--data-dir", data, "--json"])
    _run(["unmask", "x1", "--reason", "核实身份", "--data-dir", data, "--json"])
    events = _run(["audit", "list", "--data-dir", data, "--json"])["events"]
    assert [e["action"] for e in events] == [
        "message.unmasked",
        "messages.searched",
        "ingest.completed",
    ]
    assert events[0]["reason"] == "核实身份" and events[0]["actor"] == "local-operator"
    assert "13812345678" not in json.dumps(events) and "手机" not in json.dumps(events)
    only = _run(["audit", "list", "--action", "message.unmasked", "--data-dir", data, "--json"])
    assert len(only["events"]) == 1
    out = tmp_path / "audit.csv"
    # the two listings above are themselves audited
    assert _run(["audit", "export", "-o", str(out), "--data-dir", data, "--json"])["exported"] == 5
    with out.open(encoding="utf-8-sig") as handle:
        actions = [row["action"] for row in csv.DictReader(handle)]
    assert actions == ["audit.listed", "audit.listed", *[e["action"] for e in events]]
    report = _run(["ledger", "verify", "--data-dir", data, "--json"])
    assert report["intact"] and report["log_size"] == 1 and report["audit_events_checked"] == 6
