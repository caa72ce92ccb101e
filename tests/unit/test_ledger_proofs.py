"""Merkle proofs at random sizes (Hypothesis), the appender against the reference root at every
size, the O(log n) read bound, and what happens when stored nodes are lost or altered."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chatkeeper.ledger import (
    SHA256,
    CompactRange,
    MemoryNodeStore,
    MerkleLog,
    Node,
    consistency_node_ids,
    inclusion_node_ids,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from chatkeeper.ledger.errors import NodeConflict, NodeMissing, ProofInvalid, TreeRangeError

N = 700
LEAF_HASHES = [leaf_hash(hashlib.sha256(i.to_bytes(4, "big")).digest()) for i in range(N)]


def _build() -> tuple[MemoryNodeStore, list[bytes]]:
    """A memory store holding the N-leaf tree, and the appender's root after every append."""
    store, frontier, roots = MemoryNodeStore(), CompactRange(), [SHA256.empty_root]
    for value in LEAF_HASHES:
        store.put_many(frontier.append(value))
        roots.append(frontier.root())
    return store, roots


STORE, ROOTS = _build()


def flip_hash(value: bytes, byte: int) -> bytes:
    """``value`` with the lowest bit of one byte flipped."""
    changed = bytearray(value)
    changed[byte % len(changed)] ^= 0x01
    return bytes(changed)


def flip(proof: list[bytes], position: int, byte: int) -> list[bytes]:
    """``proof`` with one bit of one byte of one hash flipped."""
    return [*proof[:position], flip_hash(proof[position], byte), *proof[position + 1 :]]


sizes = st.integers(min_value=1, max_value=N)


@st.composite
def leaf_in_tree(draw: st.DrawFn) -> tuple[int, int]:
    """A tree size and a leaf index inside it."""
    size = draw(sizes)
    return draw(st.integers(0, size - 1)), size


@st.composite
def prefix_pair(draw: st.DrawFn) -> tuple[int, int]:
    """An old size and a new size, 1 ≤ old ≤ new ≤ N."""
    new = draw(sizes)
    return draw(st.integers(1, new)), new


class TestAppender:
    """GIVEN leaves appended one by one THEN the root is the reference MTH at every size."""

    def test_agrees_with_reference_at_every_size(self) -> None:
        for size in range(N + 1):
            assert ROOTS[size] == root(LEAF_HASHES[:size]), size

    def test_store_holds_every_complete_subtree_and_nothing_else(self) -> None:
        assert len(STORE) == 2 * N - N.bit_count()

    @pytest.mark.parametrize("size", [0, 1, 2, 3, 255, 256, 257, 511, 699])
    def test_frontier_rebuilt_from_store_continues_identically(self, size: int) -> None:
        rebuilt = CompactRange.from_store(size, STORE.get)
        assert rebuilt.root() == ROOTS[size]
        rebuilt.extend(LEAF_HASHES[size:])
        assert rebuilt.root() == ROOTS[N]

    def test_append_emits_leaf_then_completed_parents(self) -> None:
        frontier = CompactRange()
        frontier.extend(LEAF_HASHES[:7])
        nodes = frontier.append(LEAF_HASHES[7])
        assert [(n.level, n.index) for n in nodes] == [(0, 7), (1, 3), (2, 1), (3, 0)]
        assert nodes[-1].hash == root(LEAF_HASHES[:8])

    def test_wrong_length_leaf_hash_is_refused(self) -> None:
        with pytest.raises(TreeRangeError, match="32"):
            CompactRange().append(b"short")


class TestInclusionProperties:
    """GIVEN any leaf of any tree size WHEN its proof is made from stored nodes THEN it verifies,
    and nothing else verifies with it."""

    @settings(max_examples=300, deadline=None)
    @given(leaf_in_tree())
    def test_every_proof_verifies(self, case: tuple[int, int]) -> None:
        index, size = case
        proof = inclusion_proof(index, size, STORE.get)
        verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[size])

    @settings(max_examples=200, deadline=None)
    @given(leaf_in_tree(), st.data())
    def test_another_index_fails(self, case: tuple[int, int], data: st.DataObject) -> None:
        index, size = case
        other = data.draw(st.integers(0, size - 1))
        assume(other != index)
        proof = inclusion_proof(index, size, STORE.get)
        with pytest.raises(ProofInvalid):
            verify_inclusion(LEAF_HASHES[index], other, size, proof, ROOTS[size])
        with pytest.raises(ProofInvalid):
            verify_inclusion(LEAF_HASHES[other], index, size, proof, ROOTS[size])

    @settings(max_examples=200, deadline=None)
    @given(leaf_in_tree(), sizes)
    def test_another_size_fails(self, case: tuple[int, int], other: int) -> None:
        index, size = case
        assume(other != size and index < other)
        proof = inclusion_proof(index, size, STORE.get)
        with pytest.raises(ProofInvalid):
            verify_inclusion(LEAF_HASHES[index], index, other, proof, ROOTS[other])
        with pytest.raises(ProofInvalid):
            verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[other])

    @settings(max_examples=200, deadline=None)
    @given(leaf_in_tree(), st.data())
    def test_a_flipped_byte_fails(self, case: tuple[int, int], data: st.DataObject) -> None:
        index, size = case
        proof = inclusion_proof(index, size, STORE.get)
        byte = data.draw(st.integers(0, 31))
        if proof:
            tampered = flip(proof, data.draw(st.integers(0, len(proof) - 1)), byte)
            with pytest.raises(ProofInvalid):
                verify_inclusion(LEAF_HASHES[index], index, size, tampered, ROOTS[size])
        with pytest.raises(ProofInvalid):
            verify_inclusion(flip_hash(LEAF_HASHES[index], byte), index, size, proof, ROOTS[size])
        with pytest.raises(ProofInvalid):
            verify_inclusion(LEAF_HASHES[index], index, size, proof, flip_hash(ROOTS[size], byte))

    @settings(max_examples=100, deadline=None)
    @given(leaf_in_tree())
    def test_reads_are_logarithmic(self, case: tuple[int, int]) -> None:
        index, size = case
        before = STORE.reads
        inclusion_proof(index, size, STORE.get)
        reads = STORE.reads - before
        assert reads == len(inclusion_node_ids(index, size))
        assert reads <= 2 * size.bit_length()


class TestInclusionPlan:
    """GIVEN every leaf of every tree up to 300 leaves WHEN its path is planned from the bits
    THEN it names exactly the nodes the RFC 6962 descent reaches, in the same order."""

    def test_the_plan_equals_the_recursive_definition(self) -> None:
        from chatkeeper.ledger.ranges import inclusion_ranges, range_node_ids

        for size in range(1, 301):
            for index in range(size):
                expected = [
                    node
                    for lo, hi in inclusion_ranges(index, size)
                    for node in range_node_ids(lo, hi)
                ]
                assert inclusion_node_ids(index, size) == expected, (index, size)

    def test_the_path_from_fetched_nodes_is_the_proof(self) -> None:
        from chatkeeper.ledger import inclusion_path, inclusion_plan

        for size in (1, 2, 3, 5, 8, 13, 255, 256, 257, N):
            for index in range(0, size, max(1, size // 17)):
                plan = inclusion_plan(index, size)
                nodes = {node: STORE.get(*node) for node in plan.node_ids()}
                assert inclusion_path(plan, nodes) == inclusion_proof(index, size, STORE.get)

    def test_a_node_missing_from_the_fetch_is_named(self) -> None:
        from chatkeeper.ledger import inclusion_path, inclusion_plan

        plan = inclusion_plan(5, 8)
        nodes = {node: STORE.get(*node) for node in plan.node_ids()[1:]}
        with pytest.raises(NodeMissing, match=r"node \(0, 4\)"):
            inclusion_path(plan, nodes)

    @pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (0, 0)])
    def test_a_leaf_outside_the_tree_is_refused(self, index: int, size: int) -> None:
        with pytest.raises(TreeRangeError):
            inclusion_node_ids(index, size)


class TestConsistencyProperties:
    """GIVEN any two sizes WHEN the consistency proof is made THEN it verifies, and nothing
    else does."""

    @settings(max_examples=300, deadline=None)
    @given(prefix_pair())
    def test_every_proof_verifies(self, case: tuple[int, int]) -> None:
        old, new = case
        proof = MerkleLog(STORE, size=N).consistency_proof(old, new)
        verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)

    @settings(max_examples=200, deadline=None)
    @given(prefix_pair(), sizes)
    def test_another_old_size_or_root_fails(self, case: tuple[int, int], other: int) -> None:
        old, new = case
        assume(other != old and other <= new)
        proof = MerkleLog(STORE, size=N).consistency_proof(old, new)
        with pytest.raises(ProofInvalid):
            verify_consistency(other, new, ROOTS[other], ROOTS[new], proof)
        with pytest.raises(ProofInvalid):
            verify_consistency(old, new, ROOTS[other], ROOTS[new], proof)

    @settings(max_examples=200, deadline=None)
    @given(prefix_pair(), sizes)
    def test_another_new_size_or_root_fails(self, case: tuple[int, int], other: int) -> None:
        old, new = case
        assume(other != new and other >= old)
        proof = MerkleLog(STORE, size=N).consistency_proof(old, new)
        with pytest.raises(ProofInvalid):
            verify_consistency(old, other, ROOTS[old], ROOTS[other], proof)
        with pytest.raises(ProofInvalid):
            verify_consistency(old, new, ROOTS[old], ROOTS[other], proof)

    @settings(max_examples=200, deadline=None)
    @given(prefix_pair(), st.data())
    def test_a_flipped_byte_fails(self, case: tuple[int, int], data: st.DataObject) -> None:
        old, new = case
        proof = MerkleLog(STORE, size=N).consistency_proof(old, new)
        assume(proof)
        tampered = flip(proof, data.draw(st.integers(0, len(proof) - 1)), data.draw(st.integers()))
        with pytest.raises(ProofInvalid):
            verify_consistency(old, new, ROOTS[old], ROOTS[new], tampered)

    @settings(max_examples=100, deadline=None)
    @given(prefix_pair())
    def test_reads_are_logarithmic(self, case: tuple[int, int]) -> None:
        old, new = case
        before = STORE.reads
        MerkleLog(STORE, size=N).consistency_proof(old, new)
        reads = STORE.reads - before - N.bit_count()  # minus the frontier rebuild
        assert reads == len(consistency_node_ids(old, new))
        assert reads <= 2 * new.bit_length() + 1


class TestVerifierEdgeCases:
    """GIVEN the cases RFC 9162 leaves to callers THEN each is decided and names why."""

    def test_index_outside_tree(self) -> None:
        with pytest.raises(ProofInvalid, match="not in a tree of 4"):
            verify_inclusion(LEAF_HASHES[4], 4, 4, [], ROOTS[4])

    def test_wrong_length_proof_names_expected_count(self) -> None:
        proof = inclusion_proof(5, 8, STORE.get)
        with pytest.raises(ProofInvalid, match=r"has 2 hashes; .* has 3"):
            verify_inclusion(LEAF_HASHES[5], 5, 8, proof[:2], ROOTS[8])
        with pytest.raises(ProofInvalid, match="has 4 hashes"):
            verify_inclusion(LEAF_HASHES[5], 5, 8, [*proof, proof[0]], ROOTS[8])

    def test_wrong_root_is_named(self) -> None:
        proof = inclusion_proof(5, 8, STORE.get)
        with pytest.raises(ProofInvalid, match="differs from the expected root"):
            verify_inclusion(LEAF_HASHES[5], 5, 8, proof, ROOTS[7])

    def test_short_hash_in_proof_is_named(self) -> None:
        with pytest.raises(ProofInvalid, match="proof hash 0 has 31 bytes"):
            verify_inclusion(LEAF_HASHES[0], 0, 2, [LEAF_HASHES[1][:31]], ROOTS[2])

    def test_equal_sizes_need_empty_proof_and_equal_roots(self) -> None:
        verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
        with pytest.raises(ProofInvalid, match="has 1 hashes"):
            verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])
        with pytest.raises(ProofInvalid, match="old root"):
            verify_consistency(5, 5, ROOTS[4], ROOTS[5], [])

    def test_empty_old_tree_is_a_prefix_of_every_tree(self) -> None:
        verify_consistency(0, 9, SHA256.empty_root, ROOTS[9], [])
        with pytest.raises(ProofInvalid, match="old root"):
            verify_consistency(0, 9, ROOTS[1], ROOTS[9], [])

    def test_shrinking_tree_fails(self) -> None:
        with pytest.raises(ProofInvalid, match="cannot be a prefix"):
            verify_consistency(9, 8, ROOTS[9], ROOTS[8], [])

    def test_old_and_new_root_are_told_apart(self) -> None:
        proof = MerkleLog(STORE, size=N).consistency_proof(3, 8)
        with pytest.raises(ProofInvalid, match="old root"):
            verify_consistency(3, 8, ROOTS[2], ROOTS[8], proof)
        with pytest.raises(ProofInvalid, match="new root"):
            verify_consistency(3, 8, ROOTS[3], ROOTS[9], proof)

    def test_proof_requests_outside_the_tree_are_refused(self) -> None:
        log = MerkleLog(STORE, size=N)
        with pytest.raises(TreeRangeError):
            log.inclusion_proof(8, 8)
        with pytest.raises(TreeRangeError):
            log.inclusion_proof(0, N + 1)
        with pytest.raises(TreeRangeError):
            log.consistency_proof(9, 8)


class TestStoreTampering:
    """GIVEN a stored tree WHEN a node is altered, lost or overwritten THEN it shows."""

    def _small(self) -> tuple[MemoryNodeStore, MerkleLog]:
        store = MemoryNodeStore()
        log = MerkleLog(store)
        log.append_many(LEAF_HASHES[:13])
        return store, log

    def test_altered_node_breaks_proofs_against_the_signed_root(self) -> None:
        store, log = self._small()
        signed_root = log.root()
        store.replace(1, 1, bytes(32))  # leaves 2-3
        proof = log.inclusion_proof(0, 13)
        with pytest.raises(ProofInvalid, match="differs from the expected root"):
            verify_inclusion(LEAF_HASHES[0], 0, 13, proof, signed_root)

    def test_altered_leaf_hash_is_not_included(self) -> None:
        store, log = self._small()
        signed_root = log.root()
        store.replace(0, 6, leaf_hash(b"forged"))
        proof = log.inclusion_proof(6, 13)
        with pytest.raises(ProofInvalid):
            verify_inclusion(leaf_hash(b"forged"), 6, 13, proof, signed_root)

    def test_missing_node_is_named(self) -> None:
        with pytest.raises(NodeMissing, match=r"node \(0, 5\) is not stored"):
            inclusion_proof(4, 6, MemoryNodeStore().get)
        nodes: dict[tuple[int, int], bytes] = {}
        with pytest.raises(NodeMissing, match=r"node \(0, 5\) is not stored"):
            inclusion_proof(4, 6, lambda level, index: nodes[(level, index)])

    def test_overwriting_a_stored_node_is_refused(self) -> None:
        store, _ = self._small()
        store.put_many([Node(0, 3, LEAF_HASHES[3])])  # same value: a harmless retry
        with pytest.raises(NodeConflict, match=r"node \(0, 3\)"):
            store.put_many([Node(0, 3, LEAF_HASHES[4])])

    def test_failed_write_leaves_the_log_at_its_stored_size(self) -> None:
        store = RefusingStore()
        log = MerkleLog(store)
        log.append_many(LEAF_HASHES[:5])
        store.refuse = True
        with pytest.raises(NodeConflict):
            log.append_many(LEAF_HASHES[5:9])
        assert (log.size, log.root()) == (5, ROOTS[5])
        store.refuse = False
        log.append_many(LEAF_HASHES[5:9])
        assert log.root() == ROOTS[9]


class RefusingStore(MemoryNodeStore):
    """A memory store whose writes fail on demand, as a database write can."""

    __slots__ = ("refuse",)

    def __init__(self) -> None:
        super().__init__()
        self.refuse = False

    def put_many(self, nodes: Iterable[Node]) -> None:
        """Refuse the write when asked to, else store."""
        if self.refuse:
            raise NodeConflict("write refused")
        super().put_many(nodes)
