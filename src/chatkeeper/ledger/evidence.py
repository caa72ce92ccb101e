"""The exchange formats: proof files a third party checks offline, and the log descriptor.

docs/ledger.md, "Evidence" and "Log descriptor", is the specification. Parsing is strict (unknown
fields, wrong types and non-canonical base64 are refused) because a verifier that skips what it
does not understand could be shown a proof of something other than what it checks.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chatkeeper.ledger.checkpoint import Checkpoint, verify_checkpoint
from chatkeeper.ledger.errors import (
    CheckpointMalformed,
    CheckpointUnsigned,
    EvidenceMalformed,
    ProofInvalid,
)
from chatkeeper.ledger.hashing import hash_algorithm
from chatkeeper.ledger.merkle import verify_consistency, verify_inclusion
from chatkeeper.ledger.note import VerifierKey, parse_verifier_key, strict_b64decode

INCLUSION_FORMAT = "chatkeeper.inclusion-proof/v1"
CONSISTENCY_FORMAT = "chatkeeper.consistency-proof/v1"
LOG_FORMAT = "chatkeeper.log/v1"
LEAF_FORMATS = ("chatkeeper.message-leaf/v1", "chatkeeper.audit-leaf/v1")
_MAX_INT = 1 << 64


def _b64(value: bytes) -> str:
    """Standard padded base64, as in checkpoints."""
    return base64.b64encode(value).decode("ascii")


class _Fields:
    """A parsed JSON object read field by field with the types the format allows."""

    def __init__(self, text: str, fmt: str, required: set[str], optional: set[str]) -> None:
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as exc:
            raise EvidenceMalformed(f"{fmt}: not JSON") from exc
        if not isinstance(data, dict) or data.get("format") != fmt:
            raise EvidenceMalformed(f"not a {fmt} object (field 'format')")
        unknown = set(data) - required - optional - {"format"}
        missing = required - set(data)
        if unknown or missing:
            raise EvidenceMalformed(
                f"{fmt}: unknown fields {sorted(unknown)}, missing fields {sorted(missing)}"
            )
        self.data: dict[str, Any] = data
        self.fmt = fmt

    def text(self, name: str) -> str:
        """A non-empty string field."""
        value = self.data[name]
        if not isinstance(value, str) or not value:
            raise EvidenceMalformed(f"{self.fmt}: field '{name}' must be a non-empty string")
        return value

    def optional_text(self, name: str) -> str | None:
        """A string field that may be absent."""
        return self.text(name) if name in self.data else None

    def integer(self, name: str) -> int:
        """A JSON integer from 0 to 2^64 - 1 (not a boolean, not a float)."""
        value = self.data[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_INT:
            raise EvidenceMalformed(f"{self.fmt}: field '{name}' must be an integer 0 to 2^64-1")
        return value

    def digest(self, name: str, value: object = None) -> bytes:
        """A base64 hash field (or ``value``, an element of a list field)."""
        value = self.data[name] if value is None else value
        if not isinstance(value, str):
            raise EvidenceMalformed(f"{self.fmt}: field '{name}' must hold base64 strings")
        try:
            return strict_b64decode(value, f"field '{name}'")
        except CheckpointMalformed as exc:
            raise EvidenceMalformed(f"{self.fmt}: {exc.message}") from exc

    def digests(self, name: str) -> tuple[bytes, ...]:
        """A list of base64 hashes."""
        values = self.data[name]
        if not isinstance(values, list):
            raise EvidenceMalformed(f"{self.fmt}: field '{name}' must be a list")
        return tuple(self.digest(name, value) for value in values)


def _check_checkpoints(
    texts: Iterable[tuple[str, int, bytes]], origin: str, hash_name: str, key: VerifierKey
) -> tuple[Checkpoint, ...]:
    """Verify each (checkpoint text, size, root) and check it names that size and root."""
    verified = []
    for text, size, root in texts:
        checkpoint = verify_checkpoint(text, key.public_key, key.name, origin=origin)
        if checkpoint.hash_algorithm != hash_name:
            raise ProofInvalid(f"the checkpoint is for hash {checkpoint.hash_algorithm}")
        if checkpoint.size != size:
            raise ProofInvalid(f"the checkpoint is for a tree of {checkpoint.size}, not {size}")
        if checkpoint.root_hash != root:
            raise ProofInvalid(f"the checkpoint's root differs from the proof's (tree of {size})")
        verified.append(checkpoint)
    if not verified:
        raise CheckpointUnsigned("the evidence carries no checkpoint to check its root against")
    return tuple(verified)


@dataclass(frozen=True, slots=True)
class InclusionEvidence:
    """Leaf ``leaf_index`` is in the tree of ``tree_size`` leaves with ``root``."""

    origin: str
    hash: str
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    root: bytes
    path: tuple[bytes, ...]
    leaf_data: bytes | None = None
    checkpoint: str | None = None

    def to_json(self) -> str:
        """The ``chatkeeper.inclusion-proof/v1`` JSON text."""
        data: dict[str, object] = {
            "format": INCLUSION_FORMAT,
            "origin": self.origin,
            "hash": self.hash,
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": _b64(self.leaf_hash),
            "root": _b64(self.root),
            "path": [_b64(value) for value in self.path],
        }
        if self.leaf_data is not None:
            data["leaf_data"] = _b64(self.leaf_data)
        if self.checkpoint is not None:
            data["checkpoint"] = self.checkpoint
        return json.dumps(data, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> InclusionEvidence:
        """Parse a proof file; refuses unknown fields, wrong types and non-canonical base64."""
        required = {"origin", "hash", "leaf_index", "tree_size", "leaf_hash", "root", "path"}
        f = _Fields(text, INCLUSION_FORMAT, required, {"leaf_data", "checkpoint"})
        leaf_data = f.digest("leaf_data") if "leaf_data" in f.data else None
        return cls(
            origin=f.text("origin"),
            hash=f.text("hash"),
            leaf_index=f.integer("leaf_index"),
            tree_size=f.integer("tree_size"),
            leaf_hash=f.digest("leaf_hash"),
            root=f.digest("root"),
            path=f.digests("path"),
            leaf_data=leaf_data,
            checkpoint=f.optional_text("checkpoint"),
        )

    def verify(self, verifier_key: VerifierKey | None = None) -> tuple[Checkpoint, ...]:
        """Check the leaf data, the proof and, given the log's key, the checkpoint.

        Returns the verified checkpoints: none when no key is given, in which case ``root`` was
        trusted as given and the caller must compare it with a checkpoint it trusts.
        """
        algorithm = hash_algorithm(self.hash)
        if self.leaf_data is not None and algorithm.leaf(self.leaf_data) != self.leaf_hash:
            raise ProofInvalid("leaf_data does not hash to leaf_hash")
        verify_inclusion(
            self.leaf_hash, self.leaf_index, self.tree_size, self.path, self.root, algorithm
        )
        if verifier_key is None:
            return ()
        present = [(self.checkpoint, self.tree_size, self.root)] if self.checkpoint else []
        return _check_checkpoints(present, self.origin, self.hash, verifier_key)


@dataclass(frozen=True, slots=True)
class ConsistencyEvidence:
    """The tree of ``old_size`` (``old_root``) is a prefix of the tree of ``new_size``."""

    origin: str
    hash: str
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: tuple[bytes, ...]
    old_checkpoint: str | None = None
    new_checkpoint: str | None = None

    def to_json(self) -> str:
        """The ``chatkeeper.consistency-proof/v1`` JSON text."""
        data: dict[str, object] = {
            "format": CONSISTENCY_FORMAT,
            "origin": self.origin,
            "hash": self.hash,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": _b64(self.old_root),
            "new_root": _b64(self.new_root),
            "path": [_b64(value) for value in self.path],
        }
        if self.old_checkpoint is not None:
            data["old_checkpoint"] = self.old_checkpoint
        if self.new_checkpoint is not None:
            data["new_checkpoint"] = self.new_checkpoint
        return json.dumps(data, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> ConsistencyEvidence:
        """Parse a proof file; refuses unknown fields, wrong types and non-canonical base64."""
        required = {"origin", "hash", "old_size", "new_size", "old_root", "new_root", "path"}
        f = _Fields(text, CONSISTENCY_FORMAT, required, {"old_checkpoint", "new_checkpoint"})
        return cls(
            origin=f.text("origin"),
            hash=f.text("hash"),
            old_size=f.integer("old_size"),
            new_size=f.integer("new_size"),
            old_root=f.digest("old_root"),
            new_root=f.digest("new_root"),
            path=f.digests("path"),
            old_checkpoint=f.optional_text("old_checkpoint"),
            new_checkpoint=f.optional_text("new_checkpoint"),
        )

    def verify(self, verifier_key: VerifierKey | None = None) -> tuple[Checkpoint, ...]:
        """Check the proof and, given the log's key, every checkpoint present (at least one)."""
        algorithm = hash_algorithm(self.hash)
        verify_consistency(
            self.old_size, self.new_size, self.old_root, self.new_root, self.path, algorithm
        )
        if verifier_key is None:
            return ()
        pairs = [
            (self.old_checkpoint, self.old_size, self.old_root),
            (self.new_checkpoint, self.new_size, self.new_root),
        ]
        present = [(text, size, root) for text, size, root in pairs if text is not None]
        return _check_checkpoints(present, self.origin, self.hash, verifier_key)


@dataclass(frozen=True, slots=True)
class LogDescriptor:
    """What a verifier must know about a log: origin, hash, leaf format, public key."""

    origin: str
    hash: str
    leaf: str
    verifier_key: str

    def to_json(self) -> str:
        """The ``chatkeeper.log/v1`` JSON text."""
        data = {"format": LOG_FORMAT, "origin": self.origin, "hash": self.hash}
        data |= {"leaf": self.leaf, "verifier_key": self.verifier_key}
        return json.dumps(data, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> LogDescriptor:
        """Parse a descriptor; the leaf format must be known and the key well formed."""
        f = _Fields(text, LOG_FORMAT, {"origin", "hash", "leaf", "verifier_key"}, set())
        descriptor = cls(f.text("origin"), f.text("hash"), f.text("leaf"), f.text("verifier_key"))
        if descriptor.leaf not in LEAF_FORMATS:
            raise EvidenceMalformed(f"{LOG_FORMAT}: unknown leaf format {descriptor.leaf!r}")
        descriptor.verifier()
        return descriptor

    def verifier(self) -> VerifierKey:
        """The log's public key (``NoteKeyInvalid`` if malformed)."""
        return parse_verifier_key(self.verifier_key)
