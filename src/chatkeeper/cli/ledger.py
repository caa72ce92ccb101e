"""``chatkeeper ledger verify``: recompute the message ledger and name every difference."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from chatkeeper.cli.common import DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.ledger import anchor_checkpoints, verify_ledger

ledger_app = typer.Typer(help="The tamper-evident ledger.", no_args_is_help=True)
EXIT_FINDINGS = 1


@ledger_app.command("verify")
def verify(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Recompute every leaf, node, root, checkpoint and anchor receipt; exit 1 naming each
    difference. On a terminal (and not with --json) a bar counts the messages checked."""
    with opened(data_dir, as_json) as ctx:
        if as_json or not console.is_terminal:
            report = verify_ledger(ctx, actor())
        else:
            columns = (TextColumn("[bold]verify"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, console=console) as bar:
                task = bar.add_task("verify", total=None)
                report = verify_ledger(
                    ctx, actor(), progress=lambda n: bar.advance(task, n),
                    total=lambda n: bar.update(task, total=n or None),
                )  # fmt: skip
    if as_json:
        print_json(report.as_dict())
    else:
        console.print(
            f"log of {report.size} leaves; {report.messages} messages "
            f"({report.purged} purged or offline), {report.checkpoints} checkpoints and "
            f"{report.anchors} anchor receipts checked"
        )
        if report.intact:
            console.print("[bold green]intact[/]: everything matches the ledger")
        else:
            table = Table("finding", "where", "what")
            for finding in report.findings:
                table.add_row(finding.kind, finding.target, finding.detail)
            console.print(table)
    if not report.intact:
        raise typer.Exit(EXIT_FINDINGS)


@ledger_app.command("anchor")
def anchor(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Publish each log's newest signed checkpoint to the anchor in ledger.anchor."""
    with opened(data_dir, as_json) as ctx:
        published = anchor_checkpoints(ctx, actor())
    if as_json:
        print_json({"published": published})
        return
    for item in published:
        console.print(f"{item['log']} checkpoint {item['size']} → {item['receipt']}")
    if not published:
        console.print("nothing new to anchor")
