"""Three-level review of a risky conversation: the agent gives an account, the supervisor
reviews, legal decides. Which decisions each stage may take, and where each leads."""

from __future__ import annotations

from chatkeeper.governance.errors import GovernanceError
from chatkeeper.governance.roles import Role

STAGES = ("agent", "supervisor", "legal")
STAGE_ROLE = {"agent": Role.AGENT, "supervisor": Role.SUPERVISOR, "legal": Role.LEGAL}

# stage -> decision -> (next stage, or None when the item closes; the outcome when it closes)
_MOVES: dict[str, dict[str, tuple[str | None, str | None]]] = {
    "agent": {"account": ("supervisor", None)},
    "supervisor": {"forward": ("legal", None), "close": (None, "closed_by_supervisor")},
    "legal": {"close": (None, "closed"), "escalate": (None, "escalated"), "hold": (None, "hold")},
}


def decisions(stage: str) -> tuple[str, ...]:
    """The decisions open at a stage."""
    return tuple(_MOVES[stage])


def move(stage: str, decision: str, roles: frozenset[str]) -> tuple[str | None, str | None]:
    """Where a decision at ``stage`` leads: ``(next stage, None)`` or ``(None, outcome)``.

    Legal may act at any stage (to take over an item); otherwise only the stage's role.
    """
    if decision not in _MOVES[stage]:
        raise GovernanceError(
            f"'{decision}' is not a decision at the {stage} stage;"
            f" choose {', '.join(decisions(stage))}",
            field="decision",
        )
    if STAGE_ROLE[stage].value not in roles and Role.LEGAL.value not in roles:
        raise GovernanceError(
            f"the item is at the {stage} stage: only its {STAGE_ROLE[stage].value} (or legal)"
            " acts on it",
            field="stage",
        )
    return _MOVES[stage][decision]
