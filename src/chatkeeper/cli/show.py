"""``chatkeeper show``: a conversation's transcript."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from chatkeeper.cli.common import DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.conversations import show_conversation

ROLE_STYLE = {"customer": "cyan", "agent": "green", "bot": "magenta", "system": "dim"}


def show(
    conversation_id: Annotated[str, typer.Argument(help="The conversation's id.")],
    platform: Annotated[str | None, typer.Option(help="Platform, if the id is ambiguous.")] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Print a conversation's transcript, recalls and consent records included."""
    with opened(data_dir, as_json) as ctx:
        transcript = show_conversation(ctx, actor(), conversation_id, platform)
    if as_json:
        print_json(transcript.as_dict())
        return
    c = transcript.conversation
    agents = ", ".join(a["name"] or a["external_id"] for a in c["agents"]) or "-"
    console.print(
        f"[bold]{escape(c['conversation_id'])}[/] · {c['platform']} · "
        f"{escape(c['department'] or '-')} · {c['service_type'] or '-'} · "
        f"customer {escape(c['customer_id'] or '-')} · agents {escape(agents)}\n"
        f"{c['started_at']} → {c['ended_at']} (service date {c['service_date']}), "
        f"{c['message_count']} records"
    )
    kept = c.get("retention")
    if kept:
        until = "permanently" if kept["permanent"] else f"until {kept['deadline'] or '-'}"
        rule, version = kept["rule"] or "-", kept["policy_version"]
        console.print(f"kept {until} (rule {rule}, policy v{version})", highlight=False)
    if c.get("holds"):
        console.print(f"[bold red]under legal hold[/] {', '.join(map(str, c['holds']))}")
    for m in transcript.messages:
        who = escape(m["sender_name"] or m["sender_id"] or m["sender_role"])
        style = ROLE_STYLE.get(m["sender_role"], "white")
        body = escape(m["text"]) if m["text"] else f"[dim]<{m['msgtype']}>[/]"
        if m["kind"] == "recall":
            body = "[dim]<recalled an earlier message>[/]"
        elif m["kind"] == "consent":
            body = f"[dim]<archiving consent: {m['msgtype']}>[/]"
        mark = " [red](recalled)[/]" if m["recalled"] else ""
        console.print(f"{m['sent_at'][11:19]} [{style}]{who}[/]: {body}{mark}")
