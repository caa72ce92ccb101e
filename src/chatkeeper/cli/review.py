"""``chatkeeper review``: the three-level review queue of risky conversations."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from chatkeeper.cli.common import DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.review import list_reviews, show_review, submit_review

review_app = typer.Typer(help="Review of risky conversations: agent → supervisor → legal.",
                         no_args_is_help=True)  # fmt: skip
ItemId = Annotated[int, typer.Argument(help="The review item's number.")]


def _print(item: dict[str, Any]) -> None:
    late = " [bold red]overdue[/]" if item["overdue"] else ""
    console.print(f"[bold]review {item['id']}[/]: conversation {item['conversation_id']}"
                  f" ({item['department'] or '-'}), risk {item['risk_level']}, stage"
                  f" {item['stage']}, {item['state']}, due {item['due_at']}{late}")  # fmt: skip
    if item.get("risk_terms"):
        console.print(f"  terms: {', '.join(item['risk_terms'])}", markup=False)
    for step in item.get("steps", []):
        console.print(f"  {step['at']} {step['stage']}: {step['actor']} {step['decision']}"
                      f" — {step['comment']}", markup=False, highlight=False)  # fmt: skip
    if item["decisions"]:
        console.print(f"  next: {', '.join(item['decisions'])}")


@review_app.command("list")
def list_(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only items past due.")] = False,
    closed: Annotated[bool, typer.Option("--closed", help="Closed items too.")] = False,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Review items you may see, soonest due first."""
    with opened(data_dir, as_json) as ctx:
        items = list_reviews(ctx, actor(), overdue=overdue, include_closed=closed)
    if as_json:
        print_json({"items": items})
        return
    table = Table("id", "conversation", "department", "risk", "stage", "state", "due")
    for i in items:
        due = i["due_at"] + (" (overdue)" if i["overdue"] else "")
        table.add_row(str(i["id"]), i["conversation_id"], i["department"] or "-",
                      i["risk_level"], i["stage"], i["state"], due)  # fmt: skip
    console.print(table)


@review_app.command("show")
def show(item_id: ItemId, data_dir: DataDir = None, as_json: Json = False) -> None:
    """One item, with every step so far."""
    with opened(data_dir, as_json) as ctx:
        item = show_review(ctx, actor(), item_id)
    if as_json:
        print_json(item)
    else:
        _print(item)


@review_app.command("submit")
def submit(
    item_id: ItemId,
    decision: Annotated[
        str,
        typer.Option(
            "--decision",
            help="account (agent); forward or close (supervisor); close, escalate or hold (legal).",
        ),
    ],
    comment: Annotated[str, typer.Option("--comment", help="Your account or reasoning.")],
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Record your stage's decision on an item."""
    with opened(data_dir, as_json) as ctx:
        item = submit_review(ctx, actor(), item_id, decision, comment)
    if as_json:
        print_json(item)
    else:
        _print(item)
