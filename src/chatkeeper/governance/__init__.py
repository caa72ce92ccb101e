"""Governance: roles, the permission matrix, two-person approval rules (pure rules; the
services apply them with what the store holds)."""

from chatkeeper.governance.approvals import (
    DEFAULT_RULES,
    ApprovalRule,
    State,
    check_decider,
    check_usable,
    fingerprint,
    state_after,
)
from chatkeeper.governance.errors import (
    ApprovalInvalid,
    ApprovalRequired,
    AuthenticationFailed,
    GovernanceError,
    PermissionDenied,
)
from chatkeeper.governance.permissions import PERMISSIONS, ROLES, Reach, reach, require
from chatkeeper.governance.roles import SYSTEM, Role

__all__ = [
    "DEFAULT_RULES",
    "PERMISSIONS",
    "ROLES",
    "SYSTEM",
    "ApprovalInvalid",
    "ApprovalRequired",
    "ApprovalRule",
    "AuthenticationFailed",
    "GovernanceError",
    "PermissionDenied",
    "Reach",
    "Role",
    "State",
    "check_decider",
    "check_usable",
    "fingerprint",
    "reach",
    "require",
    "state_after",
]
