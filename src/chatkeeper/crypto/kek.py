"""Key-encryption keys: the port, the wrapped-key format (``CKW`` version 1) and rotation.

Layout (docs/crypto.md, "Wrapped data key")::

    "CKW" | version 0x01 | scheme | len(kek id) | kek id | data key suite id | len(key id) | key id
    | body

The scheme is the KEK's suite id when the KEK's material is in this process (key file,
environment), or ``0x80`` when a KMS holds it. The header is authenticated with the body, so a
wrapped key moved to another key's row, or relabelled with another suite, does not unwrap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chatkeeper.crypto.errors import CiphertextMalformed, InvalidKey, KeyMismatch, UnwrapFailed
from chatkeeper.crypto.keys import DataKey
from chatkeeper.crypto.suites import AeadFailure, suite_by_id, suite_named
from chatkeeper.crypto.wire import Reader, encode_id, length_prefixed

WRAP_MAGIC = b"CKW"
WRAP_VERSION = 1
#: The scheme byte of a key wrapped by a KMS plug-in; suite ids stay below 0x80.
KMS_SCHEME = 0x80
_WHAT = "wrapped key"


class KeyEncryptionKey(Protocol):
    """A KEK: wraps data keys for storage and unwraps them for use.

    Implementations: :class:`~chatkeeper.crypto.keyfile.LocalKeyFile`,
    :class:`~chatkeeper.crypto.environment.EnvironmentKek`, :class:`~chatkeeper.crypto.kms.KmsKek`.
    """

    @property
    def kek_id(self) -> str:
        """The id written into every key this KEK wraps."""
        ...

    def wrap(self, data_key: DataKey) -> bytes:
        """``data_key`` encrypted under this KEK, its id and suite bound as associated data."""
        ...

    def unwrap(self, wrapped: bytes, key_id: str, suite: str) -> DataKey:
        """The data key ``key_id`` of ``suite`` from ``wrapped``, or an error."""
        ...


@dataclass(frozen=True, slots=True)
class WrappedHeader:
    """What a wrapped key says about itself: which KEK can unwrap it, and which data key it is."""

    version: int
    scheme: str  # the KEK's suite name, or "kms"
    kek_id: str
    suite: str
    key_id: str


@dataclass(frozen=True, slots=True)
class ParsedWrapped:
    """A wrapped key split into its header (as parsed and as bytes) and its scheme's body."""

    header: WrappedHeader
    header_bytes: bytes
    body: bytes

    def check(self, kek_id: str, key_id: str, suite: str) -> None:
        """Refuse, before any decryption, a key wrapped by another KEK or for another key/suite."""
        found = self.header
        if found.kek_id != kek_id:
            raise KeyMismatch(
                f"data key {found.key_id} is wrapped under KEK {found.kek_id}; "
                f"this KEK is {kek_id}",
                needs=found.kek_id,
                supplied=kek_id,
            )
        if found.key_id != key_id or found.suite != suite:
            raise KeyMismatch(
                f"wrapped key is data key {found.key_id} ({found.suite}); "
                f"{key_id} ({suite}) was asked for",
                needs=found.key_id,
                supplied=key_id,
            )


def wrapped_header(scheme: int, kek_id: str, data_key: DataKey) -> bytes:
    """The header bytes of a key wrapped by ``kek_id`` under ``scheme``."""
    return (
        WRAP_MAGIC
        + bytes((WRAP_VERSION, scheme))
        + length_prefixed(encode_id(kek_id, "KEK id"))
        + bytes((suite_named(data_key.suite).suite_id,))
        + length_prefixed(encode_id(data_key.key_id, "data key id"))
    )


def parse_wrapped(wrapped: bytes) -> ParsedWrapped:
    """Split ``wrapped`` into header and body; :class:`CiphertextMalformed` if it is not one."""
    reader = Reader(wrapped, _WHAT)
    version = reader.expect(WRAP_MAGIC, WRAP_VERSION)
    scheme_id = reader.byte()
    scheme_suite = suite_by_id(scheme_id)
    if scheme_id != KMS_SCHEME and scheme_suite is None:
        raise CiphertextMalformed(f"wrapped key names unknown scheme 0x{scheme_id:02x}")
    kek_id = reader.ident()
    suite_id = reader.byte()
    suite = suite_by_id(suite_id)
    if suite is None:
        raise CiphertextMalformed(f"wrapped key names unknown suite id 0x{suite_id:02x}")
    key_id = reader.ident()
    header_bytes = wrapped[: reader.offset]
    scheme = scheme_suite.name if scheme_suite is not None else "kms"
    header = WrappedHeader(version, scheme, kek_id, suite.name, key_id)
    return ParsedWrapped(header, header_bytes, reader.rest())


def peek_wrapped(wrapped: bytes) -> WrappedHeader:
    """The header of a wrapped key, read without the KEK (e.g. to pick the KEK during rotation)."""
    return parse_wrapped(wrapped).header


def rewrap(wrapped: bytes, old_kek: KeyEncryptionKey, new_kek: KeyEncryptionKey) -> bytes:
    """``wrapped`` re-encrypted from ``old_kek`` to ``new_kek``; the data key itself is unchanged.

    This is KEK rotation: ciphertexts stay as they are, only the key store's rows change. Once
    every row is rewrapped, destroying ``old_kek`` makes old key store backups unreadable.
    """
    header = peek_wrapped(wrapped)
    return new_kek.wrap(old_kek.unwrap(wrapped, header.key_id, header.suite))


class SymmetricKek:
    """A KEK whose material is held in this process: the base of the key-file and environment KEKs.

    Wrapping is the KEK suite's AEAD over the data key's material, with the wrapped-key header and
    the nonces as associated data; the body is ``nonces ‖ ciphertext ‖ tags``.
    """

    __slots__ = ("_kek_id", "_material", "_suite")

    def __init__(self, kek_id: str, suite: str, material: bytes) -> None:
        encode_id(kek_id, "KEK id")
        expected = suite_named(suite).key_size
        if len(material) != expected:
            raise InvalidKey(
                f"KEK {kek_id} has {len(material)} bytes of material; {suite} needs {expected}",
                kek_id=kek_id,
            )
        self._kek_id = kek_id
        self._suite = suite
        self._material = material

    def __repr__(self) -> str:
        # Never the material: a KEK in a log line or traceback would undo every wrapping.
        return f"{type(self).__name__}(kek_id={self._kek_id!r}, suite={self._suite!r})"

    @property
    def kek_id(self) -> str:
        """The id written into every key this KEK wraps."""
        return self._kek_id

    @property
    def suite(self) -> str:
        """The suite this KEK wraps with."""
        return self._suite

    def wrap(self, data_key: DataKey) -> bytes:
        """``data_key`` encrypted under this KEK, its id and suite bound as associated data."""
        suite = suite_named(self._suite)
        nonces = suite.new_nonces()
        header = wrapped_header(suite.suite_id, self._kek_id, data_key) + nonces
        return header + suite.seal(self._material, nonces, data_key.material, header)

    def unwrap(self, wrapped: bytes, key_id: str, suite: str) -> DataKey:
        """The data key ``key_id`` of ``suite`` from ``wrapped``, or an error naming the cause."""
        parsed = parse_wrapped(wrapped)
        parsed.check(self._kek_id, key_id, suite)
        own = suite_named(self._suite)
        if parsed.header.scheme != own.name:
            raise KeyMismatch(
                f"data key {key_id} was wrapped with {parsed.header.scheme}; "
                f"KEK {self._kek_id} uses {own.name}",
                needs=parsed.header.scheme,
                supplied=own.name,
            )
        if len(parsed.body) < own.nonce_size + own.overhead:
            raise CiphertextMalformed("wrapped key is truncated")
        nonces = parsed.body[: own.nonce_size]
        try:
            material = own.open(
                self._material, nonces, parsed.body[own.nonce_size :], parsed.header_bytes + nonces
            )
        except AeadFailure as exc:
            raise UnwrapFailed(
                f"data key {key_id} did not unwrap under KEK {self._kek_id}: the wrapped key "
                "was altered or the KEK is not the one that wrapped it",
                key_id=key_id,
                kek_id=self._kek_id,
            ) from exc
        return DataKey(key_id, suite, material)
