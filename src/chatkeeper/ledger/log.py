"""A Merkle log over a node store: the appender and the proofs behind one object.

The caller (the ledger service) owns the transaction and the log's size: it reads the size it last
committed, opens ``MerkleLog(store, algorithm, size)``, appends in the transaction that writes the
rows the leaves commit to, and records the new size in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from chatkeeper.ledger.errors import TreeRangeError
from chatkeeper.ledger.hashing import SHA256, HashAlgorithm
from chatkeeper.ledger.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    tree_root,
)
from chatkeeper.ledger.store import NodeStore


class MerkleLog:
    """An append-only Merkle log whose complete subtrees live in a ``NodeStore``."""

    __slots__ = ("_range", "_store")

    def __init__(self, store: NodeStore, algorithm: HashAlgorithm = SHA256, size: int = 0) -> None:
        self._store = store
        # The frontier is rebuilt from stored nodes, never kept apart, so it cannot drift from them.
        self._range = CompactRange.from_store(size, store.get, algorithm)

    @property
    def size(self) -> int:
        """The number of leaves in the log."""
        return self._range.size

    @property
    def algorithm(self) -> HashAlgorithm:
        """The log's hash algorithm."""
        return self._range.algorithm

    def append_many(self, leaf_hashes: Iterable[bytes]) -> int:
        """Append leaf hashes; return the index of the first one.

        The new nodes are computed on a copy of the frontier and adopted only once the store has
        taken them, so a failed write leaves this object at the size the store still has.
        """
        first = self._range.size
        pending = self._range.copy()
        nodes = pending.extend(leaf_hashes)
        self._store.put_many(nodes)
        self._range = pending
        return first

    def root(self, size: int | None = None) -> bytes:
        """The root at ``size`` (default: now); any earlier size costs ≤ log2 n reads."""
        if size is None or size == self.size:
            return self._range.root()
        self._check_size(size)
        return tree_root(size, self._store.get, self.algorithm)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The inclusion proof of leaf ``index`` in the tree of ``size`` (default: now)."""
        size = self.size if size is None else size
        self._check_size(size)
        return inclusion_proof(index, size, self._store.get, self.algorithm)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The consistency proof from ``old_size`` to ``new_size`` (default: now)."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size)
        return consistency_proof(old_size, new_size, self._store.get, self.algorithm)

    def _check_size(self, size: int) -> None:
        """Refuse a size beyond the log: its right-border nodes do not exist yet."""
        if not 0 <= size <= self.size:
            raise TreeRangeError(
                f"tree size {size} is outside the log (0 to {self.size})", size=size
            )
