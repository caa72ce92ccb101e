"""What the lifecycle rules need to know about one conversation, and its lifecycle states."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


class State(StrEnum):
    """Where a conversation is in its lifecycle: ``active → archived → recycle_bin → purged``."""

    ACTIVE = "active"
    ARCHIVED = "archived"  # cold: originals in segments, hot index kept
    RECYCLE_BIN = "recycle_bin"  # recoverable until the bin window ends
    PURGED = "purged"  # data key destroyed, rows and index entries removed


class ConversationFacts(NamedTuple):
    """The facts about one conversation that retention, holds and the planner look at.

    A named tuple rather than a frozen dataclass: the service builds one per stored
    conversation for every planning run (millions), and a named tuple is several times cheaper
    to make.

    ``ended_at`` is the service date, where the retention clock starts; every datetime is
    timezone-aware. ``state_since`` is when the conversation entered ``state`` (for the recycle
    bin: when it was moved there). ``hold_ids`` are the legal holds the caller has already
    matched to this conversation (typically holds defined by a search query, which the search
    service evaluates); :class:`~chatkeeper.lifecycle.holds.HoldIndex` adds the holds defined by
    customer, conversation, department or date.
    """

    id: str
    service_type: str | None
    ended_at: datetime
    state: State = State.ACTIVE
    state_since: datetime | None = None
    department: str | None = None
    platform: str | None = None
    customer: str | None = None
    tags: Collection[str] = ()
    started_at: datetime | None = None
    hold_ids: tuple[str, ...] = ()
