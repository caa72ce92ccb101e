"""The end-to-end fixtures: a data folder, a CLI that signs in, and an archive with its staff.

See ``tests/e2e/signin.py`` for who runs which command and the approval helpers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.signin import ADMIN, STAFF, Cli, add_user, as_json


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The data folder (not created: ``init`` makes it)."""
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir: Path) -> Cli:
    """Run ``chatkeeper ARGS... --data-dir DATA_DIR``, signed in (see ``signin.Cli``)."""
    return Cli(data_dir)


@pytest.fixture(scope="session")
def staffed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once: ``init`` (admin gets ``signin.ADMIN_PASSWORD``), then admin adds the users
    of ``signin.STAFF`` through ``chatkeeper user add``. Password hashing is deliberately
    slow (Argon2id), so each test copies this folder instead of repeating these commands."""
    folder = tmp_path_factory.mktemp("staffed") / "data"
    cli = Cli(folder)
    result = cli("init", "--json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["admin"] == ADMIN
    for name, (role, departments) in STAFF.items():
        add_user(cli, name, role, *[arg for d in departments for arg in ("--department", d)])
    return folder


@pytest.fixture
def staffed(staffed_template: Path, data_dir: Path) -> Path:
    """An initialised, empty archive in ``data_dir`` with admin and the users of
    ``signin.STAFF`` (a copy of ``staffed_template``: the folder is self-contained)."""
    shutil.copytree(staffed_template, data_dir)
    return data_dir
