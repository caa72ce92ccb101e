"""``chatkeeper bin``: the recycle bin — list it, put conversations in, restore one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from chatkeeper.cli.common import Approval, DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.recycle import list_bin, move_to_bin, restore_from_bin

bin_app = typer.Typer(
    help="The recycle bin: conversations past their deadline, recoverable until the purge.",
    no_args_is_help=True,
)
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded).")]
Platform = Annotated[
    str | None, typer.Option("--platform", help="The platform, where an id is on several.")
]


@bin_app.command("list")
def list_(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Every conversation in the bin: department, service type, when it went in, when its
    purge is due."""
    with opened(data_dir, as_json) as ctx:
        entries = list_bin(ctx, actor())
    if as_json:
        print_json({"conversations": entries})
        return
    table = Table(
        "conversation",
        "platform",
        "department",
        "service type",
        "messages",
        "binned at",
        "by",
        "purge due at",
    )
    for e in entries:
        table.add_row(
            e["conversation_id"],
            e["platform"],
            e["department"] or "",
            e["service_type"] or "",
            str(e["messages"]),
            e["binned_at"],
            e["binned_by"],
            e["purge_due_at"] or "never",
        )
    console.print(table)


@bin_app.command("move")
def move(
    conversation_ids: Annotated[list[str], typer.Argument(help="Conversation ids.")],
    reason: Reason,
    platform: Platform = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Put conversations in the bin by hand (legal): out of search and views, restorable
    within the window; refused under a legal hold."""
    with opened(data_dir, as_json) as ctx:
        with ctx.archive.reader() as connection:
            pks = [
                ctx.archive.find_conversation(connection, ref, platform)["id"]
                for ref in conversation_ids
            ]
        done = move_to_bin(ctx, actor(), pks, reason)
    if as_json:
        print_json(done)
    else:
        console.print(
            f"{len(done['binned'])} conversations put in the recycle bin"
            f" ({len(done['already_in_bin'])} were in it already)"
        )


@bin_app.command("restore")
def restore(
    conversation_id: Annotated[str, typer.Argument(help="The conversation's id.")],
    reason: Reason,
    approval: Approval = None,
    platform: Platform = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Take a conversation out of the bin within its window (a key operation: legal or an
    admin approves it first)."""
    with opened(data_dir, as_json) as ctx:
        done = restore_from_bin(ctx, actor(), conversation_id, reason, approval, platform=platform)
    if as_json:
        print_json(done)
    else:
        console.print(
            f"conversation {done['conversation']} restored ({done['state']},"
            f" {done['messages_indexed']} messages searchable again)"
        )
