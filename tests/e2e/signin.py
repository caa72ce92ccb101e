"""Signing in, for the end-to-end tests: who runs each command, and the two-person approvals.

Every command but ``init``, ``demo`` and ``pii scan`` runs as a user of the archive, named by
``CHATKEEPER_USER`` with ``CHATKEEPER_PASSWORD``. :class:`Cli` sets both for each call: the
user the test names, else the one :data:`RUNS_AS` picks by the command's first word (each
the least role the permission matrix allows for it). :data:`STAFF` are the users the
``staffed`` fixture (``conftest.py``) adds through ``chatkeeper user add``, as ``admin``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner, Result

from chatkeeper.cli.app import app

ADMIN = "admin"  # the user `init` creates
ADMIN_PASSWORD = "admin-e2e-password"  # CHATKEEPER_ADMIN_PASSWORD for every `init`
PASSWORD = "staff-e2e-password"  # CHATKEEPER_NEW_PASSWORD for every user in STAFF

#: name: (role, departments)
STAFF: dict[str, tuple[str, list[str]]] = {
    "legal1": ("legal", []),
    "legal2": ("legal", []),
    "auditor1": ("auditor", []),
    "sec1": ("security_admin", []),
}

#: Who runs a command when the test does not say, by the command's first word.
RUNS_AS: dict[str, str | None] = {
    "init": None,
    "demo": None,
    "pii": None,
    "ingest": ADMIN,
    "user": ADMIN,
    "audit": "auditor1",
    "ledger": "auditor1",
    "keys": "sec1",
}
DEFAULT_USER = "legal1"  # search, show, stats, unmask, offline, approvals, access, ...

#: The environment variables that say who is running; each call sets or clears all of them.
SIGN_IN_VARIABLES = (
    "CHATKEEPER_USER",
    "CHATKEEPER_PASSWORD",
    "CHATKEEPER_TOKEN",
    "CHATKEEPER_ADMIN_PASSWORD",
    "CHATKEEPER_NEW_PASSWORD",
)


class _ByCommand:
    """The marker for "the user :data:`RUNS_AS` picks"."""


BY_COMMAND: Any = _ByCommand()


def password_of(user: str) -> str:
    """The password the e2e archives give ``user``."""
    return ADMIN_PASSWORD if user == ADMIN else PASSWORD


def runs_as(argv: list[str]) -> str | None:
    """The user who runs ``argv`` by default (``None``: nobody signs in)."""
    return RUNS_AS.get(argv[0], DEFAULT_USER) if argv else None


class Cli:
    """Run ``chatkeeper ARGS... --data-dir DATA_DIR`` as a user, exactly as typed."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()

    def __call__(
        self,
        *args: str | Path,
        data: bool = True,
        user: str | None = BY_COMMAND,
        password: str | None = BY_COMMAND,
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
    ) -> Result:
        """``user``: who signs in (``None``: nobody); ``password``: theirs unless given
        (``None``: none); ``env``: more environment variables (``None`` values unset)."""
        argv = [str(arg) for arg in args]
        if data:
            argv += ["--data-dir", str(self.data_dir)]
        if user is BY_COMMAND:
            user = runs_as(argv)
        if password is BY_COMMAND:
            password = password_of(user) if user else None
        environment: dict[str, str | None] = dict.fromkeys(SIGN_IN_VARIABLES)
        environment.update(
            CHATKEEPER_USER=user,
            CHATKEEPER_PASSWORD=password,
            CHATKEEPER_ADMIN_PASSWORD=ADMIN_PASSWORD,
        )
        environment.update(env or {})
        return self.runner.invoke(app, argv, env=environment, input=input, catch_exceptions=False)


def as_json(result: Result) -> Any:
    """The JSON document a command printed on standard output."""
    return orjson.loads(result.stdout)


def add_user(cli: Cli, name: str, role: str, *options: str, password: str = PASSWORD) -> Result:
    """``chatkeeper user add NAME --role ROLE OPTIONS...`` as admin; requires success."""
    result = cli(
        "user", "add", name, "--role", role, *options, "--json",
        user=ADMIN, env={"CHATKEEPER_NEW_PASSWORD": password},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result


def request_approval(cli: Cli, *args: str | Path, user: str = BY_COMMAND) -> int:
    """Run a key operation (with ``--json``) without an approval: it files a request and
    exits 3; the request's number."""
    result = cli(*args, "--json", user=user)
    assert result.exit_code == 3, result.output
    body = as_json(result)
    assert set(body) == {"approval_request", "message"}
    return int(body["approval_request"])


def approve(cli: Cli, request_id: int, approver: str) -> dict[str, Any]:
    """``chatkeeper approvals approve ID --json`` as ``approver``; requires success."""
    result = cli("approvals", "approve", str(request_id), "--json", user=approver)
    assert result.exit_code == 0, result.output
    decided = as_json(result)
    assert decided["id"] == request_id and decided["state"] in ("approved", "executed")
    return decided


def run_approved(
    cli: Cli, *args: str | Path, approver: str, user: str = BY_COMMAND
) -> tuple[int, Result]:
    """The whole two-person flow of a key operation run with ``--json``: the request (exit 3),
    ``approver`` approves it, the requester runs the same command again with ``--approval``.
    The request's number, and the result of that last run (not checked)."""
    request_id = request_approval(cli, *args, user=user)
    approve(cli, request_id, approver)
    return request_id, cli(*args, "--approval", str(request_id), "--json", user=user)
