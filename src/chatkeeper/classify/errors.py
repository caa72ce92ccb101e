"""The error ``chatkeeper.classify`` raises.

The tree::

    ClassifyError   config_invalid: a lexicon or rules file (or configuration mapping) is invalid

A lexicon or rule set is configuration, read once at start-up, so a bad one stops start-up the
way any invalid setting does (``ErrorCode.CONFIG_INVALID``, exit code 78, EX_CONFIG). The message
names the file (or configuration key), the section, the 1-based entry and the field, and says
what is valid. It quotes lexicon terms, rule names and patterns (configuration, not personal
data), never message text.
"""

from __future__ import annotations

from chatkeeper.errors import ChatKeeperError, ErrorCode


class ClassifyError(ChatKeeperError):
    """A lexicon or rules file or mapping is invalid; names the file, entry and field."""

    code, http_status, exit_code = ErrorCode.CONFIG_INVALID, 500, 78

    def __init__(
        self,
        source: str,
        reason: str,
        *,
        section: str | None = None,
        entry: int | None = None,
        field: str | None = None,
    ) -> None:
        where = [source]
        if section is not None:
            where.append(f"[[{section}]] entry {entry}" if entry is not None else section)
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(
            f"{', '.join(where)}: {reason}",
            source=source,
            section=section,
            entry=entry,
            field=field,
        )
        self.source = source
        self.section = section
        self.entry = entry
        self.field = field
        self.reason = reason
