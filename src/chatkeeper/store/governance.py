"""Users, approval requests and access grants: the rows governance reads and writes.

Plain SQLAlchemy Core on a caller's connection (these are small tables; none is on a hot path
except the scope look-ups, which are indexed).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from chatkeeper.store.tables import (
    access_grant_conversations,
    access_grants,
    api_tokens,
    approval_decisions,
    approval_requests,
    conversation_agents,
    departments,
    participants,
    user_agents,
    user_departments,
    users,
)


def now_ms() -> int:
    """The current time in epoch milliseconds."""
    return int(time.time() * 1000)


# -- departments ------------------------------------------------------------------------------


def department_ids(connection: Connection, names: Iterable[str], *, create: bool) -> dict[str, int]:
    """The ids of departments by name (created where missing, with ``create``)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = connection.execute(
        select(departments.c.name, departments.c.id).where(departments.c.name.in_(wanted))
    )
    found = {name: id_ for name, id_ in rows}
    missing = [name for name in wanted if name not in found]
    if missing and create:
        connection.execute(insert(departments), [{"name": name} for name in missing])
        return department_ids(connection, wanted, create=False)
    return found


def department_names(connection: Connection, ids: Iterable[int]) -> dict[int, str]:
    """Department names by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = connection.execute(
        select(departments.c.id, departments.c.name).where(departments.c.id.in_(wanted))
    )
    return {id_: name for id_, name in rows}


# -- users ------------------------------------------------------------------------------------


def insert_user(
    connection: Connection,
    name: str,
    role: str,
    password_hash: str,
    created_by: str,
    department_names_: Sequence[str] = (),
    agent_refs: Sequence[str] = (),
) -> int:
    """Add a user with departments and linked agent ids; its id."""
    user_id = connection.execute(
        insert(users).values(
            name=name, role=role, password_hash=password_hash,
            created_at=now_ms(), created_by=created_by,
        )
    ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
    depts = department_ids(connection, department_names_, create=True)
    if depts:
        connection.execute(
            insert(user_departments),
            [{"user_id": user_id, "department_id": d} for d in sorted(depts.values())],
        )
    if agent_refs:
        connection.execute(
            insert(user_agents),
            [{"user_id": user_id, "agent_ref": ref} for ref in sorted(set(agent_refs))],
        )
    return int(user_id)


def user_by_name(connection: Connection, name: str) -> dict[str, Any] | None:
    """A user's row (``None`` if there is none)."""
    row = connection.execute(select(users).where(users.c.name == name)).mappings().first()
    return dict(row) if row else None


def user_by_token(connection: Connection, token_hash: bytes, at: int) -> dict[str, Any] | None:
    """The user a live API token belongs to."""
    row = (
        connection.execute(
            select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(
                api_tokens.c.token_hash == token_hash,
                api_tokens.c.revoked_at.is_(None),
                or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > at),
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def insert_token(
    connection: Connection, user_id: int, name: str, token_hash: bytes, expires_at: int | None
) -> int:
    """Store an API token's hash; its id."""
    return int(
        connection.execute(
            insert(api_tokens).values(
                user_id=user_id,
                name=name,
                token_hash=token_hash,
                created_at=now_ms(),
                expires_at=expires_at,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )


def list_users(connection: Connection) -> list[dict[str, Any]]:
    """Every user with their departments and agent ids, by name."""
    depts: dict[int, list[str]] = {}
    for user_id, name in connection.execute(
        select(user_departments.c.user_id, departments.c.name).join(
            departments, departments.c.id == user_departments.c.department_id
        )
    ):
        depts.setdefault(user_id, []).append(name)
    agents: dict[int, list[str]] = {}
    for user_id, ref in connection.execute(select(user_agents.c.user_id, user_agents.c.agent_ref)):
        agents.setdefault(user_id, []).append(ref)
    rows = connection.execute(select(users).order_by(users.c.name)).mappings()
    return [
        {
            "name": r["name"],
            "role": r["role"],
            "departments": sorted(depts.get(r["id"], [])),
            "agent_ids": sorted(agents.get(r["id"], [])),
            "disabled": r["disabled_at"] is not None,
            "created_at": r["created_at"],
            "created_by": r["created_by"],
        }
        for r in rows
    ]


def count_users(connection: Connection) -> int:
    """How many users exist."""
    return int(connection.execute(select(func.count()).select_from(users)).scalar_one())


def set_user(connection: Connection, user_id: int, **values: Any) -> None:
    """Update a user's columns."""
    connection.execute(update(users).where(users.c.id == user_id).values(**values))


def scope_rows(connection: Connection, user_id: int) -> tuple[list[int], list[str]]:
    """A user's department ids and linked platform agent ids."""
    depts = [
        d
        for (d,) in connection.execute(
            select(user_departments.c.department_id).where(user_departments.c.user_id == user_id)
        )
    ]
    refs = [
        r
        for (r,) in connection.execute(
            select(user_agents.c.agent_ref).where(user_agents.c.user_id == user_id)
        )
    ]
    return depts, refs


def agent_conversations(connection: Connection, agent_refs: Sequence[str]) -> set[int]:
    """The conversations in which any of these platform agent ids took part as an agent."""
    if not agent_refs:
        return set()
    rows = connection.execute(
        select(conversation_agents.c.conversation_id)
        .join(participants, participants.c.id == conversation_agents.c.participant_id)
        .where(participants.c.role == "agent", participants.c.external_id.in_(list(agent_refs)))
        .distinct()
    )
    return {r[0] for r in rows}


# -- approval requests ------------------------------------------------------------------------


def insert_request(connection: Connection, **values: Any) -> int:
    """File an approval request; its id."""
    return int(
        connection.execute(insert(approval_requests).values(**values)).inserted_primary_key[0]  # type: ignore[index]
    )


def request_row(connection: Connection, request_id: int) -> dict[str, Any] | None:
    """One request with its decisions."""
    row = (
        connection.execute(select(approval_requests).where(approval_requests.c.id == request_id))
        .mappings()
        .first()
    )
    if row is None:
        return None
    out = dict(row)
    out["decisions"] = [
        dict(d)
        for d in connection.execute(
            select(approval_decisions)
            .where(approval_decisions.c.request_id == request_id)
            .order_by(approval_decisions.c.decided_at)
        ).mappings()
    ]
    return out


def list_requests(
    connection: Connection, states: Sequence[str] = (), limit: int = 200
) -> list[dict[str, Any]]:
    """Requests, newest first (optionally in some states)."""
    query = select(approval_requests).order_by(approval_requests.c.id.desc()).limit(limit)
    if states:
        query = query.where(approval_requests.c.state.in_(list(states)))
    return [dict(r) for r in connection.execute(query).mappings()]


def insert_decision(connection: Connection, **values: Any) -> None:
    """Record one decider's decision."""
    connection.execute(insert(approval_decisions).values(**values))


def move_request(
    connection: Connection, request_id: int, old: str, new: str, **values: Any
) -> bool:
    """Compare-and-swap a request's state; ``False`` if it was no longer ``old``."""
    result = connection.execute(
        update(approval_requests)
        .where(approval_requests.c.id == request_id, approval_requests.c.state == old)
        .values(state=new, **values)
    )
    return result.rowcount == 1


# -- access grants ----------------------------------------------------------------------------


def insert_grant(
    connection: Connection,
    user_id: int,
    department_id: int,
    request_id: int,
    conversation_ids: Sequence[int],
    expires_at: int,
) -> int:
    """Create a grant (of a whole department when no conversations are named); its id."""
    grant_id = int(
        connection.execute(
            insert(access_grants).values(
                user_id=user_id, department_id=department_id, request_id=request_id,
                whole_department=0 if conversation_ids else 1,
                created_at=now_ms(), expires_at=expires_at,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    )  # fmt: skip
    if conversation_ids:
        connection.execute(
            insert(access_grant_conversations),
            [{"grant_id": grant_id, "conversation_id": c} for c in sorted(set(conversation_ids))],
        )
    return grant_id


def live_grants(connection: Connection, user_id: int, at: int) -> list[dict[str, Any]]:
    """A user's unexpired, unrevoked grants, each with its conversation ids."""
    rows = connection.execute(
        select(access_grants).where(
            access_grants.c.user_id == user_id,
            access_grants.c.revoked_at.is_(None),
            access_grants.c.expires_at > at,
        )
    ).mappings()
    return _with_conversations(connection, [dict(r) for r in rows])


def list_grants(connection: Connection, user_id: int | None = None) -> list[dict[str, Any]]:
    """Grants (of one user, or all), newest first, with user and department names."""
    query = (
        select(access_grants, users.c.name.label("user"), departments.c.name.label("department"))
        .join(users, users.c.id == access_grants.c.user_id)
        .join(departments, departments.c.id == access_grants.c.department_id)
        .order_by(access_grants.c.id.desc())
    )
    if user_id is not None:
        query = query.where(access_grants.c.user_id == user_id)
    return _with_conversations(connection, [dict(r) for r in connection.execute(query).mappings()])


def _with_conversations(
    connection: Connection, grants: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    ids = [g["id"] for g in grants if not g["whole_department"]]
    by_grant: dict[int, list[int]] = {}
    if ids:
        for grant_id, conv in connection.execute(
            select(access_grant_conversations).where(access_grant_conversations.c.grant_id.in_(ids))
        ):
            by_grant.setdefault(grant_id, []).append(conv)
    for grant in grants:
        grant["conversation_ids"] = sorted(by_grant.get(grant["id"], []))
    return grants


def revoke_grant(connection: Connection, grant_id: int, by: str) -> bool:
    """Revoke a live grant; ``False`` if it was already revoked."""
    result = connection.execute(
        update(access_grants)
        .where(and_(access_grants.c.id == grant_id, access_grants.c.revoked_at.is_(None)))
        .values(revoked_at=now_ms(), revoked_by=by)
    )
    return result.rowcount == 1


def grant_row(connection: Connection, grant_id: int) -> dict[str, Any] | None:
    """One grant."""
    row = (
        connection.execute(select(access_grants).where(access_grants.c.id == grant_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None
