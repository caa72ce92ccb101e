"""The lifecycle planner: what the daily job should do to each conversation, and why.

:func:`decide` is pure: conversations (an iterable, read lazily), the policy, the floors, the
holds in force, the moment to plan for (``now``, which may be any date: "as of") and the settings
go in; a :class:`Plan` comes out, which yields one :class:`Decision` per conversation and counts
them per retention rule as they pass. Nothing is read or written; acting on the decisions is the
lifecycle service's job.

The rules, in order, for one conversation:

1. already purged → ``stay``;
2. covered by a legal hold → ``held`` (a hold stops every step, archiving included);
3. in the recycle bin → ``purge`` once the bin window has passed since it was moved there and
   every applicable floor's deadline has passed; until then ``stay``;
4. active or archived, retention deadline reached → ``to_recycle_bin``;
5. active, ``cold_after`` passed since its end → ``archive`` (to cold segments);
6. otherwise ``stay``.

``kept_by_floor`` marks a conversation whose rule alone would have let it go (rule deadline
passed, or bin window passed) but which a statutory floor still keeps. A policy checked with
:func:`~chatkeeper.lifecycle.policy.check_floors` when it was saved gives such decisions only for
conversations put in the bin by hand, or after the floors table has changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from chatkeeper.lifecycle.conversation import ConversationFacts, State
from chatkeeper.lifecycle.holds import HoldIndex, LegalHold
from chatkeeper.lifecycle.policy import Floor, Resolver, Retention, RetentionPolicy
from chatkeeper.lifecycle.settings import LifecycleSettings

#: The totals key for conversations that no retention rule matches.
NO_RULE = "-"


class Action(StrEnum):
    """What the job does to a conversation."""

    STAY = "stay"
    ARCHIVE = "archive"
    TO_RECYCLE_BIN = "to_recycle_bin"
    PURGE = "purge"
    HELD = "held"


class Reason(StrEnum):
    """Why: a stable code the console translates."""

    ALREADY_PURGED = "already_purged"
    LEGAL_HOLD = "legal_hold"
    BIN_WINDOW_ELAPSED = "bin_window_elapsed"
    IN_RECYCLE_BIN = "in_recycle_bin"
    BIN_ENTRY_UNKNOWN = "bin_entry_unknown"
    DEADLINE_REACHED = "deadline_reached"
    COLD_AFTER_ELAPSED = "cold_after_elapsed"
    KEPT_BY_FLOOR = "kept_by_floor"
    BEFORE_DEADLINE = "before_deadline"
    PERMANENT = "permanent"
    NO_RULE = "no_rule"


class Decision(NamedTuple):
    """The step for one conversation, with what made it.

    ``retention`` names the rule, the policy version, the deadline and the floor that raised it
    (the service stores deadline and version with the conversation); ``holds`` names the holds
    that cover it.
    """

    conversation_id: str
    action: Action
    reason: Reason
    retention: Retention
    holds: tuple[str, ...] = ()
    kept_by_floor: bool = False

    @property
    def moves(self) -> bool:
        """True if the conversation changes state (archive, to the bin, purge)."""
        return self.action in _MOVES


_MOVES = frozenset({Action.ARCHIVE, Action.TO_RECYCLE_BIN, Action.PURGE})
# Counter slots per rule: one per action, plus kept_by_floor.
_SLOT = {
    Action.ARCHIVE: 0,
    Action.TO_RECYCLE_BIN: 1,
    Action.PURGE: 2,
    Action.HELD: 3,
    Action.STAY: 5,
}
_KEPT = 4


@dataclass(frozen=True, slots=True)
class RuleTotals:
    """How many conversations of one rule took each step (``kept_by_floor`` is a flag count)."""

    archived: int = 0
    to_recycle_bin: int = 0
    purged: int = 0
    held: int = 0
    kept_by_floor: int = 0
    stayed: int = 0

    @property
    def conversations(self) -> int:
        """Every conversation planned under the rule."""
        return self.archived + self.to_recycle_bin + self.purged + self.held + self.stayed

    def __add__(self, other: RuleTotals) -> RuleTotals:
        return RuleTotals(
            *(getattr(self, f) + getattr(other, f) for f in RuleTotals.__dataclass_fields__)
        )


class Plan:
    """The decisions of one run, streamed, and their totals per rule.

    Iterate it once for the decisions (each is produced only when asked for, so a run over
    millions of conversations holds none of them in memory). :meth:`totals` returns the counts;
    it first consumes whatever decisions were not iterated, so a report that needs only the
    counts can call it directly.
    """

    def __init__(
        self,
        conversations: Iterable[ConversationFacts],
        resolver: Resolver,
        holds: HoldIndex,
        now: datetime,
        settings: LifecycleSettings,
    ) -> None:
        self.now = now
        self.policy_version = resolver.policy.version
        self.settings = settings
        self.finished = False
        self._counts: dict[str, list[int]] = {}
        self._decisions = self._run(conversations, resolver, holds)

    def __iter__(self) -> Iterator[Decision]:
        return self._decisions

    def totals(self) -> dict[str, RuleTotals]:
        """Counts per rule name (:data:`NO_RULE` for unmatched conversations), sorted by name."""
        for _ in self._decisions:
            pass
        return {rule: RuleTotals(*counts) for rule, counts in sorted(self._counts.items())}

    def overall(self) -> RuleTotals:
        """The totals of every rule added up."""
        return sum(self.totals().values(), RuleTotals())

    def _run(
        self, conversations: Iterable[ConversationFacts], resolver: Resolver, holds: HoldIndex
    ) -> Iterator[Decision]:
        counts = self._counts
        step = _Stepper(self.now, self.settings)
        for conversation in conversations:
            retention = resolver.resolve(conversation)
            held = holds.match(conversation) if holds else conversation.hold_ids
            action, reason, kept = step(conversation, retention, held)
            rule = retention.rule or NO_RULE
            tally = counts.get(rule)
            if tally is None:
                tally = counts[rule] = [0] * 6
            tally[_SLOT[action]] += 1
            if kept:
                tally[_KEPT] += 1
            yield Decision(conversation.id, action, reason, retention, held, kept)
        self.finished = True


class _Stepper:
    """The six rules of the module docstring, for one conversation at a time."""

    def __init__(self, now: datetime, settings: LifecycleSettings) -> None:
        self.now = now
        self.zone = settings.zone
        self.cold_after = settings.cold_after
        self.window = settings.recycle_bin_window

    def __call__(
        self, conversation: ConversationFacts, retention: Retention, held: tuple[str, ...]
    ) -> tuple[Action, Reason, bool]:
        state, now = conversation.state, self.now
        if state is State.PURGED:
            return Action.STAY, Reason.ALREADY_PURGED, False
        if held:
            return Action.HELD, Reason.LEGAL_HOLD, False
        if state is State.RECYCLE_BIN:
            return self._in_bin(conversation, retention)
        deadline = retention.deadline
        if deadline is not None and now >= deadline:
            return Action.TO_RECYCLE_BIN, Reason.DEADLINE_REACHED, False
        rule_deadline = retention.rule_deadline
        kept = retention.floor is not None and rule_deadline is not None and now >= rule_deadline
        if state is State.ACTIVE:
            cold_at = self.cold_after.add_to(conversation.ended_at.astimezone(self.zone))
            if cold_at is not None and now >= cold_at:
                return Action.ARCHIVE, Reason.COLD_AFTER_ELAPSED, kept
        if kept:
            return Action.STAY, Reason.KEPT_BY_FLOOR, True
        if retention.rule is None:
            return Action.STAY, Reason.NO_RULE, False
        if deadline is None:
            return Action.STAY, Reason.PERMANENT, False
        return Action.STAY, Reason.BEFORE_DEADLINE, False

    def _in_bin(
        self, conversation: ConversationFacts, retention: Retention
    ) -> tuple[Action, Reason, bool]:
        since = conversation.state_since
        if since is None:  # unknown entry time: never guess in the direction of deleting
            return Action.STAY, Reason.BIN_ENTRY_UNKNOWN, False
        purge_at = self.window.add_to(since.astimezone(self.zone))
        if purge_at is None or self.now < purge_at:
            return Action.STAY, Reason.IN_RECYCLE_BIN, False
        floor_deadline = retention.floor_deadline
        if floor_deadline is not None and self.now < floor_deadline:
            return Action.STAY, Reason.KEPT_BY_FLOOR, True
        return Action.PURGE, Reason.BIN_WINDOW_ELAPSED, False


def decide(
    conversations: Iterable[ConversationFacts],
    policy: RetentionPolicy,
    floors: Iterable[Floor],
    holds: Iterable[LegalHold] | HoldIndex,
    now: datetime,
    settings: LifecycleSettings | None = None,
) -> Plan:
    """Plan the lifecycle step of every conversation as of ``now`` (see the module docstring).

    ``now`` must be timezone-aware; ``conversations`` is read lazily, once. A policy is checked
    against the floors when it is saved (:func:`check_floors`); should the floors table change
    later, planning still never goes below a floor: the floor raises the deadline and the
    decision counts as ``kept_by_floor``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    settings = settings or LifecycleSettings()
    floors = tuple(floors)
    index = holds if isinstance(holds, HoldIndex) else HoldIndex(holds)
    resolver = Resolver(policy, floors, settings.zone)
    return Plan(conversations, resolver, index, now, settings)
