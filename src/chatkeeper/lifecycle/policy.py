"""Retention policies, statutory floors, and the retention of one conversation.

A :class:`RetentionPolicy` is a versioned list of :class:`RetentionRule`; a rule names a service
type (or ``*`` for any) and may narrow it by department, platform or tag. For a conversation the
*most specific* matching rule wins (the one with the most constrained fields among service type,
department, platform and tag); among equally specific rules the *longest* wins (the latest
deadline, permanent beating any date); a remaining tie goes to the rule listed first.

A :class:`Floor` is a statutory minimum (law, article, scope, minimum). :func:`check_floors`
refuses a policy in which a rule could keep a conversation in a floor's scope for less than the
floor; :func:`resolve` never returns a deadline below an applicable floor, and says which floor
raised it. The clock starts at the conversation's end (its service date).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import NamedTuple

from chatkeeper.lifecycle.conversation import ConversationFacts
from chatkeeper.lifecycle.durations import Duration
from chatkeeper.lifecycle.errors import LifecycleConfigError, RetentionBelowFloor

ANY_SERVICE = "*"
#: The kind of records chat retention is about; floors for other kinds (network logs,
#: processing records) live in the same table but never constrain conversations.
CONVERSATION_RECORDS = "conversation"


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """Keep conversations of ``service_type`` (narrowed by the optional fields) for ``keep``."""

    name: str
    service_type: str
    keep: Duration
    department: str | None = None
    platform: str | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise LifecycleConfigError("a retention rule needs a name", field="name")
        if not self.service_type.strip():
            raise LifecycleConfigError(
                f"rule '{self.name}': service_type is empty; use a service type or '*'",
                field="service_type",
            )

    @property
    def specificity(self) -> int:
        """How many of service type, department, platform and tag the rule constrains."""
        narrowing = (self.department, self.platform, self.tag)
        return (self.service_type != ANY_SERVICE) + sum(value is not None for value in narrowing)

    def criteria(self) -> tuple[str, str | None, str | None, str | None]:
        """The fields that decide which conversations the rule matches."""
        return (self.service_type, self.department, self.platform, self.tag)

    def matches(self, conversation: ConversationFacts) -> bool:
        """True if the rule applies to ``conversation``."""
        return self.service_type in (
            ANY_SERVICE,
            conversation.service_type,
        ) and self.narrowing_matches(conversation)

    def narrowing_matches(self, conversation: ConversationFacts) -> bool:
        """True if the department, platform and tag constraints (if any) hold."""
        return (
            (self.department is None or self.department == conversation.department)
            and (self.platform is None or self.platform == conversation.platform)
            and (self.tag is None or self.tag in conversation.tags)
        )


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """A version of the retention rules; every deadline records the version that set it."""

    version: int
    rules: tuple[RetentionRule, ...]

    def __post_init__(self) -> None:
        if self.version < 1:
            raise LifecycleConfigError(
                f"policy version must be 1 or more, not {self.version}", field="version"
            )
        names: set[str] = set()
        seen: dict[tuple[str, str | None, str | None, str | None], str] = {}
        for rule in self.rules:
            if rule.name in names:
                raise LifecycleConfigError(
                    f"two retention rules are named '{rule.name}'", field="rules"
                )
            names.add(rule.name)
            other = seen.setdefault(rule.criteria(), rule.name)
            if other != rule.name:
                raise LifecycleConfigError(
                    f"retention rules '{other}' and '{rule.name}' match the same conversations",
                    field="rules",
                )

    def rule(self, name: str) -> RetentionRule:
        """The rule called ``name``."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class FloorScope:
    """What a floor applies to: a kind of records, and optionally service types and platforms.

    Empty ``service_types`` or ``platforms`` mean every one.
    """

    records: str = CONVERSATION_RECORDS
    service_types: frozenset[str] = frozenset()
    platforms: frozenset[str] = frozenset()

    def covers(self, conversation: ConversationFacts) -> bool:
        """True if a conversation with these facts is in scope."""
        return (
            self.records == CONVERSATION_RECORDS
            and (not self.service_types or conversation.service_type in self.service_types)
            and (not self.platforms or conversation.platform in self.platforms)
        )

    def __str__(self) -> str:
        parts = [self.records.replace("_", " ") + "s"]
        if self.service_types:
            parts.append("of service type " + "/".join(sorted(self.service_types)))
        if self.platforms:
            parts.append("on " + "/".join(sorted(self.platforms)))
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Floor:
    """A statutory minimum retention: ``law`` ``article`` requires at least ``minimum``."""

    law: str
    article: str
    minimum: Duration
    scope: FloorScope = field(default_factory=FloorScope)
    law_zh: str | None = None

    def __post_init__(self) -> None:
        if self.minimum.is_permanent:
            raise LifecycleConfigError(
                f"floor {self.law} {self.article}: a statutory minimum cannot be permanent",
                field="minimum",
            )

    @property
    def citation(self) -> str:
        """The law and article, as messages and reports cite them."""
        return f"{self.law} {self.article}"


class Retention(NamedTuple):
    """How long one conversation is kept, and why.

    ``deadline`` is ``None`` when the conversation is kept permanently, or when no rule matches
    it (``rule`` is then ``None`` too: nothing may delete what no rule covers).
    ``rule_deadline`` is what the rule alone gave; ``floor`` is the floor that raised it to
    ``deadline``, if any. ``floor_deadline`` is the latest deadline of every floor that applies
    (raising or not): before it, no step may delete the conversation, even one put in the
    recycle bin by hand.
    """

    deadline: datetime | None
    rule: str | None
    policy_version: int
    floor: Floor | None = None
    rule_deadline: datetime | None = None
    floor_deadline: datetime | None = None


class Violation(NamedTuple):
    """A rule that could keep a conversation in a floor's scope for less than the floor."""

    rule: RetentionRule
    floor: Floor

    def __str__(self) -> str:
        return (
            f"retention rule '{self.rule.name}' keeps {self.rule.keep}, below the "
            f"{self.floor.minimum} that {self.floor.citation} requires for {self.floor.scope}"
        )


def floor_violations(policy: RetentionPolicy, floors: Iterable[Floor]) -> list[Violation]:
    """Every (rule, floor) pair where the rule could decide a deadline below the floor.

    A rule is exempt when it can never win for a conversation in the floor's scope: a wildcard
    rule is shadowed by a more specific plain rule for each of the floor's service types (or an
    equally specific one that meets the floor, since the longest wins a tie).
    """
    found = []
    for floor in floors:
        if floor.scope.records != CONVERSATION_RECORDS:
            continue
        for rule in policy.rules:
            if rule.keep.at_least(floor.minimum) or not _overlaps(rule, floor.scope):
                continue
            if not _shadowed(rule, floor, policy.rules):
                found.append(Violation(rule, floor))
    return found


def check_floors(policy: RetentionPolicy, floors: Iterable[Floor]) -> None:
    """Refuse ``policy`` if any rule goes below an applicable floor; names law and article."""
    violations = floor_violations(policy, floors)
    if violations:
        raise RetentionBelowFloor(
            f"policy version {policy.version} refused: " + "; ".join(map(str, violations)),
            violations=[
                {
                    "rule": v.rule.name,
                    "keep": str(v.rule.keep),
                    "law": v.floor.law,
                    "article": v.floor.article,
                    "minimum": str(v.floor.minimum),
                }
                for v in violations
            ],
        )


def _overlaps(rule: RetentionRule, scope: FloorScope) -> bool:
    services = not scope.service_types or rule.service_type in (ANY_SERVICE, *scope.service_types)
    platforms = not scope.platforms or rule.platform is None or rule.platform in scope.platforms
    return services and platforms


def _shadowed(rule: RetentionRule, floor: Floor, rules: Sequence[RetentionRule]) -> bool:
    if not floor.scope.service_types:
        return False
    reachable = (
        floor.scope.service_types if rule.service_type == ANY_SERVICE else {rule.service_type}
    )
    for service in reachable:
        if not any(
            other is not rule
            and other.criteria() == (service, None, None, None)
            and (
                other.specificity > rule.specificity
                or (other.specificity == rule.specificity and other.keep.at_least(floor.minimum))
            )
            for other in rules
        ):
            return False
    return True


class Resolver:
    """Resolves retention for many conversations under one policy and floors table.

    Candidate rules and floors are grouped per service type once, so resolving costs a few
    dictionary look-ups and one date addition per candidate. ``zone``, if given, is the time
    zone whose calendar the month arithmetic uses (the service date is converted to it first).
    """

    def __init__(
        self, policy: RetentionPolicy, floors: Iterable[Floor] = (), zone: tzinfo | None = None
    ) -> None:
        self.policy = policy
        self.floors = tuple(f for f in floors if f.scope.records == CONVERSATION_RECORDS)
        self.zone = zone
        self._groups: dict[str | None, tuple[tuple[RetentionRule, ...], ...]] = {}
        self._floors: dict[str | None, tuple[Floor, ...]] = {}

    def _candidates(self, service: str | None) -> tuple[tuple[RetentionRule, ...], ...]:
        groups = self._groups.get(service)
        if groups is None:
            rules = [r for r in self.policy.rules if r.service_type in (ANY_SERVICE, service)]
            levels = sorted({r.specificity for r in rules}, reverse=True)
            groups = tuple(tuple(r for r in rules if r.specificity == n) for n in levels)
            self._groups[service] = groups
            self._floors[service] = tuple(
                f
                for f in self.floors
                if not f.scope.service_types or service in f.scope.service_types
            )
        return groups

    def resolve(self, conversation: ConversationFacts) -> Retention:
        """The retention of ``conversation``: most specific rule, longest on a tie, then floors."""
        groups = self._candidates(conversation.service_type)
        ended = conversation.ended_at
        if self.zone is not None:
            ended = ended.astimezone(self.zone)
        best: RetentionRule | None = None
        best_deadline: datetime | None = None
        for group in groups:
            for rule in group:
                if not rule.narrowing_matches(conversation):
                    continue
                deadline = rule.keep.add_to(ended)
                if best is None or (
                    best_deadline is not None and (deadline is None or deadline > best_deadline)
                ):
                    best, best_deadline = rule, deadline
            if best is not None:
                break
        floor, floor_deadline = self._latest_floor(conversation, ended)
        version = self.policy.version
        if best is None:
            return Retention(None, None, version, None, None, floor_deadline)
        if best_deadline is None or floor_deadline is None or floor_deadline <= best_deadline:
            return Retention(best_deadline, best.name, version, None, best_deadline, floor_deadline)
        return Retention(floor_deadline, best.name, version, floor, best_deadline, floor_deadline)

    def binding_floor(
        self, conversation: ConversationFacts
    ) -> tuple[Floor | None, datetime | None]:
        """The applicable floor that ends latest, and when (``(None, None)``: none applies):
        what keeps a conversation from erasure until then, whatever the rule says."""
        self._candidates(conversation.service_type)  # caches the floors of the service type
        ended = conversation.ended_at
        if self.zone is not None:
            ended = ended.astimezone(self.zone)
        return self._latest_floor(conversation, ended)

    def _latest_floor(
        self, conversation: ConversationFacts, ended: datetime
    ) -> tuple[Floor | None, datetime | None]:
        latest: Floor | None = None
        latest_deadline: datetime | None = None
        for floor in self._floors[conversation.service_type]:
            if floor.scope.platforms and conversation.platform not in floor.scope.platforms:
                continue
            deadline = floor.minimum.add_to(ended)
            if deadline is not None and (latest_deadline is None or deadline > latest_deadline):
                latest, latest_deadline = floor, deadline
        return latest, latest_deadline


def resolve(
    conversation: ConversationFacts,
    policy: RetentionPolicy,
    floors: Iterable[Floor] = (),
    *,
    zone: tzinfo | None = None,
) -> Retention:
    """The retention of one conversation (see :class:`Resolver` to resolve many)."""
    return _resolver(policy, tuple(floors), zone).resolve(conversation)


@lru_cache(maxsize=16)
def _resolver(policy: RetentionPolicy, floors: tuple[Floor, ...], zone: tzinfo | None) -> Resolver:
    return Resolver(policy, floors, zone)
