"""The tree's hash function, chosen per log: SHA-256 by default, SM3 where the deployment needs it.

Everything the ledger hashes (leaves, inner nodes, ciphertext hashes, content commitments) goes
through one ``HashAlgorithm``, so a log is entirely SHA-256 or entirely SM3 (docs/ledger.md,
"Hashing"). Algorithms are looked up by name rather than assumed, because SM3 comes from OpenSSL
and some builds leave it out: asking for it there is a clear error, not an ``AttributeError`` deep
inside a proof.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from chatkeeper.ledger.errors import HashAlgorithmUnavailable, HashAlgorithmUnknown

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


class Hasher(Protocol):
    """The part of a ``hashlib`` hash object the ledger uses."""

    def digest(self) -> bytes:
        """The digest of the bytes given so far."""
        ...


@dataclass(frozen=True, slots=True)
class HashAlgorithm:
    """A named hash function with a fixed digest size.

    ``new`` is a ``hashlib`` constructor taking the data to hash; it is excluded from equality so
    that two lookups of the same name compare equal.
    """

    name: str
    digest_size: int
    new: Callable[[bytes], Hasher] = field(compare=False, repr=False)

    def digest(self, data: bytes) -> bytes:
        """``H(data)``."""
        return self.new(data).digest()

    def leaf(self, data: bytes) -> bytes:
        """RFC 6962 leaf hash ``H(0x00 ‖ data)``: the prefix keeps a leaf from passing as a node."""
        return self.new(LEAF_PREFIX + data).digest()

    def node(self, left: bytes, right: bytes) -> bytes:
        """RFC 6962 inner node hash ``H(0x01 ‖ left ‖ right)``."""
        return self.new(NODE_PREFIX + left + right).digest()

    @property
    def empty_root(self) -> bytes:
        """``MTH({}) = H()``: the root of the empty tree."""
        return self.new(b"").digest()


# The digest size of every known algorithm, also when this OpenSSL lacks it: a checkpoint or proof
# naming SM3 can still be checked for well-formedness on a machine that cannot compute SM3.
DIGEST_SIZES: dict[str, int] = {"sha256": 32, "sm3": 32}

_CONSTRUCTORS: dict[str, Callable[[bytes], Hasher]] = {
    "sha256": hashlib.sha256,
    "sm3": functools.partial(hashlib.new, "sm3"),
}

DEFAULT_HASH = "sha256"
HASH_ALGORITHMS: tuple[str, ...] = tuple(DIGEST_SIZES)


@functools.cache
def hash_algorithm(name: str) -> HashAlgorithm:
    """The algorithm called ``name`` (``sha256`` or ``sm3``), or an error saying why not.

    Raises ``HashAlgorithmUnknown`` for a name the ledger does not know and
    ``HashAlgorithmUnavailable`` when this Python's OpenSSL does not offer it (SM3 is optional in
    OpenSSL builds).
    """
    constructor = _CONSTRUCTORS.get(name)
    if constructor is None:
        raise HashAlgorithmUnknown(
            f"unknown hash algorithm {name!r}; valid: {', '.join(HASH_ALGORITHMS)}",
            algorithm=name,
            valid=list(HASH_ALGORITHMS),
        )
    try:
        probe = constructor(b"").digest()
    except ValueError as exc:
        raise HashAlgorithmUnavailable(
            f"hash algorithm {name} is not offered by this Python's OpenSSL "
            f"(hashlib.new({name!r}) failed); use an OpenSSL 3 build with {name} or choose "
            f"{DEFAULT_HASH}",
            algorithm=name,
        ) from exc
    if len(probe) != DIGEST_SIZES[name]:
        raise HashAlgorithmUnavailable(
            f"hash algorithm {name} gave a {len(probe)}-byte digest, not {DIGEST_SIZES[name]}",
            algorithm=name,
        )
    return HashAlgorithm(name, DIGEST_SIZES[name], constructor)


SHA256 = hash_algorithm("sha256")
