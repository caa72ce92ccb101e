"""Algorithm suites: published test vectors, the suite table and the layered construction."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from chatkeeper.crypto.errors import UnknownSuite
from chatkeeper.crypto.suites import (
    AES_256_GCM,
    AES_256_GCM_SM4_GCM,
    DEFAULT_SUITE,
    SM4_GCM,
    SUITES,
    AeadFailure,
    suite_by_id,
    suite_named,
)

# GB/T 32907-2016 (GM/T 0002-2012) example 1: one block, key = plaintext.
SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
SM4_BLOCK_CIPHERTEXT = bytes.fromhex("681edf34d206965e86b3e94f536e4246")

# RFC 8998 appendix A.1: AEAD_SM4_GCM.
RFC8998_NONCE = bytes.fromhex("00001234567800000000abcd")
RFC8998_AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
RFC8998_PLAINTEXT = bytes.fromhex(
    "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
    "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
)
RFC8998_CIPHERTEXT = bytes.fromhex(
    "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
    "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
)
RFC8998_TAG = bytes.fromhex("83de3541e4c2b58177e065a9bf7b62ec")

# NIST GCM specification (McGrew & Viega), test case 16: AES-256, 60-byte plaintext, 20-byte AAD.
AES_KEY = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
AES_NONCE = bytes.fromhex("cafebabefacedbaddecaf888")
AES_AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
AES_PLAINTEXT = bytes.fromhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
)
AES_CIPHERTEXT = bytes.fromhex(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
)
AES_TAG = bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")


class TestPublishedVectors:
    """The primitives under each suite compute the published standards, not look-alikes."""

    def test_sm4_block_cipher_matches_gbt_32907_example(self) -> None:
        # GIVEN the standard's key and plaintext WHEN encrypted as one SM4 block
        encryptor = Cipher(algorithms.SM4(SM4_KEY), modes.ECB()).encryptor()
        block = encryptor.update(SM4_KEY) + encryptor.finalize()
        # THEN the standard's ciphertext comes out
        assert block == SM4_BLOCK_CIPHERTEXT

    def test_sm4_gcm_layer_matches_rfc_8998_a1(self) -> None:
        (layer,) = suite_named(SM4_GCM).layers
        sealed = layer.seal(SM4_KEY, RFC8998_NONCE, RFC8998_PLAINTEXT, RFC8998_AAD)
        assert sealed == RFC8998_CIPHERTEXT + RFC8998_TAG
        opened = layer.open(SM4_KEY, RFC8998_NONCE, sealed, RFC8998_AAD)
        assert opened == RFC8998_PLAINTEXT

    def test_sm4_gcm_layer_rejects_rfc_8998_vector_with_a_flipped_tag_bit(self) -> None:
        (layer,) = suite_named(SM4_GCM).layers
        bad_tag = bytes([RFC8998_TAG[0] ^ 1]) + RFC8998_TAG[1:]
        with pytest.raises(AeadFailure):
            layer.open(SM4_KEY, RFC8998_NONCE, RFC8998_CIPHERTEXT + bad_tag, RFC8998_AAD)

    def test_sm4_gcm_layer_rejects_a_shortened_tag(self) -> None:
        (layer,) = suite_named(SM4_GCM).layers
        with pytest.raises(AeadFailure):
            layer.open(SM4_KEY, RFC8998_NONCE, RFC8998_CIPHERTEXT + RFC8998_TAG[:12], RFC8998_AAD)

    def test_aes_256_gcm_layer_matches_gcm_spec_test_case_16(self) -> None:
        (layer,) = suite_named(AES_256_GCM).layers
        sealed = layer.seal(AES_KEY, AES_NONCE, AES_PLAINTEXT, AES_AAD)
        assert sealed == AES_CIPHERTEXT + AES_TAG
        assert layer.open(AES_KEY, AES_NONCE, sealed, AES_AAD) == AES_PLAINTEXT


class TestSuiteTable:
    """The suite table of docs/crypto.md: ids, key sizes, nonces and overhead."""

    @pytest.mark.parametrize(
        ("name", "suite_id", "key_size", "nonce_size", "overhead"),
        [
            (AES_256_GCM, 0x01, 32, 12, 16),
            (SM4_GCM, 0x02, 16, 12, 16),
            (AES_256_GCM_SM4_GCM, 0x03, 48, 24, 32),
        ],
    )
    def test_suite_parameters(
        self, name: str, suite_id: int, key_size: int, nonce_size: int, overhead: int
    ) -> None:
        suite = suite_named(name)
        assert (suite.suite_id, suite.key_size, suite.nonce_size, suite.overhead) == (
            suite_id,
            key_size,
            nonce_size,
            overhead,
        )
        assert suite_by_id(suite_id) is suite

    def test_default_is_aes_256_gcm_and_listed_first(self) -> None:
        assert DEFAULT_SUITE == AES_256_GCM == SUITES[0]

    @pytest.mark.parametrize("name", ["AES-128-GCM", "sm4-gcm", "", "SM4-GCM+AES-256-GCM"])
    def test_unknown_suite_names_the_valid_ones(self, name: str) -> None:
        with pytest.raises(UnknownSuite) as raised:
            suite_named(name)
        assert all(valid in raised.value.message for valid in SUITES)
        assert raised.value.code == "suite_unknown"

    @pytest.mark.parametrize("suite_id", [0x00, 0x04, 0x80, 0xFF])
    def test_unknown_or_reserved_ids_have_no_suite(self, suite_id: int) -> None:
        assert suite_by_id(suite_id) is None


class TestLayeredSuite:
    """AES-256-GCM inside, SM4-GCM outside, independent keys, both tags checked."""

    def test_layers_are_aes_then_sm4_with_the_documented_key_split(self) -> None:
        suite = suite_named(AES_256_GCM_SM4_GCM)
        aes_key, sm4_key = bytes(range(32)), bytes(range(100, 116))
        nonces = bytes(range(200, 224))
        sealed = suite.seal(aes_key + sm4_key, nonces, b"message", b"aad")
        # Peel the outer SM4-GCM layer by hand, then the inner AES-256-GCM one.
        aes_layer, sm4_layer = suite.layers
        inner = sm4_layer.open(sm4_key, nonces[12:], sealed, b"aad")
        assert aes_layer.open(aes_key, nonces[:12], inner, b"aad") == b"message"

    def test_a_valid_outer_layer_around_a_tampered_inner_layer_is_refused(self) -> None:
        suite = suite_named(AES_256_GCM_SM4_GCM)
        aes_key, sm4_key = bytes(32), bytes(16)
        nonces = bytes(24)
        aes_layer, sm4_layer = suite.layers
        inner = aes_layer.seal(aes_key, nonces[:12], b"message", b"aad")
        tampered = bytes([inner[0] ^ 1]) + inner[1:]
        # The SM4 tag is genuine (recomputed over the tampered inner layer) ...
        resealed = sm4_layer.seal(sm4_key, nonces[12:], tampered, b"aad")
        # ... and the AES tag still catches the change.
        with pytest.raises(AeadFailure):
            suite.open(aes_key + sm4_key, nonces, resealed, b"aad")
