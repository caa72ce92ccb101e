"""One classification rule: its conditions on a message and what it sets when they hold."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatkeeper.domain import CanonicalMessage

PayloadValue = str | int | float | bool

# The canonical fields a rule's ``fields`` table may test (see docs/formats.md); platform,
# sender_role and msgtype have conditions of their own.
FIELD_NAMES = (
    "department",
    "agent_id",
    "agent_name",
    "customer_id",
    "sender_id",
    "sender_name",
    "conversation_id",
    "service_type",
    "kind",
    "consent",
)


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule: every condition it has must hold; then it sets ``service_type`` and/or ``tags``.

    Keywords are matched (by :class:`~chatkeeper.classify.rules.Rules`, all rules in one pass)
    in the folded text like lexicon terms; ``patterns`` are regular expressions searched in the
    folded text, and one matching is enough. ``platform``, ``sender_role`` and ``msgtype`` hold
    when the message's value is in the set; ``fields`` and ``payload`` when each named value
    equals one of the listed values. ``priority`` is 0 for a rule that only adds tags.
    """

    name: str
    priority: int
    service_type: str | None = None
    tags: tuple[str, ...] = ()
    override_source: bool = False
    keywords_any: tuple[str, ...] = ()
    keywords_all: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    platform: frozenset[str] | None = None
    sender_role: frozenset[str] | None = None
    msgtype: frozenset[str] | None = None
    fields: tuple[tuple[str, frozenset[str]], ...] = ()
    payload: tuple[tuple[str, tuple[PayloadValue, ...]], ...] = ()

    @property
    def needs_text(self) -> bool:
        """Whether the rule has conditions on the message text."""
        return bool(self.keywords_any or self.keywords_all or self.patterns)

    @property
    def has_filters(self) -> bool:
        """Whether the rule has conditions other than on the message text."""
        return bool(
            self.platform is not None
            or self.sender_role is not None
            or self.msgtype is not None
            or self.fields
            or self.payload
        )

    def holds_apart_from_text(self, message: CanonicalMessage) -> bool:
        """Whether every condition other than keywords and patterns holds on ``message``."""
        if self.platform is not None and message.platform not in self.platform:
            return False
        # SenderRole is a StrEnum: its members hash and compare as their string values.
        if self.sender_role is not None and message.sender_role not in self.sender_role:
            return False
        if self.msgtype is not None and message.msgtype not in self.msgtype:
            return False
        for name, allowed in self.fields:
            value = getattr(message, name)
            if value is None or str(value) not in allowed:
                return False
        if self.payload:
            payload = message.payload or {}
            for key, wanted in self.payload:
                if key not in payload or not any(_same(payload[key], w) for w in wanted):
                    return False
        return True


def _same(value: object, wanted: PayloadValue) -> bool:
    # True == 1 in Python; a payload flag and a count must not stand in for each other.
    if isinstance(value, bool) or isinstance(wanted, bool):
        return isinstance(value, bool) and isinstance(wanted, bool) and value is wanted
    return type(value) in (str, int, float) and value == wanted
