"""The permission matrix: which role may run which operation, and over how much.

This table is the one source of truth; ``docs/permissions.md`` prints it and a test walks it
against the application services, so the document, the code and the behaviour cannot differ.
``OWN`` reaches an agent's own conversations (and what grants add); ``DEPARTMENTS`` a user's
departments (and what grants add); ``ALL`` everything, or simply "allowed" for an operation that
is not about conversations. Content is always masked: clear personal data needs an approved
unmask, whatever the role.
"""

from __future__ import annotations

from enum import IntEnum

from chatkeeper.governance.errors import PermissionDenied
from chatkeeper.governance.roles import SYSTEM, Role


class Reach(IntEnum):
    """How far an operation reaches for a role (ordered: a wider reach is a larger value)."""

    NONE = 0
    OWN = 1
    DEPARTMENTS = 2
    ALL = 3

    @property
    def label(self) -> str:
        """The cell text in docs/permissions.md."""
        return {0: "—", 1: "own", 2: "departments", 3: "all"}[self.value]


A, S, L, U, K, M = (
    Role.AGENT, Role.SUPERVISOR, Role.LEGAL, Role.AUDITOR, Role.SECURITY_ADMIN, Role.ADMIN,
)  # fmt: skip
_, OWN, DEP, ALL = Reach.NONE, Reach.OWN, Reach.DEPARTMENTS, Reach.ALL

# operation: reach for agent, supervisor, legal, auditor, security_admin, admin
_TABLE: dict[str, tuple[Reach, Reach, Reach, Reach, Reach, Reach]] = {
    "conversations.search": (OWN, DEP, ALL, ALL, _, _),
    "conversation.view": (OWN, DEP, ALL, ALL, _, _),
    "stats.view": (OWN, DEP, ALL, ALL, _, ALL),
    "pii.search": (_, DEP, ALL, ALL, _, _),
    "message.unmask": (_, DEP, ALL, _, _, _),
    "message.take_offline": (_, _, ALL, _, ALL, _),
    "evidence.export": (_, DEP, ALL, _, _, _),
    "ingest.run": (_, _, _, _, _, ALL),
    "classify.run": (_, _, _, _, _, ALL),
    "keys.rotate": (_, _, _, _, ALL, _),
    "ledger.verify": (_, _, _, ALL, ALL, ALL),
    "ledger.anchor": (_, _, _, _, ALL, ALL),
    "audit.list": (_, _, _, ALL, ALL, _),
    "audit.export": (_, _, _, ALL, ALL, _),
    "user.add": (_, _, _, _, _, ALL),
    "user.list": (_, _, _, ALL, ALL, ALL),
    "user.disable": (_, _, _, _, _, ALL),
    "user.set_role": (_, _, _, _, _, ALL),
    "approvals.list": (ALL, ALL, ALL, ALL, ALL, ALL),
    "access.request": (ALL, ALL, _, _, _, _),
    "access.list": (OWN, OWN, ALL, ALL, _, ALL),
    "access.revoke": (OWN, OWN, ALL, _, _, ALL),
    "review.list": (OWN, DEP, ALL, ALL, _, _),
    "review.submit": (OWN, DEP, ALL, _, _, _),
    "retention.show": (_, ALL, ALL, ALL, _, ALL),
    "retention.change": (_, _, ALL, _, _, ALL),
    "retention.compute": (_, _, ALL, _, _, ALL),
    "hold.create": (_, _, ALL, _, _, _),
    "hold.list": (_, _, ALL, ALL, _, _),
    "hold.release": (_, _, ALL, _, _, _),
    "bin.list": (_, _, ALL, ALL, _, ALL),
    "bin.move": (_, _, ALL, _, _, _),
    "bin.restore": (_, _, ALL, _, _, ALL),
    "conversations.bulk_delete": (_, _, ALL, _, _, _),
    "lifecycle.certificates": (_, _, ALL, ALL, _, ALL),
    "lifecycle.run": (_, _, ALL, _, _, ALL),
    "person.erase": (_, _, ALL, _, _, _),
}
ROLES: tuple[Role, ...] = (A, S, L, U, K, M)
_NAMES = frozenset(r.value for r in Role)
PERMISSIONS: dict[str, dict[Role, Reach]] = {
    operation: dict(zip(ROLES, reaches, strict=True)) for operation, reaches in _TABLE.items()
}


def reach(operation: str, roles: frozenset[str]) -> Reach:
    """The widest reach any of ``roles`` has for ``operation`` (``SYSTEM`` reaches all)."""
    if SYSTEM in roles:
        return Reach.ALL
    row = PERMISSIONS[operation]
    return max((row.get(Role(r), Reach.NONE) for r in roles if r in _NAMES), default=Reach.NONE)


def require(operation: str, name: str, roles: frozenset[str]) -> Reach:
    """The reach for ``operation``, or ``PermissionDenied`` naming the operation and roles."""
    found = reach(operation, roles)
    if found is Reach.NONE:
        allowed = ", ".join(r.value for r, v in PERMISSIONS[operation].items() if v)
        held = ", ".join(sorted(roles)) or "no role"
        raise PermissionDenied(
            f"{name} ({held}) may not run {operation}; roles that may: {allowed}",
            operation=operation,
        )
    return found


def markdown_table() -> str:
    """The matrix as the Markdown table in docs/permissions.md."""
    head = "| operation | " + " | ".join(r.value for r in ROLES) + " |"
    rule = "| --- |" + " --- |" * len(ROLES)
    rows = [
        f"| `{op}` | " + " | ".join(PERMISSIONS[op][r].label for r in ROLES) + " |"
        for op in PERMISSIONS
    ]
    return "\n".join([head, rule, *rows])
