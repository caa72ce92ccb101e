"""The roles a user can hold, and what each is for."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """One role per user; departments and grants scope what it reaches."""

    AGENT = "agent"  # their own conversations
    SUPERVISOR = "supervisor"  # their departments' conversations
    LEGAL = "legal"  # every department, masked; decides reviews
    AUDITOR = "auditor"  # compliance: read-only, plus the audit log and the ledger
    SECURITY_ADMIN = "security_admin"  # keys, ledger anchors, backups, incidents
    ADMIN = "admin"  # users and settings; never reads conversation content

    @classmethod
    def parse(cls, value: str, field: str = "role") -> Role:
        """The role named ``value``; ``GovernanceError`` naming the valid ones otherwise."""
        from chatkeeper.governance.errors import GovernanceError

        try:
            return cls(value.strip().lower())
        except ValueError:
            valid = ", ".join(r.value for r in cls)
            raise GovernanceError(
                f"'{value}' is not a role; valid roles: {valid}", field=field
            ) from None


# A job of the system itself (the scheduler, the demo builder): every operation, every scope.
SYSTEM = "system"
