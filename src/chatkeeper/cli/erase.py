"""``chatkeeper erase``: erasure of a person (PIPL art. 47)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from chatkeeper.cli.common import Approval, DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.erasure import erase_person


def erase(
    customer: Annotated[str, typer.Option("--customer", help="The customer's platform id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    platform: Annotated[str | None, typer.Option(help="Only on this platform.")] = None,
    approval: Approval = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Delete everything of a customer that no legal hold or statutory floor keeps (a key
    operation); report per conversation what was deleted and what was kept and why."""
    with opened(data_dir, as_json) as ctx:
        result = erase_person(ctx, actor(), customer, reason, platform, approval)
    if as_json:
        print_json(result)
        return
    table = Table("conversation", "platform", "outcome", "why")
    for row in result["conversations"]:
        table.add_row(row["conversation_id"], row["platform"], row["outcome"], row["why"])
    console.print(table)
    console.print(
        f"{result['deleted']} deleted, {result['kept']} kept; customer keys destroyed:"
        f" {result['customer_keys_destroyed']}; certificate {result['certificate'] or '-'}"
    )
