"""Proof files end to end: a log, a signed checkpoint, JSON out and back, offline verification,
and every tamper a holder of the file could try."""

from __future__ import annotations

import dataclasses
import json

import pytest

from chatkeeper.ledger import (
    Checkpoint,
    ConsistencyEvidence,
    InclusionEvidence,
    LogDescriptor,
    MemoryNodeStore,
    MerkleLog,
    generate_signing_key,
    leaf_hash,
    sign_checkpoint,
)
from chatkeeper.ledger.errors import (
    CheckpointUnsigned,
    EvidenceMalformed,
    OriginMismatch,
    ProofInvalid,
    SignatureInvalid,
)

ORIGIN = "chatkeeper.example.com/acme/messages"
KEY = generate_signing_key(ORIGIN)
LEAVES = [f"leaf {i}".encode() for i in range(11)]
LOG = MerkleLog(MemoryNodeStore())
LOG.append_many(leaf_hash(data) for data in LEAVES[:6])
OLD = sign_checkpoint(Checkpoint(ORIGIN, 6, LOG.root()), KEY)
LOG.append_many(leaf_hash(data) for data in LEAVES[6:])
NEW = sign_checkpoint(Checkpoint(ORIGIN, 11, LOG.root()), KEY)

INCLUSION = InclusionEvidence(
    origin=ORIGIN,
    hash="sha256",
    leaf_index=4,
    tree_size=11,
    leaf_hash=leaf_hash(LEAVES[4]),
    root=LOG.root(),
    path=tuple(LOG.inclusion_proof(4)),
    leaf_data=LEAVES[4],
    checkpoint=NEW,
)
CONSISTENCY = ConsistencyEvidence(
    origin=ORIGIN,
    hash="sha256",
    old_size=6,
    new_size=11,
    old_root=LOG.root(6),
    new_root=LOG.root(),
    path=tuple(LOG.consistency_proof(6)),
    old_checkpoint=OLD,
    new_checkpoint=NEW,
)


def rewrite(evidence: str, **changes: object) -> str:
    """The JSON text with fields changed (``None`` removes one)."""
    data = json.loads(evidence)
    for name, value in changes.items():
        if value is None:
            data.pop(name)
        else:
            data[name] = value
    return json.dumps(data)


class TestInclusionEvidence:
    """GIVEN an exported inclusion proof WHEN checked offline THEN it verifies; tampered, fails."""

    def test_round_trips_and_verifies_against_the_signed_checkpoint(self) -> None:
        parsed = InclusionEvidence.from_json(INCLUSION.to_json())
        assert parsed == INCLUSION
        (checkpoint,) = parsed.verify(KEY.verifier)
        assert (checkpoint.size, checkpoint.root_hash) == (11, LOG.root())

    def test_without_a_key_nothing_is_claimed_about_the_root(self) -> None:
        assert INCLUSION.verify() == ()

    def test_altered_leaf_data(self) -> None:
        with pytest.raises(ProofInvalid, match="leaf_data does not hash"):
            dataclasses.replace(INCLUSION, leaf_data=b"leaf 5").verify(KEY.verifier)

    def test_claiming_another_leaf(self) -> None:
        forged = dataclasses.replace(INCLUSION, leaf_hash=leaf_hash(b"x"), leaf_data=b"x")
        with pytest.raises(ProofInvalid, match="differs from the expected root"):
            forged.verify(KEY.verifier)

    def test_root_swapped_for_one_the_checkpoint_does_not_sign(self) -> None:
        forged = dataclasses.replace(
            INCLUSION, tree_size=6, root=LOG.root(6), path=tuple(LOG.inclusion_proof(4, 6))
        )
        with pytest.raises(ProofInvalid, match="checkpoint is for a tree of 11, not 6"):
            forged.verify(KEY.verifier)

    def test_checkpoint_signed_by_another_key(self) -> None:
        other = sign_checkpoint(Checkpoint(ORIGIN, 11, LOG.root()), generate_signing_key(ORIGIN))
        with pytest.raises(CheckpointUnsigned):
            dataclasses.replace(INCLUSION, checkpoint=other).verify(KEY.verifier)

    def test_checkpoint_edited(self) -> None:
        edited = NEW.replace("\n11\n", "\n12\n")
        with pytest.raises(SignatureInvalid):
            dataclasses.replace(INCLUSION, checkpoint=edited).verify(KEY.verifier)

    def test_another_logs_origin(self) -> None:
        with pytest.raises(OriginMismatch):
            dataclasses.replace(INCLUSION, origin="other.example/log").verify(KEY.verifier)

    def test_key_given_but_no_checkpoint(self) -> None:
        with pytest.raises(CheckpointUnsigned, match="no checkpoint"):
            dataclasses.replace(INCLUSION, checkpoint=None).verify(KEY.verifier)


class TestConsistencyEvidence:
    """GIVEN an exported consistency proof THEN it verifies against both checkpoints."""

    def test_round_trips_and_verifies(self) -> None:
        parsed = ConsistencyEvidence.from_json(CONSISTENCY.to_json())
        assert parsed == CONSISTENCY
        assert [c.size for c in parsed.verify(KEY.verifier)] == [6, 11]

    def test_forked_history_fails(self) -> None:
        forked = MerkleLog(MemoryNodeStore())
        forked.append_many(leaf_hash(data) for data in [*LEAVES[:5], b"rewritten", *LEAVES[6:]])
        forged = dataclasses.replace(
            CONSISTENCY, new_root=forked.root(), path=tuple(forked.consistency_proof(6))
        )
        with pytest.raises(ProofInvalid, match="old root"):
            forged.verify()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"format": "chatkeeper.inclusion-proof/v2"}, "format"),
        ({"extra": 1}, "unknown fields"),
        ({"root": None}, "missing fields"),
        ({"leaf_index": True}, "leaf_index"),
        ({"tree_size": 11.0}, "tree_size"),
        ({"tree_size": 1 << 64}, "tree_size"),
        ({"path": "AAAA"}, "must be a list"),
        ({"path": [1]}, "base64"),
        ({"leaf_hash": "Xcnaeacg=="}, "base64"),
        ({"origin": ""}, "non-empty"),
    ],
)
def test_malformed_inclusion_file_is_named(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(EvidenceMalformed, match=reason):
        InclusionEvidence.from_json(rewrite(INCLUSION.to_json(), **changes))


def test_not_json_is_named() -> None:
    with pytest.raises(EvidenceMalformed, match="not JSON"):
        ConsistencyEvidence.from_json("{")


def test_log_descriptor_round_trips() -> None:
    descriptor = LogDescriptor(
        ORIGIN, "sha256", "chatkeeper.message-leaf/v1", KEY.verifier.encode()
    )
    parsed = LogDescriptor.from_json(descriptor.to_json())
    assert parsed == descriptor and parsed.verifier() == KEY.verifier
    with pytest.raises(EvidenceMalformed, match="unknown leaf format"):
        LogDescriptor.from_json(rewrite(descriptor.to_json(), leaf="x"))
