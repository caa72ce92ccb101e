"""What every command shares: options, opening the archive, printing results and errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from chatkeeper.config import load_settings
from chatkeeper.domain import Actor
from chatkeeper.errors import ChatKeeperError
from chatkeeper.governance import SYSTEM, ApprovalRequired, AuthenticationFailed
from chatkeeper.services import Context, open_context
from chatkeeper.services.accounts import authenticate

console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="CHATKEEPER_DATA_DIR",
        help="The data folder (default ./chatkeeper-data).",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object for machines.")]
Approval = Annotated[
    int | None,
    typer.Option("--approval", help="Run under this approved request (key operations)."),
]

T = TypeVar("T")


def print_json(value: Any) -> None:
    """Write a JSON document to standard output."""
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
    sys.stdout.flush()


def fail(error: ChatKeeperError, as_json: bool) -> None:
    """Report an error the way the caller asked and exit with its code (a key operation
    without an approval: the request filed, exit code 3)."""
    if isinstance(error, ApprovalRequired):
        if as_json:
            print_json({"approval_request": error.request_id, "message": error.message})
        else:
            err_console.print(f"[bold yellow]approval needed[/]: {escape(error.message)}",
                              highlight=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(error.exit_code)
    if as_json:
        print_json({"ok": False, "error": error.to_dict()})
    else:
        err_console.print(
            f"[bold red]error[/]: {escape(error.message)}", highlight=False, soft_wrap=True
        )
    raise typer.Exit(error.exit_code)


def guarded(as_json: bool, action: Callable[[], T]) -> T:
    """Run ``action``, turning a ChatKeeper error into its message and exit code."""
    try:
        return action()
    except ChatKeeperError as exc:
        fail(exc, as_json)
        raise  # unreachable: fail() exits


@dataclass(slots=True)
class Session:
    """Who this invocation says it is (``--user``, passwords and tokens from the environment
    or a prompt), and the archive it signs in to."""

    user: str | None = None
    context: Context | None = None
    actor: Actor | None = None


SESSION = Session()


@contextmanager
def opened(data_dir: Path | None, as_json: bool, *, create: bool = False) -> Iterator[Context]:
    """The service context for this invocation, closed afterwards."""
    ctx = guarded(as_json, lambda: open_context(load_settings(data_dir=data_dir), create=create))
    SESSION.context, SESSION.actor = ctx, None
    try:
        yield ctx
    except ChatKeeperError as exc:
        fail(exc, as_json)
    finally:
        SESSION.context = None
        ctx.close()


def actor() -> Actor:
    """The signed-in user running this command (inside :func:`opened`).

    The user is ``--user`` / ``CHATKEEPER_USER``; the password ``CHATKEEPER_PASSWORD`` or a
    prompt on a terminal; or an API token in ``CHATKEEPER_TOKEN`` instead of both.
    """
    if SESSION.actor is not None:
        return SESSION.actor
    ctx = SESSION.context
    assert ctx is not None, "actor() is called inside opened()"
    token = os.environ.get("CHATKEEPER_TOKEN") or None
    user = SESSION.user or os.environ.get("CHATKEEPER_USER") or None
    password = os.environ.get("CHATKEEPER_PASSWORD")
    if not token:
        if not user:
            raise AuthenticationFailed(
                "who is running this? give --user NAME (or set CHATKEEPER_USER), with"
                " CHATKEEPER_PASSWORD or CHATKEEPER_TOKEN"
            )
        if password is None:
            if not sys.stdin.isatty():
                raise AuthenticationFailed(
                    f"no password for {user}: set CHATKEEPER_PASSWORD (or CHATKEEPER_TOKEN)"
                )
            password = typer.prompt(f"password for {user}", hide_input=True, err=True)
    SESSION.actor = authenticate(ctx, user, password=password, token=token)
    return SESSION.actor


def system_actor(name: str) -> Actor:
    """A job of the system itself (the demo builder): no user, every permission."""
    return Actor(name, frozenset({SYSTEM}))
