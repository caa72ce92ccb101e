"""What a source format adapter is: it parses a file and normalises each record.

Parsing and normalising are separate so that the ingest pipeline can run them as separate
steps, and so that a record that cannot be parsed is reported with its line number while the
rest of the file still goes in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from chatkeeper.domain import CanonicalMessage
from chatkeeper.errors import RecordError


@dataclass(slots=True)
class RawRecord:
    """One record as read from a file, before normalisation.

    ``data`` is ``None`` when the line could not be parsed; ``error`` then says why.
    """

    line: int
    data: dict[str, Any] | None
    error: RecordError | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """A source record that is not conversation content (for example WeCom's ``switch``)."""

    reason: str


class Format(Protocol):
    """A source format: ``parse`` streams raw records, ``normalise`` makes one canonical."""

    name: ClassVar[str]

    def parse(self, path: Path) -> Iterator[RawRecord]:
        """Yield every record of the file in order, in constant memory."""
        ...

    def normalise(self, data: dict[str, Any]) -> CanonicalMessage | Skip:
        """Turn one parsed record into a canonical message; raise ``RecordError`` if bad."""
        ...
