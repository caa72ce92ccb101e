"""Lifecycle: retention policies and floors, legal holds, the planner, cold segments, the schedule.

This package owns the pure rules and formats of a conversation's lifecycle
(``active → archived → recycle_bin → purged``): parsing durations, resolving a conversation's
retention (most specific rule, longest on a tie, never below a statutory floor), matching legal
holds, planning each conversation's next step (:func:`decide`), the cold-segment file format and
its folder store, and the daily job's cron schedule. ``docs/lifecycle.md`` is its specification.

It leaves to callers (the lifecycle service): reading conversations and holds from the store,
evaluating a hold's search query, acting on the decisions (moving rows, destroying data keys,
certificates, audit and ledger entries, approvals), the keys behind ``seal``/``unseal``, and
running the schedule.
"""

from chatkeeper.lifecycle.compression import (
    DEFAULT_LEVEL,
    RecordCodec,
    SegmentDictionary,
    train_dictionary,
)
from chatkeeper.lifecycle.conversation import ConversationFacts, State
from chatkeeper.lifecycle.durations import Duration, Unit, add_months, parse_duration
from chatkeeper.lifecycle.holds import HoldIndex, LegalHold
from chatkeeper.lifecycle.plan import NO_RULE, Action, Decision, Plan, Reason, RuleTotals, decide
from chatkeeper.lifecycle.policy import (
    ANY_SERVICE,
    CONVERSATION_RECORDS,
    Floor,
    FloorScope,
    Resolver,
    Retention,
    RetentionPolicy,
    RetentionRule,
    Violation,
    check_floors,
    floor_violations,
    resolve,
)
from chatkeeper.lifecycle.retention_file import (
    RetentionConfig,
    default_floors,
    default_policy,
    default_settings,
    load_retention,
    parse_retention,
)
from chatkeeper.lifecycle.schedule import (
    DEFAULT_SCHEDULE,
    DEFAULT_ZONE,
    CronSchedule,
    missed_runs,
    next_after,
    parse_cron,
)
from chatkeeper.lifecycle.segment_store import LocalSegmentStore
from chatkeeper.lifecycle.segments import (
    FileSource,
    IndexEntry,
    RangeSource,
    Seal,
    SegmentInfo,
    SegmentReader,
    SegmentWriter,
    Unseal,
)
from chatkeeper.lifecycle.settings import LifecycleSettings

__all__ = [
    "ANY_SERVICE",
    "CONVERSATION_RECORDS",
    "DEFAULT_LEVEL",
    "DEFAULT_SCHEDULE",
    "DEFAULT_ZONE",
    "NO_RULE",
    "Action",
    "ConversationFacts",
    "CronSchedule",
    "Decision",
    "Duration",
    "FileSource",
    "Floor",
    "FloorScope",
    "HoldIndex",
    "IndexEntry",
    "LegalHold",
    "LifecycleSettings",
    "LocalSegmentStore",
    "Plan",
    "RangeSource",
    "Reason",
    "RecordCodec",
    "Resolver",
    "Retention",
    "RetentionConfig",
    "RetentionPolicy",
    "RetentionRule",
    "RuleTotals",
    "Seal",
    "SegmentDictionary",
    "SegmentInfo",
    "SegmentReader",
    "SegmentWriter",
    "State",
    "Unit",
    "Unseal",
    "Violation",
    "add_months",
    "check_floors",
    "decide",
    "default_floors",
    "default_policy",
    "default_settings",
    "floor_violations",
    "load_retention",
    "missed_runs",
    "next_after",
    "parse_cron",
    "parse_duration",
    "parse_retention",
    "resolve",
    "train_dictionary",
]
