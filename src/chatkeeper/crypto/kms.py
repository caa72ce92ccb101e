"""KMS plug-ins: a KEK held by Aliyun KMS, HashiCorp Vault transit, AWS KMS or another service.

This module holds the interface and a registry, and no network code: an adapter package
implements :class:`KmsClient` for its service and calls :func:`register_kms` once at start-up;
configuration then opens it by name with :func:`open_kms`. Contract and format in docs/crypto.md
("KMS plug-ins", and scheme ``0x80`` of the wrapped key).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Protocol

from chatkeeper.crypto.errors import KekUnavailable, UnwrapFailed
from chatkeeper.crypto.kek import KMS_SCHEME, parse_wrapped, wrapped_header
from chatkeeper.crypto.keys import DataKey
from chatkeeper.crypto.wire import encode_id

_DIGEST_SIZE = hashlib.sha256().digest_size


class KmsClient(Protocol):
    """One master key in one KMS: encrypt and decrypt a few bytes with associated data.

    ``aad`` should be bound by the KMS's own mechanism (Aliyun and AWS ``EncryptionContext``, e.g.
    ``{"chatkeeper": base64(aad)}``; Vault transit ``associated_data``). :class:`KmsKek` binds it
    as well, so an adapter for a KMS without one still gives the guarantee. ``decrypt`` must raise
    (any exception) when the KMS refuses or the ciphertext does not authenticate.
    """

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """The KMS's ciphertext of ``plaintext`` (opaque to ChatKeeper)."""
        ...

    def decrypt(self, ciphertext: bytes, aad: bytes) -> bytes:
        """The plaintext of a ciphertext :meth:`encrypt` returned, or raise."""
        ...


#: ``factory(key_ref, options)``: a client for master key ``key_ref`` (a key id, alias, ARN or
#: Vault key name) configured by the adapter's ``options`` (region, endpoint, credentials source).
KmsFactory = Callable[[str, Mapping[str, str]], KmsClient]

# Filled by adapters at start-up, never at import time of this module.
_REGISTRY: dict[str, KmsFactory] = {}


def register_kms(name: str, factory: KmsFactory) -> None:
    """Make the KMS adapter ``factory`` available as ``name`` (e.g. ``"aliyun"``, ``"vault"``).

    A name can be registered once: a second adapter silently replacing the first would send key
    material to a service nobody configured.
    """
    encode_id(name, "KMS name")
    if name in _REGISTRY:
        raise ValueError(f"a KMS named {name!r} is already registered")
    _REGISTRY[name] = factory


def unregister_kms(name: str) -> None:
    """Remove the adapter ``name`` (for tests and for shutting an adapter down)."""
    _REGISTRY.pop(name, None)


def registered_kms() -> tuple[str, ...]:
    """The names of the registered KMS adapters, sorted."""
    return tuple(sorted(_REGISTRY))


def open_kms(name: str, key_ref: str, options: Mapping[str, str] | None = None) -> KmsKek:
    """The KEK ``key_ref`` in the KMS registered as ``name``."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(registered_kms()) or "none"
        raise KekUnavailable(
            f"no KMS plug-in named {name!r} is registered (registered: {known})", kms=name
        ) from None
    return KmsKek(name, key_ref, factory(key_ref, options or {}))


class KmsKek:
    """A :class:`~chatkeeper.crypto.kek.KeyEncryptionKey` whose key never leaves a KMS.

    The KMS encrypts ``SHA-256(header) ‖ material``; unwrapping checks the hash, so the data key's
    id and suite stay bound even if the adapter cannot pass associated data to its KMS.
    """

    __slots__ = ("_client", "_kek_id", "_name")

    def __init__(self, name: str, key_ref: str, client: KmsClient) -> None:
        self._name = name
        self._kek_id = f"kms:{name}:{key_ref}"
        encode_id(self._kek_id, "KEK id")
        self._client = client

    def __repr__(self) -> str:
        return f"KmsKek(kek_id={self._kek_id!r})"

    @property
    def kek_id(self) -> str:
        """``kms:<name>:<key_ref>``, written into every key this KEK wraps."""
        return self._kek_id

    def wrap(self, data_key: DataKey) -> bytes:
        """``data_key`` encrypted by the KMS, its id and suite bound twice (AAD and hash)."""
        header = wrapped_header(KMS_SCHEME, self._kek_id, data_key)
        try:
            body = self._client.encrypt(hashlib.sha256(header).digest() + data_key.material, header)
        except Exception as exc:
            raise KekUnavailable(
                f"KMS {self._name} did not wrap data key {data_key.key_id}: {type(exc).__name__}",
                kms=self._name,
            ) from exc
        return header + body

    def unwrap(self, wrapped: bytes, key_id: str, suite: str) -> DataKey:
        """The data key ``key_id`` of ``suite`` from ``wrapped``, decrypted by the KMS."""
        parsed = parse_wrapped(wrapped)
        parsed.check(self._kek_id, key_id, suite)
        try:
            plain = self._client.decrypt(parsed.body, parsed.header_bytes)
        except Exception as exc:
            raise UnwrapFailed(
                f"KMS {self._name} refused to unwrap data key {key_id}: {type(exc).__name__}",
                key_id=key_id,
                kek_id=self._kek_id,
            ) from exc
        digest, material = plain[:_DIGEST_SIZE], plain[_DIGEST_SIZE:]
        if not hmac.compare_digest(digest, hashlib.sha256(parsed.header_bytes).digest()):
            raise UnwrapFailed(
                f"data key {key_id} from KMS {self._name} does not match its wrapped-key header",
                key_id=key_id,
                kek_id=self._kek_id,
            )
        return DataKey(key_id, suite, material)
