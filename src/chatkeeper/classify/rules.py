"""Classification rules: a message's service type and the customer tags it adds.

:meth:`Rules.classify` folds a message's text once and finds every rule keyword in it in one
Aho-Corasick pass, then checks each rule's conditions. Of the rules that hold and set a service
type, the highest priority wins (ties: the earlier rule); the tags of every rule that holds are
added. How a conversation's class follows from its messages' classes is
:func:`chatkeeper.classify.conversation.combine`. The default rules ship as
``classify/data/rules.toml``; configuration extends, trims or replaces them.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from chatkeeper.classify._config import apply_layer, read_toml, split_layer
from chatkeeper.classify._rule_file import SECTION, read_rule
from chatkeeper.classify._terms import TermAutomaton, fold
from chatkeeper.classify.rule import Rule
from chatkeeper.domain import CanonicalMessage

_DEFAULT_SOURCE = "default rules (chatkeeper/classify/data/rules.toml)"


@dataclass(frozen=True, slots=True)
class MessageClass:
    """What the rules say about one message.

    ``service_type`` and ``rule`` come from the winning rule (None when no rule that sets a
    service type holds), ``priority`` is its priority (0 when none), ``override_source`` whether
    it beats the source's own service type; ``tags`` are those of every rule that held, sorted.
    """

    service_type: str | None = None
    rule: str | None = None
    priority: int = 0
    tags: tuple[str, ...] = ()
    override_source: bool = False


NO_CLASS = MessageClass()


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    any_ids: frozenset[int]
    all_ids: frozenset[int]
    filters: bool  # has conditions other than on the text
    text: bool  # has conditions on the text


class Rules:
    """An ordered set of rules, applied all at once to a message."""

    __slots__ = ("_automaton", "_compiled", "rules")

    def __init__(self, rules: Iterable[Rule]) -> None:
        """Index the rules' keywords; ``ValueError`` if two rules share a name."""
        self.rules: tuple[Rule, ...] = tuple(rules)
        names = [rule.name for rule in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("two rules have the same name")
        ids: dict[str, int] = {}
        for rule in self.rules:
            for keyword in (*rule.keywords_any, *rule.keywords_all):
                ids.setdefault(fold(keyword), len(ids))
        self._automaton = TermAutomaton(ids.items())
        self._compiled = tuple(
            _Compiled(
                rule,
                frozenset(ids[fold(k)] for k in rule.keywords_any),
                frozenset(ids[fold(k)] for k in rule.keywords_all),
                rule.has_filters,
                rule.needs_text,
            )
            for rule in self.rules
        )

    def __len__(self) -> int:
        return len(self.rules)

    def __repr__(self) -> str:
        return f"<Rules {', '.join(rule.name for rule in self.rules)}>"

    @classmethod
    def default(cls) -> Rules:
        """The shipped default rules (built once per process and shared; they are immutable)."""
        return _default()

    @classmethod
    def from_toml(cls, path: str | Path) -> Rules:
        """The default rules as a TOML file extends, trims or replaces them."""
        data, source = read_toml(path, "rules")
        return cls.from_mapping(data, source=source)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "rules settings") -> Rules:
        """The default rules as a mapping of the file's shape extends, trims or replaces them."""
        return _build(data, source, _default().rules)

    def classify(self, message: CanonicalMessage) -> MessageClass:
        """The service type and tags the rules give ``message``."""
        folded: str | None = None
        found: set[int] = set()
        best: Rule | None = None
        tags: set[str] = set()
        for compiled in self._compiled:
            rule = compiled.rule
            if compiled.filters and not rule.holds_apart_from_text(message):
                continue
            if compiled.text:
                if folded is None:
                    folded = fold(message.text) if message.text else ""
                    found = set(self._automaton.find(folded))
                if compiled.any_ids and compiled.any_ids.isdisjoint(found):
                    continue
                if not compiled.all_ids <= found:
                    continue
                if rule.patterns and not any(p.search(folded) for p in rule.patterns):
                    continue
            if rule.service_type is not None and (best is None or rule.priority > best.priority):
                best = rule
            tags.update(rule.tags)
        if best is None and not tags:
            return NO_CLASS
        return MessageClass(
            service_type=best.service_type if best else None,
            rule=best.name if best else None,
            priority=best.priority if best else 0,
            tags=tuple(sorted(tags)),
            override_source=best.override_source if best else False,
        )


@functools.cache
def _default() -> Rules:
    text = resources.files("chatkeeper.classify").joinpath("data/rules.toml").read_text("utf-8")
    return _build(tomllib.loads(text), _DEFAULT_SOURCE, ())


def _build(data: Mapping[str, Any], source: str, defaults: tuple[Rule, ...]) -> Rules:
    layer = split_layer(data, source, SECTION)
    configured = [(number, read_rule(source, number, table)) for number, table in layer.entries]
    merged = apply_layer(
        defaults, layer, configured, lambda rule: rule.name, source=source, section=SECTION
    )
    return Rules(merged)
