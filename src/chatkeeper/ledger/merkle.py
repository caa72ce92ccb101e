"""The RFC 6962 / RFC 9162 Merkle tree: hashing, the appender, proofs and their verifiers.

Storage model (docs/ledger.md, "Storage layout"): the store keeps the hash of every complete
subtree, node ``(level, index)`` covering leaves ``[index·2^level, (index+1)·2^level)``. Such a
node never changes once written, so one set of stored nodes serves proofs for every tree size up to
the current one. Every hash an RFC 6962 proof needs is either one stored node or, at most once per
proof, a node on the right border of the tree, which is the right fold of at most ``log2 n``
stored nodes. Hence O(log n) reads per proof.

The verifiers need only the proof and the standard library's hash functions; they are written as
the RFC's numbered steps so that they can be checked against the text line by line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from chatkeeper.ledger.errors import NodeMissing, ProofInvalid, TreeRangeError
from chatkeeper.ledger.hashing import SHA256, HashAlgorithm
from chatkeeper.ledger.ranges import (
    InclusionPlan,
    NodeId,
    consistency_proof_size,
    consistency_ranges,
    inclusion_plan,
    inclusion_proof_size,
    range_node_ids,
    split,
)

GetNode = Callable[[int, int], bytes]
"""Reads the stored hash of the complete subtree ``(level, index)``."""


class Node(NamedTuple):
    """A complete subtree's hash: what the appender emits and the node store keeps.

    A named tuple (not a frozen dataclass): ingest makes two per message, and a tuple is
    several times cheaper to build.
    """

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index, on purpose
    hash: bytes


def leaf_hash(data: bytes, algorithm: HashAlgorithm = SHA256) -> bytes:
    """``H(0x00 ‖ data)``: the hash of one leaf's data."""
    return algorithm.leaf(data)


def node_hash(left: bytes, right: bytes, algorithm: HashAlgorithm = SHA256) -> bytes:
    """``H(0x01 ‖ left ‖ right)``: the hash of an inner node."""
    return algorithm.node(left, right)


def root(leaf_hashes: Sequence[bytes], algorithm: HashAlgorithm = SHA256) -> bytes:
    """The Merkle Tree Hash of ``leaf_hashes``, straight from RFC 6962 §2.1's recursive MTH.

    This is the reference the appender and the proofs are tested against; it costs O(n) hashes
    and O(log n) recursion depth.
    """

    def mth(lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi])."""
        if hi - lo == 1:
            return leaf_hashes[lo]
        k = split(hi - lo)
        return algorithm.node(mth(lo, lo + k), mth(lo + k, hi))

    if not leaf_hashes:
        return algorithm.empty_root
    return mth(0, len(leaf_hashes))


def _check_hash(value: bytes, algorithm: HashAlgorithm, what: str) -> None:
    """Refuse a hash whose length is not the algorithm's digest size."""
    if len(value) != algorithm.digest_size:
        raise TreeRangeError(
            f"{what} has {len(value)} bytes; {algorithm.name} hashes have {algorithm.digest_size}"
        )


class CompactRange:
    """The incremental appender: the frontier of the tree, O(log n) hashes.

    The frontier is the complete subtrees for the 1-bits of the size, largest first. Appending a
    leaf merges it with the frontier's trailing subtrees of equal size (one per trailing 1-bit of
    the old size), and each append returns every complete-subtree node it created, for the store.
    """

    __slots__ = ("_algorithm", "_hashes", "_size")

    def __init__(self, algorithm: HashAlgorithm = SHA256) -> None:
        self._algorithm = algorithm
        self._hashes: list[bytes] = []
        self._size = 0

    @classmethod
    def from_store(
        cls, size: int, get_node: GetNode, algorithm: HashAlgorithm = SHA256
    ) -> CompactRange:
        """The frontier of the stored tree of ``size`` leaves: one read per 1-bit of ``size``.

        Rebuilding it from the store (rather than saving it apart) keeps the stored nodes the one
        source of truth after a restart.
        """
        if size < 0:
            raise TreeRangeError(f"tree size {size} is negative")
        frontier = cls(algorithm)
        for level, index in range_node_ids(0, size):
            node = _read(get_node, level, index)
            _check_hash(node, algorithm, f"stored node ({level}, {index})")
            frontier._hashes.append(node)
        frontier._size = size
        return frontier

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def algorithm(self) -> HashAlgorithm:
        """The hash algorithm of this tree."""
        return self._algorithm

    def copy(self) -> CompactRange:
        """An independent copy, for appending tentatively (the copy is kept only if stored)."""
        twin = CompactRange(self._algorithm)
        twin._hashes = list(self._hashes)
        twin._size = self._size
        return twin

    def append(self, leaf_hash: bytes) -> list[Node]:
        """Append one leaf hash; return the leaf node and every parent it completed."""
        _check_hash(leaf_hash, self._algorithm, "leaf hash")
        index = self._size
        nodes = [Node(0, index, leaf_hash)]
        current, level = leaf_hash, 0
        # Each trailing 1-bit of the old size is a frontier subtree of the current node's size
        # sitting just to its left: merge them, bottom up.
        while index & 1:
            current = self._algorithm.node(self._hashes.pop(), current)
            index >>= 1
            level += 1
            nodes.append(Node(level, index, current))
        self._hashes.append(current)
        self._size += 1
        return nodes

    def extend(self, leaf_hashes: Iterable[bytes]) -> list[Node]:
        """Append many leaf hashes; return all the nodes created, in creation order (the
        same as :meth:`append` one by one, in one tight loop: ingest's hot path)."""
        nodes: list[Node] = []
        add = nodes.append
        merge = self._algorithm.node
        frontier = self._hashes
        size = self._size
        width = self._algorithm.digest_size
        for value in leaf_hashes:
            if len(value) != width:
                _check_hash(value, self._algorithm, "leaf hash")
            index = size
            add(Node(0, index, value))
            current, level = value, 0
            while index & 1:
                current = merge(frontier.pop(), current)
                index >>= 1
                level += 1
                add(Node(level, index, current))
            frontier.append(current)
            size += 1
            self._size = size
        return nodes

    def root(self) -> bytes:
        """The root of the tree so far: the right fold of the frontier."""
        if not self._hashes:
            return self._algorithm.empty_root
        return _fold(self._hashes, self._algorithm)


def _fold(hashes: Sequence[bytes], algorithm: HashAlgorithm) -> bytes:
    """``H(h0, H(h1, … H(hk-1, hk)))``: the MTH of a compact range listed largest first."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = algorithm.node(left, result)
    return result


def _read(get_node: GetNode, level: int, index: int) -> bytes:
    """One stored node; a plain ``KeyError`` from a simple callback becomes ``NodeMissing``."""
    try:
        return get_node(level, index)
    except KeyError as exc:
        raise NodeMissing(
            f"node ({level}, {index}) is not stored", level=level, index=index
        ) from exc


def _range_hash(lo: int, hi: int, get_node: GetNode, algorithm: HashAlgorithm) -> bytes:
    """The MTH of leaves ``[lo, hi)`` from stored nodes: one read if complete, else ≤ log2 n."""
    return _fold([_read(get_node, lvl, i) for lvl, i in range_node_ids(lo, hi)], algorithm)


def tree_root(size: int, get_node: GetNode, algorithm: HashAlgorithm = SHA256) -> bytes:
    """The root of the stored tree at any ``size`` up to the current one: ≤ log2 n reads."""
    if size < 0:
        raise TreeRangeError(f"tree size {size} is negative")
    if size == 0:
        return algorithm.empty_root
    return _range_hash(0, size, get_node, algorithm)


def inclusion_proof(
    index: int, size: int, get_node: GetNode, algorithm: HashAlgorithm = SHA256
) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves, leaf to root."""
    plan = inclusion_plan(index, size)
    proof = [_read(get_node, level, i) for level, i in plan.below]
    if plan.border:
        proof.append(_fold([_read(get_node, level, i) for level, i in plan.border], algorithm))
    proof.extend(_read(get_node, level, i) for level, i in plan.above)
    return proof


def inclusion_path(
    plan: InclusionPlan, nodes: Mapping[NodeId, bytes], algorithm: HashAlgorithm = SHA256
) -> list[bytes]:
    """The inclusion path from nodes already read (a store that fetched ``plan``'s in one query).

    ``nodes`` maps each of ``plan.node_ids()`` to its stored hash; a missing one is
    ``NodeMissing``.
    """
    try:
        proof = [nodes[node] for node in plan.below]
        if plan.border:
            proof.append(_fold([nodes[node] for node in plan.border], algorithm))
        proof.extend([nodes[node] for node in plan.above])
    except KeyError as exc:
        level, index = exc.args[0]
        raise NodeMissing(
            f"node ({level}, {index}) is not stored", level=level, index=index
        ) from exc
    return proof


def consistency_proof(
    old_size: int, new_size: int, get_node: GetNode, algorithm: HashAlgorithm = SHA256
) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of that of ``new_size``."""
    ranges = consistency_ranges(old_size, new_size)
    return [_range_hash(lo, hi, get_node, algorithm) for lo, hi in ranges]


def _check_proof(proof: Sequence[bytes], expected: int, what: str, alg: HashAlgorithm) -> None:
    """Refuse a proof of the wrong length or with a hash of the wrong size, saying which."""
    if len(proof) != expected:
        raise ProofInvalid(f"the proof has {len(proof)} hashes; {what} has {expected}")
    for position, value in enumerate(proof):
        if len(value) != alg.digest_size:
            raise ProofInvalid(
                f"proof hash {position} has {len(value)} bytes; {alg.name} hashes have "
                f"{alg.digest_size}"
            )


def _shift_to_odd(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until LSB(fn) is set or fn is 0 (RFC 9162 §2.1.3.2 step 4.b.ii)."""
    while not fn & 1 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    root: bytes,
    algorithm: HashAlgorithm = SHA256,
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    RFC 9162 §2.1.3.2, step by step. Returns nothing; raises ``ProofInvalid`` naming why.
    """
    _check_hash(leaf_hash, algorithm, "leaf hash")
    _check_hash(root, algorithm, "root hash")
    if not 0 <= index < size:  # step 1
        raise ProofInvalid(f"leaf {index} is not in a tree of {size} leaves")
    what = f"an inclusion proof for leaf {index} in a tree of {size}"
    _check_proof(proof, inclusion_proof_size(index, size), what, algorithm)
    fn, sn, r = index, size - 1, leaf_hash  # steps 2 and 3
    for p in proof:  # step 4
        if sn == 0:
            raise ProofInvalid(f"the proof is too long for {what}")
        if fn & 1 or fn == sn:
            r = algorithm.node(p, r)
            fn, sn = _shift_to_odd(fn, sn)
        else:
            r = algorithm.node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # step 5
        raise ProofInvalid(f"the proof is too short for {what}")
    if r != root:
        raise ProofInvalid(
            f"the root computed from leaf {index}'s proof differs from the expected root of the "
            f"tree of {size}"
        )


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
    algorithm: HashAlgorithm = SHA256,
) -> None:
    """Check that the tree of ``old_size`` (``old_root``) is a prefix of that of ``new_size``.

    RFC 9162 §2.1.4.2, step by step, after the edge cases the RFC leaves to callers. Returns
    nothing; raises ``ProofInvalid`` naming why.
    """
    _check_hash(old_root, algorithm, "old root")
    _check_hash(new_root, algorithm, "new root")
    if not 0 <= old_size <= new_size:
        raise ProofInvalid(f"size {old_size} cannot be a prefix of size {new_size}")
    if old_size == new_size or old_size == 0:
        _check_proof(proof, 0, f"a consistency proof from {old_size} to {new_size}", algorithm)
        expected = new_root if old_size else algorithm.empty_root
        if old_root != expected:
            raise ProofInvalid(f"the old root is not the root of the tree of {old_size}")
        return
    what = f"a consistency proof from {old_size} to {new_size}"
    _check_proof(proof, consistency_proof_size(old_size, new_size), what, algorithm)
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: a power of two starts from the old root
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise ProofInvalid(f"the proof is too long for {what}")
        if fn & 1 or fn == sn:
            fr, sr = algorithm.node(c, fr), algorithm.node(c, sr)
            fn, sn = _shift_to_odd(fn, sn)
        else:
            sr = algorithm.node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # step 7
        raise ProofInvalid(f"the proof is too short for {what}")
    if fr != old_root:
        raise ProofInvalid(f"the proof does not lead to the old root (tree of {old_size})")
    if sr != new_root:
        raise ProofInvalid(f"the proof does not lead to the new root (tree of {new_size})")
