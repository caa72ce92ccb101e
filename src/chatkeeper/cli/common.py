"""What every command shares: options, opening the archive, printing results and errors."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from chatkeeper.config import load_settings
from chatkeeper.domain import Actor
from chatkeeper.errors import ChatKeeperError
from chatkeeper.services import Context, open_context

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

T = TypeVar("T")


def print_json(value: Any) -> None:
    """Write a JSON document to standard output."""
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")
    sys.stdout.flush()


def fail(error: ChatKeeperError, as_json: bool) -> None:
    """Report an error the way the caller asked and exit with its code."""
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


@contextmanager
def opened(data_dir: Path | None, as_json: bool, *, create: bool = False) -> Iterator[Context]:
    """The service context for this invocation, closed afterwards."""
    ctx = guarded(as_json, lambda: open_context(load_settings(data_dir=data_dir), create=create))
    try:
        yield ctx
    except ChatKeeperError as exc:
        fail(exc, as_json)
    finally:
        ctx.close()


def actor() -> Actor:
    """Who runs this command (the local operator until user accounts exist)."""
    return Actor.local_operator()
