"""The ciphertext blob: round trips, peek, every named tamper case, and nonce uniqueness."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatkeeper.crypto import SUITES, DataKey, decrypt, encrypt, generate_data_key, peek
from chatkeeper.crypto.envelope import MAGIC, VERSION
from chatkeeper.crypto.errors import (
    CiphertextMalformed,
    CryptoError,
    DecryptionFailed,
    KeyMismatch,
)
from chatkeeper.crypto.suites import NONCE_SIZE, TAG_SIZE, suite_named

KEYS = {suite: generate_data_key(suite) for suite in SUITES}
MESSAGE = "您好，我的订单 2025030112345 还没发货，手机 13800138000。".encode()
CONTEXT = b"msg-000123"


def key_for(suite: str) -> DataKey:
    """The module's data key for ``suite``."""
    return KEYS[suite]


def header_size(key: DataKey) -> int:
    """Bytes from the magic to the last nonce for a blob under ``key``."""
    return 6 + len(key.key_id) + suite_named(key.suite).nonce_size


def flip(blob: bytes, index: int) -> bytes:
    """``blob`` with the lowest bit of byte ``index`` flipped."""
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


@pytest.fixture(params=SUITES)
def key(request: pytest.FixtureRequest) -> DataKey:
    """A data key of each suite in turn."""
    return key_for(request.param)


class TestRoundTrip:
    """GIVEN a data key of any suite WHEN a message is encrypted THEN it decrypts to itself."""

    def test_message_round_trips(self, key: DataKey) -> None:
        assert decrypt(encrypt(MESSAGE, key, CONTEXT), key, CONTEXT) == MESSAGE

    def test_empty_plaintext_and_empty_context_round_trip(self, key: DataKey) -> None:
        assert decrypt(encrypt(b"", key), key) == b""

    def test_blob_layout_and_size(self, key: DataKey) -> None:
        blob = encrypt(MESSAGE, key, CONTEXT)
        suite = suite_named(key.suite)
        assert blob[:3] == MAGIC and blob[3] == VERSION and blob[4] == suite.suite_id
        assert blob[6 : 6 + blob[5]] == key.key_id.encode()
        assert len(blob) == header_size(key) + len(MESSAGE) + suite.overhead

    def test_ciphertext_does_not_contain_the_plaintext_or_context(self, key: DataKey) -> None:
        blob = encrypt(MESSAGE, key, CONTEXT)
        assert b"13800138000" not in blob and CONTEXT not in blob

    def test_two_encryptions_of_one_message_differ(self, key: DataKey) -> None:
        assert encrypt(MESSAGE, key, CONTEXT) != encrypt(MESSAGE, key, CONTEXT)

    def test_peek_names_version_suite_and_key_without_a_key(self, key: DataKey) -> None:
        header = peek(encrypt(MESSAGE, key, CONTEXT))
        assert (header.version, header.suite, header.key_id) == (1, key.suite, key.key_id)


@given(
    plaintext=st.binary(max_size=2048),
    context=st.binary(max_size=64),
    suite=st.sampled_from(SUITES),
)
def test_property_round_trip_and_context_binding(
    plaintext: bytes, context: bytes, suite: str
) -> None:
    """Any plaintext and context round-trip; any other context is refused."""
    key = key_for(suite)
    blob = encrypt(plaintext, key, context)
    assert decrypt(blob, key, context) == plaintext
    with pytest.raises(DecryptionFailed):
        decrypt(blob, key, context + b"\x00")


class TestTamper:
    """Every change to a blob, or to what it is decrypted with, raises; none returns bytes."""

    def test_flipped_magic_byte(self, key: DataKey) -> None:
        with pytest.raises(CiphertextMalformed, match="magic"):
            decrypt(flip(encrypt(MESSAGE, key), 0), key)

    def test_flipped_version_byte(self, key: DataKey) -> None:
        with pytest.raises(CiphertextMalformed, match="version"):
            decrypt(flip(encrypt(MESSAGE, key), 3), key)

    def test_suite_byte_set_to_an_unknown_id(self, key: DataKey) -> None:
        blob = encrypt(MESSAGE, key)
        with pytest.raises(CiphertextMalformed, match="unknown suite"):
            decrypt(blob[:4] + b"\x7f" + blob[5:], key)

    def test_suite_byte_changed_to_another_suite(self, key: DataKey) -> None:
        blob = encrypt(MESSAGE, key)
        other = next(s for s in SUITES if s != key.suite)
        relabelled = blob[:4] + bytes([suite_named(other).suite_id]) + blob[5:]
        with pytest.raises(CryptoError):
            decrypt(relabelled, key)

    def test_flipped_key_id_byte(self, key: DataKey) -> None:
        with pytest.raises(KeyMismatch):
            decrypt(flip(encrypt(MESSAGE, key), 7), key)

    def test_flipped_header_byte_with_a_key_relabelled_to_match(self, key: DataKey) -> None:
        # The strongest header case: the key id now differs, and the caller even supplies a key
        # under that id with the right material. Only the header binding can catch it.
        blob = flip(encrypt(MESSAGE, key), 7)
        relabelled = DataKey(peek(blob).key_id, key.suite, key.material)
        with pytest.raises(DecryptionFailed):
            decrypt(blob, relabelled)

    @pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag"])
    def test_flipped_byte(self, key: DataKey, where: str) -> None:
        blob = encrypt(MESSAGE, key, CONTEXT)
        start = header_size(key)
        index = {
            "nonce": start - NONCE_SIZE,  # the first byte of the (last) nonce
            "ciphertext": start + 3,
            "tag": len(blob) - 1,
        }[where]
        with pytest.raises(DecryptionFailed):
            decrypt(flip(blob, index), key, CONTEXT)

    def test_every_single_byte_flip_is_refused(self, key: DataKey) -> None:
        blob = encrypt(b"short", key, CONTEXT)
        for index in range(len(blob)):
            with pytest.raises(CryptoError):
                decrypt(flip(blob, index), key, CONTEXT)

    def test_truncated_at_every_length(self, key: DataKey) -> None:
        blob = encrypt(MESSAGE, key, CONTEXT)
        for length in range(len(blob)):
            with pytest.raises((CiphertextMalformed, DecryptionFailed)):
                decrypt(blob[:length], key, CONTEXT)

    def test_truncated_below_the_tags_is_reported_as_truncated(self, key: DataKey) -> None:
        blob = encrypt(b"", key)
        with pytest.raises(CiphertextMalformed, match="truncated"):
            decrypt(blob[: header_size(key) + TAG_SIZE - 1], key)

    def test_extended_by_one_byte(self, key: DataKey) -> None:
        with pytest.raises(DecryptionFailed):
            decrypt(encrypt(MESSAGE, key, CONTEXT) + b"\x00", key, CONTEXT)

    def test_wrong_context(self, key: DataKey) -> None:
        # A blob copied from message 123's row into message 124's row does not decrypt there.
        with pytest.raises(DecryptionFailed):
            decrypt(encrypt(MESSAGE, key, b"msg-000123"), key, b"msg-000124")

    def test_context_missing_on_decrypt(self, key: DataKey) -> None:
        with pytest.raises(DecryptionFailed):
            decrypt(encrypt(MESSAGE, key, CONTEXT), key)

    def test_wrong_key_material_under_the_same_id(self, key: DataKey) -> None:
        impostor = generate_data_key(key.suite, key_id=key.key_id)
        with pytest.raises(DecryptionFailed):
            decrypt(encrypt(MESSAGE, key), impostor)

    def test_wrong_key(self, key: DataKey) -> None:
        other = generate_data_key(key.suite)
        with pytest.raises(KeyMismatch, match=key.key_id):
            decrypt(encrypt(MESSAGE, key), other)

    def test_wrong_suite(self, key: DataKey) -> None:
        other_suite = next(s for s in SUITES if s != key.suite)
        other = generate_data_key(other_suite, key_id=key.key_id)
        with pytest.raises(KeyMismatch, match="is " + other_suite):
            decrypt(encrypt(MESSAGE, key), other)

    def test_blob_moved_between_key_ids(self, key: DataKey) -> None:
        # GIVEN two conversations' keys with ids of the same length
        first = generate_data_key(key.suite, key_id="conv-0001")
        second = generate_data_key(key.suite, key_id="conv-0002")
        blob = encrypt(MESSAGE, first, CONTEXT)
        # WHEN the blob is relabelled to the second key's id
        moved = blob.replace(b"conv-0001", b"conv-0002", 1)
        assert peek(moved).key_id == "conv-0002"
        # THEN neither the second key nor the first key's material under the new id opens it
        for candidate in (second, DataKey("conv-0002", key.suite, first.material)):
            with pytest.raises(DecryptionFailed):
                decrypt(moved, candidate, CONTEXT)

    @pytest.mark.parametrize("blob", [b"", b"CK", b"CKE", b"XYZ\x01", b"CKW\x01\x01\x01a"])
    def test_peek_refuses_what_is_not_a_blob(self, blob: bytes) -> None:
        with pytest.raises(CiphertextMalformed):
            peek(blob)


class TestErrors:
    """Errors are stable codes whose messages carry no plaintext, context or key material."""

    def test_decryption_failure_code_and_message(self, key: DataKey) -> None:
        with pytest.raises(DecryptionFailed) as raised:
            decrypt(encrypt(MESSAGE, key, CONTEXT), key, b"msg-999")
        error = raised.value
        assert error.to_dict()["code"] == "decryption_failed"
        assert key.key_id in error.message
        text = repr(error.to_dict())
        assert "msg-" not in text and "13800138000" not in text and key.material.hex() not in text

    def test_key_mismatch_and_malformed_codes(self, key: DataKey) -> None:
        with pytest.raises(KeyMismatch) as mismatch:
            decrypt(encrypt(MESSAGE, key), generate_data_key(key.suite))
        with pytest.raises(CiphertextMalformed) as malformed:
            decrypt(b"CKE", key)
        assert mismatch.value.code == "ciphertext_key_mismatch"
        assert malformed.value.code == "ciphertext_malformed"


class TestNonces:
    """Random 96-bit nonces never repeat under one key (docs/crypto.md, "Nonces")."""

    def test_no_nonce_repeats_across_many_encryptions(self, key: DataKey) -> None:
        # One key per conversation: a few thousand messages is a long conversation. A repeat in
        # 10,000 draws of 96 random bits would have probability ~6e-22; seeing one means the RNG
        # or the nonce handling is broken.
        start = header_size(key) - suite_named(key.suite).nonce_size
        end = header_size(key)
        nonces = [encrypt(b"x", key)[start:end] for _ in range(10_000)]
        per_layer = {
            nonce[i : i + NONCE_SIZE] for nonce in nonces for i in range(0, len(nonce), 12)
        }
        assert len(per_layer) == len(nonces) * (len(nonces[0]) // NONCE_SIZE)
