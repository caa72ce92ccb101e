"""``chatkeeper access``: ask for another department's records, list and revoke grants."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from chatkeeper.cli.common import DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.access import list_grants, request_access, revoke_grant

access_app = typer.Typer(help="Time-limited cross-department access.", no_args_is_help=True)


@access_app.command("request")
def request(
    department: Annotated[str, typer.Option("--department", help="The department.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    days: Annotated[int | None, typer.Option(help="How long (default 7 days).")] = None,
    conversation: Annotated[
        list[str] | None,
        typer.Option("--conversation", help="Only this conversation (repeatable)."),
    ] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Ask for access; a supervisor of the department (or legal) approves it."""
    with opened(data_dir, as_json) as ctx:
        result = request_access(ctx, actor(), department, reason, days, conversation or [])
    if as_json:
        print_json(result)
    else:
        console.print(
            f"request {result['approval_request']} filed: a supervisor of {department} or legal"
            f" approves it with `chatkeeper approvals approve {result['approval_request']}`"
        )


@access_app.command("list")
def list_(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Your grants (every grant, for legal, auditors and admins)."""
    with opened(data_dir, as_json) as ctx:
        grants = list_grants(ctx, actor())
    if as_json:
        print_json({"grants": grants})
        return
    table = Table("id", "user", "department", "conversations", "expires", "state")
    for g in grants:
        table.add_row(str(g["id"]), g["user"], g["department"], str(g["conversations"]),
                      g["expires_at"], g["state"])  # fmt: skip
    console.print(table)


@access_app.command("revoke")
def revoke(
    grant_id: Annotated[int, typer.Argument(help="The grant's number.")],
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """End a grant now."""
    with opened(data_dir, as_json) as ctx:
        revoke_grant(ctx, actor(), grant_id)
    if as_json:
        print_json({"ok": True, "revoked": grant_id})
    else:
        console.print(f"grant {grant_id} revoked")
