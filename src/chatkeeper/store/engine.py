"""One function builds the database engine from a URL, tuned per dialect.

* SQLite (the embedded default): WAL journal, ``synchronous=NORMAL`` (durable at every
  checkpoint, and a crash loses at most the last transactions, never corrupts), a busy timeout,
  foreign keys on, and ``BEGIN IMMEDIATE`` so that two writers queue instead of failing halfway.
* PostgreSQL via psycopg 3, with a pre-ping pool.
* MySQL, MariaDB and TiDB via PyMySQL, in ``utf8mb4``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from chatkeeper.errors import ConfigError

_DRIVERS = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "tidb": "mysql+pymysql",
}


def sqlite_url(data_dir: Path) -> str:
    """The URL of the embedded database inside a data folder."""
    return f"sqlite:///{data_dir / 'chatkeeper.db'}"


def normalise_url(url: str) -> str:
    """Pick ChatKeeper's driver for a plain ``postgresql://`` or ``mysql://`` URL."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            "CHATKEEPER_DATABASE_URL is not a database URL "
            "(expected sqlite:///PATH, postgresql://HOST/DB or mysql://HOST/DB)",
            key="database_url",
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise ConfigError(
            f"CHATKEEPER_DATABASE_URL names the unsupported database '{backend}'; "
            "valid: sqlite, postgresql, mysql, mariadb, tidb",
            key="database_url",
        )
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=_DRIVERS[backend])
    if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """The engine for ``url``, with the per-dialect tuning above."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url)
    options: dict[str, Any] = {"pool_pre_ping": True, "future": True}
    if backend == "mysql":
        options["pool_recycle"] = 3600
    return create_engine(url, **options)


def _sqlite_engine(url: str) -> Engine:
    # A pooled connection keeps its page cache and parsed schema between batches.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _tune(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE) so two of them queue on the
        # busy timeout instead of one failing at its first write; readers never block.
        if connection.get_execution_options().get("write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine
