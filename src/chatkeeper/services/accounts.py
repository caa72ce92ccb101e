"""Users: the first admin, adding and changing users, signing in with a password or a token."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from chatkeeper.domain import Actor, Source
from chatkeeper.governance import AuthenticationFailed, GovernanceError, Role
from chatkeeper.governance.passwords import (
    check_password,
    hash_password,
    new_password,
    new_token,
    token_hash,
)
from chatkeeper.services.authz import authorize, authorized
from chatkeeper.services.context import Context
from chatkeeper.services.search import format_time
from chatkeeper.store import governance as rows

FIRST_ADMIN = "admin"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    """The first administrator, and the generated password when none was given (shown once)."""

    name: str
    generated_password: str | None


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or not set(name.lower()) <= _NAME_CHARS:
        raise GovernanceError(
            f"'{name}' is not a user name: 1-64 letters, digits, '.', '_', '-', '@'",
            field="name",
        )
    return name


def create_first_admin(ctx: Context, password: str | None) -> FirstAdmin | None:
    """At ``init``: the first ``admin`` (``None`` when users already exist)."""
    with ctx.archive.writer() as writer:
        if rows.count_users(writer.connection):
            return None
        generated = None if password else new_password()
        rows.insert_user(
            writer.connection, FIRST_ADMIN, Role.ADMIN.value,
            hash_password(password or generated or ""), "init",
        )  # fmt: skip
        writer.audit(Actor("init", frozenset({"system"})), "user.added", target_kind="user",
                     target_id=FIRST_ADMIN, details={"role": "admin"})  # fmt: skip
    return FirstAdmin(FIRST_ADMIN, generated)


def _actor(row: dict[str, Any], source: Source, address: str | None) -> Actor:
    if row["disabled_at"] is not None:
        raise AuthenticationFailed("sign-in failed: unknown user, wrong password or disabled")
    return Actor(row["name"], frozenset({row["role"]}), source, address)


def authenticate(
    ctx: Context,
    name: str | None,
    *,
    password: str | None = None,
    token: str | None = None,
    source: Source = Source.CLI,
    address: str | None = None,
) -> Actor:
    """The actor for a user name and password, or an API token; ``AuthenticationFailed``
    (which never says which part was wrong) otherwise."""
    failed = AuthenticationFailed("sign-in failed: unknown user, wrong password or disabled")
    with ctx.archive.reader() as connection:
        if token:
            row = rows.user_by_token(connection, token_hash(token), ctx.now_ms())
            if row is None or (name and row["name"] != name):
                raise failed
            return _actor(row, source, address)
        if not name or password is None:
            raise failed
        row = rows.user_by_name(connection, name)
    if row is None:
        check_password(_dummy(), password)  # the same time for unknown users as for known ones
    if row is None or not check_password(row["password_hash"], password):
        with ctx.archive.writer() as writer:  # recorded: repeated failures are an incident
            writer.audit(Actor(name, frozenset(), source, address), "auth.failed",
                         result="denied", details={"known_user": row is not None})  # fmt: skip
        raise failed
    return _actor(row, source, address)


@cache
def _dummy() -> str:
    return hash_password(os.urandom(12).hex())


def add_user(
    ctx: Context,
    actor: Actor,
    name: str,
    role: str,
    password: str,
    departments: Sequence[str] = (),
    agent_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """Add a user (``admin``); departments are created where new."""
    permit = authorize(ctx, actor, "user.add")
    name, parsed = _check_name(name), Role.parse(role)
    if parsed in (Role.AGENT,) and not agent_ids:
        raise GovernanceError("an agent needs at least one --agent-id", field="agent_id")
    if parsed is Role.SUPERVISOR and not departments:
        raise GovernanceError("a supervisor needs at least one --department", field="department")
    hashed = hash_password(password)
    with ctx.archive.writer() as writer:
        if rows.user_by_name(writer.connection, name):
            raise GovernanceError(f"a user named '{name}' exists already", field="name")
        depts = [d.strip() for d in departments if d.strip()]
        rows.insert_user(writer.connection, name, parsed.value, hashed, actor.name, depts,
                         list(agent_ids))  # fmt: skip
        writer.audit(actor, "user.added", target_kind="user", target_id=name,
                     details={"role": parsed.value}, approval_id=permit.approval_id)  # fmt: skip
    return {"name": name, "role": parsed.value, "departments": sorted(departments),
            "agent_ids": sorted(agent_ids)}  # fmt: skip


def list_users(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """Every user (never a password hash)."""
    authorize(ctx, actor, "user.list")
    with ctx.archive.writer() as writer:
        users = rows.list_users(writer.connection)
        writer.audit(actor, "user.listed", details={"users": len(users)})
    offset = ctx.settings.display.utc_offset_minutes
    return [{**u, "created_at": format_time(u["created_at"], offset)} for u in users]


def _user(connection: Any, name: str) -> dict[str, Any]:
    row = rows.user_by_name(connection, name)
    if row is None:
        raise GovernanceError(f"there is no user named '{name}'", field="name")
    return row


def disable_user(ctx: Context, actor: Actor, name: str) -> None:
    """Disable a user: they can no longer sign in; their history stays."""
    permit = authorize(ctx, actor, "user.disable", {"name": name})
    if name == actor.name:
        raise GovernanceError("you cannot disable your own account", field="name")
    with ctx.archive.writer() as writer:
        row = _user(writer.connection, name)
        rows.set_user(writer.connection, row["id"], disabled_at=ctx.now_ms())
        writer.audit(actor, "user.disabled", target_kind="user", target_id=name,
                     approval_id=permit.approval_id)  # fmt: skip


def set_role(
    ctx: Context, actor: Actor, name: str, role: str, approval: int | None = None
) -> dict[str, Any]:
    """Change a user's role (a key operation: it needs a second person's approval)."""
    parsed = Role.parse(role)
    params = {"name": name, "role": parsed.value}

    def exists(_: object) -> None:
        with ctx.archive.reader() as connection:
            _user(connection, name)

    with (
        authorized(ctx, actor, "user.set_role", params, approval, check=exists) as permit,
        ctx.archive.writer() as writer,
    ):
        row = _user(writer.connection, name)
        rows.set_user(writer.connection, row["id"], role=parsed.value)
        writer.audit(actor, "user.role_changed", target_kind="user", target_id=name,
                     details={"from": row["role"], "to": parsed.value},
                     approval_id=permit.approval_id)  # fmt: skip
    return {"name": name, "role": parsed.value, "previous": row["role"]}


def issue_token(ctx: Context, actor: Actor, name: str, days: int | None = None) -> str:
    """A new API token for the calling user (shown once; only its hash is kept)."""
    if days is not None and not 1 <= days <= 365:
        raise GovernanceError("a token lives between 1 and 365 days", field="days")
    token, digest = new_token()
    expires = ctx.now_ms() + days * 86_400_000 if days else None
    with ctx.archive.writer() as writer:
        row = _user(writer.connection, actor.name)
        rows.insert_token(writer.connection, row["id"], name, digest, expires)
        writer.audit(actor, "token.issued", target_kind="user", target_id=actor.name,
                     details={"token": name, "days": days})  # fmt: skip
    return token
