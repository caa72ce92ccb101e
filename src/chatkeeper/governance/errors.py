"""Errors of who-may-do-what: refused, waiting for approval, bad requests."""

from __future__ import annotations

from typing import Any

from chatkeeper.errors import ChatKeeperError, ErrorCode


class GovernanceError(ChatKeeperError):
    """A governance request that is malformed or not possible (bad role, unknown user, ...)."""

    code, http_status, exit_code = ErrorCode.GOVERNANCE_INVALID, 400, 64


class AuthenticationFailed(ChatKeeperError):
    """Unknown user, wrong password or token, or a disabled account (never says which)."""

    code, http_status, exit_code = ErrorCode.AUTHENTICATION_FAILED, 401, 77


class PermissionDenied(ChatKeeperError):
    """The actor's role or scope does not allow the operation."""

    code, http_status, exit_code = ErrorCode.PERMISSION_DENIED, 403, 77


class ApprovalRequired(ChatKeeperError):
    """A key operation ran without an approval: a request was filed instead (exit code 3)."""

    code, http_status, exit_code = ErrorCode.APPROVAL_REQUIRED, 202, 3

    def __init__(self, message: str, *, request_id: int, **details: Any) -> None:
        super().__init__(message, approval_request=request_id, **details)
        self.request_id = request_id


class ApprovalInvalid(ChatKeeperError):
    """An approval that cannot be used: unknown, not approved, expired, used, or for other
    parameters (exit code 64: exit code 3 means only "a request was filed")."""

    code, http_status, exit_code = ErrorCode.APPROVAL_INVALID, 409, 64


class SelfApproval(GovernanceError):
    """The requester tried to decide their own request."""

    code, http_status, exit_code = ErrorCode.SELF_APPROVAL, 403, 77
