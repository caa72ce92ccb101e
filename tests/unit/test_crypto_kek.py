"""Key-encryption keys: wrap/unwrap for every KEK kind, wrapped-key tamper cases, and rotation."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chatkeeper.crypto import (
    AES_256_GCM,
    SM4_GCM,
    SUITES,
    EnvironmentKek,
    KeyEncryptionKey,
    KmsKek,
    create_key_file,
    decrypt,
    encrypt,
    generate_data_key,
    open_kms,
    peek_wrapped,
    register_kms,
    rewrap,
)
from chatkeeper.crypto.errors import (
    CiphertextMalformed,
    CryptoError,
    KekUnavailable,
    KeyMismatch,
    UnwrapFailed,
)
from chatkeeper.crypto.kms import registered_kms, unregister_kms


class FakeKms:
    """A test double of a KMS master key: AES-256-GCM in memory, optionally ignoring the AAD."""

    def __init__(self, binds_aad: bool = True) -> None:
        self.key = AESGCM.generate_key(256)
        self.binds_aad = binds_aad
        self.calls: list[str] = []

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """Nonce ‖ AES-GCM ciphertext, with or without ``aad``."""
        self.calls.append("encrypt")
        nonce = os.urandom(12)
        return nonce + AESGCM(self.key).encrypt(nonce, plaintext, aad if self.binds_aad else None)

    def decrypt(self, ciphertext: bytes, aad: bytes) -> bytes:
        """The inverse of :meth:`encrypt`; raises ``InvalidTag`` like a KMS refusing."""
        self.calls.append("decrypt")
        aad_used = aad if self.binds_aad else None
        return AESGCM(self.key).decrypt(ciphertext[:12], ciphertext[12:], aad_used)


def env_kek(material: bytes | None = None, var: str = "CHATKEEPER_KEK") -> EnvironmentKek:
    """An environment KEK read from a mapping instead of the process environment."""
    value = base64.b64encode(material or os.urandom(32)).decode()
    return EnvironmentKek(var, environ={var: value})


@pytest.fixture
def kms_name() -> Iterator[str]:
    """A registered fake KMS, removed again after the test."""
    register_kms("fake", lambda key_ref, options: FakeKms(options.get("aad") != "ignored"))
    yield "fake"
    unregister_kms("fake")


@pytest.fixture(params=["key-file", "environment", "kms"])
def kek(request: pytest.FixtureRequest, tmp_path: Path, kms_name: str) -> KeyEncryptionKey:
    """A KEK of each kind in turn."""
    if request.param == "key-file":
        return create_key_file(tmp_path / "kek.json")
    if request.param == "environment":
        return env_kek()
    return open_kms(kms_name, "alias/chatkeeper")


def flip(blob: bytes, index: int) -> bytes:
    """``blob`` with the lowest bit of byte ``index`` flipped."""
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


class TestWrapUnwrap:
    """GIVEN any KEK WHEN a data key of any suite is wrapped THEN it unwraps to the same key."""

    @pytest.mark.parametrize("suite", SUITES)
    def test_round_trip(self, kek: KeyEncryptionKey, suite: str) -> None:
        data_key = generate_data_key(suite)
        wrapped = kek.wrap(data_key)
        assert kek.unwrap(wrapped, data_key.key_id, suite) == data_key
        assert data_key.material not in wrapped

    def test_header_names_kek_key_and_suite(self, kek: KeyEncryptionKey) -> None:
        data_key = generate_data_key(SM4_GCM, key_id="conv-7")
        header = peek_wrapped(kek.wrap(data_key))
        assert (header.version, header.kek_id, header.key_id, header.suite) == (
            1,
            kek.kek_id,
            "conv-7",
            SM4_GCM,
        )
        assert header.scheme == ("kms" if isinstance(kek, KmsKek) else AES_256_GCM)

    def test_every_single_byte_flip_is_refused(self, kek: KeyEncryptionKey) -> None:
        data_key = generate_data_key()
        wrapped = kek.wrap(data_key)
        for index in range(len(wrapped)):
            with pytest.raises(CryptoError):
                kek.unwrap(flip(wrapped, index), data_key.key_id, data_key.suite)

    def test_truncated_at_every_length(self, kek: KeyEncryptionKey) -> None:
        data_key = generate_data_key()
        wrapped = kek.wrap(data_key)
        for length in range(len(wrapped)):
            with pytest.raises(CryptoError):
                kek.unwrap(wrapped[:length], data_key.key_id, data_key.suite)

    def test_asked_for_another_key_id(self, kek: KeyEncryptionKey) -> None:
        data_key = generate_data_key()
        with pytest.raises(KeyMismatch, match=data_key.key_id):
            kek.unwrap(kek.wrap(data_key), "dk_other", data_key.suite)

    def test_asked_for_another_suite(self, kek: KeyEncryptionKey) -> None:
        data_key = generate_data_key(AES_256_GCM)
        with pytest.raises(KeyMismatch):
            kek.unwrap(kek.wrap(data_key), data_key.key_id, SM4_GCM)

    def test_relabelled_to_another_key_id_does_not_unwrap(self, kek: KeyEncryptionKey) -> None:
        # GIVEN conversation 1's wrapped key copied into conversation 2's key row, its header
        # edited to match. WHEN unwrapped as conversation 2's key THEN authentication refuses it.
        wrapped = kek.wrap(generate_data_key(key_id="conv-0001"))
        moved = wrapped.replace(b"conv-0001", b"conv-0002", 1)
        with pytest.raises(UnwrapFailed):
            kek.unwrap(moved, "conv-0002", AES_256_GCM)

    def test_relabelled_to_another_suite_does_not_unwrap(self, kek: KeyEncryptionKey) -> None:
        # Only the layered suite has another size, so relabel between equal-sized suites is not
        # possible; relabel AES → SM4 and expect a refusal either way.
        wrapped = kek.wrap(generate_data_key(AES_256_GCM, key_id="k1"))
        suite_at = wrapped.rindex(b"k1") - 2
        relabelled = wrapped[:suite_at] + b"\x02" + wrapped[suite_at + 1 :]
        with pytest.raises(CryptoError):
            kek.unwrap(relabelled, "k1", SM4_GCM)

    def test_not_a_wrapped_key(self, kek: KeyEncryptionKey) -> None:
        blob = encrypt(b"x", generate_data_key())
        with pytest.raises(CiphertextMalformed, match="magic"):
            kek.unwrap(blob, "dk", AES_256_GCM)


class TestWrongKek:
    """A key wrapped by one KEK is refused by another, with the ids named."""

    def test_another_kek_is_named(self, tmp_path: Path) -> None:
        first = create_key_file(tmp_path / "a.json", kek_id="kek-a")
        second = create_key_file(tmp_path / "b.json", kek_id="kek-b")
        data_key = generate_data_key()
        with pytest.raises(KeyMismatch, match="wrapped under KEK kek-a; this KEK is kek-b"):
            second.unwrap(first.wrap(data_key), data_key.key_id, data_key.suite)

    def test_a_replaced_kek_with_the_same_id_fails_authentication(self, tmp_path: Path) -> None:
        first = create_key_file(tmp_path / "a.json", kek_id="kek-a")
        impostor = create_key_file(tmp_path / "b.json", kek_id="kek-a")
        data_key = generate_data_key()
        with pytest.raises(UnwrapFailed, match="did not unwrap under KEK kek-a"):
            impostor.unwrap(first.wrap(data_key), data_key.key_id, data_key.suite)

    def test_kek_of_another_suite_with_the_same_id(self, tmp_path: Path) -> None:
        aes = create_key_file(tmp_path / "a.json", kek_id="kek-a")
        sm4 = create_key_file(tmp_path / "b.json", kek_id="kek-a", suite=SM4_GCM)
        data_key = generate_data_key()
        with pytest.raises(KeyMismatch, match="wrapped with AES-256-GCM"):
            sm4.unwrap(aes.wrap(data_key), data_key.key_id, data_key.suite)


class TestRewrap:
    """Rotation: rewrapped keys open under the new KEK only; the data is untouched."""

    @pytest.mark.parametrize("new_kind", ["key-file", "kms"])
    def test_rewrap_then_unwrap_with_new_and_not_old(
        self, tmp_path: Path, kms_name: str, new_kind: str
    ) -> None:
        old = create_key_file(tmp_path / "old.json", kek_id="kek-2025w09")
        new: KeyEncryptionKey = (
            create_key_file(tmp_path / "new.json", kek_id="kek-2025w10")
            if new_kind == "key-file"
            else open_kms(kms_name, "alias/chatkeeper")
        )
        data_key = generate_data_key()
        blob = encrypt(b"message", data_key, b"m1")
        wrapped = old.wrap(data_key)
        # WHEN the key is rewrapped
        rewrapped = rewrap(wrapped, old, new)
        # THEN the new KEK unwraps it to the same key, which still opens the old ciphertext
        assert peek_wrapped(rewrapped).kek_id == new.kek_id
        unwrapped = new.unwrap(rewrapped, data_key.key_id, data_key.suite)
        assert decrypt(blob, unwrapped, b"m1") == b"message"
        # AND the old KEK cannot unwrap the rewrapped key
        with pytest.raises(KeyMismatch):
            old.unwrap(rewrapped, data_key.key_id, data_key.suite)

    def test_rewrap_with_the_wrong_old_kek_is_refused(self, tmp_path: Path) -> None:
        first = create_key_file(tmp_path / "a.json")
        second = create_key_file(tmp_path / "b.json")
        wrapped = first.wrap(generate_data_key())
        with pytest.raises(KeyMismatch):
            rewrap(wrapped, second, second)


class TestEnvironmentKek:
    """The KEK from an environment variable; the value never appears in an error."""

    def test_kek_id_changes_with_the_key(self) -> None:
        first, second = env_kek(bytes(32)), env_kek(bytes(31) + b"\x01")
        assert first.kek_id.startswith("env:CHATKEEPER_KEK:") and len(first.kek_id) == 27
        assert first.kek_id != second.kek_id
        assert env_kek(bytes(32)).kek_id == first.kek_id

    def test_reads_the_process_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CK_TEST_KEK", base64.b64encode(bytes(32)).decode())
        assert EnvironmentKek("CK_TEST_KEK").var == "CK_TEST_KEK"

    @pytest.mark.parametrize(
        ("environ", "reason"),
        [
            ({}, "is not set"),
            ({"CHATKEEPER_KEK": ""}, "is not set"),
            ({"CHATKEEPER_KEK": "secret!value"}, "not standard base64"),
            ({"CHATKEEPER_KEK": base64.b64encode(b"secret-value-16b").decode()}, "needs 32"),
        ],
    )
    def test_unusable_variable(self, environ: Mapping[str, str], reason: str) -> None:
        with pytest.raises(KekUnavailable, match=reason) as raised:
            EnvironmentKek(environ=environ)
        assert "CHATKEEPER_KEK" in raised.value.message
        assert "secret" not in raised.value.message and raised.value.code == "kek_unavailable"

    def test_sm4_kek(self) -> None:
        value = base64.b64encode(os.urandom(16)).decode()
        kek = EnvironmentKek("K", suite=SM4_GCM, environ={"K": value})
        data_key = generate_data_key()
        assert kek.unwrap(kek.wrap(data_key), data_key.key_id, data_key.suite) == data_key


class TestKmsPlugIn:
    """The KMS registry and KEK, with a test double standing in for the network."""

    def test_kek_id_and_factory_arguments(self) -> None:
        seen: list[tuple[str, Mapping[str, str]]] = []

        def factory(key_ref: str, options: Mapping[str, str]) -> FakeKms:
            seen.append((key_ref, options))
            return FakeKms()

        register_kms("spy", factory)
        try:
            kek = open_kms("spy", "acs:kms:cn-hangzhou:1:key/abc", {"region": "cn-hangzhou"})
        finally:
            unregister_kms("spy")
        assert kek.kek_id == "kms:spy:acs:kms:cn-hangzhou:1:key/abc"
        assert seen == [("acs:kms:cn-hangzhou:1:key/abc", {"region": "cn-hangzhou"})]

    def test_unregistered_name_lists_the_registered_ones(self, kms_name: str) -> None:
        with pytest.raises(KekUnavailable, match=r"'vault'.*registered: fake"):
            open_kms("vault", "transit/keys/chatkeeper")

    def test_a_name_registers_once(self, kms_name: str) -> None:
        with pytest.raises(ValueError, match="already registered"):
            register_kms(kms_name, lambda key_ref, options: FakeKms())
        assert registered_kms() == ("fake",)

    def test_header_is_bound_even_when_the_kms_ignores_aad(self, kms_name: str) -> None:
        kek = open_kms(kms_name, "k", {"aad": "ignored"})
        wrapped = kek.wrap(generate_data_key(key_id="conv-0001"))
        moved = wrapped.replace(b"conv-0001", b"conv-0002", 1)
        with pytest.raises(UnwrapFailed, match="does not match its wrapped-key header"):
            kek.unwrap(moved, "conv-0002", AES_256_GCM)

    @pytest.mark.parametrize("operation", ["wrap", "unwrap"])
    def test_kms_failure_is_reported_by_name(self, operation: str) -> None:
        class Refusing(FakeKms):
            def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
                raise ConnectionError("kms.example: timed out")

            def decrypt(self, ciphertext: bytes, aad: bytes) -> bytes:
                raise PermissionError("denied")

        working, refusing = KmsKek("x", "k", FakeKms()), KmsKek("x", "k", Refusing())
        data_key = generate_data_key()
        act: Callable[[], object] = (
            (lambda: refusing.wrap(data_key))
            if operation == "wrap"
            else (lambda: refusing.unwrap(working.wrap(data_key), data_key.key_id, AES_256_GCM))
        )
        with pytest.raises(CryptoError, match="KMS x") as raised:
            act()
        assert isinstance(raised.value.__cause__, ConnectionError | PermissionError)
