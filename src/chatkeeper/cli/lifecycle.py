"""``chatkeeper lifecycle``: the daily job (run, status) and its records (deletion
certificates)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from chatkeeper.cli.common import DataDir, Json, actor, console, guarded, opened, print_json
from chatkeeper.config import load_settings
from chatkeeper.errors import SearchError
from chatkeeper.governance import GovernanceError
from chatkeeper.services.lifecycle import lifecycle_status, run_lifecycle
from chatkeeper.services.purge import export_certificate, list_certificates

lifecycle_app = typer.Typer(
    help="The lifecycle: the daily job, its status, deletion certificates.", no_args_is_help=True
)


@lifecycle_app.command("certificates")
def certificates(
    certificate_id: Annotated[
        int | None, typer.Option("--id", help="One certificate (with --out: write it).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write cert.json and cert.html into this folder.")
    ] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Every deletion certificate, each checked against the deployment's verifier key; with
    --id N --out DIR, write one out as cert.json (signed) and cert.html (readable)."""
    with opened(data_dir, as_json) as ctx:
        if out is not None:
            if certificate_id is None:
                raise GovernanceError("--out needs --id: which certificate to write")
            written = export_certificate(ctx, actor(), certificate_id, out)
        else:
            found = list_certificates(ctx, actor())
    if out is not None:
        if as_json:
            print_json(written)
        else:
            state = "verifies" if written["valid"] else f"does NOT verify: {written['problem']}"
            console.print(
                f"certificate {written['id']} ({state}) written to"
                f" {written['files']['json']} and {written['files']['html']}"
            )
        return
    if certificate_id is not None:
        found = [c for c in found if c["id"] == certificate_id]
    if as_json:
        print_json({"certificates": found})
        return
    table = Table(
        "id", "issued at", "actor", "run", "conversations", "messages", "valid", "SHA-256"
    )
    for c in found:
        table.add_row(
            str(c["id"]),
            c["issued_at"],
            c["actor"],
            str(c["run"] or ""),
            str(c["conversations"]),
            str(c["messages"]),
            "yes" if c["valid"] else f"NO: {c['problem']}",
            c["digest"][:16],
        )
    console.print(table)


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SearchError(f"--as-of '{value}' is not a date (YYYY-MM-DD)", field="as_of") from None
    if moment.tzinfo is None:  # a calendar date: midnight in the lifecycle's zone
        return moment.replace(tzinfo=ZoneInfo(load_settings().lifecycle.timezone))
    return moment


@lifecycle_app.command("run")
def run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; change nothing.")] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Plan as of this date (with --dry-run).")
    ] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Plan, then act: conversations to cold storage, to the recycle bin, purged, held."""
    moment = guarded(as_json, lambda: _as_of(as_of))
    with opened(data_dir, as_json) as ctx:
        summary = run_lifecycle(ctx, actor(), as_of=moment, dry_run=dry_run)
    if as_json:
        print_json(summary)
        return
    verb = "would move" if dry_run else "moved"
    console.print(
        f"as of {summary['as_of']} (policy v{summary['policy_version']}): {verb}"
        f" {summary['to_recycle_bin']} to the recycle bin, {summary['purged']} purged,"
        f" {summary['archived']} to cold storage; {summary['held']} held by a legal hold,"
        f" {summary['kept_by_floor']} kept by a statutory floor",
        highlight=False,
    )
    table = Table("rule", "cold", "to bin", "purged", "held", "floor", "stay")
    for rule, t in summary["by_rule"].items():
        table.add_row(rule, *(str(t[k]) for k in ("archived", "to_recycle_bin", "purged",
                                                  "held", "kept_by_floor", "stayed")))  # fmt: skip
    console.print(table)
    if summary.get("certificate"):
        console.print(f"deletion certificate {summary['certificate']} written")
    cold = summary.get("cold")
    if cold and cold["conversations"]:
        console.print(
            f"cold storage: {cold['conversations']} conversations, {cold['messages']} messages"
            f" into {cold['segments']} segments ({cold['bytes'] / 1_048_576:.1f} MiB)",
            highlight=False,
        )


@lifecycle_app.command("status")
def status(data_dir: DataDir = None, as_json: Json = False) -> None:
    """The last runs, the next scheduled run, and scheduled runs that did not happen."""
    with opened(data_dir, as_json) as ctx:
        result = lifecycle_status(ctx, actor())
    if as_json:
        print_json(result)
        return
    console.print(f"schedule {result['schedule']} ({result['timezone']}); next run"
                  f" {result['next_run']}", highlight=False)  # fmt: skip
    if result["missed_runs"]:
        console.print(f"[bold red]{len(result['missed_runs'])} scheduled runs did not happen[/]:"
                      f" {', '.join(result['missed_runs'][:5])}")  # fmt: skip
    if result["never_run_by_scheduler"]:
        console.print("[yellow]the scheduler has not run the job yet[/]")
    if result["last_failed"]:
        console.print(f"[bold red]last failed run[/]: {result['last_failed']['at']}")
    cold = result["cold"]
    console.print(
        f"cold storage: {cold['conversations']} conversations, {cold['messages']} messages in"
        f" {cold['segments']} segments ({cold['bytes'] / 1_048_576:.1f} MiB)"
        + (f"; {cold['segments_to_rewrite']} to rewrite" if cold["segments_to_rewrite"] else ""),
        highlight=False,
    )
    for r in result["last_runs"][:10]:
        console.print(f"  {r['at']} {r['source']} {r['actor']}: {r['result']}", highlight=False)
