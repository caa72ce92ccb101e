"""The standalone bundle verifier (``verify.py``): a bundle made with the ledger core verifies, and
every tamper a holder of the bundle could try is detected and named."""

from __future__ import annotations

import ast
import base64
import copy
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chatkeeper.ledger import (
    SHA256,
    Checkpoint,
    MemoryNodeStore,
    MerkleLog,
    MessageLeaf,
    generate_signing_key,
    sign_checkpoint,
    standalone,
)
from chatkeeper.ledger.standalone import main, verify_bundle

ORIGIN = "chatkeeper.example.com/acme/messages"
KEY = generate_signing_key(ORIGIN)
START = datetime(2025, 1, 1, tzinfo=UTC)
COUNT = 13


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


ANCHORED = 6


def _build() -> tuple[dict[str, Any], MerkleLog, list[bytes]]:
    """13 messages in a log, a signed checkpoint, and the evidence.json of all of them, with the
    checkpoint of size 6 as the anchored one."""
    log = MerkleLog(MemoryNodeStore(), SHA256)
    rows = []
    for i in range(COUNT):
        salt = bytes([i]) * 32
        content = f"消息 {i}: 订单号 2025{i:04d}，好的".encode()
        ciphertext = b"CKE" + bytes([i]) * 40
        sent_at = START + timedelta(minutes=i, microseconds=i)
        leaf = MessageLeaf.commit(
            conversation_id=f"wecom:conv-{i % 3}",
            message_id=f"wecom:msg-{i}",
            sent_at=sent_at,
            sender_role="customer" if i % 2 else "agent",
            key_id=f"dk-{i % 3}",
            ciphertext=ciphertext,
            content=content,
            salt=salt,
        )
        index = log.append_many([leaf.leaf_hash()])
        rows.append((index, leaf, salt, content))
    note = sign_checkpoint(Checkpoint.of(ORIGIN, log.size, log.root(), SHA256), KEY)
    messages = [
        {
            "leaf_index": index,
            "conversation_id": leaf.conversation_id,
            "message_id": leaf.message_id,
            "sent_at_us": (leaf.sent_at - datetime(1970, 1, 1, tzinfo=UTC))
            // timedelta(microseconds=1),
            "sender_role": leaf.sender_role,
            "key_id": leaf.key_id,
            "ciphertext_sha256": b64(leaf.ciphertext_hash),
            "salt": b64(salt),
            "content": content.decode(),
            "inclusion_proof": [b64(p) for p in log.inclusion_proof(index)],
        }
        for index, leaf, salt, content in rows
    ]
    evidence = {
        "format": "chatkeeper.evidence/v2",
        "checkpoint": note,
        "public_key": KEY.verifier.encode(),
        "anchor": _anchor(log, ANCHORED, log.size),
        "messages": messages,
    }
    return evidence, log, [leaf.leaf_hash() for _, leaf, _, _ in rows]


def _note(log: MerkleLog, size: int, key: Any = KEY, origin: str = ORIGIN) -> str:
    return sign_checkpoint(Checkpoint.of(origin, size, log.root(size), SHA256), key)


def _anchor(log: MerkleLog, anchored: int, bundled: int, **note: Any) -> dict[str, Any]:
    """The anchor section for the checkpoint of size ``anchored`` against ``bundled``."""
    old, new = sorted((anchored, bundled))
    return {
        "kind": "rfc3161",
        "checkpoint": _note(log, anchored, **note),
        "receipt": b64(b"a time-stamp token"),
        "anchored_at": "2026-11-28T10:00:00Z",
        "consistency_proof": [b64(h) for h in log.consistency_proof(old, new)],
    }


EVIDENCE, LOG, LEAF_HASHES = _build()


def write_bundle(tmp_path: Path, evidence: dict[str, Any]) -> Path:
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("evidence.json", json.dumps(evidence, ensure_ascii=False))
        bundle.writestr("verify.py", Path(standalone.__file__).read_text(encoding="utf-8"))
    return path


def tampered(change: Any) -> dict[str, Any]:
    evidence = copy.deepcopy(EVIDENCE)
    change(evidence)
    return evidence


def test_a_genuine_bundle_verifies(tmp_path: Path) -> None:
    result = verify_bundle(write_bundle(tmp_path, EVIDENCE))
    assert result["problems"] == []
    assert result["ok"] is True
    assert result["checkpoint"]["origin"] == ORIGIN
    assert result["checkpoint"]["size"] == COUNT
    assert len(result["messages"]) == COUNT
    assert all(m["ok"] and m["problem"] is None for m in result["messages"])
    assert [m["leaf_index"] for m in result["messages"]] == list(range(COUNT))


def test_a_folder_verifies_too(tmp_path: Path) -> None:
    (tmp_path / "evidence.json").write_text(json.dumps(EVIDENCE), encoding="utf-8")
    assert verify_bundle(tmp_path)["ok"] is True


def _set(index: int, field: str, value: Any) -> Any:
    def change(evidence: dict[str, Any]) -> None:
        evidence["messages"][index][field] = value

    return change


def _edit_proof(evidence: dict[str, Any]) -> None:
    proof = evidence["messages"][4]["inclusion_proof"]
    proof[1] = b64(bytes(32))


def _drop_proof_element(evidence: dict[str, Any]) -> None:
    evidence["messages"][4]["inclusion_proof"].pop()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _set(4, "content", "消息 4: 订单号 20259999，好的"), "root computed", id="content"
        ),
        pytest.param(_set(4, "salt", b64(bytes(32))), "root computed", id="salt"),
        pytest.param(
            _set(4, "sent_at_us", EVIDENCE["messages"][4]["sent_at_us"] + 1),
            "root computed",
            id="sent_at",
        ),
        pytest.param(_set(4, "leaf_index", 5), "root computed", id="leaf_index"),
        pytest.param(_set(4, "leaf_index", COUNT), "not in the checkpoint's tree", id="index-out"),
        pytest.param(_edit_proof, "root computed", id="proof-hash"),
        pytest.param(_drop_proof_element, "too few", id="proof-element-removed"),
        pytest.param(_set(4, "sender_role", "bot"), "root computed", id="sender-role"),
        pytest.param(_set(4, "salt", b64(bytes(16))), "salt has 16 bytes", id="short-salt"),
        pytest.param(_set(4, "salt", "not base64!"), "salt is not standard base64", id="bad-b64"),
        pytest.param(_set(4, "content", None), "field content is not a str", id="content-type"),
    ],
)
def test_a_tampered_message_is_detected_and_named(
    tmp_path: Path, change: Any, expected: str
) -> None:
    result = verify_bundle(write_bundle(tmp_path, tampered(change)))
    assert result["ok"] is False
    bad = [m for m in result["messages"] if not m["ok"]]
    assert len(bad) == 1
    assert bad[0]["message_id"] == "wecom:msg-4"
    assert expected in bad[0]["problem"]
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("message 4 (wecom:msg-4, leaf ")
    assert expected in result["problems"][0]


def _edit_checkpoint_line(number: int, value: str) -> Any:
    def change(evidence: dict[str, Any]) -> None:
        lines = evidence["checkpoint"].split("\n")
        lines[number] = value
        evidence["checkpoint"] = "\n".join(lines)

    return change


def test_an_edited_checkpoint_size_fails_the_signature(tmp_path: Path) -> None:
    result = verify_bundle(write_bundle(tmp_path, tampered(_edit_checkpoint_line(1, "12"))))
    assert result["ok"] is False
    assert result["checkpoint"]["size"] == 12
    signature = [p for p in result["problems"] if p.startswith("checkpoint signature:")]
    assert len(signature) == 1
    assert "does not verify" in signature[0]


def test_an_edited_checkpoint_root_fails_the_signature_and_every_proof(tmp_path: Path) -> None:
    result = verify_bundle(
        write_bundle(tmp_path, tampered(_edit_checkpoint_line(2, b64(bytes(32)))))
    )
    assert result["ok"] is False
    assert any(
        p.startswith("checkpoint signature:") and "does not verify" in p for p in result["problems"]
    )
    assert not any(m["ok"] for m in result["messages"])


def _short(key: str) -> str:
    name, key_hex, _ = key.split("+", 2)
    return f"{name}+{key_hex}"


def test_another_public_key_finds_no_signature(tmp_path: Path) -> None:
    other = generate_signing_key(ORIGIN).verifier.encode()
    result = verify_bundle(write_bundle(tmp_path, tampered(lambda e: e.update(public_key=other))))
    assert result["ok"] is False
    no_signature = (
        f"the checkpoint has no signature by the public key {_short(other)}; it is signed by "
        f"{_short(KEY.verifier.encode())}"
    )
    assert result["problems"] == [
        f"checkpoint signature: {no_signature}",
        f"anchored checkpoint: {no_signature}",
    ]
    # The messages still match the (unverified) checkpoint: only the signature is named.
    assert all(m["ok"] for m in result["messages"])


def test_a_public_key_with_a_wrong_key_id_is_refused(tmp_path: Path) -> None:
    name, _, blob = KEY.verifier.encode().split("+", 2)
    key = f"{name}+00000000+{blob}"
    result = verify_bundle(write_bundle(tmp_path, tampered(lambda e: e.update(public_key=key))))
    assert result["ok"] is False
    assert "key ID 00000000 does not match" in result["problems"][0]


def test_the_published_key_overrides_the_bundled_one(tmp_path: Path) -> None:
    other = generate_signing_key(ORIGIN).verifier.encode()
    path = write_bundle(tmp_path, EVIDENCE)
    assert verify_bundle(path, public_key=KEY.verifier.encode())["ok"] is True
    assert verify_bundle(path, public_key=other)["ok"] is False


def test_a_missing_evidence_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("readme.txt", "nothing")
    result = verify_bundle(path)
    assert result["ok"] is False
    assert "has no evidence.json" in result["problems"][0]


def test_main_reports_and_exits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_bundle(tmp_path, EVIDENCE)
    assert main([str(good)]) == 0
    out = capsys.readouterr().out
    assert "VERIFIED" in out and "全部通过" in out and ORIGIN in out
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = write_bundle(bad_dir, tampered(_set(7, "content", "改过的")))
    assert main([str(bad)]) == 1
    out = capsys.readouterr().out
    assert "NOT VERIFIED" in out and "wecom:msg-7" in out
    assert main([]) == 1


def test_the_copied_script_runs_on_its_own(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path, EVIDENCE)
    script = tmp_path / "verify.py"
    with zipfile.ZipFile(bundle) as archive:
        script.write_bytes(archive.read("verify.py"))
    run = subprocess.run(
        [sys.executable, "-I", str(script), str(bundle)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "VERIFIED" in run.stdout


def test_the_module_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(Path(standalone.__file__).read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            assert node.module is not None
            roots.add(node.module.split(".")[0])
    assert "chatkeeper" not in roots
    allowed = set(sys.stdlib_module_names) | {"__future__", "cryptography"}
    assert roots <= allowed, roots - allowed


class TestAnchoredCheckpoint:
    """GIVEN a bundle with the newest anchored checkpoint and the consistency proof between it
    and the bundle's checkpoint WHEN it is verified THEN the proof and the anchored checkpoint's
    signature are checked; a bundle exported before any anchoring says so without failing."""

    def test_the_anchored_checkpoint_is_consistent(self, tmp_path: Path) -> None:
        result = verify_bundle(write_bundle(tmp_path, EVIDENCE))
        assert result["ok"] is True, result["problems"]
        anchor = result["anchor"]
        assert anchor["present"] and anchor["consistent"]
        assert (anchor["size"], anchor["kind"]) == (ANCHORED, "rfc3161")
        assert anchor["messages_anchored"] == ANCHORED  # leaves 0-5 were in the anchored tree

    def test_no_anchored_checkpoint_is_a_stated_fact(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = write_bundle(tmp_path, tampered(lambda e: e.update(anchor=None)))
        result = verify_bundle(path)
        assert result["ok"] is True and result["anchor"] == {"present": False}
        assert main([str(path)]) == 0
        out = capsys.readouterr().out
        assert "not been published to an external anchor" in out and "VERIFIED" in out

    def test_a_v1_bundle_still_verifies(self, tmp_path: Path) -> None:
        def v1(evidence: dict[str, Any]) -> None:
            evidence["format"] = "chatkeeper.evidence/v1"
            del evidence["anchor"]

        result = verify_bundle(write_bundle(tmp_path, tampered(v1)))
        assert result["ok"] is True and result["anchor"] is None

    def test_an_anchored_tree_larger_than_the_bundles_proves_every_message(
        self, tmp_path: Path
    ) -> None:
        """GIVEN a bundle whose checkpoint (size 8) is older than the anchored one (13) WHEN it
        is verified THEN the proof runs from 8 to 13 and every message counts as anchored."""

        def older(evidence: dict[str, Any]) -> None:
            evidence["checkpoint"] = _note(LOG, 8)
            evidence["messages"] = evidence["messages"][:8]
            for index, message in enumerate(evidence["messages"]):
                message["inclusion_proof"] = [b64(h) for h in LOG.inclusion_proof(index, 8)]
            evidence["anchor"] = _anchor(LOG, 13, 8)

        result = verify_bundle(write_bundle(tmp_path, tampered(older)))
        assert result["ok"] is True, result["problems"]
        assert result["anchor"]["messages_anchored"] == 8

    def test_the_same_checkpoint_anchored_needs_an_empty_proof(self, tmp_path: Path) -> None:
        same = tampered(lambda e: e.update(anchor=_anchor(LOG, COUNT, COUNT)))
        assert same["anchor"]["consistency_proof"] == []
        assert verify_bundle(write_bundle(tmp_path, same))["ok"] is True
        same["anchor"]["consistency_proof"] = [b64(bytes(32))]
        result = verify_bundle(write_bundle(tmp_path, same))
        assert result["ok"] is False and "must be empty" in result["problems"][0]


def _edit_anchor(change: Any) -> Any:
    def edit(evidence: dict[str, Any]) -> None:
        change(evidence["anchor"])

    return edit


def _flip_proof_byte(anchor: dict[str, Any]) -> None:
    raw = bytearray(base64.b64decode(anchor["consistency_proof"][1]))
    raw[5] ^= 0x01
    anchor["consistency_proof"][1] = b64(bytes(raw))


def _edit_anchored_line(number: int, value: str) -> Any:
    def change(anchor: dict[str, Any]) -> None:
        lines = anchor["checkpoint"].split("\n")
        lines[number] = value
        anchor["checkpoint"] = "\n".join(lines)

    return _edit_anchor(change)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(_edit_anchor(_flip_proof_byte), "does not lead to the", id="proof-byte"),
        pytest.param(
            _edit_anchor(lambda a: a["consistency_proof"].pop()), "too few", id="proof-short"
        ),
        pytest.param(
            _edit_anchor(lambda a: a["consistency_proof"].append(b64(bytes(32)))),
            "too many",
            id="proof-long",
        ),
        pytest.param(_edit_anchored_line(1, "9"), "does not verify", id="anchored-size"),
        pytest.param(
            _edit_anchored_line(2, b64(LOG.root(9))), "does not verify", id="anchored-root"
        ),
        pytest.param(
            _edit_anchor(
                lambda a: a.update(checkpoint=_note(LOG, ANCHORED, generate_signing_key(ORIGIN)))
            ),
            "no signature by the public key",
            id="anchored-other-key",
        ),
        pytest.param(
            _edit_anchor(lambda a: a.update(checkpoint=_note(LOG, ANCHORED, origin="other/log"))),
            "another log",
            id="anchored-other-log",
        ),
        pytest.param(
            _edit_anchor(lambda a: a.update(extra=1)), "must have exactly", id="unknown-field"
        ),
        pytest.param(
            lambda e: e.pop("anchor"), "has no anchor section", id="anchor-section-removed"
        ),
    ],
)
def test_a_tampered_anchor_is_detected_and_named(
    tmp_path: Path, change: Any, expected: str
) -> None:
    result = verify_bundle(write_bundle(tmp_path, tampered(change)))
    assert result["ok"] is False
    assert len(result["problems"]) == 1, result["problems"]
    assert expected in result["problems"][0]
    assert all(m["ok"] for m in result["messages"])  # the messages themselves still verify


def test_a_forged_anchored_checkpoint_of_a_rewritten_history_fails(tmp_path: Path) -> None:
    """GIVEN an operator who rewrote leaf 3 after anchoring WHEN the bundle pairs the genuine
    anchored checkpoint with the rewritten tree THEN no consistency proof can join them."""
    rewritten = MerkleLog(MemoryNodeStore(), SHA256)
    rewritten.append_many([*LEAF_HASHES[:3], bytes(32), *LEAF_HASHES[4:]])
    evidence = copy.deepcopy(EVIDENCE)
    evidence["anchor"]["consistency_proof"] = [
        b64(h) for h in rewritten.consistency_proof(ANCHORED, COUNT)
    ]
    result = verify_bundle(write_bundle(tmp_path, evidence))
    assert result["ok"] is False
    assert any("consistency proof" in p for p in result["problems"])
