"""The privacy commands as a user runs them: pii scan, search --pii, unmask, offline, keys.

Unmasking and rotating the key-encryption key are key operations: each runs only after a
second user approved it (see ``signin.run_approved``).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.signin import Cli, as_json, run_approved
from tests.factories import record, write_jsonl

TEXT = "我叫王小明，手机13812345678，邮箱wxm@example.cn"


@pytest.fixture
def folder(cli: Cli, staffed: Path, tmp_path: Path) -> Path:
    """The staffed archive with one message holding TEXT, ingested by admin."""
    path = write_jsonl(tmp_path / "a.jsonl", [record(message_id="u1", text=TEXT)])
    result = cli("ingest", path, "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["ingested"] == 1
    return staffed


def _json(cli: Cli, *args: str | Path) -> Any:
    """Run ``ARGS... --json`` as the user ``signin.RUNS_AS`` picks; require success."""
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return as_json(result)


def _unmask(cli: Cli, *args: str) -> Any:
    """``unmask ARGS...`` by legal1, approved by legal2; require success."""
    _, result = run_approved(cli, "unmask", *args, user="legal1", approver="legal2")
    assert result.exit_code == 0, result.output
    return as_json(result)


def test_init_creates_a_private_key_file(cli: Cli, data_dir: Path) -> None:
    """GIVEN a new folder WHEN init runs THEN the key-encryption key file is mode 0600."""
    assert cli("init").exit_code == 0
    key = data_dir / "keys" / "kek.json"
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_pii_scan_prints_one_object_per_input_line(cli: Cli) -> None:
    """GIVEN two lines on standard input WHEN pii scan (nobody signed in) THEN one JSON
    object per line with the spans found."""
    result = cli("pii", "scan", data=False, input=f"{TEXT}\n没有个人信息\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2 and lines[1] == {"spans": []}
    kinds = {(s["type"], TEXT[s["start"] : s["end"]]) for s in lines[0]["spans"]}
    assert ("CN_MOBILE", "13812345678") in kinds and ("EMAIL", "wxm@example.cn") in kinds
    assert all({"type", "start", "end", "score"} <= set(s) for s in lines[0]["spans"])


def test_search_by_value_in_another_written_form(cli: Cli, folder: Path) -> None:
    """GIVEN the message WHEN legal1 searches --pii for the mobile written with spaces THEN
    it is found, and the value is not in the output."""
    found = _json(cli, "search", "--pii", "138 1234 5678")
    assert found["total"] == 1 and found["hits"][0]["message_id"] == "u1"
    assert "13812345678" not in json.dumps(found)


def test_unmask_needs_a_reason_and_shows_the_original(cli: Cli, folder: Path) -> None:
    """GIVEN the message WHEN unmask has no --reason THEN it fails; WHEN legal1 unmasks it
    (approved by legal2) THEN the original text; one value (--at) likewise."""
    missing = cli("unmask", "u1")
    assert missing.exit_code != 0
    assert _unmask(cli, "u1", "--reason", "核实")["text"] == TEXT
    start = TEXT.index("1381")
    value = _unmask(cli, "u1", "--at", str(start), "--reason", "核实")
    assert value["value"] == "13812345678"


def test_offline_then_unmask_fails(cli: Cli, folder: Path) -> None:
    """GIVEN the message taken offline by legal1 WHEN an approved unmask runs THEN exit 4:
    the original is gone."""
    _json(cli, "offline", "u1", "--reason", "客户要求")
    _, again = run_approved(cli, "unmask", "u1", "--reason", "x", user="legal1", approver="legal2")
    assert again.exit_code == 4, again.output
    assert as_json(again)["error"]["code"] == "not_found"


def test_keys_rotate_keeps_the_data_readable(cli: Cli, folder: Path) -> None:
    """GIVEN the message WHEN sec1 rotates the key-encryption key (approved by admin) THEN
    the data keys are rewrapped, the key file changed, and the message still unmasks."""
    before = json.loads((folder / "keys" / "kek.json").read_text())
    _, result = run_approved(cli, "keys", "rotate", user="sec1", approver="admin")
    assert result.exit_code == 0, result.output
    assert as_json(result)["rewrapped"] >= 3
    assert json.loads((folder / "keys" / "kek.json").read_text()) != before
    assert _unmask(cli, "u1", "--reason", "轮换后")["text"] == TEXT
