"""The hash algorithm registry: SHA-256 by default, SM3 through OpenSSL, clear errors otherwise,
and an SM3 log that works end to end and never passes for a SHA-256 one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from chatkeeper.ledger import (
    SHA256,
    CompactRange,
    MemoryNodeStore,
    MerkleLog,
    hash_algorithm,
    hashing,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from chatkeeper.ledger.errors import HashAlgorithmUnavailable, HashAlgorithmUnknown, ProofInvalid

SM3_AVAILABLE = "sm3" in hashlib.algorithms_available
needs_sm3 = pytest.mark.skipif(not SM3_AVAILABLE, reason="this Python's OpenSSL has no SM3")


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    """Forget cached look-ups before and after, so a patched constructor is seen and undone."""
    hash_algorithm.cache_clear()
    yield
    hash_algorithm.cache_clear()


class TestRegistry:
    """GIVEN an algorithm name WHEN looked up THEN it is the right function or a clear error."""

    def test_sha256_is_the_default(self) -> None:
        assert hash_algorithm("sha256") == SHA256
        assert SHA256.digest(b"abc") == hashlib.sha256(b"abc").digest()
        assert SHA256.leaf(b"x") == hashlib.sha256(b"\x00x").digest()
        assert SHA256.node(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()

    @needs_sm3
    def test_sm3_matches_the_gbt_32905_example(self) -> None:
        sm3 = hash_algorithm("sm3")
        assert sm3.digest(b"abc").hex() == (
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        )
        assert sm3.digest_size == 32

    def test_unknown_name_lists_the_valid_ones(self) -> None:
        with pytest.raises(HashAlgorithmUnknown, match="valid: sha256, sm3") as caught:
            hash_algorithm("md5")
        assert caught.value.code == "hash_algorithm_unknown"

    def test_sm3_missing_from_openssl_is_a_clear_error(
        self, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
    ) -> None:
        def no_sm3(data: bytes) -> hashlib._Hash:
            raise ValueError("unsupported hash type sm3")

        monkeypatch.setitem(hashing._CONSTRUCTORS, "sm3", no_sm3)
        with pytest.raises(HashAlgorithmUnavailable, match="not offered by this Python's OpenSSL"):
            hash_algorithm("sm3")


@needs_sm3
class TestSm3Log:
    """GIVEN a log whose algorithm is SM3 THEN all its hashing is SM3, and SHA-256 proofs fail."""

    def test_appender_agrees_with_reference_at_every_size(self) -> None:
        sm3 = hash_algorithm("sm3")
        leaves = [leaf_hash(bytes([i]), sm3) for i in range(70)]
        frontier = CompactRange(sm3)
        for size, value in enumerate(leaves, start=1):
            frontier.append(value)
            assert frontier.root() == root(leaves[:size], sm3)
        assert frontier.root() != root([leaf_hash(bytes([i])) for i in range(70)])

    def test_proofs_verify_under_sm3_only(self) -> None:
        sm3 = hash_algorithm("sm3")
        leaves = [leaf_hash(bytes([i]), sm3) for i in range(21)]
        log = MerkleLog(MemoryNodeStore(), sm3)
        log.append_many(leaves)
        proof = log.inclusion_proof(13)
        verify_inclusion(leaves[13], 13, 21, proof, log.root(), sm3)
        with pytest.raises(ProofInvalid):
            verify_inclusion(leaves[13], 13, 21, proof, log.root(), SHA256)
        consistency = log.consistency_proof(6, 21)
        verify_consistency(6, 21, log.root(6), log.root(), consistency, sm3)
        with pytest.raises(ProofInvalid):
            verify_consistency(6, 21, log.root(6), log.root(), consistency, SHA256)
