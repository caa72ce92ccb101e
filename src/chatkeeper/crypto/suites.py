"""Algorithm suites: stacks of AEAD layers, each named by a one-byte id in every blob.

A suite is one or more AEAD layers (AES-256-GCM, SM4-GCM). Its key material is the layers' keys
concatenated in layer order; each layer gets its own nonce; sealing applies layer 1 first. The
table of ids is in ``docs/crypto.md`` and never changes meaning: a new algorithm gets a new id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chatkeeper.crypto.errors import UnknownSuite

AES_256_GCM = "AES-256-GCM"
SM4_GCM = "SM4-GCM"
AES_256_GCM_SM4_GCM = "AES-256-GCM+SM4-GCM"
DEFAULT_SUITE = AES_256_GCM

#: 96-bit nonces: GCM's native size (no GHASH of the IV) and the size NIST SP 800-38D §8.2.2 sets
#: for random IVs. Random rather than counter nonces, so a key needs no stored state; the bound on
#: encryptions per key that this implies is argued in docs/crypto.md ("Nonces").
NONCE_SIZE = 12
#: Full 128-bit tags only: truncated GCM tags weaken forgery resistance (SP 800-38D appendix C).
TAG_SIZE = 16


class AeadFailure(Exception):
    """A layer's tag did not verify. Internal: callers turn it into a ChatKeeper error."""


class Aead(Protocol):
    """One authenticated-encryption primitive: a key size, a nonce size, seal and open."""

    @property
    def name(self) -> str:
        """The layer's algorithm, as written in docs/crypto.md."""
        ...

    @property
    def key_size(self) -> int:
        """Bytes of key this layer takes."""
        ...

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt and authenticate; the result is ciphertext followed by the tag."""
        ...

    def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        """Verify and decrypt; raise :class:`AeadFailure` if the tag does not verify."""
        ...


@lru_cache(maxsize=256)
def _aesgcm(key: bytes) -> AESGCM:
    # The key schedule costs as much as sealing a short message; a batch uses the same few
    # keys for thousands of messages. The cache holds keys this process already holds.
    return AESGCM(key)


@dataclass(frozen=True, slots=True)
class _AesGcm:
    """AES-256 in GCM through ``cryptography``'s one-shot AESGCM (OpenSSL underneath)."""

    name: str = "AES-256-GCM"
    key_size: int = 32

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt ``plaintext``; returns ciphertext ‖ 16-byte tag."""
        return _aesgcm(key).encrypt(nonce, plaintext, aad)

    def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        """Decrypt ``sealed`` (ciphertext ‖ tag) or raise :class:`AeadFailure`."""
        try:
            return _aesgcm(key).decrypt(nonce, sealed, aad)
        except InvalidTag as exc:
            raise AeadFailure(self.name) from exc


@dataclass(frozen=True, slots=True)
class _Sm4Gcm:
    """SM4 (GB/T 32907) in standard GCM, i.e. RFC 8998's AEAD_SM4_GCM, computed by OpenSSL.

    ``cryptography`` has no one-shot SM4 AEAD class, but its generic ``Cipher`` accepts
    ``algorithms.SM4`` with ``modes.GCM``; OpenSSL then does CTR + GHASH exactly as for AES. The
    RFC 8998 A.1 vector in the tests pins that this really is SM4-GCM.
    """

    name: str = "SM4-GCM"
    key_size: int = 16

    def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt ``plaintext``; returns ciphertext ‖ 16-byte tag."""
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        body = encryptor.update(plaintext) + encryptor.finalize()
        return body + encryptor.tag

    def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        """Decrypt ``sealed`` (ciphertext ‖ tag) or raise :class:`AeadFailure`."""
        if len(sealed) < TAG_SIZE:
            raise AeadFailure(self.name)
        body, tag = sealed[:-TAG_SIZE], sealed[-TAG_SIZE:]
        # min_tag_length=16: without it a shortened tag from a tampered blob would be accepted as
        # a legitimately truncated one.
        mode = modes.GCM(nonce, tag, min_tag_length=TAG_SIZE)
        decryptor = Cipher(algorithms.SM4(key), mode).decryptor()
        decryptor.authenticate_additional_data(aad)
        # The streaming API yields bytes from update() before the tag is checked; they are only
        # returned once finalize() has verified the tag, so unauthenticated plaintext never leaks.
        plaintext = decryptor.update(body)
        try:
            decryptor.finalize()
        except InvalidTag as exc:
            raise AeadFailure(self.name) from exc
        return plaintext


_AES = _AesGcm()
_SM4 = _Sm4Gcm()


@dataclass(frozen=True, slots=True)
class Suite:
    """A named stack of AEAD layers; ``layers[0]`` is innermost."""

    name: str
    suite_id: int
    layers: tuple[Aead, ...]

    @property
    def key_size(self) -> int:
        """Bytes of key material: the layers' key sizes added up."""
        return sum(layer.key_size for layer in self.layers)

    @property
    def nonce_size(self) -> int:
        """Bytes of nonces in a header: one nonce per layer."""
        return NONCE_SIZE * len(self.layers)

    @property
    def overhead(self) -> int:
        """Bytes a sealed message has beyond its plaintext: one tag per layer."""
        return TAG_SIZE * len(self.layers)

    def new_nonces(self) -> bytes:
        """Fresh random nonces for every layer, from the operating system's CSPRNG."""
        return os.urandom(self.nonce_size)

    def seal(self, material: bytes, nonces: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """Apply every layer, innermost first, each under its own key and nonce and ``aad``."""
        if len(self.layers) == 1:  # the common case, without building the per-layer split
            return self.layers[0].seal(material, nonces, plaintext, aad)
        data = plaintext
        for layer, key, nonce in self._split(material, nonces):
            data = layer.seal(key, nonce, data, aad)
        return data

    def open(self, material: bytes, nonces: bytes, sealed: bytes, aad: bytes) -> bytes:
        """Remove every layer, outermost first; raise :class:`AeadFailure` on any bad tag."""
        data = sealed
        for layer, key, nonce in reversed(self._split(material, nonces)):
            data = layer.open(key, nonce, data, aad)
        return data

    def _split(self, material: bytes, nonces: bytes) -> list[tuple[Aead, bytes, bytes]]:
        """Each layer with its slice of the key material and its nonce, innermost first."""
        parts: list[tuple[Aead, bytes, bytes]] = []
        offset = 0
        for index, layer in enumerate(self.layers):
            key = material[offset : offset + layer.key_size]
            nonce = nonces[index * NONCE_SIZE : (index + 1) * NONCE_SIZE]
            parts.append((layer, key, nonce))
            offset += layer.key_size
        return parts


# The ids are written into every blob and wrapped key: never renumber, only add.
_SUITES = (
    Suite(AES_256_GCM, 0x01, (_AES,)),
    Suite(SM4_GCM, 0x02, (_SM4,)),
    # AES inside, SM4 outside: a reader of the stored bytes sees an SM4-GCM ciphertext, which is
    # what a national-standard audit checks; AES protects the plaintext should SM4 fail.
    Suite(AES_256_GCM_SM4_GCM, 0x03, (_AES, _SM4)),
)
_BY_NAME = {suite.name: suite for suite in _SUITES}
_BY_ID = {suite.suite_id: suite for suite in _SUITES}

#: The suite names, default first.
SUITES: tuple[str, ...] = tuple(suite.name for suite in _SUITES)


def suite_named(name: str) -> Suite:
    """The suite called ``name``; :class:`UnknownSuite` naming the valid ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownSuite(
            f"unknown encryption suite {name!r}; valid suites: {', '.join(SUITES)}", suite=name
        ) from None


def suite_by_id(suite_id: int) -> Suite | None:
    """The suite with wire id ``suite_id``, or ``None`` for an id this version does not know."""
    return _BY_ID.get(suite_id)
