"""``chatkeeper hold``: legal holds — make, list, show, release."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from chatkeeper.cli.common import (
    Approval,
    DataDir,
    Json,
    actor,
    console,
    guarded,
    opened,
    print_json,
)
from chatkeeper.cli.search import _moment
from chatkeeper.services.holds import create_hold, list_holds, release_hold, show_hold

hold_app = typer.Typer(help="Legal holds: covered conversations take no lifecycle step.",
                       no_args_is_help=True)  # fmt: skip
Many = Annotated[list[str] | None, typer.Option(show_default=False)]
HoldId = Annotated[int, typer.Argument(help="The hold's number.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded).")]


@hold_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A name for the hold (unique).")],
    reason: Reason,
    customer: Many = None,
    conversation: Many = None,
    department: Many = None,
    query: Annotated[str | None, typer.Option(help="A search query (as `search`).")] = None,
    since: Annotated[str | None, typer.Option("--from", help="Service dates from.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Up to (a date: inclusive).")] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Hold every conversation, now and later, matching any of the criteria (repeatable
    --customer, --conversation, --department; --query; --from with --to)."""
    start = guarded(as_json, lambda: _moment(since, "from"))
    end = guarded(as_json, lambda: _moment(until, "to", end=True))
    with opened(data_dir, as_json) as ctx:
        hold = create_hold(ctx, actor(), name, reason, customers=customer or [],
                           conversations=conversation or [], departments=department or [],
                           since=start, until=end, query=query)  # fmt: skip
    if as_json:
        print_json(hold)
    else:
        console.print(f"legal hold {hold['id']} ({hold['name']}) covers {hold['covered']}"
                      " conversations now, and every later one that matches")  # fmt: skip


@hold_app.command("list")
def list_(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Every hold, active and released, with how many conversations each covers."""
    with opened(data_dir, as_json) as ctx:
        holds = list_holds(ctx, actor())
    if as_json:
        print_json({"holds": holds})
        return
    table = Table("id", "name", "state", "criteria", "covered", "created", "by")
    for h in holds:
        table.add_row(str(h["id"]), h["name"], h["state"], ", ".join(h["criteria"]),
                      str(h["covered"]), h["created_at"], h["created_by"])  # fmt: skip
    console.print(table)


@hold_app.command("show")
def show(hold_id: HoldId, data_dir: DataDir = None, as_json: Json = False) -> None:
    """One hold: its criteria, the conversations it covers, counts."""
    with opened(data_dir, as_json) as ctx:
        hold = show_hold(ctx, actor(), hold_id)
    if as_json:
        print_json(hold)
        return
    console.print(f"legal hold {hold['id']} ({hold['name']}), {hold['state']}: {hold['reason']}",
                  markup=False, highlight=False)  # fmt: skip
    counts = hold["counts"]
    per = ", ".join(f"{k} {v}" for k, v in counts["by_criterion"].items())
    console.print(f"covers {counts['total']} conversations ({per})", markup=False)
    table = Table("conversation", "platform", "department", "service type", "service date")
    for c in hold["conversations"]:
        table.add_row(c["conversation_id"], c["platform"], c["department"] or "",
                      c["service_type"] or "", c["service_date"])  # fmt: skip
    console.print(table)


@hold_app.command("release")
def release(
    hold_id: HoldId,
    reason: Reason,
    approval: Approval = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Release a hold (a key operation: another legal user approves it first)."""
    with opened(data_dir, as_json) as ctx:
        hold = release_hold(ctx, actor(), hold_id, reason, approval)
    if as_json:
        print_json(hold)
    else:
        console.print(f"legal hold {hold['id']} released")
