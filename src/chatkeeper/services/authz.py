"""Authorisation: every service call asks here first, and gets a ``Permit`` or an error.

A permit says how far the call reaches (own conversations, departments, everything), which
grants widened it (each read under a grant is audited with the grant's id), and which approval
it runs under. A key operation without an approval files a request and raises
``ApprovalRequired``; with one, the approval is claimed (compare-and-swap: it runs once) and
released again if the operation fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from chatkeeper.domain import Actor
from chatkeeper.governance import (
    SYSTEM,
    ApprovalInvalid,
    ApprovalRequired,
    PermissionDenied,
    Reach,
    State,
    check_usable,
    fingerprint,
    require,
)
from chatkeeper.search import filter_token
from chatkeeper.services.context import Context
from chatkeeper.store import governance as rows


@dataclass(frozen=True, slots=True)
class Permit:
    """What one authorised call may reach, and under which approval and grants."""

    operation: str
    reach: Reach
    departments: frozenset[int] = frozenset()
    conversations: frozenset[int] = frozenset()
    # grant id -> (department id, whole department?, conversation ids)
    grants: Mapping[int, tuple[int, bool, frozenset[int]]] = field(default_factory=dict)
    approval_id: int | None = None
    user_id: int | None = None

    @property
    def everything(self) -> bool:
        """Whether the call reaches every conversation."""
        return self.reach is Reach.ALL

    def covers(self, conversation_id: int, department_id: int | None) -> bool:
        """Whether one conversation is in reach."""
        return (
            self.everything
            or conversation_id in self.conversations
            or (department_id is not None and department_id in self.departments)
        )

    def grants_for(self, conversation_id: int, department_id: int | None) -> list[int]:
        """The grants that bring one conversation into reach (for the audit record)."""
        return sorted(
            grant
            for grant, (department, whole, conversations) in self.grants.items()
            if (whole and department == department_id) or conversation_id in conversations
        )

    def filter_group(self) -> tuple[str, ...] | None:
        """The search-index filter group of this scope (``None``: no restriction)."""
        if self.everything:
            return None
        return tuple(
            [filter_token("d", d) for d in sorted(self.departments)]
            + [filter_token("v", c) for c in sorted(self.conversations)]
        )


def check_reach(
    permit: Permit, actor: Actor, conversation_pk: int, department_id: int | None, label: str
) -> None:
    """``PermissionDenied`` unless one conversation is within the permit's reach."""
    if not permit.covers(conversation_pk, department_id):
        raise PermissionDenied(
            f"conversation '{label}' is outside what {actor.name} may reach: ask for access"
            " with `chatkeeper access request`",
            operation=permit.operation,
            scope=True,
        )


def authorize(
    ctx: Context,
    actor: Actor,
    operation: str,
    params: Mapping[str, Any] | None = None,
    approval: int | None = None,
    *,
    reason: str | None = None,
    check: Callable[[Permit], None] | None = None,
) -> Permit:
    """The permit for ``operation``, or ``PermissionDenied`` / ``ApprovalRequired`` /
    ``ApprovalInvalid``. ``params`` are what an approval approves (never personal data);
    ``check`` runs with the permit before any approval is filed or claimed (a request for a
    target that does not exist, or is out of reach, is never filed)."""
    reach = require(operation, actor.name, actor.roles)
    permit = (
        Permit(operation, reach) if reach is Reach.ALL else _scoped(ctx, actor, operation, reach)
    )
    if check is not None:
        check(permit)
    if SYSTEM not in actor.roles and operation in ctx.settings.governance.rules():
        approval_id = _use_approval(ctx, actor, operation, dict(params or {}), approval, reason)
        permit = replace(permit, approval_id=approval_id)
    return permit


@contextmanager
def authorized(
    ctx: Context,
    actor: Actor,
    operation: str,
    params: Mapping[str, Any] | None = None,
    approval: int | None = None,
    *,
    reason: str | None = None,
    check: Callable[[Permit], None] | None = None,
) -> Iterator[Permit]:
    """:func:`authorize` around an operation: a claimed approval is released if it fails."""
    permit = authorize(ctx, actor, operation, params, approval, reason=reason, check=check)
    try:
        yield permit
    except BaseException:
        if permit.approval_id is not None:
            with ctx.archive.writer() as writer:
                rows.move_request(writer.connection, permit.approval_id, State.EXECUTED,
                                  State.APPROVED, executed_at=None)  # fmt: skip
        raise


def _scoped(ctx: Context, actor: Actor, operation: str, reach: Reach) -> Permit:
    now = ctx.now_ms()
    with ctx.archive.reader() as connection:
        user = rows.user_by_name(connection, actor.name)
        if user is None:
            raise PermissionDenied(f"{actor.name} is not a user of this archive")
        departments, agent_refs = rows.scope_rows(connection, user["id"])
        conversations = rows.agent_conversations(connection, agent_refs)
        grants = rows.live_grants(connection, user["id"], now)
    depts = set(departments) if reach is Reach.DEPARTMENTS else set()
    convs = set(conversations) if reach is Reach.OWN else set()
    held: dict[int, tuple[int, bool, frozenset[int]]] = {}
    for grant in grants:
        whole = bool(grant["whole_department"])
        granted = frozenset(grant["conversation_ids"])
        held[grant["id"]] = (grant["department_id"], whole, granted)
        if whole:
            depts.add(grant["department_id"])
        convs |= granted
    return Permit(operation, reach, frozenset(depts), frozenset(convs), held, None, user["id"])


def _use_approval(
    ctx: Context,
    actor: Actor,
    operation: str,
    params: dict[str, Any],
    approval: int | None,
    reason: str | None,
) -> int:
    digest = fingerprint(operation, params)
    now = ctx.now_ms()
    if approval is None:
        ttl = ctx.settings.governance.approval_ttl_hours * 3_600_000
        with ctx.archive.writer() as writer:
            request_id = rows.insert_request(
                writer.connection, operation=operation,
                params=orjson.dumps(params, option=orjson.OPT_SORT_KEYS).decode(),
                fingerprint=digest, requester=actor.name, reason=reason, state=State.PENDING,
                created_at=now, expires_at=now + ttl,
            )  # fmt: skip
            writer.audit(actor, "approval.requested", target_kind="approval",
                         target_id=str(request_id), reason=reason,
                         details={"operation": operation})  # fmt: skip
        rule = ctx.settings.governance.rules()[operation]
        who = " or ".join(sorted(r.value for r in rule.approvers))
        raise ApprovalRequired(
            f"{operation} needs approval: request {request_id} filed; another user ({who})"
            f" approves it with `chatkeeper approvals approve {request_id}`, then run this"
            f" again with --approval {request_id}",
            request_id=request_id,
            operation=operation,
        )
    with ctx.archive.writer() as writer:
        row = rows.request_row(writer.connection, approval)
        if row is None:
            raise ApprovalInvalid(f"there is no approval request {approval}")
        check_usable(
            request_id=approval, state=row["state"], operation=row["operation"],
            wanted_operation=operation, digest=row["fingerprint"], wanted_digest=digest,
            requester=row["requester"], actor=actor.name, expired=row["expires_at"] <= now,
        )  # fmt: skip
        if not rows.move_request(writer.connection, approval, State.APPROVED, State.EXECUTED,
                                 executed_at=now):  # fmt: skip
            check_usable(request_id=approval, state=State.EXECUTED, operation=operation,
                         wanted_operation=operation, digest=digest, wanted_digest=digest,
                         requester=actor.name, actor=actor.name, expired=False)  # fmt: skip
    return approval
