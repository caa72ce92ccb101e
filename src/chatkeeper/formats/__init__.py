"""Source formats: one adapter per platform or file type, each turning records canonical.

Callers pick an adapter by name with :func:`get_format`; everything else in the package is an
implementation detail of the adapters.
"""

from __future__ import annotations

from chatkeeper.errors import ConfigError
from chatkeeper.formats.base import Format, RawRecord, Skip
from chatkeeper.formats.canonical import CanonicalCsvFormat, CanonicalJsonlFormat
from chatkeeper.formats.wecom import WecomFormat

FORMATS: dict[str, type[Format]] = {
    CanonicalJsonlFormat.name: CanonicalJsonlFormat,
    CanonicalCsvFormat.name: CanonicalCsvFormat,
    WecomFormat.name: WecomFormat,
}


def get_format(name: str) -> Format:
    """The adapter called ``name``; a clear error lists the valid names otherwise."""
    try:
        return FORMATS[name]()
    except KeyError:
        valid = ", ".join(sorted(FORMATS))
        raise ConfigError(f"unknown format '{name}'; valid formats: {valid}", format=name) from None


__all__ = ["FORMATS", "Format", "RawRecord", "Skip", "get_format"]
