"""The ciphertext blob (``CKE`` version 1): encrypt, decrypt and peek.

Layout (docs/crypto.md, "Ciphertext blob")::

    "CKE" | version 0x01 | suite id | len(key id) | key id | nonce per layer | ciphertext ‖ tags

Every layer authenticates ``header ‖ context``: the header so that no byte of it (suite, key id,
nonce) can be changed, the caller's context (a message id, a vault entry id) so that a blob copied
into another row does not decrypt there.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

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


def encrypt(
    plaintext: bytes, key: DataKey, context: bytes = b"", *, derived: bool = False
) -> bytes:
    """Encrypt ``plaintext`` under ``key``; ``context`` must be given again to decrypt.

    ``context`` is authenticated but not stored: pass what identifies the row the blob belongs to
    (for a message original, its message id).

    With ``derived`` the nonces are not random but :func:`derived_nonces` of the key, header,
    context and plaintext (a synthetic IV, as in SIV modes): the same inputs give the same blob,
    different plaintexts different nonces, so a nonce never meets two plaintexts. Cold storage
    then keeps a message's plaintext alone and remakes its blob; a reader cannot tell the two
    kinds apart and decrypts both the same way.
    """
    suite = suite_named(key.suite)
    prefix = header_prefix(key)
    if derived:
        nonces = derived_nonces(key, prefix, context, plaintext, suite.nonce_size)
    else:
        nonces = suite.new_nonces()
    header = prefix + nonces
    return header + suite.seal(key.material, nonces, plaintext, header + context)


def subkey(key: DataKey, purpose: bytes) -> bytes:
    """A 32-byte key for ``purpose`` derived from a data key (HMAC-SHA256 as a PRF), so that
    the data key's own material serves one algorithm only; gone when the data key is."""
    return hmac.new(key.material, b"chatkeeper.subkey.v1\x00" + purpose, hashlib.sha256).digest()


def keyed_mac(key: DataKey, purpose: bytes) -> hmac.HMAC:
    """A fresh HMAC-SHA256 under ``subkey(key, purpose)``; the keyed state is made once per key
    object and copied (sealing a batch derives two values per message under one key)."""
    base = key.derived.get(purpose)
    if base is None:
        base = key.derived[purpose] = hmac.new(subkey(key, purpose), digestmod=hashlib.sha256)
    return base.copy()


def derived_nonces(
    key: DataKey, prefix: bytes, context: bytes, plaintext: bytes, size: int
) -> bytes:
    """The nonces :func:`encrypt` uses with ``derived``: HMAC-SHA256 under the key's ``siv``
    subkey of the header before the nonces, the context's length and bytes, and the plaintext."""
    mac = keyed_mac(key, b"siv")
    mac.update(prefix)
    mac.update(len(context).to_bytes(4, "big") + context)
    mac.update(plaintext)
    digest = mac.digest()
    while len(digest) < size:  # pragma: no cover - no suite needs more than 32 bytes
        digest += hashlib.sha256(digest).digest()
    return digest[:size]


def header_prefix(key: DataKey) -> bytes:
    """The header bytes before the nonces for a blob under ``key``."""
    return _prefix(key.key_id, key.suite)


@lru_cache(maxsize=4096)
def _prefix(key_id: str, suite_name: str) -> bytes:
    suite = suite_named(suite_name)
    key = length_prefixed(encode_id(key_id, "data key id"))
    return MAGIC + bytes((VERSION, suite.suite_id)) + key


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
    prefix = header_prefix(key)
    suite = suite_named(key.suite)
    if not header.startswith(prefix) or len(header) != len(prefix) + suite.nonce_size:
        needs = peek(header + bytes(64)).key_id if header.startswith(MAGIC) else "?"
        raise KeyMismatch(
            f"header needs data key {needs}; data key {key.key_id} ({key.suite}) was supplied",
            needs=needs,
            supplied=key.key_id,
        )
    return header + suite.seal(key.material, header[len(prefix) :], plaintext, header + context)


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
