"""Loading the key-encryption key (KEK) the configuration names, and rotating a key-file KEK.

A key-file KEK lives in ``<data_dir>/keys/kek.json`` (mode 0600). During a rotation a second file
exists for a moment; the ring below loads every key file in the folder and unwraps each data key
with the KEK its wrapped form names, so a rotation interrupted at any point still opens.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from chatkeeper.config import Settings
from chatkeeper.crypto import (
    DataKey,
    EnvironmentKek,
    KeyEncryptionKey,
    LocalKeyFile,
    create_key_file,
    open_kms,
    peek_wrapped,
)
from chatkeeper.ledger import generate_signing_key, parse_signing_key
from chatkeeper.store.keys import KeyUnavailable
from chatkeeper.store.ledger import LedgerSigner

NEXT_SUFFIX = ".next"


class KekRing:
    """The current KEK (wraps new keys) and any others still on disk (unwrap by id)."""

    def __init__(self, current: KeyEncryptionKey, others: list[KeyEncryptionKey]) -> None:
        self.current = current
        self.by_id = {kek.kek_id: kek for kek in [*others, current]}

    @property
    def kek_id(self) -> str:
        """The current KEK's id."""
        return self.current.kek_id

    def wrap(self, data_key: DataKey) -> bytes:
        """Wrap with the current KEK."""
        return self.current.wrap(data_key)

    def unwrap(self, wrapped: bytes, key_id: str, suite: str) -> DataKey:
        """Unwrap with whichever KEK wrapped it."""
        kek_id = peek_wrapped(wrapped).kek_id
        kek = self.by_id.get(kek_id)
        if kek is None:
            raise KeyUnavailable(
                f"data key {key_id} is wrapped by KEK {kek_id}, which is not loaded"
            )
        return kek.unwrap(wrapped, key_id, suite)


SIGNING_KEY_FILE = "ledger-signing.key"
VERIFIER_KEY_FILE = "ledger-verifier.pub"


def load_signer(settings: Settings, *, create: bool = False) -> LedgerSigner:
    """The checkpoint-signing key (Ed25519), created with the data folder by ``init``.

    The private key is kept in the key folder with mode 0600; the public (verifier) key is
    written beside it for anyone who checks checkpoints and evidence.
    """
    folder = key_folder(settings)
    path = folder / SIGNING_KEY_FILE
    if not path.exists():
        if not create:
            raise KeyUnavailable(f"{path}: the ledger signing key is missing; run chatkeeper init")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = generate_signing_key(f"chatkeeper.{secrets.token_hex(4)}")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key.encode() + "\n")
        (folder / VERIFIER_KEY_FILE).write_text(key.verifier.encode() + "\n", encoding="ascii")
    key = parse_signing_key(path.read_text(encoding="ascii").strip())
    return LedgerSigner(key, key.name.removeprefix("chatkeeper."))


def key_folder(settings: Settings) -> Path:
    """Where the key-file KEK lives."""
    return settings.privacy.key_path(settings.data_dir).parent


def load_kek(settings: Settings, *, create: bool = False) -> KeyEncryptionKey:
    """The configured KEK; with ``create``, a missing key file is created (mode 0600)."""
    privacy = settings.privacy
    if privacy.kek == "env":
        return EnvironmentKek(privacy.kek_env)
    if privacy.kek.startswith("kms:"):
        return open_kms(privacy.kek.split(":", 1)[1], "chatkeeper", {})
    path = privacy.key_path(settings.data_dir)
    if not path.exists():
        if not create:
            raise KeyUnavailable(
                f"{path}: the key-encryption key file is missing; run chatkeeper init "
                "(or restore the key file from its backup)"
            )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        create_key_file(path)
    others: list[KeyEncryptionKey] = [
        LocalKeyFile(other) for other in sorted(path.parent.glob(path.name + "*")) if other != path
    ]
    return KekRing(LocalKeyFile(path), others)
