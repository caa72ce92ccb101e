"""Who is calling an application service, and from where."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Source(StrEnum):
    """The edge a call came through; recorded with every audited action."""

    CLI = "cli"
    API = "api"
    WEB = "web"
    SCHEDULER = "scheduler"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person or job on whose behalf a service call runs.

    Every application-service call takes one, so that permission checks and the audit log
    have a single place to look. ``roles`` holds the user's role (``chatkeeper.governance``),
    or ``system`` for a job of the system itself.
    """

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    source: Source = Source.CLI
    address: str | None = None
