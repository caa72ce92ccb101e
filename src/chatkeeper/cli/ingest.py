"""``chatkeeper ingest``: load files in a source format into the archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from chatkeeper.cli.common import DataDir, Json, actor, console, opened, print_json
from chatkeeper.formats import FORMATS
from chatkeeper.services.ingest import count_records, ingest_files


def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to ingest.", show_default=False)],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help=f"Source format: {', '.join(sorted(FORMATS))}."),
    ] = "jsonl",
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Ingest conversation records; bad records are reported, the rest land."""
    with opened(data_dir, as_json) as ctx:
        if as_json or not console.is_terminal:
            report = ingest_files(ctx, actor(), files, fmt)
        else:
            columns = (
                TextColumn("[bold]ingest"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=console) as bar:
                task = bar.add_task(
                    "ingest", total=count_records([f for f in files if f.is_file()])
                )
                report = ingest_files(
                    ctx, actor(), files, fmt, progress=lambda n: bar.advance(task, n)
                )
        if as_json:
            print_json(report.as_dict())
            return
        console.print(
            f"ingested [bold green]{report.ingested}[/], duplicates {report.duplicates}, "
            f"rejected [bold red]{report.rejected}[/], skipped {report.skipped}"
        )
        if report.rejects_file:
            console.print(f"rejected records are listed in {report.rejects_file}")
