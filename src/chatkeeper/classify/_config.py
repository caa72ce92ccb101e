"""Reading lexicon and rule files: TOML, the layering over the defaults, and field checks.

Both files share one shape (docs/classification.md)::

    version = 1                  # optional; the only format so far
    replace_default = false      # true: start from nothing instead of the shipped default
    disable = ["...", "..."]     # default entries to drop (lexicon terms, rule names)
    [[term]] / [[rule]]          # entries; one with the key of a default entry replaces it

Every failure is a :class:`ClassifyError` naming the source, the section, the 1-based entry and
the field; nothing is skipped or guessed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from chatkeeper.classify.errors import ClassifyError

T = TypeVar("T")
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}")
FORMAT_VERSION = 1


def read_toml(path: str | Path, what: str) -> tuple[Mapping[str, Any], str]:
    """The parsed file and the source name errors use (``lexicon file '/etc/x.toml'``)."""
    source = f"{what} file '{path}'"
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle), source
    except FileNotFoundError:
        raise ClassifyError(source, "does not exist") from None
    except OSError as exc:
        raise ClassifyError(source, f"cannot be read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ClassifyError(source, f"is not valid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ClassifyError(source, "is not UTF-8 text") from exc


@dataclass(frozen=True, slots=True)
class Layer:
    """What one file or mapping asks for, before it is applied to the defaults."""

    replace_default: bool
    disable: tuple[str, ...]
    entries: tuple[tuple[int, Mapping[str, Any]], ...]  # (1-based entry number, table)


def split_layer(data: object, source: str, section: str) -> Layer:
    """Check the top level of a file or mapping and return its parts."""
    if not isinstance(data, Mapping):
        raise ClassifyError(source, "must be a table (mapping) at the top level")
    valid = ("version", "replace_default", "disable", section)
    for key in data:
        if key not in valid:
            raise ClassifyError(
                source, f"unknown key '{key}'; valid keys: {', '.join(valid)}", field=str(key)
            )
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ClassifyError(source, f"must be {FORMAT_VERSION}", field="version")
    replace = data.get("replace_default", False)
    if not isinstance(replace, bool):
        raise ClassifyError(source, "must be true or false", field="replace_default")
    disable = data.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(d, str) and d for d in disable):
        raise ClassifyError(source, "must be a list of non-empty strings", field="disable")
    entries = data.get(section, [])
    if not isinstance(entries, list):
        raise ClassifyError(source, f"must be a list of tables ([[{section}]])", field=section)
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping):
            raise ClassifyError(source, "must be a table", section=section, entry=number)
    return Layer(replace, tuple(disable), tuple(enumerate(entries, 1)))


def apply_layer(
    defaults: Sequence[T],
    layer: Layer,
    configured: Sequence[tuple[int, T]],
    key: Callable[[T], str],
    *,
    source: str,
    section: str,
    name_key: Callable[[str], str] = str,
) -> list[T]:
    """The defaults (unless replaced) minus ``disable``, with ``configured`` merged in.

    A configured entry whose key is a default's replaces it in place; others are appended in
    their order. Two configured entries with one key, or a ``disable`` naming no default, fail.
    ``name_key`` turns a ``disable`` string into a key (the lexicon folds it).
    """
    merged = {key(item): item for item in ([] if layer.replace_default else defaults)}
    for number, name in enumerate(layer.disable, 1):
        if merged.pop(name_key(name), None) is None:
            hint = " (replace_default is true: there are none)" if layer.replace_default else ""
            raise ClassifyError(
                source, f"item {number} '{name}' is not a default {section}{hint}", field="disable"
            )
    seen: dict[str, int] = {}
    for number, item in configured:
        name = key(item)
        if name in seen:
            raise ClassifyError(
                source, f"repeats entry {seen[name]} ('{name}')", section=section, entry=number
            )
        seen[name] = number
        merged[name] = item
    return list(merged.values())


class EntryReader:
    """Typed access to one ``[[term]]`` or ``[[rule]]`` table, with errors that locate the field."""

    def __init__(
        self, source: str, section: str, number: int, data: Mapping[str, Any], fields: Sequence[str]
    ) -> None:
        self.source, self.section, self.number, self.data = source, section, number, data
        for name in data:
            if name not in fields:
                raise self.error(str(name), f"unknown field; valid fields: {', '.join(fields)}")

    def error(self, field: str, reason: str) -> ClassifyError:
        """A ``ClassifyError`` for ``field`` of this entry."""
        return ClassifyError(
            self.source, reason, section=self.section, entry=self.number, field=field
        )

    def text(self, field: str) -> str | None:
        """A non-blank string, or None when absent."""
        value = self.data.get(field)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, "must be a non-empty string")
        return value

    def required_text(self, field: str) -> str:
        """A non-blank string that must be present."""
        value = self.text(field)
        if value is None:
            raise self.error(field, "is required")
        return value

    def identifier(self, field: str) -> str | None:
        """A lower-case identifier (``after_sales``): letters, digits, underscore, ≤ 64."""
        value = self.text(field)
        return None if value is None else self._check_identifier(field, value)

    def required_identifier(self, field: str) -> str:
        """A lower-case identifier that must be present."""
        return self._check_identifier(field, self.required_text(field))

    def _check_identifier(self, field: str, value: str) -> str:
        if not IDENTIFIER.fullmatch(value):
            raise self.error(field, "must be a lower-case identifier such as 'after_sales'")
        return value

    def boolean(self, field: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self.data.get(field, default)
        if not isinstance(value, bool):
            raise self.error(field, "must be true or false")
        return value

    def integer(self, field: str, *, low: int, high: int) -> int | None:
        """An integer in ``[low, high]``, or None when absent."""
        value = self.data.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(field, f"must be an integer from {low} to {high}")
        return value

    def texts(self, field: str) -> tuple[str, ...] | None:
        """A non-empty list of non-blank strings, or None when absent."""
        value = self.data.get(field)
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            raise self.error(field, "must be a non-empty list of strings")
        for number, item in enumerate(value, 1):
            if not isinstance(item, str) or not item.strip():
                raise self.error(field, f"item {number} must be a non-empty string")
        return tuple(value)
