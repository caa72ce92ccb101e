"""Cold records: a message row in, the same row and the very same ciphertext out.

The ledger leaf of a message commits to the hash of its stored ciphertext, so a cold record must
give back those bytes exactly; and it must leave out what can be derived (salt, nonces, the
masked text's digest), or cold storage would not be cheaper than hot.
"""

from __future__ import annotations

import base64

import pytest

from chatkeeper.crypto import (
    AES_256_GCM,
    AES_256_GCM_SM4_GCM,
    SM4_GCM,
    decrypt,
    encrypt,
    generate_data_key,
    reseal,
    split,
)
from chatkeeper.crypto.errors import KeyMismatch
from chatkeeper.store import original
from chatkeeper.store.cold import (
    F_DIGEST,
    F_NONCE,
    F_SALT,
    FORM_NONE,
    FORM_SEALED,
    FORM_VERBATIM,
    decode_record,
    decode_records,
    encode_record,
    ext_hash,
    restore,
)

SUITES = (AES_256_GCM, SM4_GCM, AES_256_GCM_SM4_GCM)


def _row(n: int, key_id: str | None, **extra: object) -> dict:
    row = {
        "id": (1_740_000_000_000 + n * 1000) << 12 | n, "conversation_id": 7,
        "platform_id": 1, "platform": "webchat", "external_id": f"m-{n}",
        "sent_at": 1_740_000_000_000 + n * 1000, "utc_offset": 480, "sender_role": "customer",
        "sender_id": 3, "agent_id": 2, "msgtype": "text", "kind": "message",
        "text": "手机138****5678，请退款", "recalled_at": None, "payload": None, "raw": None,
        "ingest_run_id": 1, "ciphertext": None, "key_id": key_id, "ledger_index": 40 + n,
    }  # fmt: skip
    row.update(extra)
    return row


def _sealed(row: dict, key, *, derived: bool, salt: bytes | None = None) -> bytes:
    context = f"{row['platform']}:{row['external_id']}".encode()
    packed = original.pack(
        salt or original.derived_salt(key, context), "手机13812345678，请退款", row["text"],
        None, None, None, "王小明",
    )  # fmt: skip
    row["ciphertext"] = encrypt(packed, key, context, derived=derived)
    return packed


class TestReseal:
    @pytest.mark.parametrize("suite", SUITES)
    def test_header_and_plaintext_give_back_the_same_blob(self, suite: str) -> None:
        key = generate_data_key(suite)
        blob = encrypt(b"original", key, b"webchat:m-1")
        header, _ = split(blob)
        assert reseal(header, b"original", key, b"webchat:m-1") == blob

    @pytest.mark.parametrize("suite", SUITES)
    def test_derived_nonces_are_deterministic_and_follow_the_plaintext(self, suite: str) -> None:
        key = generate_data_key(suite)
        one = encrypt(b"original", key, b"ctx", derived=True)
        assert one == encrypt(b"original", key, b"ctx", derived=True)
        other = encrypt(b"originaL", key, b"ctx", derived=True)
        assert split(one)[0] != split(other)[0]  # another plaintext, other nonces
        assert split(one)[0] != split(encrypt(b"original", key, b"ctx2", derived=True))[0]
        assert decrypt(one, key, b"ctx") == b"original"

    def test_a_key_with_derived_hashes_still_pickles(self) -> None:
        """Keys cross to the reader process; the cached keyed hashes are made again there."""
        import pickle

        key = generate_data_key()
        blob = encrypt(b"original", key, b"ctx", derived=True)
        copy = pickle.loads(pickle.dumps(key))
        assert copy == key and encrypt(b"original", copy, b"ctx", derived=True) == blob

    def test_a_header_under_another_key_is_refused(self) -> None:
        key, other = generate_data_key(), generate_data_key()
        header, _ = split(encrypt(b"x", key))
        with pytest.raises(KeyMismatch):
            reseal(header, b"x", other)


class TestRecords:
    @pytest.mark.parametrize("suite", SUITES)
    def test_a_derived_original_leaves_out_salt_digest_and_nonces(self, suite: str) -> None:
        key = generate_data_key(suite)
        row = _row(1, key.key_id)
        packed = _sealed(row, key, derived=True)
        record = encode_record(row, packed, key)
        assert base64.b64encode(original.derived_salt(key, b"webchat:m-1")) not in record
        assert split(row["ciphertext"])[0] not in record
        message = decode_record(record, 7)
        assert message.flags == F_DIGEST | F_SALT | F_NONCE
        restore(message, key, "webchat")
        assert message.original == packed
        assert reseal(message.header, message.original, key, b"webchat:m-1") == row["ciphertext"]
        expected = {k: v for k, v in row.items() if k not in ("platform", "ciphertext")}
        assert {k: v for k, v in message.row.items() if k != "ciphertext"} == expected

    def test_a_random_salt_and_nonce_are_kept(self) -> None:
        key = generate_data_key()
        row = _row(2, key.key_id)
        packed = _sealed(row, key, derived=False, salt=bytes(range(32)))
        message = decode_record(encode_record(row, packed, key), 7)
        assert message.flags == F_DIGEST  # salt and nonces stay in the record
        restore(message, key, "webchat")
        assert reseal(message.header, message.original, key, b"webchat:m-2") == row["ciphertext"]

    def test_an_edited_masked_text_keeps_its_recorded_digest(self) -> None:
        """The digest is left out only when the row's text still matches it: an edit of the
        readable text stays detectable after the move."""
        key = generate_data_key()
        row = _row(3, key.key_id)
        packed = _sealed(row, key, derived=True)
        row["text"] = "edited"
        message = decode_record(encode_record(row, packed, key), 7)
        assert not message.flags & F_DIGEST
        restore(message, key, "webchat")
        assert message.original == packed

    def test_without_an_original_and_verbatim(self) -> None:
        row = _row(4, None)
        record = encode_record(row, None, None)
        assert f",{FORM_NONE}]".encode() in record
        empty = decode_record(record, 7)
        assert empty.row["ciphertext"] is None and empty.original is None
        key = generate_data_key()
        row = _row(5, key.key_id, ciphertext=b"CKE-not-a-real-blob")
        message = decode_record(encode_record(row, None, key), 7)
        assert message.row["ciphertext"] == b"CKE-not-a-real-blob"
        assert FORM_VERBATIM < FORM_SEALED

    def test_a_block_writes_ids_leaves_and_keys_as_differences(self) -> None:
        key, other = generate_data_key(), generate_data_key()
        rows = [_row(n, key.key_id if n < 3 else other.key_id) for n in range(5)]
        rows[2]["ledger_index"] = None
        records, previous = [], None
        for row in rows:
            records.append(encode_record(row, None, None, previous))
            previous = row
        back = decode_records(records, 7)
        for row, message in zip(rows, back, strict=True):
            assert message.row["id"] == row["id"]
            assert message.row["ledger_index"] == row["ledger_index"]
            assert message.row["key_id"] == row["key_id"]
            assert message.row["sent_at"] == row["sent_at"]

    def test_the_lookup_hash_fits_31_bits(self) -> None:
        values = {ext_hash(1, f"m-{n}") for n in range(1000)}
        assert max(values) < 2**31 and len(values) == 1000
        assert ext_hash(1, "m-1") != ext_hash(2, "m-1")
