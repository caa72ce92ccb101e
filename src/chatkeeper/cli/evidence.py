"""``chatkeeper evidence export|verify``: conversation evidence bundles, checkable offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatkeeper.cli.common import Approval, DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.evidence import export_evidence, verify_evidence

evidence_app = typer.Typer(help="Evidence bundles (存证包).", no_args_is_help=True)


@evidence_app.command("export")
def export(
    conversation_id: Annotated[str, typer.Argument(help="The conversation's id.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The .zip file to write.")],
    platform: Annotated[str | None, typer.Option(help="Platform, if the id is ambiguous.")] = None,
    approval: Approval = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Export a conversation with its proofs, signed and anchored checkpoints, public key and
    verifier."""
    with opened(data_dir, as_json) as ctx:
        result = export_evidence(ctx, actor(), conversation_id, out, platform, approval)
    if as_json:
        print_json(result)
        return
    anchored = result["anchored_size"]
    console.print(
        f"wrote {result['file']}: {result['messages']} messages, proofs to the checkpoint of "
        f"size {result['checkpoint_size']}, "
        + (f"consistent with the anchored checkpoint of size {anchored}"
           if anchored is not None else "no anchored checkpoint yet (run `ledger anchor`)")
        + f"; check it with: python verify.py {out.name}"
    )  # fmt: skip


@evidence_app.command("verify")
def verify(
    bundle: Annotated[Path, typer.Argument(help="The evidence bundle (.zip).")],
    public_key: Annotated[
        str | None,
        typer.Option(help="The log's verifier key as the operator publishes it (NAME+HEX+B64)."),
    ] = None,
    as_json: Json = False,
) -> None:
    """Check a bundle offline, with no data folder: messages, checkpoint, anchored checkpoint,
    consistency proof and time-stamp token; exit 0 if all of it verifies."""
    report = verify_evidence(bundle, public_key)
    if as_json:
        print_json(report)
    else:
        for message in report["messages"]:
            mark = "[green]ok[/]" if message["ok"] else f"[red]{message['problem']}[/]"
            console.print(f"{message['leaf_index']:>6} {message['message_id']}: {mark}")
        console.print(_anchor_line(report), highlight=False)
        for problem in report["problems"]:
            console.print(f"[red]{problem}[/]")
        console.print("[bold green]verified[/]" if report["ok"] else "[bold red]NOT verified[/]")
    if not report["ok"]:
        raise typer.Exit(1)


def _anchor_line(report: dict[str, object]) -> str:
    """The anchored checkpoint, its consistency and time-stamp, or that there is none."""
    anchor = report.get("anchor")
    if not isinstance(anchor, dict):
        return "anchor: none recorded (a v1 bundle)"
    if not anchor["present"]:
        return (
            "anchor: no anchored checkpoint yet: the log had not been published to an external "
            "anchor when the bundle was exported"
        )
    if not anchor["consistent"]:
        return f"anchor: the anchored checkpoint of size {anchor.get('size')} does not verify"
    line = (
        f"anchor: checkpoint of size {anchor['size']} ({anchor['kind']}), consistent; "
        f"{anchor['messages_anchored']} message(s) were in the log when it was anchored"
    )
    stamp = anchor.get("time_stamp")
    if isinstance(stamp, dict):
        line += (
            f"; time-stamped {stamp['time']} by {stamp['authority']} "
            f"(certificate SHA-256 {stamp['certificate_sha256']})"
        )
    return line
