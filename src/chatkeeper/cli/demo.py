"""``chatkeeper demo``: try ChatKeeper on a realistic synthetic archive."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from chatkeeper.cli.common import Json, console, guarded, print_json, system_actor
from chatkeeper.config import load_settings
from chatkeeper.services.demo import build_demo, demo_users, example_conversation, write_dataset

ACTOR = system_actor("demo")

NEXT_STEPS = """
Users admin, legal, supervisor (投诉处理部) and auditor share the password [bold]{password}[/]
(also in {folder}/demo-users.txt). Sign in as legal, then:
  export CHATKEEPER_USER=legal CHATKEEPER_PASSWORD={password}

[bold]Try next[/] (the data folder is {folder}):
  {prog} search 退款 --data-dir {folder}
  {prog} search 发票 --service-type transaction --data-dir {folder}
  {prog} search 投诉 --department 投诉处理部 --from 2026-09-01 --data-dir {folder}
  {prog} search "律师 OR 起诉" --sort relevance --limit 5 --data-dir {folder}
  {prog} search 退 --tag vip --role customer --limit 5 --data-dir {folder}
  {prog} show {conversation} --data-dir {folder}
  {prog} stats --by week --data-dir {folder}
  CHATKEEPER_USER=supervisor {prog} stats --data-dir {folder}     (投诉处理部 only)
  {prog} review list --data-dir {folder}                        (high-risk conversations)
  {prog} lifecycle run --dry-run --data-dir {folder}            (what retention would do today)
  {prog} unmask MESSAGE_ID --reason 核实 --data-dir {folder}      (files an approval request;
      CHATKEEPER_USER=auditor {prog} approvals approve N, then run it again with --approval N)
"""


def _program() -> str:
    """How the user can run this command again: its name if on PATH, else its path."""
    invoked = Path(sys.argv[0])
    on_path = shutil.which(invoked.name)
    if on_path and Path(on_path).resolve() == invoked.resolve():
        return invoked.name
    return str(invoked) if invoked.name == "chatkeeper" else "chatkeeper"


def demo(
    messages: Annotated[int, typer.Option(help="How many messages to generate.", min=0)] = 50_000,
    out: Annotated[
        Path | None,
        typer.Option(help="Only write the data set to this JSONL file; do not ingest it."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 20250101,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="The demo's own data folder.")
    ] = Path("chatkeeper-demo"),
    as_json: Json = False,
) -> None:
    """Build a demo archive of synthetic conversations, or write a data set with --out."""
    if out is not None:
        count = guarded(as_json, lambda: write_dataset(out, messages, seed))
        if as_json:
            print_json({"written": count, "file": str(out)})
        else:
            console.print(f"wrote {count} messages to {out}")
        return
    settings = guarded(as_json, lambda: load_settings(data_dir=data_dir))
    if as_json or not console.is_terminal:
        ctx, report = guarded(as_json, lambda: build_demo(settings, ACTOR, messages, seed))
    else:
        columns = (
            TextColumn("[bold]demo"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("ingest", total=messages)
            ctx, report = guarded(
                as_json,
                lambda: build_demo(
                    settings, ACTOR, messages, seed, progress=lambda n: bar.advance(task, n)
                ),
            )
    conversation = example_conversation(ctx, ACTOR) or "CONVERSATION_ID"
    password, users = guarded(as_json, lambda: demo_users(ctx, ACTOR))
    ctx.close()
    if as_json:
        print_json({**report.as_dict(), "data_dir": str(data_dir), "users": users,
                    "password": password})  # fmt: skip
        return
    console.print(
        f"ingested [bold green]{report.ingested}[/] messages into {data_dir} "
        f"(duplicates {report.duplicates}, rejected {report.rejected})"
    )
    console.print(
        NEXT_STEPS.format(
            folder=data_dir, conversation=conversation, prog=_program(), password=password
        ),
        soft_wrap=True,
        highlight=False,
    )
