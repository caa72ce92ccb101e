"""The privacy commands as a user runs them: pii scan, search --pii, unmask, offline, keys."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatkeeper.cli.app import app
from tests.factories import record, write_jsonl

RUNNER = CliRunner()
TEXT = "我叫王小明，手机13812345678，邮箱wxm@example.cn"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    assert RUNNER.invoke(app, ["init", "--data-dir", str(data)]).exit_code == 0
    path = write_jsonl(tmp_path / "a.jsonl", [record(message_id="u1", text=TEXT)])
    result = RUNNER.invoke(app, ["ingest", str(path), "--data-dir", str(data), "--json"])
    assert json.loads(result.stdout)["ingested"] == 1
    return data


def _json(args: list[str]) -> dict:
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_init_creates_a_private_key_file(folder: Path) -> None:
    key = folder / "keys" / "kek.json"
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600


def test_pii_scan_prints_one_object_per_input_line() -> None:
    result = RUNNER.invoke(app, ["pii", "scan"], input=f"{TEXT}\n没有个人信息\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2 and lines[1] == {"spans": []}
    kinds = {(s["type"], TEXT[s["start"] : s["end"]]) for s in lines[0]["spans"]}
    assert ("CN_MOBILE", "13812345678") in kinds and ("EMAIL", "wxm@example.cn") in kinds
    assert all({"type", "start", "end", "score"} <= set(s) for s in lines[0]["spans"])


def test_search_by_value_in_another_written_form(folder: Path) -> None:
    found = _json(["search", "--pii", "138 1234 5678", "--data-dir", str(folder), "--json"])
    assert found["total"] == 1 and found["hits"][0]["message_id"] == "u1"
    assert "13812345678" not in json.dumps(found)


def test_unmask_needs_a_reason_and_shows_the_original(folder: Path) -> None:
    missing = RUNNER.invoke(app, ["unmask", "u1", "--data-dir", str(folder)])
    assert missing.exit_code != 0
    shown = _json(["unmask", "u1", "--reason", "核实", "--data-dir", str(folder), "--json"])
    assert shown["text"] == TEXT
    start = TEXT.index("1381")
    value = _json(
        ["unmask", "u1", "--at", str(start), "--reason", "核实", "--data-dir", str(folder),
         "--json"]
    )  # fmt: skip
    assert value["value"] == "13812345678"


def test_offline_then_unmask_fails(folder: Path) -> None:
    _json(["offline", "u1", "--reason", "客户要求", "--data-dir", str(folder), "--json"])
    again = RUNNER.invoke(app, ["unmask", "u1", "--reason", "x", "--data-dir", str(folder)])
    assert again.exit_code == 4


def test_keys_rotate_keeps_the_data_readable(folder: Path) -> None:
    before = json.loads((folder / "keys" / "kek.json").read_text())
    rotated = _json(["keys", "rotate", "--data-dir", str(folder), "--json"])
    assert rotated["rewrapped"] >= 3
    assert json.loads((folder / "keys" / "kek.json").read_text()) != before
    shown = _json(["unmask", "u1", "--reason", "轮换后", "--data-dir", str(folder), "--json"])
    assert shown["text"] == TEXT
