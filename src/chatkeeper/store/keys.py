"""The key store: data keys, wrapped by the key-encryption key, one per unit of deletion.

A conversation owns the key its messages are encrypted under, a customer the key of their vault
entries, and the system the keys of its keyed hashes (blind index, pseudonyms). A key is created
the first time its owner needs one, and only ever leaves this table wrapped. Destroying a key
clears its wrapped material: nothing under it can be read again (crypto-shredding), and a later
message for the same owner gets a new key.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

from sqlalchemy.engine import Connection

from chatkeeper.crypto import DataKey, KeyEncryptionKey, generate_data_key
from chatkeeper.errors import ChatKeeperError, ErrorCode
from chatkeeper.store.bulk import insert_many, select_in, update_many

Owner = tuple[str, str]  # (kind, reference): ("conversation", "wecom:room:abc")


class KeyDestroyed(ChatKeeperError):
    """The data key a ciphertext needs was destroyed: its data is gone for good."""

    code, http_status, exit_code = ErrorCode.KEY_DESTROYED, 410, 10


class KeyUnavailable(ChatKeeperError):
    """Encryption needs a key-encryption key that is not configured or cannot be loaded."""

    code, http_status, exit_code = ErrorCode.KEY_UNAVAILABLE, 503, 69


class KeyStore:
    """Data keys on one connection, wrapped and unwrapped with the configured KEK."""

    def __init__(self, connection: Connection, kek: KeyEncryptionKey, suite: str) -> None:
        self.connection = connection
        self.kek = kek
        self.suite = suite

    def data_keys(self, owners: Iterable[Owner]) -> dict[Owner, DataKey]:
        """The live key of every owner, created where an owner has none."""
        wanted = sorted(set(owners))
        found: dict[Owner, DataKey] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, ref in wanted:
            by_kind.setdefault(kind, []).append(ref)
        for kind, refs in by_kind.items():
            found_rows = select_in(
                self.connection,
                "SELECT owner_ref, key_id, suite, wrapped FROM data_keys "
                "WHERE destroyed_at IS NULL AND owner_kind = {p} AND owner_ref IN ({params})",
                refs,
                (kind,),
            )
            for ref, key_id, suite, wrapped in found_rows:
                found[(kind, ref)] = self.kek.unwrap(bytes(wrapped), key_id, suite)
        missing = [owner for owner in wanted if owner not in found]
        now = int(time.time() * 1000)
        rows: list[tuple[object, ...]] = []
        for kind, ref in missing:
            key = generate_data_key(self.suite, key_id=secrets.token_hex(8))
            found[(kind, ref)] = key
            rows.append(
                (key.key_id, kind, ref, key.suite, self.kek.kek_id, self.kek.wrap(key), now)
            )
        insert_many(
            self.connection,
            "data_keys",
            ("key_id", "owner_kind", "owner_ref", "suite", "kek_id", "wrapped", "created_at"),
            rows,
        )
        return found

    def by_id(self, key_ids: Iterable[str]) -> dict[str, DataKey]:
        """Keys by id, for decryption; a destroyed key raises ``KeyDestroyed``."""
        out: dict[str, DataKey] = {}
        rows = select_in(
            self.connection,
            "SELECT key_id, suite, wrapped FROM data_keys WHERE key_id IN ({params})",
            sorted(set(key_ids)),
        )
        for key_id, suite, wrapped in rows:
            if wrapped is None:
                raise KeyDestroyed(f"data key {key_id} was destroyed; its data cannot be read")
            out[key_id] = self.kek.unwrap(bytes(wrapped), key_id, suite)
        return out

    def destroy(self, key_ids: Iterable[str]) -> int:
        """Destroy keys (crypto-shredding); returns how many were live."""
        ids = sorted(set(key_ids))
        live = [row[0] for row in select_in(
            self.connection,
            "SELECT key_id FROM data_keys WHERE destroyed_at IS NULL AND key_id IN ({params})",
            ids,
        )]  # fmt: skip
        now = int(time.time() * 1000)
        update_many(
            self.connection,
            "UPDATE data_keys SET wrapped = NULL, destroyed_at = {p} WHERE key_id = {p}",
            [(now, key_id) for key_id in live],
        )
        return len(live)

    def rewrap_all(self, new_kek: KeyEncryptionKey) -> int:
        """Wrap every live data key under ``new_kek`` (no data is re-encrypted)."""
        rows = list(
            self.connection.exec_driver_sql(
                "SELECT key_id, suite, wrapped FROM data_keys WHERE wrapped IS NOT NULL"
            )
        )
        updates = []
        for key_id, suite, wrapped in rows:
            key = self.kek.unwrap(bytes(wrapped), key_id, suite)
            updates.append((new_kek.wrap(key), new_kek.kek_id, key_id))
        update_many(
            self.connection,
            "UPDATE data_keys SET wrapped = {p}, kek_id = {p} WHERE key_id = {p}",
            updates,
        )
        return len(updates)
