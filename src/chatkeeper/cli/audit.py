"""``chatkeeper audit list|export``: the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from chatkeeper.cli.common import DataDir, Json, actor, console, guarded, opened, print_json
from chatkeeper.cli.search import _moment
from chatkeeper.services.audit import AuditFilter, export_events, list_events

audit_app = typer.Typer(help="The audit log: who did what, when.", no_args_is_help=True)
Action = Annotated[str | None, typer.Option(help="Only this action, e.g. message.unmasked.")]
Who = Annotated[str | None, typer.Option("--actor", help="Only this actor.")]
Since = Annotated[str | None, typer.Option("--from", help="From this date or time.")]
Until = Annotated[str | None, typer.Option("--to", help="Up to this date (inclusive) or time.")]
Limit = Annotated[int, typer.Option(help="At most this many events, newest first.")]


def _filter(action: str | None, who: str | None, since: str | None, until: str | None,
            limit: int) -> AuditFilter:  # fmt: skip
    return AuditFilter(action, who, _moment(since, "from"), _moment(until, "to", end=True), limit)


@audit_app.command("list")
def list_command(
    action: Action = None, who: Who = None, since: Since = None, until: Until = None,
    limit: Limit = 50, data_dir: DataDir = None, as_json: Json = False,
) -> None:  # fmt: skip
    """List audit events, newest first."""
    query = guarded(as_json, lambda: _filter(action, who, since, until, limit))
    with opened(data_dir, as_json) as ctx:
        events = list_events(ctx, actor(), query)
    if as_json:
        print_json({"events": events})
        return
    table = Table("#", "time", "actor", "action", "target", "result", "reason")
    for e in events:
        target = f"{e['target_kind'] or ''} {e['target_id'] or ''}".strip()
        table.add_row(str(e["ledger_index"]), e["at"][:19], e["actor"], e["action"], target,
                      e["result"], e["reason"] or "")  # fmt: skip
    console.print(table)


@audit_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("-o", "--out", help="The file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    action: Action = None, who: Who = None, since: Since = None, until: Until = None,
    limit: Limit = 100_000, data_dir: DataDir = None, as_json: Json = False,
) -> None:  # fmt: skip
    """Export audit events to CSV or JSON (the export is itself recorded)."""
    query = guarded(as_json, lambda: _filter(action, who, since, until, limit))
    with opened(data_dir, as_json) as ctx:
        count = export_events(ctx, actor(), query, out, fmt)
    if as_json:
        print_json({"exported": count, "file": str(out)})
    else:
        console.print(f"exported {count} events to {out}")
