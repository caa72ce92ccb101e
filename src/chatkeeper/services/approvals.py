"""Approval requests: listing them, and a second person approving or rejecting one.

Requests are filed by :func:`chatkeeper.services.authz.authorize` when a key operation runs
without an approval (and by :mod:`chatkeeper.services.access` for access grants). Approved, a
request is run by its requester, once, with the parameters approved.
"""

from __future__ import annotations

from typing import Any

import orjson

from chatkeeper.domain import Actor
from chatkeeper.governance import (
    ApprovalRule,
    GovernanceError,
    PermissionDenied,
    Role,
    State,
    check_decider,
    state_after,
)
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.search import format_time
from chatkeeper.store import governance as rows

ACCESS = "access.grant"
_STATES = (State.PENDING, State.APPROVED, State.REJECTED, State.EXPIRED, State.EXECUTED)


def _public(ctx: Context, row: dict[str, Any], now: int) -> dict[str, Any]:
    offset = ctx.settings.display.utc_offset_minutes
    state = row["state"]
    if state in (State.PENDING, State.APPROVED) and row["expires_at"] <= now:
        state = State.EXPIRED
    out = {
        "id": row["id"],
        "operation": row["operation"],
        "params": orjson.loads(row["params"]),
        "requester": row["requester"],
        "reason": row["reason"],
        "state": state,
        "created_at": format_time(row["created_at"], offset),
        "expires_at": format_time(row["expires_at"], offset),
        "executed_at": format_time(row["executed_at"], offset) if row["executed_at"] else None,
    }
    if "decisions" in row:
        out["decisions"] = [
            {"decider": d["decider"], "decision": d["decision"], "comment": d["comment"],
             "at": format_time(d["decided_at"], offset)}
            for d in row["decisions"]
        ]  # fmt: skip
    return out


def list_requests(ctx: Context, actor: Actor, state: str | None = None) -> list[dict[str, Any]]:
    """Requests the actor filed or may decide, newest first (optionally in one state)."""
    authorize(ctx, actor, "approvals.list")
    if state is not None and state not in _STATES:
        raise GovernanceError(f"'{state}' is not a state: {', '.join(_STATES)}", field="state")
    now = ctx.now_ms()
    with ctx.archive.writer() as writer:
        found = [
            _public(ctx, r, now)
            for r in rows.list_requests(writer.connection)
            if r["requester"] == actor.name or _may_decide(ctx, writer.connection, actor, r)
        ]
        writer.audit(actor, "approval.listed", details={"requests": len(found)})
    return [r for r in found if state is None or r["state"] == state]


def show_request(ctx: Context, actor: Actor, request_id: int) -> dict[str, Any]:
    """One request with its decisions."""
    authorize(ctx, actor, "approvals.list")
    with ctx.archive.writer() as writer:
        row = _row(writer.connection, request_id)
        if row["requester"] != actor.name and not _may_decide(ctx, writer.connection, actor, row):
            raise PermissionDenied(f"{actor.name} may not see approval request {request_id}")
        writer.audit(actor, "approval.viewed", target_kind="approval", target_id=str(request_id))
    return _public(ctx, row, ctx.now_ms())


def _row(connection: Any, request_id: int) -> dict[str, Any]:
    row = rows.request_row(connection, request_id)
    if row is None:
        raise GovernanceError(f"there is no approval request {request_id}", field="id")
    return row


def _rule(ctx: Context, connection: Any, row: dict[str, Any]) -> ApprovalRule:
    if row["operation"] == ACCESS:
        return ApprovalRule(frozenset({Role.SUPERVISOR, Role.LEGAL}))
    rule = ctx.settings.governance.rules().get(row["operation"])
    if rule is None:  # the rule was removed from configuration since the request was filed
        raise GovernanceError(f"{row['operation']} no longer needs approval: run it directly")
    return rule


def _may_decide(ctx: Context, connection: Any, actor: Actor, row: dict[str, Any]) -> bool:
    try:
        _check_decider(ctx, connection, actor, row)
    except (PermissionDenied, GovernanceError):
        return False
    return True


def _check_decider(ctx: Context, connection: Any, actor: Actor, row: dict[str, Any]) -> None:
    rule = _rule(ctx, connection, row)
    check_decider(
        rule, requester=row["requester"], decider=actor.name, decider_roles=actor.roles,
        earlier_deciders=[d["decider"] for d in row.get("decisions", [])],
    )  # fmt: skip
    if row["operation"] == ACCESS and Role.LEGAL.value not in actor.roles:
        department = orjson.loads(row["params"])["department"]
        user = rows.user_by_name(connection, actor.name)
        mine = rows.scope_rows(connection, user["id"])[0] if user else []
        wanted = rows.department_ids(connection, [department], create=False).get(department)
        if wanted not in mine:
            raise PermissionDenied(
                f"{actor.name} is not a supervisor of {department}: a supervisor of that"
                " department, or legal, decides this request"
            )


def decide(
    ctx: Context, actor: Actor, request_id: int, approve: bool, comment: str | None = None
) -> dict[str, Any]:
    """Approve or reject a request (never one's own; only a role the rule names)."""
    authorize(ctx, actor, "approvals.list")
    now = ctx.now_ms()
    with ctx.archive.writer() as writer:
        conn = writer.connection
        row = _row(conn, request_id)
        if row["state"] != State.PENDING:
            raise GovernanceError(f"approval request {request_id} is {row['state']}, not pending")
        if row["expires_at"] <= now:
            rows.move_request(conn, request_id, State.PENDING, State.EXPIRED)
            raise GovernanceError(f"approval request {request_id} has expired")
        _check_decider(ctx, conn, actor, row)
        decision = "approve" if approve else "reject"
        rows.insert_decision(conn, request_id=request_id, decider=actor.name, decision=decision,
                             comment=comment, decided_at=now)  # fmt: skip
        decisions = [d["decision"] for d in row["decisions"]] + [decision]
        new = state_after(_rule(ctx, conn, row), decisions.count("approve"),
                          decisions.count("reject"))  # fmt: skip
        if new != State.PENDING:
            rows.move_request(conn, request_id, State.PENDING, new)
        writer.audit(actor, f"approval.{'approved' if approve else 'rejected'}",
                     target_kind="approval", target_id=str(request_id), reason=comment,
                     details={"operation": row["operation"], "state": new})  # fmt: skip
        grant = None
        if new == State.APPROVED and row["operation"] == ACCESS:
            from chatkeeper.services.access import open_grant

            grant = open_grant(ctx, writer, row, now)
    out = _public(ctx, _reload(ctx, request_id), ctx.now_ms())
    if grant is not None:
        out["grant"] = grant
    return out


def _reload(ctx: Context, request_id: int) -> dict[str, Any]:
    with ctx.archive.reader() as connection:
        return _row(connection, request_id)
