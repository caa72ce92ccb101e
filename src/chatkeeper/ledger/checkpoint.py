"""C2SP checkpoints: a log's signed tree head as a signed note.

docs/ledger.md, "Checkpoint", is the specification: origin, tree size, base64 root hash, optional
extension lines, then the signed-note signatures. SHA-256 logs write plain C2SP checkpoints that
any tlog tooling verifies; any other algorithm adds a ``hash-algorithm <name>`` extension line, so
that the signature covers which hash the root was computed with.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from chatkeeper.ledger.errors import CheckpointMalformed, OriginMismatch
from chatkeeper.ledger.hashing import DEFAULT_HASH, DIGEST_SIZES, HashAlgorithm
from chatkeeper.ledger.note import (
    SigningKey,
    VerifierKey,
    generate_signing_key,
    key_id,
    parse_note,
    sign_note,
    strict_b64decode,
    verify_note,
)

__all__ = [
    "HASH_EXTENSION",
    "Checkpoint",
    "generate_signing_key",
    "key_id",
    "parse_checkpoint",
    "peek_checkpoint",
    "sign_checkpoint",
    "verify_checkpoint",
]

HASH_EXTENSION = "hash-algorithm "
_MAX_SIZE = 1 << 64


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: which log, how many leaves, the root, and any extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    @classmethod
    def of(cls, origin: str, size: int, root_hash: bytes, algorithm: HashAlgorithm) -> Checkpoint:
        """The checkpoint of a log, with the ``hash-algorithm`` line unless it is SHA-256."""
        extensions = () if algorithm.name == DEFAULT_HASH else (HASH_EXTENSION + algorithm.name,)
        return cls(origin, size, root_hash, extensions)

    @property
    def hash_algorithm(self) -> str:
        """The name of the root's hash algorithm: from the extension line, else ``sha256``."""
        for line in self.extensions:
            if line.startswith(HASH_EXTENSION):
                return line[len(HASH_EXTENSION) :]
        return DEFAULT_HASH

    def text(self) -> str:
        """The note text: what the log signs."""
        _check_origin(self.origin)
        if not 0 <= self.size < _MAX_SIZE:
            raise CheckpointMalformed(f"tree size {self.size} is outside 0 to 2^64 - 1")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointMalformed("extension lines must be non-empty single lines")
        expected = DIGEST_SIZES.get(self.hash_algorithm)
        if expected != len(self.root_hash):
            raise CheckpointMalformed(
                f"a {self.hash_algorithm} root hash has {expected} bytes, not {len(self.root_hash)}"
            )
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )


def _check_origin(origin: str) -> None:
    """The origin is one non-empty line (the spec requires only that)."""
    if not origin or "\n" in origin:
        raise CheckpointMalformed("the checkpoint origin must be one non-empty line")


def _parse_size(line: str) -> int:
    """ASCII decimal without leading zeros, below 2^64."""
    if not line or not line.isascii() or not line.isdigit() or (line != "0" and line[0] == "0"):
        raise CheckpointMalformed("checkpoint line 2 (tree size) is not a decimal number")
    size = int(line)
    if size >= _MAX_SIZE:
        raise CheckpointMalformed("checkpoint line 2 (tree size) is 2^64 or more")
    return size


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint's note text (no signatures): syntax only, nothing is trusted yet."""
    if not text.endswith("\n"):
        raise CheckpointMalformed("a checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointMalformed("a checkpoint has an origin, a tree size and a root hash line")
    origin, size_line, root_line, *extensions = lines
    _check_origin(origin)
    size = _parse_size(size_line)
    root_hash = strict_b64decode(root_line, "checkpoint line 3 (root hash)")
    for number, line in enumerate(extensions, start=4):
        if not line:
            raise CheckpointMalformed(f"checkpoint line {number} (extension) is empty")
    checkpoint = Checkpoint(origin, size, root_hash, tuple(extensions))
    name = checkpoint.hash_algorithm
    if name not in DIGEST_SIZES:
        raise CheckpointMalformed(f"the checkpoint names an unknown hash algorithm {name!r}")
    if len(root_hash) != DIGEST_SIZES[name]:
        raise CheckpointMalformed(
            f"checkpoint line 3 (root hash) has {len(root_hash)} bytes; {name} has "
            f"{DIGEST_SIZES[name]}"
        )
    return checkpoint


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey, *cosigners: SigningKey) -> str:
    """The signed checkpoint: the log's key first, then any further signers."""
    return sign_note(checkpoint.text(), key, *cosigners)


def verify_checkpoint(
    text: str,
    public_key: bytes | Ed25519PublicKey,
    key_name: str,
    *,
    origin: str | None = None,
) -> Checkpoint:
    """The checkpoint in ``text``, if ``key_name``'s Ed25519 ``public_key`` signed it.

    Checks, in order: the note's syntax and signatures (``CheckpointMalformed``,
    ``CheckpointUnsigned``, ``SignatureInvalid``), the checkpoint's syntax, and, when given, that
    it is the log ``origin`` (``OriginMismatch``). Signatures by other keys are ignored.
    """
    raw = public_key if isinstance(public_key, bytes) else public_key.public_bytes_raw()
    note = verify_note(text, [VerifierKey(key_name, raw)])
    checkpoint = parse_checkpoint(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise OriginMismatch(
            f"the checkpoint is for log {checkpoint.origin!r}, not {origin!r}",
            origin=checkpoint.origin,
            expected=origin,
        )
    return checkpoint


def peek_checkpoint(text: str) -> Checkpoint:
    """The checkpoint in a signed note, NOT verified: for display and diagnostics only."""
    return parse_checkpoint(parse_note(text).text)
