"""C2SP signed notes with Ed25519: keys, key IDs, signing, parsing and verification.

Implemented exactly as c2sp.org/signed-note, signature type 0x01 only (docs/ledger.md, "Signed
note"). Checkpoints are signed notes; so are witness cosignatures, which is why verification
ignores signatures from keys it was not given rather than failing on them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from chatkeeper.ledger.errors import (
    CheckpointMalformed,
    CheckpointUnsigned,
    NoteKeyInvalid,
    SignatureInvalid,
)

ED25519 = 0x01
"""The signed-note signature type of Ed25519 (c2sp.org/signed-note, "Signature types")."""
SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space
MAX_SIGNATURES = 100
_PRIVATE_PREFIX = "PRIVATE+KEY+"


def key_id(name: str, public_key: bytes) -> int:
    """The spec's key ID: the first 4 bytes, big-endian, of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key).

    Always SHA-256, whatever the tree's hash: it identifies the key, it does not protect anything.
    """
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes((ED25519,)) + public_key)
    return int.from_bytes(digest.digest()[:4], "big")


def check_key_name(name: str) -> None:
    """Refuse a key name that is empty or contains a Unicode space or ``+`` (the spec's rule)."""
    if not name or "+" in name or any(char.isspace() for char in name):
        raise NoteKeyInvalid("a key name must be non-empty, without spaces or '+'")


def strict_b64decode(text: str, what: str) -> bytes:
    """Standard padded base64 that re-encodes to itself: one byte string has one encoding.

    Python's decoder tolerates non-zero padding bits; accepting them would let anyone make a
    second, different note text that carries the same signature.
    """
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointMalformed(f"{what} is not standard base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointMalformed(f"{what} is not canonical standard base64")
    return raw


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A public Ed25519 note key and its name."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise NoteKeyInvalid(f"an Ed25519 public key has 32 bytes, not {len(self.public_key)}")

    @property
    def key_id(self) -> int:
        """The key ID signature lines carry for this key."""
        return key_id(self.name, self.public_key)

    def encode(self) -> str:
        """``<name>+<key ID hex>+<base64(0x01 ‖ public key)>`` (Go's note verifier-key form)."""
        blob = base64.b64encode(bytes((ED25519,)) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{blob}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``text``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private Ed25519 note key and its name; the private key never appears in ``repr``."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)

    @property
    def verifier(self) -> VerifierKey:
        """The matching public key, to publish."""
        return VerifierKey(self.name, self.private_key.public_key().public_bytes_raw())

    def sign(self, text: bytes) -> bytes:
        """The Ed25519 signature of ``text`` (RFC 8032, pure Ed25519)."""
        return self.private_key.sign(text)

    def encode(self) -> str:
        """``PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 ‖ seed)>``: keep it secret."""
        seed = self.private_key.private_bytes_raw()
        blob = base64.b64encode(bytes((ED25519,)) + seed).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.verifier.key_id:08x}+{blob}"


def generate_signing_key(name: str) -> SigningKey:
    """A new random Ed25519 signing key named ``name`` (the log's origin, by convention)."""
    return SigningKey(name, Ed25519PrivateKey.generate())


def _split_key(text: str, what: str) -> tuple[str, int, bytes]:
    """``name+hex+base64`` → the name, the claimed key ID and the raw key, type byte checked."""
    parts = text.split("+", 2)  # the base64 part may itself contain "+"
    if len(parts) != 3 or len(parts[1]) != 8:
        raise NoteKeyInvalid(f"a {what} key is <name>+<8 hex digits>+<base64>")
    try:
        claimed = int(parts[1], 16)
        raw = base64.b64decode(parts[2], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise NoteKeyInvalid(f"the {what} key's ID or key is not hex/base64") from exc
    if len(raw) != 33 or raw[0] != ED25519:
        raise NoteKeyInvalid(f"the {what} key is not an Ed25519 (type 0x01) key")
    return parts[0], claimed, raw[1:]


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse ``<name>+<hex>+<base64>``; the key ID must match the name and key."""
    name, claimed, raw = _split_key(text, "verifier")
    key = VerifierKey(name, raw)
    if key.key_id != claimed:
        raise NoteKeyInvalid(f"verifier key {name}: key ID {claimed:08x} does not match the key")
    return key


def parse_signing_key(text: str) -> SigningKey:
    """Parse ``PRIVATE+KEY+<name>+<hex>+<base64>``; the key ID must match the name and key."""
    if not text.startswith(_PRIVATE_PREFIX):
        raise NoteKeyInvalid("a signing key starts with PRIVATE+KEY+")
    name, claimed, seed = _split_key(text[len(_PRIVATE_PREFIX) :], "signing")
    key = SigningKey(name, Ed25519PrivateKey.from_private_bytes(seed))
    if key.verifier.key_id != claimed:
        raise NoteKeyInvalid(f"signing key {name}: key ID {claimed:08x} does not match the key")
    return key


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: the key name, the key ID and the signature bytes."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The line as written in a note: ``— <name> <base64(key ID ‖ signature)>``."""
        blob = base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A note's text (final newline included) and its signatures, as parsed (not verified)."""

    text: str
    signatures: tuple[NoteSignature, ...]


def _check_text(text: str) -> None:
    """The spec's text rules: non-empty, ends in newline, no control character but newline."""
    if not text.endswith("\n"):
        raise CheckpointMalformed("a note text must end with a newline")
    for number, line in enumerate(text.split("\n"), start=1):
        if any(char < " " for char in line):
            raise CheckpointMalformed(f"note line {number} contains a control character")


def _parse_signature(line: str, number: int) -> NoteSignature:
    """One signature line (without its newline)."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise CheckpointMalformed(f"signature line {number} does not start with '— '")
    fields = line[len(SIGNATURE_PREFIX) :].split(" ")
    if len(fields) != 2:
        raise CheckpointMalformed(f"signature line {number} is not '— <key name> <signature>'")
    name, blob = fields
    try:
        check_key_name(name)
    except NoteKeyInvalid as exc:
        raise CheckpointMalformed(f"signature line {number} has an invalid key name") from exc
    raw = strict_b64decode(blob, f"signature line {number}")
    if len(raw) < 5:
        raise CheckpointMalformed(f"signature line {number} is too short")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_note(message: str) -> SignedNote:
    """Split a signed note into text and signature lines, checking only the syntax."""
    _check_text(message)
    split = message.rfind("\n\n")  # the text ends at the LAST blank line
    if split < 0:
        raise CheckpointMalformed("the note has no blank line before its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise CheckpointMalformed("the note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointMalformed(f"the note has more than {MAX_SIGNATURES} signatures")
    first = text.count("\n") + 2
    signatures = tuple(_parse_signature(line, first + n) for n, line in enumerate(lines))
    return SignedNote(text, signatures)


def sign_note(text: str, *keys: SigningKey) -> str:
    """The signed note of ``text`` with one signature line per key, in the order given."""
    _check_text(text)
    if not keys:
        raise NoteKeyInvalid("a note needs at least one signing key")
    data = text.encode("utf-8")
    lines = [NoteSignature(k.name, k.verifier.key_id, k.sign(data)).line() for k in keys]
    return text + "\n" + "".join(lines)


def verify_note(message: str, verifiers: Sequence[VerifierKey]) -> SignedNote:
    """The note, if at least one of ``verifiers`` signed it and none of their signatures fails.

    A line counts as a known key's only if both its name and key ID match; the others are
    ignored (c2sp.org/signed-note). Raises ``SignatureInvalid`` when a known key's signature
    fails and ``CheckpointUnsigned`` when no known key signed.
    """
    note = parse_note(message)
    known = {(v.name, v.key_id): v for v in verifiers}
    data = note.text.encode("utf-8")
    verified = 0
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verify(data, sig.signature):
            raise SignatureInvalid(
                f"the signature by key {sig.name}+{sig.key_id:08x} does not verify: the signed "
                "text (for a checkpoint: the origin, tree size or root hash) or the signature "
                "was altered",
                key_name=sig.name,
            )
        verified += 1
    if not verified:
        expected = ", ".join(f"{v.name}+{v.key_id:08x}" for v in verifiers)
        present = ", ".join(f"{s.name}+{s.key_id:08x}" for s in note.signatures)
        raise CheckpointUnsigned(
            f"no signature by the expected key {expected}; the note is signed by {present}",
            expected=expected,
        )
    return note
