"""Plain value types shared by every layer; this package imports nothing of the project."""

from chatkeeper.domain.actor import Actor, Source
from chatkeeper.domain.records import (
    CanonicalMessage,
    RecordKind,
    SenderRole,
)

__all__ = ["Actor", "CanonicalMessage", "RecordKind", "SenderRole", "Source"]
