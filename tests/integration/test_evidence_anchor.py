"""Evidence bundles carry the newest anchored checkpoint and the consistency proof to it.

On every backend: a bundle exported before any anchoring says so (and verifies); after
anchoring and more ingest, the bundle's checkpoint extends the anchored one, which both the
shipped ``verify.py`` (run in a clean interpreter) and ``chatkeeper evidence verify``
(``verify_evidence``) check; a changed byte of the proof or of the anchored checkpoint fails
both. With an RFC 3161 anchor, ``verify_evidence`` also checks the time-stamp token.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatkeeper.config import LedgerConfig
from chatkeeper.domain import Actor
from chatkeeper.ledger import standalone
from chatkeeper.services import Context
from chatkeeper.services.evidence import export_evidence, verify_evidence
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.ledger import anchor_checkpoints
from tests.factories import record, write_jsonl
from tests.integration.test_ledger_rfc3161 import LocalTsa

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission


def _ingest(ctx: Context, path: Path, conversation: str, count: int) -> None:
    lines = [
        record(conversation_id=conversation, text=f"{conversation} 第{i}句") for i in range(count)
    ]
    ingest_files(ctx, ACTOR, [write_jsonl(path, lines)], "jsonl")


def _anchor(ctx: Context, setting: str) -> None:
    ctx.settings = ctx.settings.model_copy(update={"ledger": LedgerConfig(anchor=setting)})
    anchor_checkpoints(ctx, ACTOR)


def _export(ctx: Context, tmp_path: Path) -> Path:
    out = tmp_path / "ev.zip"
    export_evidence(ctx, ACTOR, "ev", out)
    return out


def _shipped_verifier(bundle: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the bundle's own ``verify.py`` in a clean interpreter, no ChatKeeper on its path."""
    script = tmp_path / "verify.py"
    with zipfile.ZipFile(bundle) as archive:
        script.write_bytes(archive.read("verify.py"))
    return subprocess.run(
        [sys.executable, "-I", str(script), str(bundle)],
        capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, check=False,
    )  # fmt: skip


def _rewrite(bundle: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the bundle with ``evidence.json`` changed."""
    with zipfile.ZipFile(bundle) as source:
        files = {item: source.read(item) for item in source.namelist()}
    evidence = json.loads(files["evidence.json"])
    change(evidence)
    files["evidence.json"] = json.dumps(evidence, ensure_ascii=False).encode()
    tampered = bundle.with_name("tampered.zip")
    with zipfile.ZipFile(tampered, "w") as target:
        for item, data in files.items():
            target.writestr(item, data)
    return tampered


class TestNothingAnchoredYet:
    def test_the_bundle_says_so_and_verifies(self, ctx, tmp_path):
        """GIVEN a log never published to an anchor WHEN a bundle is exported and checked THEN
        both verifiers pass and state that there is no anchored checkpoint."""
        _ingest(ctx, tmp_path / "a.jsonl", "ev", 5)
        bundle = _export(ctx, tmp_path)
        evidence = json.loads(zipfile.ZipFile(bundle).read("evidence.json"))
        assert evidence["format"] == "chatkeeper.evidence/v2" and evidence["anchor"] is None
        report = verify_evidence(bundle)
        assert report["ok"] and report["anchor"] == {"present": False}
        run = _shipped_verifier(bundle, tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "not been published to an external anchor" in run.stdout


def _flip_signature_char(note: str) -> str:
    """The note with one base64 character in the middle of its signature changed (a middle
    character carries six signature bits, so the bytes always change; the last one before the
    padding may not)."""
    at = len(note) - 12
    return note[:at] + ("B" if note[at] == "A" else "A") + note[at + 1 :]


class TestAnchored:
    @pytest.fixture
    def bundle(self, ctx: Context, tmp_path: Path) -> Path:
        """Four messages of ``ev``, anchored (file drop), then three more of ``ev`` and two of
        another conversation: the bundle's checkpoint (9) extends the anchored one (4)."""
        _ingest(ctx, tmp_path / "a.jsonl", "ev", 4)
        _anchor(ctx, f"file:{tmp_path / 'notary'}")
        lines = [record(conversation_id="ev", text=f"后来 第{i}句") for i in range(3)]
        lines += [record(conversation_id="other", text=f"别的 {i}") for i in range(2)]
        ingest_files(ctx, ACTOR, [write_jsonl(tmp_path / "b.jsonl", lines)], "jsonl")
        return _export(ctx, tmp_path)

    def test_both_verifiers_check_the_consistency_proof(self, bundle, tmp_path):
        evidence = json.loads(zipfile.ZipFile(bundle).read("evidence.json"))
        section = evidence["anchor"]
        assert set(section) == standalone.ANCHOR_FIELDS and section["kind"] == "file"
        assert section["checkpoint"].split("\n")[1] == "4"
        assert evidence["checkpoint"].split("\n")[1] == "9"
        assert section["consistency_proof"]  # 4 is a power of two: the rest of the tree
        report = verify_evidence(bundle)
        assert report["ok"], report["problems"]
        assert (report["anchor"]["size"], report["anchor"]["messages_anchored"]) == (4, 4)
        run = _shipped_verifier(bundle, tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "consistency 4 → 9: 通过 OK; 4 of 7 messages" in run.stdout

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            pytest.param(
                lambda a: a["consistency_proof"].__setitem__(
                    0, base64.b64encode(bytes(32)).decode()
                ),
                "does not lead to the",
                id="proof-byte",
            ),
            pytest.param(
                lambda a: a.update(checkpoint=a["checkpoint"].replace("\n4\n", "\n5\n", 1)),
                "does not verify",
                id="anchored-size",
            ),
            pytest.param(
                lambda a: a.update(checkpoint=_flip_signature_char(a["checkpoint"])),
                "anchored checkpoint",
                id="anchored-signature-byte",
            ),
        ],
    )
    def test_a_changed_byte_fails_both_verifiers(self, bundle, tmp_path, change, expected):
        tampered = _rewrite(bundle, lambda e: change(e["anchor"]))
        report = verify_evidence(tampered)
        assert not report["ok"]
        assert any(p.startswith("anchored checkpoint:") and expected in p
                   for p in report["problems"]), report["problems"]  # fmt: skip
        run = _shipped_verifier(tampered, tmp_path)
        assert run.returncode == 1 and "NOT VERIFIED" in run.stdout
        assert "anchored checkpoint:" in run.stdout


class TestTimeStamped:
    def test_the_token_is_checked_by_chatkeeper(self, ctx, tmp_path):
        """GIVEN a log anchored with a TSA WHEN the bundle is verified by ChatKeeper THEN the
        token's imprint and signature are checked and its time reported; an altered token fails
        there (``verify.py`` does not read tokens, and says so)."""
        _ingest(ctx, tmp_path / "a.jsonl", "ev", 3)
        with LocalTsa() as tsa:
            _anchor(ctx, f"rfc3161:{tsa.url}")
        bundle = _export(ctx, tmp_path)
        report = verify_evidence(bundle)
        assert report["ok"], report["problems"]
        stamp = report["anchor"]["time_stamp"]
        assert "ChatKeeper test TSA" in stamp["authority"] and stamp["time"].endswith("Z")

        def alter(evidence: dict[str, Any]) -> None:
            token = bytearray(base64.b64decode(evidence["anchor"]["receipt"]))
            token[-1] ^= 0x01
            evidence["anchor"]["receipt"] = base64.b64encode(bytes(token)).decode()

        tampered = _rewrite(bundle, alter)
        report = verify_evidence(tampered)
        assert not report["ok"]
        assert report["problems"] == [
            "anchor receipt: the TSA's signature does not verify under its certificate: the "
            "token was altered"
        ]
        run = _shipped_verifier(tampered, tmp_path)
        assert run.returncode == 0 and "not checked here" in run.stdout
