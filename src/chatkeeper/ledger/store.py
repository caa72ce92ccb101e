"""The node store port, and an in-memory implementation for tests and benchmarks.

The ledger keeps the hash of every complete subtree (docs/ledger.md, "Storage layout"). The store
behind this port (a SQL table, tiles in object storage) only has to read and write those hashes by
``(level, index)``; it needs to know nothing about Merkle trees.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from chatkeeper.ledger.errors import NodeConflict, NodeMissing
from chatkeeper.ledger.merkle import Node


@runtime_checkable
class NodeStore(Protocol):
    """Where a log's complete-subtree hashes live.

    Implementations write ``put_many`` in the caller's transaction (the same one as the rows the
    leaves commit to), and must never change a stored node: stored nodes are immutable, and a
    write that would change one raises ``NodeConflict`` (writing the same value again is allowed,
    so a retried transaction is harmless).
    """

    def get(self, level: int, index: int) -> bytes:
        """The hash of node ``(level, index)``; ``NodeMissing`` if it is not stored."""
        ...

    def put_many(self, nodes: Iterable[Node]) -> None:
        """Store new nodes (as emitted by the appender); ``NodeConflict`` if one would change."""
        ...


class MemoryNodeStore:
    """A ``NodeStore`` in memory: one list of hashes per level.

    Nodes of a level are created left to right, so each level is a list indexed by position; this
    keeps a million-leaf tree (two million nodes) to about 150 MB, a third of a dict's cost.
    """

    __slots__ = ("_levels", "reads")

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = []
        self.reads = 0
        """How many ``get`` calls were made: lets tests check the O(log n) read bound."""

    def get(self, level: int, index: int) -> bytes:
        """The hash of node ``(level, index)``; ``NodeMissing`` if it is not stored."""
        self.reads += 1
        if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
            return self._levels[level][index]
        raise NodeMissing(f"node ({level}, {index}) is not stored", level=level, index=index)

    def put_many(self, nodes: Iterable[Node]) -> None:
        """Store new nodes, appended per level; refuse gaps and changes to stored nodes."""
        for node in nodes:
            while len(self._levels) <= node.level:
                self._levels.append([])
            row = self._levels[node.level]
            if node.index == len(row):
                row.append(node.hash)
            elif node.index < len(row) and node.index >= 0:
                if row[node.index] != node.hash:
                    raise NodeConflict(
                        f"node ({node.level}, {node.index}) is stored with another hash",
                        level=node.level,
                        index=node.index,
                    )
            else:
                # A gap would mean the appender and the store disagree about the tree's size.
                raise NodeMissing(
                    f"node ({node.level}, {node.index}) comes after a missing node "
                    f"({node.level}, {len(row)})",
                    level=node.level,
                    index=len(row),
                )

    def replace(self, level: int, index: int, value: bytes) -> None:
        """Overwrite a stored node, bypassing the immutability check: for tamper tests only."""
        self._levels[level][index] = value

    def __len__(self) -> int:
        """How many nodes are stored."""
        return sum(len(row) for row in self._levels)
