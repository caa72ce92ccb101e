"""``chatkeeper evidence export|verify``: conversation evidence bundles, checkable offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatkeeper.cli.common import DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.evidence import export_evidence

evidence_app = typer.Typer(help="Evidence bundles (存证包).", no_args_is_help=True)


@evidence_app.command("export")
def export(
    conversation_id: Annotated[str, typer.Argument(help="The conversation's id.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The .zip file to write.")],
    platform: Annotated[str | None, typer.Option(help="Platform, if the id is ambiguous.")] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Export a conversation with its proofs, signed checkpoint, public key and verifier."""
    with opened(data_dir, as_json) as ctx:
        result = export_evidence(ctx, actor(), conversation_id, out, platform)
    if as_json:
        print_json(result)
    else:
        console.print(
            f"wrote {result['file']}: {result['messages']} messages, proofs to the checkpoint "
            f"of size {result['checkpoint_size']}; check it with: python verify.py {out.name}"
        )


@evidence_app.command("verify")
def verify(
    bundle: Annotated[Path, typer.Argument(help="The evidence bundle (.zip).")],
    as_json: Json = False,
) -> None:
    """Check a bundle offline, with no data folder: exit 0 if every message verifies."""
    from chatkeeper.ledger.standalone import verify_bundle

    report = verify_bundle(bundle)
    if as_json:
        print_json(report)
    else:
        for message in report["messages"]:
            mark = "[green]ok[/]" if message["ok"] else f"[red]{message['problem']}[/]"
            console.print(f"{message['leaf_index']:>6} {message['message_id']}: {mark}")
        for problem in report["problems"]:
            console.print(f"[red]{problem}[/]")
        console.print("[bold green]verified[/]" if report["ok"] else "[bold red]NOT verified[/]")
    if not report["ok"]:
        raise typer.Exit(1)
