"""What every service call runs against: the settings, the archive store and the keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Connection

from chatkeeper.config import Settings
from chatkeeper.errors import NotInitialised, StoreError
from chatkeeper.lifecycle import LocalSegmentStore
from chatkeeper.store.archive import SqlArchive
from chatkeeper.store.engine import make_engine
from chatkeeper.store.keys import KeyStore

SYSTEM_KEYS = ("blind-index", "pseudonym")


@dataclass(slots=True)
class Context:
    """Built once by an entry point and handed to each service call.

    The key-encryption key is loaded on first use, so commands that never decrypt (search,
    stats) also run where the key file is not at hand.
    """

    settings: Settings
    archive: SqlArchive
    _system: dict[str, bytes] = field(default_factory=dict)
    # The clock the rules read (expiry of approvals and grants, deadlines); tests replace it.
    clock: Callable[[], float] = time.time

    def now_ms(self) -> int:
        """The current time, in epoch milliseconds, by this context's clock."""
        return int(self.clock() * 1000)

    @property
    def data_dir(self) -> Path:
        """The data folder (database for SQLite, keys, rejects files, cold segments by default)."""
        return self.settings.data_dir

    def load_keys(self, *, create: bool = False) -> None:
        """Load the KEK (creating the key file with ``create``) and the system keys."""
        if self.archive.kek is not None and self._system:
            return
        from chatkeeper.services.keyring import load_kek, load_signer

        self.archive.use_keys(load_kek(self.settings, create=create), self.settings.privacy.suite)
        self.archive.ledger_signer = load_signer(self.settings, create=create)
        with self.archive.writer() as writer:
            owned = writer.data_keys({("system", name) for name in SYSTEM_KEYS})
        self._system = {name: owned[("system", name)].material for name in SYSTEM_KEYS}

    def load_kek(self) -> None:
        """Load the KEK alone (no transaction): what reading cold storage needs."""
        if self.archive.kek is None:
            from chatkeeper.services.keyring import load_kek

            self.archive.use_keys(load_kek(self.settings), self.settings.privacy.suite)

    def load_signer(self) -> None:
        """Load the checkpoint-signing key alone (a file read, no KEK), where it exists, so
        that every audited operation ends with a signed checkpoint."""
        from chatkeeper.services.keyring import load_signer
        from chatkeeper.store.keys import KeyUnavailable

        try:
            self.archive.ledger_signer = load_signer(self.settings)
        except KeyUnavailable:
            self.archive.ledger_signer = None  # a data folder from before the ledger

    def system_key(self, name: str) -> bytes:
        """The material of a system key (blind index, pseudonyms), loading keys if needed."""
        self.load_keys()
        return self._system[name]

    def keys(self, connection: Connection) -> KeyStore:
        """The key store on a connection (call :meth:`load_keys` before opening a write
        transaction: loading may need one of its own)."""
        return self.archive.keys(connection)

    def close(self) -> None:
        """Release the database connections."""
        self.archive.engine.dispose()


def open_context(settings: Settings, *, create: bool = False) -> Context:
    """Open the archive; with ``create`` make the data folder, schema and keys, else require
    them."""
    data_dir = settings.data_dir
    if create:
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{data_dir}: cannot create the data folder ({exc.strerror})") from exc
    elif settings.database_url is None and not (data_dir / "chatkeeper.db").exists():
        raise NotInitialised(
            f"{data_dir} is not a ChatKeeper data folder yet: run chatkeeper init"
            f" --data-dir {data_dir}"
        )
    archive = SqlArchive(make_engine(settings.effective_database_url))
    archive.segments = LocalSegmentStore(settings.lifecycle.cold_path(data_dir), create=False)
    if create:
        archive.initialise()
    else:
        archive.check_ready()
    context = Context(settings, archive)
    archive.key_loader = context.load_kek
    if create:
        context.load_keys(create=True)
    else:
        context.load_signer()
    return context
