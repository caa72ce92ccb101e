"""``chatkeeper stats``: counts by platform, service type, department and day, week or
month, within what the user may see."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from chatkeeper.cli.common import DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.stats import archive_stats


def stats(
    days: Annotated[int, typer.Option(help="How many most recent periods to list.")] = 14,
    by: Annotated[str, typer.Option("--by", help="Time axis: day, week or month.")] = "day",
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Show how much the archive holds, and where from."""
    with opened(data_dir, as_json) as ctx:
        result = archive_stats(ctx, actor(), by)
    if as_json:
        print_json(result)
        return
    console.print(
        f"[bold]{result['conversations']}[/] conversations, [bold]{result['messages']}[/] messages"
    )
    for dimension in ("platform", "service_type", "department"):
        table = Table(title=f"by {dimension.replace('_', ' ')}")
        for column in (dimension, "conversations", "messages"):
            table.add_column(column, justify="left" if column == dimension else "right")
        for row in result[f"by_{dimension}"]:
            table.add_row(row["value"], str(row["conversations"]), str(row["messages"]))
        console.print(table)
    table = Table(title=f"messages per {by}")
    table.add_column(by)
    table.add_column("messages", justify="right")
    for row in result[f"by_{by}"][-days:]:
        table.add_row(row[by], str(row["messages"]))
    console.print(table)
