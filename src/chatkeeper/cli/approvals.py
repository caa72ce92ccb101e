"""``chatkeeper approvals``: see requests, and approve or reject another user's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from chatkeeper.cli.common import DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.approvals import decide, list_requests, show_request

approvals_app = typer.Typer(help="Two-person approvals of key operations.", no_args_is_help=True)
RequestId = Annotated[int, typer.Argument(help="The request's number.")]
Comment = Annotated[str | None, typer.Option("--comment", help="Recorded with the decision.")]


def _print(request: dict[str, Any]) -> None:
    console.print(f"[bold]request {request['id']}[/]: {request['operation']} — {request['state']}")
    console.print(f"  by {request['requester']} at {request['created_at']}; "
                  f"expires {request['expires_at']}", highlight=False)  # fmt: skip
    if request.get("reason"):
        console.print(f"  reason: {request['reason']}", markup=False, highlight=False)
    console.print(f"  parameters: {request['params']}", markup=False, highlight=False)
    for d in request.get("decisions", []):
        console.print(f"  {d['decision']} by {d['decider']} at {d['at']}"
                      + (f": {d['comment']}" if d["comment"] else ""), highlight=False)  # fmt: skip
    if request.get("grant"):
        console.print(f"  grant {request['grant']} is live")


@approvals_app.command("list")
def list_(
    state: Annotated[str | None, typer.Option(help="Only requests in this state.")] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Requests you filed or may decide, newest first."""
    with opened(data_dir, as_json) as ctx:
        requests = list_requests(ctx, actor(), state)
    if as_json:
        print_json({"requests": requests})
        return
    table = Table("id", "operation", "requester", "state", "created", "expires")
    for r in requests:
        table.add_row(str(r["id"]), r["operation"], r["requester"], r["state"],
                      r["created_at"], r["expires_at"])  # fmt: skip
    console.print(table)


@approvals_app.command("show")
def show(request_id: RequestId, data_dir: DataDir = None, as_json: Json = False) -> None:
    """One request with its parameters and decisions."""
    with opened(data_dir, as_json) as ctx:
        request = show_request(ctx, actor(), request_id)
    if as_json:
        print_json(request)
    else:
        _print(request)


def _decide(
    request_id: int, approve: bool, comment: str | None, data_dir: Path | None, as_json: bool
) -> None:
    with opened(data_dir, as_json) as ctx:
        request = decide(ctx, actor(), request_id, approve, comment)
    if as_json:
        print_json(request)
    else:
        _print(request)


@approvals_app.command("approve")
def approve(
    request_id: RequestId, comment: Comment = None, data_dir: DataDir = None, as_json: Json = False
) -> None:
    """Approve another user's request (never your own)."""
    _decide(request_id, True, comment, data_dir, as_json)


@approvals_app.command("reject")
def reject(
    request_id: RequestId, comment: Comment = None, data_dir: DataDir = None, as_json: Json = False
) -> None:
    """Reject another user's request."""
    _decide(request_id, False, comment, data_dir, as_json)
