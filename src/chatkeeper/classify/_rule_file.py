"""Reading one ``[[rule]]`` table into a :class:`~chatkeeper.classify.rules.Rule`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chatkeeper.classify._config import EntryReader
from chatkeeper.classify.rule import FIELD_NAMES, PayloadValue, Rule
from chatkeeper.domain import SenderRole

SECTION = "rule"
CONDITIONS = (
    "keywords_any",
    "keywords_all",
    "patterns",
    "platform",
    "sender_role",
    "msgtype",
    "fields",
    "payload",
)
FIELDS = ("name", "priority", "service_type", "tags", "override_source", *CONDITIONS)
MAX_PRIORITY = 1_000_000
_ROLES = tuple(role.value for role in SenderRole)


def read_rule(source: str, number: int, table: Mapping[str, Any]) -> Rule:
    """The rule in ``table`` (entry ``number`` of ``source``); ``ClassifyError`` if invalid."""
    reader = EntryReader(source, SECTION, number, table, FIELDS)
    name = reader.required_identifier("name")
    if name == "source":
        raise reader.error("name", "'source' is reserved for the source's own service type")
    service_type = reader.identifier("service_type")
    tags = reader.texts("tags") or ()
    for tag in tags:
        if len(tag) > 64 or tag != tag.strip():
            raise reader.error("tags", "a tag must be at most 64 characters, without edge spaces")
    if service_type is None and not tags:
        raise reader.error("service_type", "a rule must set service_type, tags, or both")
    priority = reader.integer("priority", low=1, high=MAX_PRIORITY)
    if priority is None and service_type is not None:
        raise reader.error("priority", "is required when the rule sets service_type")
    if not any(key in table for key in CONDITIONS):
        raise reader.error("keywords_any", f"a rule needs a condition: {', '.join(CONDITIONS)}")
    for field in ("keywords_any", "keywords_all"):
        if any(word != word.strip() for word in reader.texts(field) or ()):
            raise reader.error(field, "a keyword must not start or end with white space")
    roles = reader.texts("sender_role")
    for role in roles or ():
        if role not in _ROLES:
            raise reader.error("sender_role", f"'{role}' is not one of {', '.join(_ROLES)}")
    return Rule(
        name=name,
        priority=priority or 0,
        service_type=service_type,
        tags=tuple(dict.fromkeys(tags)),
        override_source=reader.boolean("override_source", False),
        keywords_any=reader.texts("keywords_any") or (),
        keywords_all=reader.texts("keywords_all") or (),
        patterns=_patterns(reader, name),
        platform=_set(reader.texts("platform")),
        sender_role=_set(roles),
        msgtype=_set(reader.texts("msgtype")),
        fields=_fields(reader),
        payload=_payload(reader),
    )


def _set(values: tuple[str, ...] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _patterns(reader: EntryReader, name: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for number, pattern in enumerate(reader.texts("patterns") or (), 1):
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise reader.error(
                "patterns", f"rule '{name}' pattern {number} {pattern!r} does not compile: {exc}"
            ) from None
    return tuple(compiled)


def _table(reader: EntryReader, field: str) -> Mapping[str, Any] | None:
    table = reader.data.get(field)
    if table is None:
        return None
    if not isinstance(table, Mapping) or not table:
        raise reader.error(field, "must be a non-empty table of key = value")
    return table


def _fields(reader: EntryReader) -> tuple[tuple[str, frozenset[str]], ...]:
    table = _table(reader, "fields")
    if table is None:
        return ()
    checks = []
    for key, value in table.items():
        if key not in FIELD_NAMES:
            valid = ", ".join(FIELD_NAMES)
            raise reader.error(f"fields.{key}", f"is not a canonical field; valid: {valid}")
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(item, str) and item for item in values):
            raise reader.error(f"fields.{key}", "must be a string or a list of strings")
        checks.append((key, frozenset(values)))
    return tuple(checks)


def _payload(reader: EntryReader) -> tuple[tuple[str, tuple[PayloadValue, ...]], ...]:
    table = _table(reader, "payload")
    if table is None:
        return ()
    checks = []
    for key, value in table.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(item, str | int | float) for item in values):
            raise reader.error(
                f"payload.{key}", "must be a string, number or boolean, or a list of them"
            )
        checks.append((key, tuple(values)))
    return tuple(checks)
