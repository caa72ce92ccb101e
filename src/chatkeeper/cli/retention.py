"""``chatkeeper retention``: the policy in force and its floors, changing it, its history,
and recording each conversation's deadline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

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
from chatkeeper.lifecycle.errors import LifecycleConfigError
from chatkeeper.services.retention import change_policy, deadlines, policy_history, show_policy

retention_app = typer.Typer(
    help="Retention policy (versioned, never below the statutory floors) and deadlines.",
    no_args_is_help=True,
)


def _rules_table(rules: list[dict[str, Any]]) -> Table:
    table = Table("rule", "service type", "department", "platform", "tag", "keep")
    for r in rules:
        table.add_row(r["name"], r["service_type"], r["department"] or "", r["platform"] or "",
                      r["tag"] or "", r["keep"])  # fmt: skip
    return table


@retention_app.command("show")
def show(data_dir: DataDir = None, as_json: Json = False) -> None:
    """The policy in force (version, rules, who set it) and the statutory floors."""
    with opened(data_dir, as_json) as ctx:
        policy = show_policy(ctx, actor())
    if as_json:
        print_json(policy)
        return
    who = policy["created_by"] + (f", {policy['created_at']}" if policy["created_at"] else "")
    console.print(f"retention policy version {policy['version']} ({who}): {policy['reason']}")
    console.print(_rules_table(policy["rules"]))
    floors = Table("law", "article", "records", "scope", "minimum")
    for f in policy["floors"]:
        scope = "/".join(f["service_types"] + f["platforms"]) or "all"
        floors.add_row(f["law"], f["article"], f["records"], scope, f["minimum"])
    console.print(floors)


@retention_app.command("set")
def set_(
    file: Annotated[Path, typer.Option("--file", help="A policy file: [policy] and its rules.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded).")],
    approval: Approval = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Store a new version of the policy (a key operation: another legal user approves it)."""
    document = guarded(as_json, lambda: _read(file))
    with opened(data_dir, as_json) as ctx:
        result = change_policy(ctx, actor(), document, reason, approval, source=file.name)
    if as_json:
        print_json(result)
    else:
        console.print(f"retention policy version {result['version']} is in force")


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LifecycleConfigError(f"{file}: cannot be read ({exc})", field="file") from exc


@retention_app.command("history")
def history(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Every version of the policy, oldest first: who set it, when, why, under which approval."""
    with opened(data_dir, as_json) as ctx:
        versions = policy_history(ctx, actor())
    if as_json:
        print_json({"versions": versions})
        return
    table = Table("version", "created", "by", "approval", "rules", "reason")
    for v in versions:
        table.add_row(str(v["version"]), v["created_at"] or "", v["created_by"],
                      str(v["approval_request"] or ""), str(len(v["rules"])),
                      v["reason"] or "")  # fmt: skip
    console.print(table)


@retention_app.command("deadlines")
def deadlines_command(
    conversation: Annotated[
        list[str] | None, typer.Argument(help="Conversation ids (default: every one).")
    ] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Compute and record each conversation's deadline, the rule and the policy version."""
    with opened(data_dir, as_json) as ctx:
        result = deadlines(ctx, actor(), conversation or None)
    if as_json:
        print_json(result)
        return
    console.print(
        f"{result['conversations']} conversations under policy version {result['policy_version']}"
    )
    table = Table("rule", "conversations")
    for rule, count in sorted(result["rules"].items()):
        table.add_row(rule, str(count))
    console.print(table)
