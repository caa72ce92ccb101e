"""The risk lexicon: terms that make a message risky, each with a category and a level.

One Aho-Corasick automaton over the folded terms is built when a :class:`Lexicon` is made;
:meth:`Lexicon.match` folds the text once and scans it once. The default lexicon ships as
``classify/data/lexicon.toml``; configuration extends it, disables its terms, or replaces it
(docs/classification.md).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from importlib import resources
from pathlib import Path
from typing import Any

from chatkeeper.classify._config import EntryReader, apply_layer, read_toml, split_layer
from chatkeeper.classify._terms import TermAutomaton, fold

SECTION = "term"
_FIELDS = ("term", "category", "level")
_DEFAULT_SOURCE = "default lexicon (chatkeeper/classify/data/lexicon.toml)"


class RiskLevel(IntEnum):
    """How risky a message is; its text form is ``level.name.lower()`` (``"high"``)."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @classmethod
    def parse(cls, text: str) -> RiskLevel:
        """``"low"``, ``"medium"`` or ``"high"`` (any case) as a level; ``ValueError`` otherwise."""
        level = cls.__members__.get(text.strip().upper()) if isinstance(text, str) else None
        if level is None or level is cls.NONE:
            raise ValueError("must be one of low, medium, high")
        return level


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One term as written, its category (``escalation``, ``fraud``, ...) and its level."""

    term: str
    category: str
    level: RiskLevel


@dataclass(frozen=True, slots=True)
class RiskMatch:
    """What the lexicon found in one text.

    ``level`` is the highest level of the entries found (``NONE`` if none); ``categories`` and
    ``terms`` are sorted and unique, terms as the lexicon writes them; ``count`` is the number of
    occurrences found, overlapping ones each counted (``投诉到`` also contains ``投诉``).
    """

    level: RiskLevel
    categories: tuple[str, ...]
    terms: tuple[str, ...]
    count: int

    def __bool__(self) -> bool:
        return self.count > 0


NO_RISK = RiskMatch(RiskLevel.NONE, (), (), 0)


def _key(entry: LexiconEntry) -> str:
    return fold(entry.term)


class Lexicon:
    """A set of risk terms, matched all at once against a text."""

    __slots__ = ("_automaton", "entries")

    def __init__(self, entries: Iterable[LexiconEntry]) -> None:
        """Build the automaton; ``ValueError`` if two terms are the same once folded."""
        self.entries: tuple[LexiconEntry, ...] = tuple(entries)
        self._automaton = TermAutomaton((_key(entry), entry) for entry in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"<Lexicon of {len(self.entries)} terms>"

    @classmethod
    def default(cls) -> Lexicon:
        """The shipped default lexicon (built once per process and shared; it is immutable)."""
        return _default()

    @classmethod
    def from_toml(cls, path: str | Path) -> Lexicon:
        """The default lexicon as a TOML file extends, trims or replaces it."""
        data, source = read_toml(path, "lexicon")
        return cls.from_mapping(data, source=source)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "lexicon settings") -> Lexicon:
        """The default lexicon as a mapping of the file's shape extends, trims or replaces it."""
        return _build(data, source, _default().entries)

    def match(self, text: str | None) -> RiskMatch:
        """Every lexicon term in ``text``, in one pass over its folded form."""
        if not text:
            return NO_RISK
        found = self._automaton.find(fold(text))
        if not found:
            return NO_RISK
        if len(found) == 1:
            entry = found[0]
            return RiskMatch(entry.level, (entry.category,), (entry.term,), 1)
        return RiskMatch(
            max(entry.level for entry in found),
            tuple(sorted({entry.category for entry in found})),
            tuple(sorted({entry.term for entry in found})),
            len(found),
        )


@functools.cache
def _default() -> Lexicon:
    text = resources.files("chatkeeper.classify").joinpath("data/lexicon.toml").read_text("utf-8")
    return _build(tomllib.loads(text), _DEFAULT_SOURCE, ())


def _build(data: Mapping[str, Any], source: str, defaults: tuple[LexiconEntry, ...]) -> Lexicon:
    layer = split_layer(data, source, SECTION)
    configured = [
        (number, _entry(EntryReader(source, SECTION, number, table, _FIELDS)))
        for number, table in layer.entries
    ]
    entries = apply_layer(
        defaults, layer, configured, _key, source=source, section=SECTION, name_key=fold
    )
    return Lexicon(entries)


def _entry(reader: EntryReader) -> LexiconEntry:
    term = reader.required_text("term")
    if term != term.strip():
        raise reader.error("term", "must not start or end with white space")
    category = reader.required_identifier("category")
    try:
        level = RiskLevel.parse(reader.required_text("level"))
    except ValueError as exc:
        raise reader.error("level", str(exc)) from None
    return LexiconEntry(term, category, level)
