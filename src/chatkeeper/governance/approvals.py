"""Two-person approval rules: which operations need whose approval, and deciding requests.

A request is for one operation with fixed parameters; its fingerprint (a hash of both) is
what an approval approves, so the approved request can run once, with exactly those
parameters. The requester never approves their own request.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from chatkeeper.errors import ErrorCode
from chatkeeper.governance.errors import (
    ApprovalInvalid,
    GovernanceError,
    PermissionDenied,
    SelfApproval,
)
from chatkeeper.governance.roles import Role


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """An operation needs ``count`` approvals from users holding one of ``approvers``."""

    approvers: frozenset[Role]
    count: int = 1


# Key operations (DESIGN.md, Governance). Configuration may change these and add any other
# operation of the permission matrix.
DEFAULT_RULES: dict[str, ApprovalRule] = {
    "message.unmask": ApprovalRule(frozenset({Role.LEGAL, Role.AUDITOR})),
    "evidence.export": ApprovalRule(frozenset({Role.LEGAL, Role.AUDITOR})),
    "keys.rotate": ApprovalRule(frozenset({Role.SECURITY_ADMIN, Role.ADMIN})),
    "user.set_role": ApprovalRule(frozenset({Role.ADMIN, Role.SECURITY_ADMIN})),
    "conversations.bulk_delete": ApprovalRule(frozenset({Role.LEGAL})),
    "bin.restore": ApprovalRule(frozenset({Role.LEGAL, Role.ADMIN})),
    "retention.change": ApprovalRule(frozenset({Role.LEGAL})),
    "hold.release": ApprovalRule(frozenset({Role.LEGAL})),
    "person.erase": ApprovalRule(frozenset({Role.LEGAL})),
}


_NAMES = frozenset(r.value for r in Role)


class State:
    """The states of a request."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    EXECUTED = "executed"


def fingerprint(operation: str, params: Mapping[str, Any]) -> str:
    """The hex SHA-256 of the operation and its parameters in canonical JSON."""
    body = orjson.dumps({"operation": operation, "params": params}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


def check_decider(
    rule: ApprovalRule,
    *,
    requester: str,
    decider: str,
    decider_roles: frozenset[str],
    earlier_deciders: Iterable[str],
) -> None:
    """Refuse a decision by the requester, by a role the rule does not name, or twice."""
    if decider == requester:
        raise SelfApproval(
            f"{decider} filed this request and cannot decide it: another user must",
            reason=ErrorCode.SELF_APPROVAL.value,
        )
    if not rule.approvers & {Role(r) for r in decider_roles if r in _NAMES}:
        names = ", ".join(sorted(r.value for r in rule.approvers))
        raise PermissionDenied(f"{decider} may not decide this request; approver roles: {names}")
    if decider in set(earlier_deciders):
        raise GovernanceError(f"{decider} has already decided this request")


def state_after(rule: ApprovalRule, approvals: int, rejections: int) -> str:
    """The state a request is in after its decisions so far."""
    if rejections:
        return State.REJECTED
    return State.APPROVED if approvals >= rule.count else State.PENDING


def check_usable(
    *,
    request_id: int,
    state: str,
    operation: str,
    wanted_operation: str,
    digest: str,
    wanted_digest: str,
    requester: str,
    actor: str,
    expired: bool,
) -> None:
    """Refuse an approval that does not cover this call (each reason said plainly)."""
    if operation != wanted_operation:
        raise ApprovalInvalid(f"approval request {request_id} is for {operation}, not this")
    if requester != actor:
        raise ApprovalInvalid(f"approval request {request_id} was filed by another user")
    if state == State.EXECUTED:
        raise ApprovalInvalid(f"approval request {request_id} has already been used")
    if state in (State.REJECTED, State.PENDING):
        raise ApprovalInvalid(f"approval request {request_id} is {state}, not approved")
    if expired or state == State.EXPIRED:
        raise ApprovalInvalid(f"approval request {request_id} has expired: file a new one")
    if digest != wanted_digest:
        raise ApprovalInvalid(
            f"approval request {request_id} approved other parameters: changing them needs"
            " a new request"
        )
