"""``chatkeeper unmask`` and ``chatkeeper offline``: the audited ways to an original, and away."""

from __future__ import annotations

from typing import Annotated

import typer

from chatkeeper.cli.common import (
    Approval,
    DataDir,
    Json,
    actor,
    console,
    guarded,
    opened,
    print_json,
)
from chatkeeper.errors import SearchError
from chatkeeper.services.privacy import take_offline, unmask_message, unmask_value

Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")]
Platform = Annotated[str | None, typer.Option(help="Platform, if the id is ambiguous.")]


def unmask(
    message_id: Annotated[str, typer.Argument(help="The message's id.")],
    reason: Reason,
    at: Annotated[
        int | None, typer.Option("--at", help="Only the value starting at this offset.")
    ] = None,
    platform: Platform = None,
    approval: Approval = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Show a message's original text (or one value of it). Recorded, with the reason."""
    if at is not None:
        with opened(data_dir, as_json) as ctx:
            value = unmask_value(ctx, actor(), message_id, at, reason, platform, approval)
        if as_json:
            print_json({"message_id": message_id, "at": at, "value": value})
        else:
            console.print(value, markup=False, highlight=False)
        return
    with opened(data_dir, as_json) as ctx:
        result = unmask_message(ctx, actor(), message_id, reason, platform, approval)
    if as_json:
        print_json({"conversation_id": result.conversation_id, "message_id": result.message_id,
                    "text": result.text})  # fmt: skip
    else:
        console.print(result.text or "", markup=False, highlight=False, soft_wrap=True)


def _span(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        start, end = (int(part) for part in value.split(":"))
    except ValueError:
        raise SearchError("--span must be START:END (character offsets)", field="span") from None
    return start, end


def offline(
    message_id: Annotated[str, typer.Argument(help="The message's id.")],
    reason: Reason,
    span: Annotated[
        str | None, typer.Option(help="Only this part, START:END in the original text.")
    ] = None,
    platform: Platform = None,
    approval: Approval = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Take a message (or one span of it) offline (下线): its original is destroyed for good."""
    bounds = guarded(as_json, lambda: _span(span))
    with opened(data_dir, as_json) as ctx:
        result = take_offline(ctx, actor(), message_id, reason, bounds, platform, approval)
    if as_json:
        print_json(result)
    else:
        console.print(
            f"message {message_id}: original destroyed"
            + (f" for {span}" if span else "")
            + f", {result['vault_entries_destroyed']} vault entries destroyed"
        )
