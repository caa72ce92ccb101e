"""Shared fixtures: the database backends every behaviour test runs on.

SQLite always runs. PostgreSQL and MariaDB run where a server answers at the URLs below (or in
``CHATKEEPER_TEST_POSTGRES_URL`` / ``CHATKEEPER_TEST_MYSQL_URL``); elsewhere their tests are
skipped with the reason shown. Under CI (``CI=true``) an unreachable server fails the run
instead: CI must test all three.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from chatkeeper.config import load_settings
from chatkeeper.services import Context, open_context

POSTGRES_URL = os.environ.get(
    "CHATKEEPER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/chatkeeper_test"
)
MYSQL_URL = os.environ.get(
    "CHATKEEPER_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/chatkeeper_test"
)
SAMPLES = Path(__file__).resolve().parent / "samples"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _recreate_postgres(url: str) -> str | None:
    parsed = sa.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    except sa.exc.OperationalError as exc:
        return f"PostgreSQL not reachable at {parsed.host}:{parsed.port} ({exc.orig})"
    finally:
        admin.dispose()
    return None


def _recreate_mysql(url: str) -> str | None:
    parsed = sa.make_url(url)
    admin = sa.create_engine(parsed.set(database="mysql"))
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{parsed.database}`")
            conn.exec_driver_sql(
                f"CREATE DATABASE `{parsed.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )
    except sa.exc.OperationalError as exc:
        return f"MariaDB/MySQL not reachable at {parsed.host}:{parsed.port} ({exc.orig})"
    finally:
        admin.dispose()
    return None


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must test every backend: {reason}")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """The database URL for one backend, freshly emptied (``None``: SQLite in the data dir)."""
    if request.param == "sqlite":
        return None
    if request.param == "postgresql":
        problem = _recreate_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    else:
        problem = _recreate_mysql(MYSQL_URL)
        url = MYSQL_URL
    if problem:
        _unavailable(problem)
    return url


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data folder."""
    return tmp_path / "data"


@pytest.fixture
def ctx(backend: str | None, data_dir: Path) -> Iterator[Context]:
    """An initialised archive on the backend under test."""
    overrides = {"database_url": backend} if backend else {}
    settings = load_settings(data_dir=data_dir, **overrides)
    context = open_context(settings, create=True)
    yield context
    context.close()


@pytest.fixture
def sqlite_ctx(data_dir: Path) -> Iterator[Context]:
    """An initialised archive on the embedded default only."""
    context = open_context(load_settings(data_dir=data_dir), create=True)
    yield context
    context.close()
