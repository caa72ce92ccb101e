"""Cross-department access: a request, a decision by that department's supervisor (or legal),
then a grant that widens the requester's scope to exactly that, and expires by itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from chatkeeper.domain import Actor
from chatkeeper.governance import GovernanceError, PermissionDenied, Reach, State, fingerprint
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.search import format_time
from chatkeeper.store import governance as rows
from chatkeeper.store.writer import ArchiveWriter

ACCESS = "access.grant"


def request_access(
    ctx: Context,
    actor: Actor,
    department: str,
    reason: str,
    days: int | None = None,
    conversations: Sequence[str] = (),
) -> dict[str, Any]:
    """File a request for a department's conversations (all, or the named ones)."""
    authorize(ctx, actor, "access.request")
    settings = ctx.settings.governance
    days = settings.grant_days if days is None else days
    if not 1 <= days <= settings.grant_max_days:
        raise GovernanceError(f"--days must be between 1 and {settings.grant_max_days}",
                              field="days")  # fmt: skip
    if not reason.strip():
        raise GovernanceError("an access request needs a reason", field="reason")
    now = ctx.now_ms()
    with ctx.archive.writer() as writer:
        conn = writer.connection
        dept = rows.department_ids(conn, [department], create=False).get(department)
        if dept is None:
            raise GovernanceError(f"there is no department named '{department}'",
                                  field="department")  # fmt: skip
        refs = sorted(set(conversations))
        for ref in refs:
            row = ctx.archive.find_conversation(conn, ref, None)
            if row["department_id"] != dept:
                raise GovernanceError(f"conversation '{ref}' is not in {department}",
                                      field="conversation")  # fmt: skip
        params = {"user": actor.name, "department": department, "days": days,
                  "conversations": refs}  # fmt: skip
        body = orjson.dumps(params, option=orjson.OPT_SORT_KEYS).decode()
        request_id = rows.insert_request(
            conn, operation=ACCESS, params=body,
            fingerprint=fingerprint(ACCESS, params), requester=actor.name, reason=reason,
            state=State.PENDING, created_at=now,
            expires_at=now + settings.approval_ttl_hours * 3_600_000,
        )  # fmt: skip
        writer.audit(actor, "access.requested", target_kind="approval", target_id=str(request_id),
                     reason=reason, details={"days": days, "conversations": len(refs)})  # fmt: skip
    return {"approval_request": request_id, **params}


def open_grant(ctx: Context, writer: ArchiveWriter, request: dict[str, Any], now: int) -> int:
    """Create the grant of an approved access request (in the deciding transaction)."""
    conn = writer.connection
    params = orjson.loads(request["params"])
    user = rows.user_by_name(conn, params["user"])
    if user is None:
        raise GovernanceError(f"there is no user named '{params['user']}'")
    dept = rows.department_ids(conn, [params["department"]], create=False)[params["department"]]
    conversation_ids = [
        ctx.archive.find_conversation(conn, ref, None)["id"] for ref in params["conversations"]
    ]
    expires = now + int(params["days"]) * 86_400_000
    grant_id = rows.insert_grant(conn, user["id"], dept, request["id"], conversation_ids, expires)
    rows.move_request(conn, request["id"], State.APPROVED, State.EXECUTED, executed_at=now)
    writer.audit(Actor("system", frozenset({"system"})), "access.granted", target_kind="grant",
                 target_id=str(grant_id), approval_id=request["id"],
                 details={"user": params["user"], "days": params["days"]})  # fmt: skip
    return grant_id


def _public(ctx: Context, grant: dict[str, Any], now: int) -> dict[str, Any]:
    offset = ctx.settings.display.utc_offset_minutes
    live = grant["revoked_at"] is None and grant["expires_at"] > now
    return {
        "id": grant["id"],
        "user": grant["user"],
        "department": grant["department"],
        "conversations": len(grant["conversation_ids"]) or "all",
        "approval_request": grant["request_id"],
        "created_at": format_time(grant["created_at"], offset),
        "expires_at": format_time(grant["expires_at"], offset),
        "state": "live" if live else ("revoked" if grant["revoked_at"] else "expired"),
    }


def list_grants(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """The actor's own grants, or every grant for a role that reaches all."""
    permit = authorize(ctx, actor, "access.list")
    with ctx.archive.writer() as writer:
        user_id = None
        if permit.reach is not Reach.ALL:
            user = rows.user_by_name(writer.connection, actor.name)
            user_id = user["id"] if user else -1
        grants = rows.list_grants(writer.connection, user_id)
        writer.audit(actor, "access.listed", details={"grants": len(grants)})
    now = ctx.now_ms()
    return [_public(ctx, g, now) for g in grants]


def revoke_grant(ctx: Context, actor: Actor, grant_id: int) -> None:
    """End a grant before it expires (its holder, legal or an admin)."""
    permit = authorize(ctx, actor, "access.revoke")
    with ctx.archive.writer() as writer:
        grant = rows.grant_row(writer.connection, grant_id)
        if grant is None:
            raise GovernanceError(f"there is no grant {grant_id}", field="id")
        if permit.reach is not Reach.ALL and grant["user_id"] != permit.user_id:
            raise PermissionDenied(f"{actor.name} may revoke only their own grants")
        if not rows.revoke_grant(writer.connection, grant_id, actor.name):
            raise GovernanceError(f"grant {grant_id} is already revoked")
        writer.audit(actor, "access.revoked", target_kind="grant", target_id=str(grant_id))
