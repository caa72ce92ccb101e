"""``chatkeeper user``: add, list, disable users, change a role, issue an API token."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from chatkeeper.cli.common import (
    Approval,
    DataDir,
    Json,
    actor,
    console,
    fail,
    opened,
    print_json,
)
from chatkeeper.governance import GovernanceError
from chatkeeper.services.accounts import add_user, disable_user, issue_token, list_users, set_role

user_app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="The user's name.")]


def _new_password(as_json: bool) -> str:
    password = os.environ.get("CHATKEEPER_NEW_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        fail(GovernanceError("set CHATKEEPER_NEW_PASSWORD for the new user's password"), as_json)
    first = typer.prompt("new user's password", hide_input=True, err=True)
    if typer.prompt("again", hide_input=True, err=True) != first:
        fail(GovernanceError("the two passwords differ"), as_json)
    return str(first)


@user_app.command("add")
def add(
    name: Name,
    role: Annotated[
        str,
        typer.Option("--role", help="agent, supervisor, legal, auditor, security_admin or admin."),
    ],
    department: Annotated[
        list[str] | None, typer.Option("--department", help="A department (repeatable).")
    ] = None,
    agent_id: Annotated[
        list[str] | None,
        typer.Option("--agent-id", help="A platform agent id they answer as (repeatable)."),
    ] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Add a user (password from CHATKEEPER_NEW_PASSWORD or a prompt)."""
    password = _new_password(as_json)
    with opened(data_dir, as_json) as ctx:
        result = add_user(ctx, actor(), name, role, password, department or [], agent_id or [])
    if as_json:
        print_json(result)
    else:
        console.print(f"added {result['name']} ({result['role']})")


@user_app.command("list")
def list_(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Every user, with role, departments and agent ids."""
    with opened(data_dir, as_json) as ctx:
        users = list_users(ctx, actor())
    if as_json:
        print_json({"users": users})
        return
    table = Table("name", "role", "departments", "agent ids", "state")
    for u in users:
        state = "disabled" if u["disabled"] else "active"
        departments, agents = ", ".join(u["departments"]), ", ".join(u["agent_ids"])
        table.add_row(u["name"], u["role"], departments, agents, state)
    console.print(table)


@user_app.command("disable")
def disable(name: Name, data_dir: DataDir = None, as_json: Json = False) -> None:
    """Disable a user: they cannot sign in any more; their history stays."""
    with opened(data_dir, as_json) as ctx:
        disable_user(ctx, actor(), name)
    if as_json:
        print_json({"ok": True, "disabled": name})
    else:
        console.print(f"disabled {name}")


@user_app.command("set-role")
def set_role_command(
    name: Name,
    role: Annotated[str, typer.Argument(help="The new role.")],
    approval: Approval = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Change a user's role (a key operation: a second person approves it first)."""
    with opened(data_dir, as_json) as ctx:
        result = set_role(ctx, actor(), name, role, approval)
    if as_json:
        print_json(result)
    else:
        console.print(f"{name}: {result['previous']} → {result['role']}")


@user_app.command("token")
def token(
    name: Annotated[str, typer.Argument(help="A label for the token (e.g. the client).")],
    days: Annotated[int | None, typer.Option(help="Expire after this many days.")] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Issue an API token for yourself (shown once; only its hash is kept)."""
    with opened(data_dir, as_json) as ctx:
        value = issue_token(ctx, actor(), name, days)
    if as_json:
        print_json({"token": value})
    else:
        console.print(value, markup=False, highlight=False)
