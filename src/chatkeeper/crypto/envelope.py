"""The ciphertext blob (``CKE`` version 1): encrypt, decrypt and peek.

Layout (docs/crypto.md, "Ciphertext blob")::

    "CKE" | version 0x01 | suite id | len(key id) | key id | nonce per layer | ciphertext ‖ tags

Every layer authenticates ``header ‖ context``: the header so that no byte of it (suite, key id,
nonce) can be changed, the caller's context (a message id, a vault entry id) so that a blob copied
into another row does not decrypt there.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatkeeper.crypto.errors import CiphertextMalformed, DecryptionFailed, KeyMismatch
from chatkeeper.crypto.keys import DataKey
from chatkeeper.crypto.suites import AeadFailure, Suite, suite_by_id, suite_named
from chatkeeper.crypto.wire import Reader, encode_id, length_prefixed

MAGIC = b"CKE"
VERSION = 1
_WHAT = "ciphertext"


@dataclass(frozen=True, slots=True)
class Header:
    """What a blob says about itself: its format version, its suite and the data key it needs."""

    version: int
    suite: str
    key_id: str


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A blob split into its parsed header, the header's bytes (for the AAD) and the sealed rest."""

    header: Header
    suite: Suite
    nonces: bytes
    header_bytes: bytes
    sealed: bytes


def encrypt(plaintext: bytes, key: DataKey, context: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` under ``key``; ``context`` must be given again to decrypt.

    ``context`` is authenticated but not stored: pass what identifies the row the blob belongs to
    (for a message original, its message id).
    """
    suite = suite_named(key.suite)
    nonces = suite.new_nonces()
    header = (
        MAGIC
        + bytes((VERSION, suite.suite_id))
        + length_prefixed(encode_id(key.key_id, "data key id"))
        + nonces
    )
    return header + suite.seal(key.material, nonces, plaintext, header + context)


def decrypt(blob: bytes, key: DataKey, context: bytes = b"") -> bytes:
    """The plaintext of ``blob``, or an error; never unauthenticated bytes.

    Raises :class:`CiphertextMalformed` for a blob that is not ours or is truncated,
    :class:`KeyMismatch` when the blob names another key id or suite than ``key``, and
    :class:`DecryptionFailed` when a tag does not verify (tampering, wrong key material, or a
    ``context`` other than the one given to :func:`encrypt`).
    """
    parsed = _parse(blob)
    if parsed.header.key_id != key.key_id:
        raise KeyMismatch(
            f"ciphertext needs data key {parsed.header.key_id}; data key {key.key_id} was supplied",
            needs=parsed.header.key_id,
            supplied=key.key_id,
        )
    if parsed.header.suite != key.suite:
        raise KeyMismatch(
            f"ciphertext is {parsed.header.suite}; data key {key.key_id} is {key.suite}",
            needs=parsed.header.suite,
            supplied=key.suite,
        )
    aad = parsed.header_bytes + context
    try:
        return parsed.suite.open(key.material, parsed.nonces, parsed.sealed, aad)
    except AeadFailure as exc:
        raise DecryptionFailed(
            f"ciphertext under data key {key.key_id} failed authentication: it was altered, "
            "or it belongs to another record (context)",
            key_id=key.key_id,
        ) from exc


def split(blob: bytes) -> tuple[bytes, bytes]:
    """``(header with nonces, sealed rest)`` of ``blob``: what :func:`reseal` needs besides the
    plaintext to make the same blob again."""
    parsed = _parse(blob)
    return parsed.header_bytes, parsed.sealed


def reseal(header: bytes, plaintext: bytes, key: DataKey, context: bytes = b"") -> bytes:
    """The blob :func:`encrypt` made from ``plaintext`` with the nonces in ``header``.

    Every suite is deterministic given its key and nonces, so the same plaintext, key, context
    and header give back the very bytes (and the hash a ledger leaf committed to). Cold storage
    keeps a message's header and plaintext inside a block sealed under the same key, and remakes
    the ciphertext on read; never call this with a plaintext other than the one first sealed
    with these nonces (reusing a nonce for other data breaks GCM).
    """
    parsed = _parse(header + b"\x00" * 64)
    if parsed.header.key_id != key.key_id or parsed.header.suite != key.suite:
        raise KeyMismatch(
            f"header needs data key {parsed.header.key_id} ({parsed.header.suite}); "
            f"data key {key.key_id} ({key.suite}) was supplied",
            needs=parsed.header.key_id,
            supplied=key.key_id,
        )
    if len(parsed.header_bytes) != len(header):
        raise CiphertextMalformed("a ciphertext header has bytes after its nonces")
    return header + parsed.suite.seal(key.material, parsed.nonces, plaintext, header + context)


def peek(blob: bytes) -> Header:
    """The header of ``blob`` (version, suite, key id), read without any key.

    Lets a caller find which data key to unwrap before decrypting. The header is not yet
    authenticated at this point: :func:`decrypt` is what proves it genuine.
    """
    return _parse(blob).header


def _parse(blob: bytes) -> _Parsed:
    """Split ``blob`` per the ``CKE`` layout; :class:`CiphertextMalformed` if it does not fit."""
    reader = Reader(blob, _WHAT)
    version = reader.expect(MAGIC, VERSION)
    suite_id = reader.byte()
    suite = suite_by_id(suite_id)
    if suite is None:
        raise CiphertextMalformed(f"ciphertext names unknown suite id 0x{suite_id:02x}")
    key_id = reader.ident()
    nonces = reader.take(suite.nonce_size)
    header_bytes = blob[: reader.offset]
    sealed = reader.rest()
    # A blob shorter than its tags cannot be genuine; say "truncated" rather than letting it
    # surface as an authentication failure.
    if len(sealed) < suite.overhead:
        raise CiphertextMalformed("ciphertext is truncated")
    return _Parsed(Header(version, suite.name, key_id), suite, nonces, header_bytes, sealed)
