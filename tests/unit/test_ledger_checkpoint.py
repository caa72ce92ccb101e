"""C2SP signed notes and checkpoints: the published Go vector, the exact text, and every tamper
case named (size, root, origin, signature, another key)."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chatkeeper.ledger import (
    Checkpoint,
    SigningKey,
    generate_signing_key,
    hash_algorithm,
    key_id,
    parse_checkpoint,
    parse_note,
    parse_signing_key,
    parse_verifier_key,
    peek_checkpoint,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)
from chatkeeper.ledger.errors import (
    CheckpointMalformed,
    CheckpointUnsigned,
    NoteKeyInvalid,
    OriginMismatch,
    SignatureInvalid,
)

# golang.org/x/mod/sumdb/note's test key and signed note (note_test.go): the key ID formula, both
# key encodings and the signature line all have to agree with Go's to reproduce it byte for byte.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
    "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

# RFC 8032 §7.1 test 1 secret key: a fixed key makes the signed checkpoint below reproducible.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
ORIGIN = "chatkeeper.example.com/test"
ROOT_8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
KEY = SigningKey(ORIGIN, Ed25519PrivateKey.from_private_bytes(RFC8032_SEED))
PUBLIC = KEY.verifier.public_key
SIGNED = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT_8), KEY)
PINNED_SIGNATURE_LINE = (
    "— chatkeeper.example.com/test 2wtbRlsdjcIjKFQDJWJ10a0WoEYTQwLCShFGfgIB/0s3TuPta4/t+MZ8XlmWtZqK"
    "+n3DhGX6OW5TGgPu4YxWlhNZDgw="
)


def edit(text: str, old: str, new: str) -> str:
    """``text`` with its one occurrence of ``old`` replaced."""
    assert text.count(old) == 1
    return text.replace(old, new)


class TestGoVector:
    """GIVEN Go's published note key and note THEN ours are byte-identical."""

    def test_signing_key_round_trips_and_derives_the_verifier(self) -> None:
        key = parse_signing_key(GO_SIGNER)
        assert key.encode() == GO_SIGNER
        assert key.verifier.encode() == GO_VERIFIER
        assert key.verifier.key_id == 0xC74F20A3

    def test_signature_is_the_published_one(self) -> None:
        assert sign_note(GO_TEXT, parse_signing_key(GO_SIGNER)) == GO_NOTE

    def test_published_note_verifies(self) -> None:
        assert verify_note(GO_NOTE, [parse_verifier_key(GO_VERIFIER)]).text == GO_TEXT

    def test_key_id_is_sha256_of_name_newline_type_key(self) -> None:
        public = parse_verifier_key(GO_VERIFIER).public_key
        assert key_id("PeterNeumann", public) == 0xC74F20A3


class TestCheckpointText:
    """GIVEN a tree head WHEN signed THEN the note is exactly the C2SP checkpoint."""

    def test_layout(self) -> None:
        lines = SIGNED.split("\n")
        assert lines[:4] == [ORIGIN, "8", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", ""]
        assert lines[4].startswith(f"— {ORIGIN} ") and lines[5:] == [""]
        blob = base64.b64decode(lines[4].split(" ")[2])
        assert int.from_bytes(blob[:4], "big") == KEY.verifier.key_id and len(blob) == 68

    def test_signature_is_reproducible(self) -> None:
        # Ed25519 is deterministic: pinned with the RFC 8032 key (self-generated, a regression).
        assert SIGNED.split("\n")[4] == PINNED_SIGNATURE_LINE

    def test_verifies_and_round_trips(self) -> None:
        checkpoint = verify_checkpoint(SIGNED, PUBLIC, ORIGIN, origin=ORIGIN)
        assert checkpoint == Checkpoint(ORIGIN, 8, ROOT_8)
        assert checkpoint.hash_algorithm == "sha256"
        assert verify_checkpoint(SIGNED, KEY.private_key.public_key(), ORIGIN) == checkpoint

    def test_empty_tree(self) -> None:
        empty = Checkpoint.of(
            ORIGIN, 0, hash_algorithm("sha256").empty_root, hash_algorithm("sha256")
        )
        assert verify_checkpoint(sign_checkpoint(empty, KEY), PUBLIC, ORIGIN).size == 0

    def test_sm3_log_says_so_inside_the_signed_text(self) -> None:
        sm3 = hash_algorithm("sm3")
        checkpoint = Checkpoint.of(ORIGIN, 3, sm3.digest(b"root"), sm3)
        text = sign_checkpoint(checkpoint, KEY)
        assert text.split("\n")[3] == "hash-algorithm sm3"
        assert verify_checkpoint(text, PUBLIC, ORIGIN).hash_algorithm == "sm3"

    def test_c2sp_spec_example_parses(self) -> None:
        example = (
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
            "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
            "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        )
        checkpoint = peek_checkpoint(example)
        assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
        assert parse_note(example).signatures[0].name == "example.com/behind-the-sofa"


class TestCheckpointTampering:
    """GIVEN a signed checkpoint WHEN any part is changed THEN verification fails and says why."""

    def test_edited_size(self) -> None:
        with pytest.raises(SignatureInvalid, match="origin, tree size or root hash") as caught:
            verify_checkpoint(edit(SIGNED, "\n8\n", "\n9\n"), PUBLIC, ORIGIN)
        assert caught.value.code == "checkpoint_signature_invalid"

    def test_edited_root(self) -> None:
        other = base64.b64encode(bytes(32)).decode()
        with pytest.raises(SignatureInvalid, match="does not verify"):
            verify_checkpoint(
                edit(SIGNED, base64.b64encode(ROOT_8).decode(), other), PUBLIC, ORIGIN
            )

    def test_edited_origin(self) -> None:
        forged = edit(SIGNED, f"{ORIGIN}\n8", "chatkeeper.example.com/other\n8")
        with pytest.raises(SignatureInvalid, match=f"key {ORIGIN}"):
            verify_checkpoint(forged, PUBLIC, ORIGIN, origin="chatkeeper.example.com/other")

    def test_edited_signature(self) -> None:
        line = SIGNED.split("\n")[4]
        blob = bytearray(base64.b64decode(line.split(" ")[2]))
        blob[10] ^= 0x01
        forged = edit(SIGNED, line.split(" ")[2], base64.b64encode(bytes(blob)).decode())
        with pytest.raises(SignatureInvalid, match="or the signature was altered"):
            verify_checkpoint(forged, PUBLIC, ORIGIN)

    def test_another_key_with_the_same_name(self) -> None:
        impostor = generate_signing_key(ORIGIN)
        forged = sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT_8), impostor)
        with pytest.raises(CheckpointUnsigned, match="no signature by the expected key") as caught:
            verify_checkpoint(forged, PUBLIC, ORIGIN)
        assert f"{KEY.verifier.key_id:08x}" in caught.value.message
        assert caught.value.code == "checkpoint_unsigned"

    def test_another_key_name(self) -> None:
        with pytest.raises(
            CheckpointUnsigned, match=re.escape("signed by chatkeeper.example.com/test+")
        ):
            verify_checkpoint(SIGNED, PUBLIC, "chatkeeper.example.com/other")

    def test_verifying_with_another_public_key(self) -> None:
        with pytest.raises(CheckpointUnsigned):
            verify_checkpoint(SIGNED, generate_signing_key(ORIGIN).verifier.public_key, ORIGIN)

    def test_correctly_signed_checkpoint_of_another_log(self) -> None:
        other = SigningKey("other.example/log", KEY.private_key)
        text = sign_checkpoint(Checkpoint("other.example/log", 8, ROOT_8), other)
        with pytest.raises(OriginMismatch, match=re.escape("'other.example/log', not")):
            verify_checkpoint(text, PUBLIC, "other.example/log", origin=ORIGIN)

    def test_removed_signature_block(self) -> None:
        with pytest.raises(CheckpointMalformed, match="no blank line"):
            verify_checkpoint(SIGNED.split("\n\n")[0] + "\n", PUBLIC, ORIGIN)


class TestCosignatures:
    """GIVEN further signature lines THEN unknown keys are ignored, a known bad one is not."""

    def test_unknown_cosigner_is_ignored(self) -> None:
        text = sign_checkpoint(
            Checkpoint(ORIGIN, 8, ROOT_8), KEY, generate_signing_key("w.example")
        )
        assert verify_checkpoint(text, PUBLIC, ORIGIN).size == 8

    def test_a_failing_duplicate_by_the_known_key_rejects_the_note(self) -> None:
        line = SIGNED.split("\n")[4]
        blob = bytearray(base64.b64decode(line.split(" ")[2]))
        blob[-1] ^= 0x01
        bad = f"— {ORIGIN} {base64.b64encode(bytes(blob)).decode()}\n"
        with pytest.raises(SignatureInvalid):
            verify_checkpoint(SIGNED + bad, PUBLIC, ORIGIN)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"{ORIGIN}\n08\n{base64.b64encode(ROOT_8).decode()}\n", "line 2"),
        (f"{ORIGIN}\n-1\n{base64.b64encode(ROOT_8).decode()}\n", "line 2"),
        (f"{ORIGIN}\n{1 << 64}\n{base64.b64encode(ROOT_8).decode()}\n", "or more"),
        (f"{ORIGIN}\n8\n{base64.b64encode(ROOT_8[:31]).decode()}\n", "31 bytes"),
        (f"{ORIGIN}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=\n", "canonical"),
        (f"{ORIGIN}\n8\n {base64.b64encode(ROOT_8).decode()}\n", "base64"),
        (f"{ORIGIN}\n8\n{base64.b64encode(ROOT_8).decode()}\n\nx\n", "line 4"),
        (f"{ORIGIN}\n8\n{base64.b64encode(ROOT_8).decode()}\nhash-algorithm md5\n", "md5"),
        (f"\n8\n{base64.b64encode(ROOT_8).decode()}\n", "origin"),
        (f"{ORIGIN}\n8\n", "origin, a tree size and a root"),
        (f"{ORIGIN}\n8\n{base64.b64encode(ROOT_8).decode()}", "newline"),
    ],
)
def test_malformed_checkpoint_text_is_named(text: str, reason: str) -> None:
    with pytest.raises(CheckpointMalformed, match=reason):
        parse_checkpoint(text)


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (SIGNED.replace("— ", "-- "), "does not start with"),
        (SIGNED.replace("\n8\n", "\r\n8\n"), "control character"),
        (SIGNED[:-1], "end with a newline"),
        (SIGNED.replace(f"— {ORIGIN} ", f"— {ORIGIN}  "), "not '— <key name> <signature>'"),
        (SIGNED.replace(f"— {ORIGIN} ", "— a+b "), "invalid key name"),
        (SIGNED + "— w.example AAAA\n", "too short"),
        (SIGNED.split("\n\n")[0] + "\n\n", "no signature lines"),
        (SIGNED + "— w.example AAAAAAAA\n" * 100, "more than 100"),
    ],
)
def test_malformed_note_is_named(note: str, reason: str) -> None:
    with pytest.raises(CheckpointMalformed, match=reason):
        verify_checkpoint(note, PUBLIC, ORIGIN)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        (f"PeterNeumann+c74f20a3+{base64.b64encode(bytes(33)).decode()}", "Ed25519"),
        ("PeterNeumann+c74f20a3", "<name>"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key name"),
        ("PeterNeumann+zzzzzzzz+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "hex"),
    ],
)
def test_malformed_verifier_key_is_named(text: str, reason: str) -> None:
    with pytest.raises(NoteKeyInvalid, match=reason):
        parse_verifier_key(text)


def test_signing_key_never_shows_in_repr() -> None:
    assert "9d61b1" not in repr(KEY) and RFC8032_SEED.hex() not in repr(KEY)
    with pytest.raises(NoteKeyInvalid, match="PRIVATE"):
        parse_signing_key(GO_VERIFIER)


def test_a_root_of_the_wrong_length_is_never_signed() -> None:
    with pytest.raises(CheckpointMalformed, match="sha256 root hash has 32 bytes, not 31"):
        sign_checkpoint(Checkpoint(ORIGIN, 8, ROOT_8[:31]), KEY)
