"""Evidence bundles on every backend: exported, verified offline, and any change caught."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.services import Context
from chatkeeper.services.evidence import export_evidence
from chatkeeper.services.ingest import ingest_files
from tests.factories import record, write_jsonl

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission
standalone = pytest.importorskip("chatkeeper.ledger.standalone")


@pytest.fixture
def bundle(ctx: Context, tmp_path: Path) -> Path:
    lines = [
        record(conversation_id="ev", text=f"第{i}句，我的手机13912345{i:03d}") for i in range(6)
    ]
    lines += [record(conversation_id="other", text="别的会话")]
    ingest_files(ctx, ACTOR, [write_jsonl(tmp_path / "e.jsonl", lines)], "jsonl")
    out = tmp_path / "ev.zip"
    summary = export_evidence(ctx, ACTOR, "ev", out)
    assert summary["messages"] == 6
    return out


def _rewrite(path: Path, name: str, change) -> Path:
    with zipfile.ZipFile(path) as source:
        files = {item: source.read(item) for item in source.namelist()}
    files[name] = change(files[name])
    tampered = path.with_name("tampered.zip")
    with zipfile.ZipFile(tampered, "w") as target:
        for item, data in files.items():
            target.writestr(item, data)
    return tampered


def test_the_bundle_verifies_offline_with_its_own_verifier(bundle: Path, tmp_path: Path):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "x")
    assert {
        "evidence.json",
        "transcript.json",
        "transcript.html",
        "README.md",
        "verify.py",
    } <= names
    # the shipped verifier runs alone: a clean interpreter, no ChatKeeper on its path
    run = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "x" / "verify.py"), str(bundle)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert standalone.verify_bundle(bundle)["ok"]
    assert "13912345000" in (tmp_path / "x" / "transcript.json").read_text(encoding="utf-8")


def _edit_content(data: bytes) -> bytes:
    evidence = json.loads(data)
    evidence["messages"][2]["content"] = evidence["messages"][2]["content"] + "。"
    return json.dumps(evidence).encode()


def _edit_proof(data: bytes) -> bytes:
    evidence = json.loads(data)
    proof = evidence["messages"][0]["inclusion_proof"]
    proof[0] = ("A" if proof[0][0] != "A" else "B") + proof[0][1:]
    return json.dumps(evidence).encode()


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("evidence.json", _edit_content),
        ("evidence.json", _edit_proof),
        ("transcript.json", lambda data: data.replace("第2句".encode(), "第3句".encode())),
        ("transcript.html", lambda data: data.replace("第4句".encode(), "第5句".encode())),
    ],
    ids=["content", "proof", "transcript-json", "transcript-html"],
)
def test_a_changed_byte_fails(bundle: Path, name, change):
    tampered = _rewrite(bundle, name, change)
    report = standalone.verify_bundle(tampered)
    assert not report["ok"] and report["problems"]
