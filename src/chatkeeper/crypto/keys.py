"""Data keys: the per-conversation (and per-customer) keys that encrypt content.

A data key is random and stands alone: it is never derived from a KEK, another key or an id. That
is what makes crypto-shredding work: once every wrapped copy of a data key is deleted, nothing left
can recompute it (docs/crypto.md, "Crypto-shredding").
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from typing import Any

from chatkeeper.crypto.errors import InvalidKey
from chatkeeper.crypto.suites import DEFAULT_SUITE, suite_named
from chatkeeper.crypto.wire import encode_id


@dataclass(frozen=True, slots=True)
class DataKey:
    """A data key: its id (stored in every ciphertext), its suite and its secret material.

    ``material`` is left out of ``repr`` so that a key never lands in a log or a traceback.
    """

    key_id: str
    suite: str
    material: bytes = field(repr=False)
    # Keyed hashes derived from the material (``envelope.keyed_mac``), made once per key object
    # and gone with it.
    derived: dict[bytes, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __getstate__(self) -> tuple[str, str, bytes]:
        return self.key_id, self.suite, self.material  # not the derived hashes: made again

    def __setstate__(self, state: tuple[str, str, bytes]) -> None:
        for name, value in zip(("key_id", "suite", "material"), state, strict=True):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "derived", {})

    def __post_init__(self) -> None:
        encode_id(self.key_id, "data key id")
        expected = suite_named(self.suite).key_size
        if len(self.material) != expected:
            raise InvalidKey(
                f"data key {self.key_id} has {len(self.material)} bytes of material; "
                f"{self.suite} needs {expected}",
                key_id=self.key_id,
            )


def new_key_id(prefix: str = "dk") -> str:
    """A fresh random id: ``prefix`` + ``_`` + 26 base32 characters (128 random bits).

    Random, not a database or conversation id, so that the id (which every ciphertext carries in
    clear) says nothing about the content it protects.
    """
    token = base64.b32encode(os.urandom(16)).decode("ascii").rstrip("=").lower()
    return f"{prefix}_{token}"


def generate_data_key(suite: str = DEFAULT_SUITE, key_id: str | None = None) -> DataKey:
    """A new random data key for ``suite``, with ``key_id`` or a fresh random id.

    The layered suite's two keys come from one call to the operating system's CSPRNG; its bytes
    are independent and uniform, so the AES and SM4 halves are independent keys.
    """
    size = suite_named(suite).key_size
    return DataKey(key_id if key_id is not None else new_key_id(), suite, os.urandom(size))
