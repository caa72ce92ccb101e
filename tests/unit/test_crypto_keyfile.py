"""Data keys and the local key file: generation, validation, creation mode 0600, refusal rules."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from chatkeeper.crypto import (
    AES_256_GCM,
    AES_256_GCM_SM4_GCM,
    SM4_GCM,
    SUITES,
    DataKey,
    LocalKeyFile,
    create_key_file,
    generate_data_key,
)
from chatkeeper.crypto.errors import InvalidKey, KeyFileError, KeyFileInsecure, UnknownSuite


class TestDataKey:
    """Data keys are random, sized by their suite, and never shown."""

    @pytest.mark.parametrize(
        ("suite", "size"), [(AES_256_GCM, 32), (SM4_GCM, 16), (AES_256_GCM_SM4_GCM, 48)]
    )
    def test_generated_key_has_the_suite_size(self, suite: str, size: int) -> None:
        key = generate_data_key(suite)
        assert key.suite == suite and len(key.material) == size
        assert key.key_id.startswith("dk_") and len(key.key_id) == 29

    def test_generated_keys_are_distinct(self) -> None:
        keys = [generate_data_key() for _ in range(100)]
        assert len({k.material for k in keys}) == len({k.key_id for k in keys}) == 100

    def test_layered_halves_are_independent(self) -> None:
        # Not derivable from each other: across many keys the halves never coincide in any way a
        # derivation would force (equal, or the SM4 half a prefix of the AES half).
        for _ in range(50):
            material = generate_data_key(AES_256_GCM_SM4_GCM).material
            assert material[32:] not in (material[:16], material[16:32])

    def test_caller_chosen_id_is_kept(self) -> None:
        assert generate_data_key(key_id="conv-42").key_id == "conv-42"

    def test_repr_hides_material(self) -> None:
        key = generate_data_key()
        assert key.material.hex() not in repr(key) and "material" not in repr(key)

    @pytest.mark.parametrize("material", [b"", bytes(16), bytes(31), bytes(33), bytes(48)])
    def test_wrong_length_is_refused(self, material: bytes) -> None:
        with pytest.raises(InvalidKey, match="needs 32"):
            DataKey("k1", AES_256_GCM, material)

    @pytest.mark.parametrize("key_id", ["", "has space", "中文", "tab\t", "x" * 256])
    def test_invalid_id_is_refused(self, key_id: str) -> None:
        with pytest.raises(InvalidKey):
            DataKey(key_id, AES_256_GCM, bytes(32))

    def test_unknown_suite_is_refused(self) -> None:
        with pytest.raises(UnknownSuite):
            generate_data_key("AES-128-GCM")


class TestCreateKeyFile:
    """``create_key_file`` writes a 0600 ``chatkeeper-kek`` file and never overwrites one."""

    def test_created_file_is_mode_0600_whatever_the_umask(self, tmp_path: Path) -> None:
        previous = os.umask(0)
        try:
            kek = create_key_file(tmp_path / "kek.json")
        finally:
            os.umask(previous)
        assert stat.S_IMODE(os.stat(kek.path).st_mode) == 0o600

    def test_file_names_its_kek_id_and_suite(self, tmp_path: Path) -> None:
        kek = create_key_file(tmp_path / "kek.json")
        document = json.loads((tmp_path / "kek.json").read_text())
        assert document["format"] == "chatkeeper-kek" and document["version"] == 1
        assert document["kek_id"] == kek.kek_id and kek.kek_id.startswith("kek_")
        assert document["suite"] == kek.suite == AES_256_GCM
        assert len(base64.b64decode(document["key"])) == 32

    @pytest.mark.parametrize("suite", SUITES)
    def test_every_suite_can_be_a_kek(self, tmp_path: Path, suite: str) -> None:
        kek = create_key_file(tmp_path / "kek.json", suite=suite, kek_id="kek-2025w09")
        loaded = LocalKeyFile(tmp_path / "kek.json")
        assert (loaded.kek_id, loaded.suite) == ("kek-2025w09", suite)
        data_key = generate_data_key()
        assert loaded.unwrap(kek.wrap(data_key), data_key.key_id, data_key.suite) == data_key

    def test_existing_file_is_not_overwritten(self, tmp_path: Path) -> None:
        path = tmp_path / "kek.json"
        create_key_file(path)
        before = path.read_bytes()
        with pytest.raises(KeyFileError, match="already exists"):
            create_key_file(path)
        assert path.read_bytes() == before

    def test_repr_hides_material(self, tmp_path: Path) -> None:
        kek = create_key_file(tmp_path / "kek.json")
        key = json.loads(kek.path.read_text())["key"]
        assert key not in repr(kek) and kek.kek_id in repr(kek)


class TestLoadKeyFile:
    """A key file that others can access, or that is not a key file, is refused by name."""

    @pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o620, 0o602, 0o700 | 0o070])
    def test_group_or_other_access_is_refused(self, tmp_path: Path, mode: int) -> None:
        path = tmp_path / "kek.json"
        create_key_file(path)
        path.chmod(mode)
        with pytest.raises(KeyFileInsecure) as raised:
            LocalKeyFile(path)
        message = raised.value.message
        assert str(path) in message and f"{mode:04o}" in message and "chmod 600" in message
        assert raised.value.code == "key_file_insecure"

    @pytest.mark.parametrize("mode", [0o600, 0o400])
    def test_owner_only_modes_load(self, tmp_path: Path, mode: int) -> None:
        path = tmp_path / "kek.json"
        kek_id = create_key_file(path).kek_id
        path.chmod(mode)
        assert LocalKeyFile(path).kek_id == kek_id

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(KeyFileError, match="does not exist"):
            LocalKeyFile(tmp_path / "absent.json")

    def test_directory(self, tmp_path: Path) -> None:
        (tmp_path / "dir").mkdir(mode=0o700)
        with pytest.raises(KeyFileError, match="not a regular file"):
            LocalKeyFile(tmp_path / "dir")

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"format": "other"}, "format"),
            ({"version": 2}, "version"),
            ({"kek_id": 7}, "kek_id"),
            ({"suite": None}, "suite"),
            ({"key": "not base64!"}, "base64"),
            ({"key": base64.b64encode(bytes(31)).decode()}, "needs 32"),
            ({"suite": "AES-128-GCM"}, "unknown encryption suite"),
            ({"kek_id": "has space"}, "invalid KEK id"),
        ],
    )
    def test_malformed_file(self, tmp_path: Path, change: dict[str, object], reason: str) -> None:
        path = tmp_path / "kek.json"
        create_key_file(path)
        document = json.loads(path.read_text())
        secret = document["key"]
        path.write_text(json.dumps(document | change))
        with pytest.raises(KeyFileError, match=reason) as raised:
            LocalKeyFile(path)
        assert secret not in raised.value.message and str(path) in raised.value.message

    def test_not_json(self, tmp_path: Path) -> None:
        path = tmp_path / "kek.json"
        path.write_bytes(b"\xff\xfe not json")
        path.chmod(0o600)
        with pytest.raises(KeyFileError, match="not UTF-8 JSON"):
            LocalKeyFile(path)


def test_crypto_imports_nothing_of_chatkeeper_but_errors() -> None:
    """The capability stays a capability: no store, no SQL, no CLI (DESIGN.md, layers)."""
    code = (
        "import sys, chatkeeper.crypto\n"
        "mods = [m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'typer', 'rich', 'pydantic', 'orjson')]\n"
        "mods += [m for m in sys.modules if m.startswith('chatkeeper') and m not in "
        "('chatkeeper', 'chatkeeper.errors') and not m.startswith('chatkeeper.crypto')]\n"
        "print(mods)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
