"""``chatkeeper ledger verify|anchor`` and ``chatkeeper evidence export|verify`` as users run them:
the progress bar of a long verification, and a bundle that carries the anchored checkpoint."""

from __future__ import annotations

import base64
import io
import itertools
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from chatkeeper.cli import ledger as ledger_cli
from chatkeeper.services import ledger as ledger_service
from tests.e2e.signin import Cli, as_json, run_approved
from tests.factories import record, write_jsonl


def _ingest(cli: Cli, path: Path, conversation: str, count: int) -> None:
    lines = [
        record(conversation_id=conversation, text=f"{conversation} 第{i}句") for i in range(count)
    ]
    result = cli("ingest", write_jsonl(path, lines), "--json")
    assert result.exit_code == 0, result.output


class TestProgress:
    """GIVEN 12 messages and a progress step of 5 WHEN ``ledger verify`` runs THEN the service
    reports 5, 5, then the last 2, and the CLI draws them as a bar on a terminal only."""

    @pytest.fixture
    def spied(self, cli: Cli, staffed: Path, tmp_path: Path, monkeypatch) -> list[int]:
        _ingest(cli, tmp_path / "a.jsonl", "p", 12)
        monkeypatch.setattr(ledger_service, "_CHUNK", 5)
        calls: list[int] = []
        original = ledger_cli.verify_ledger

        def spy(ctx: Any, actor: Any, progress: Any = None, total: Any = None) -> Any:
            def counted(n: int) -> None:
                calls.append(n)
                progress(n)

            return original(ctx, actor, progress=counted if progress else None, total=total)

        monkeypatch.setattr(ledger_cli, "verify_ledger", spy)
        return calls

    def test_a_terminal_gets_a_bar_with_increasing_counts(self, cli, spied, monkeypatch):
        screen = io.StringIO()
        terminal = Console(file=screen, force_terminal=True, width=100, color_system=None)
        monkeypatch.setattr(ledger_cli, "console", terminal)
        result = cli("ledger", "verify")
        assert result.exit_code == 0, result.output
        assert spied == [5, 5, 2]
        counts = list(itertools.accumulate(spied))
        assert counts == sorted(set(counts)) and counts[-1] == 12
        drawn = screen.getvalue()
        assert "verify" in drawn and "12/12" in drawn and "━" in drawn
        assert "intact" in drawn

    def test_no_bar_when_not_a_terminal_or_for_json(self, cli, spied):
        plain = cli("ledger", "verify")
        assert plain.exit_code == 0 and "12/12" not in plain.output and "intact" in plain.output
        machine = cli("ledger", "verify", "--json")
        assert as_json(machine)["intact"] and spied == []


def _evidence(bundle: Path) -> dict[str, Any]:
    return json.loads(zipfile.ZipFile(bundle).read("evidence.json"))


def test_an_anchored_bundle_verifies_and_a_changed_proof_fails(cli, staffed, tmp_path):
    """GIVEN messages anchored by sec1 (file drop), then more ingested WHEN legal1 exports the
    conversation (legal2 approves) and anyone verifies it THEN the bundle carries the anchored
    checkpoint and the consistency proof, ``evidence verify`` passes, and fails once a byte of
    the proof changes."""
    _ingest(cli, tmp_path / "a.jsonl", "ev", 4)
    anchor = {"CHATKEEPER_LEDGER__ANCHOR": f"file:{tmp_path / 'notary'}"}
    published = cli("ledger", "anchor", "--json", user="sec1", env=anchor)
    assert published.exit_code == 0, published.output
    dropped = next((tmp_path / "notary").glob("messages-*"))
    assert as_json(published)["published"][0] == {
        "log": "messages", "size": 4, "receipt": str(dropped),
    }  # fmt: skip
    _ingest(cli, tmp_path / "b.jsonl", "ev", 3)
    bundle = tmp_path / "ev.zip"
    _, exported = run_approved(
        cli, "evidence", "export", "ev", "-o", bundle, user="legal1", approver="legal2"
    )
    assert exported.exit_code == 0, exported.output
    assert as_json(exported)["anchored_size"] == 4
    assert _evidence(bundle)["anchor"]["checkpoint"].split("\n")[1] == "4"

    checked = cli("evidence", "verify", bundle, data=False, user=None)
    assert checked.exit_code == 0, checked.output
    assert "checkpoint of size 4 (file), consistent; 4 message(s)" in checked.output

    evidence = _evidence(bundle)
    proof = evidence["anchor"]["consistency_proof"]
    raw = bytearray(base64.b64decode(proof[0]))
    raw[0] ^= 0x01
    proof[0] = base64.b64encode(bytes(raw)).decode()
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = json.dumps(evidence).encode() if name == "evidence.json" else source.read(name)
            target.writestr(name, data)
    failed = cli("evidence", "verify", tampered, "--json", data=False, user=None)
    assert failed.exit_code == 1
    report = as_json(failed)
    assert not report["ok"] and report["anchor"]["consistent"] is False
    assert any("consistency proof" in p for p in report["problems"])
