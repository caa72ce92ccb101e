"""Legal holds: which conversations a hold covers. A held conversation takes no lifecycle step.

A hold covers a conversation that matches *any* of its criteria: a customer id, a conversation
id, a department, a service-date range, or a search query. The query is evaluated by the search
service, not here: the caller passes the conversation ids it matched as ``query_matches`` (or
puts the hold id in :attr:`ConversationFacts.hold_ids` while it reads the conversations).
The caller passes only holds in force; releasing a hold is the governance service's business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from chatkeeper.lifecycle.conversation import ConversationFacts
from chatkeeper.lifecycle.errors import LegalHoldActive, LifecycleConfigError


@dataclass(frozen=True, slots=True)
class LegalHold:
    """One legal hold and its criteria.

    ``service_dates`` is a half-open range ``[start, end)``: the hold covers every conversation
    whose time span (``started_at`` or, if unknown, ``ended_at`` .. ``ended_at``) overlaps it.
    """

    id: str
    customers: frozenset[str] = frozenset()
    conversations: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()
    service_dates: tuple[datetime, datetime] | None = None
    query: str | None = None
    query_matches: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise LifecycleConfigError("a legal hold needs an id", field="id")
        criteria = (self.customers, self.conversations, self.departments, self.query_matches)
        if not any(criteria) and self.service_dates is None and not self.query:
            raise LifecycleConfigError(
                f"legal hold {self.id} has no criteria: give customers, conversations, "
                "departments, service_dates or a query",
                field="criteria",
            )
        if self.service_dates is not None:
            start, end = self.service_dates
            if start.tzinfo is None or end.tzinfo is None or not start < end:
                raise LifecycleConfigError(
                    f"legal hold {self.id}: service_dates must be timezone-aware and start "
                    "before end",
                    field="service_dates",
                )

    def covers(self, conversation: ConversationFacts) -> bool:
        """True if the hold covers ``conversation``."""
        return self.id in HoldIndex((self,)).match(conversation)


class HoldIndex:
    """The holds in force, indexed so that matching a conversation costs a few look-ups."""

    def __init__(self, holds: Iterable[LegalHold] = ()) -> None:
        self.holds = tuple(holds)
        self._by_customer: dict[str, list[str]] = {}
        self._by_conversation: dict[str, list[str]] = {}
        self._by_department: dict[str, list[str]] = {}
        self._ranges: list[tuple[datetime, datetime, str]] = []
        for hold in self.holds:
            for customer in hold.customers:
                self._by_customer.setdefault(customer, []).append(hold.id)
            for conversation in hold.conversations | hold.query_matches:
                self._by_conversation.setdefault(conversation, []).append(hold.id)
            for department in hold.departments:
                self._by_department.setdefault(department, []).append(hold.id)
            if hold.service_dates is not None:
                self._ranges.append((*hold.service_dates, hold.id))

    def __bool__(self) -> bool:
        return bool(self.holds)

    def match(self, conversation: ConversationFacts) -> tuple[str, ...]:
        """The ids of every hold covering ``conversation`` (with its own ``hold_ids``), sorted."""
        found = list(conversation.hold_ids)
        if not self.holds:
            return tuple(sorted(set(found))) if len(found) > 1 else tuple(found)
        if conversation.customer is not None:
            found += self._by_customer.get(conversation.customer, ())
        found += self._by_conversation.get(conversation.id, ())
        if conversation.department is not None:
            found += self._by_department.get(conversation.department, ())
        if self._ranges:
            ended = conversation.ended_at
            began = conversation.started_at or ended
            found += (hold for start, end, hold in self._ranges if began < end and ended >= start)
        if len(found) > 1:
            return tuple(sorted(set(found)))
        return tuple(found)

    def ensure_not_held(self, conversation: ConversationFacts) -> None:
        """Raise :class:`LegalHoldActive` (naming the holds) if ``conversation`` is held."""
        held = self.match(conversation)
        if held:
            raise LegalHoldActive(conversation.id, held)
