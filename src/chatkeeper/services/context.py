"""What every service call runs against: the settings and the archive store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chatkeeper.config import Settings
from chatkeeper.errors import StoreError
from chatkeeper.store.archive import SqlArchive
from chatkeeper.store.engine import make_engine


@dataclass(slots=True)
class Context:
    """Built once by an entry point and handed to each service call."""

    settings: Settings
    archive: SqlArchive

    @property
    def data_dir(self) -> Path:
        """The data folder (database for SQLite, rejects files, later keys and blobs)."""
        return self.settings.data_dir

    def close(self) -> None:
        """Release the database connections."""
        self.archive.engine.dispose()


def open_context(settings: Settings, *, create: bool = False) -> Context:
    """Open the archive; with ``create`` make the data folder and schema, else require them."""
    data_dir = settings.data_dir
    if create:
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{data_dir}: cannot create the data folder ({exc.strerror})") from exc
    elif settings.database_url is None and not (data_dir / "chatkeeper.db").exists():
        from chatkeeper.errors import NotInitialised

        raise NotInitialised(
            f"{data_dir} is not a ChatKeeper data folder yet: run chatkeeper init"
            f" --data-dir {data_dir}"
        )
    archive = SqlArchive(make_engine(settings.effective_database_url))
    if create:
        archive.initialise()
    else:
        archive.check_ready()
    return Context(settings, archive)
