"""Run every personal-data recognizer over a text and return one non-overlapping set of findings.

The analyzer owns three things and nothing else: folding the text once (full-width to ASCII, same
offsets), skipping recognizers that cannot match (a cheap *gate* regex per group of recognizers),
and resolving overlaps between findings. What counts as personal data is the recognizers' business
(:mod:`chatkeeper.privacy.recognizers`); what to do with a finding (mask, vault, index) is the
caller's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache
from operator import attrgetter
from typing import Protocol

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType
from chatkeeper.privacy.normalise import fold

_Find = Callable[[str, str, KnownValues | None], list[Finding]]
_BY_START = attrgetter("start")


class Recognizer(Protocol):
    """Finds one family of personal data in a text.

    ``folded`` is ``text`` with full-width characters folded to ASCII (same length), so offsets
    found in it are offsets in ``text``. A recognizer may also carry a ``gate`` attribute, a
    compiled regex that must match the folded text for the recognizer to be worth running; the
    analyzer evaluates each distinct gate once per text.
    """

    types: tuple[PiiType, ...]

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Every finding of this recognizer's types in ``text``; overlaps are allowed."""
        ...


class Analyzer:
    """Runs recognizers over a text and keeps the best non-overlapping findings.

    ``min_score`` drops weaker findings before overlaps are resolved, so a dropped finding never
    hides another one.
    """

    def __init__(
        self, recognizers: Sequence[Recognizer] | None = None, min_score: float = 0.0
    ) -> None:
        """Run ``recognizers`` (default: every shipped one); drop findings below ``min_score``."""
        if recognizers is None:
            # Imported here: the recognizers package is the analyzer's default, not its dependency.
            from chatkeeper.privacy.recognizers import default_recognizers

            recognizers = default_recognizers()
        self.recognizers: tuple[Recognizer, ...] = tuple(recognizers)
        self.min_score = min_score
        self._plan = _plan(self.recognizers)

    def analyze(self, text: str, known: KnownValues | None = None) -> list[Finding]:
        """Non-overlapping findings in ``text`` sorted by start (see :func:`resolve_overlaps`)."""
        if not text:
            return []
        folded = fold(text)
        found: list[Finding] = []
        for gate, finders in self._plan:
            if gate is not None and gate.search(folded) is None:
                continue
            for find in finders:
                found += find(text, folded, known)
        if not found:
            return found
        return resolve_overlaps(found, len(text), self.min_score)


def _plan(recognizers: Sequence[Recognizer]) -> list[tuple[re.Pattern[str] | None, list[_Find]]]:
    """Group the recognizers' ``find`` methods by gate, keeping the order gates first appear in."""
    groups: dict[re.Pattern[str] | None, list[_Find]] = {}
    for recognizer in recognizers:
        gate = getattr(recognizer, "gate", None)
        groups.setdefault(gate, []).append(recognizer.find)
    return list(groups.items())


def resolve_overlaps(findings: list[Finding], length: int, min_score: float = 0.0) -> list[Finding]:
    """The findings to keep: valid spans, score >= ``min_score``, no two overlapping.

    Greedy by preference: higher score first, then the longer span, then the earlier start. A
    mobile number inside a resident ID number therefore disappears (the ID is validated by its check
    digit and longer), and of two recognizers reporting the same span the surer one wins.
    """
    candidates = [
        finding
        for finding in findings
        if finding.score >= min_score and 0 <= finding.start < finding.end <= length
    ]
    if len(candidates) <= 1:
        return candidates
    candidates.sort(key=lambda f: (-f.score, f.start - f.end, f.start))
    kept: list[Finding] = []
    for finding in candidates:
        if all(finding.end <= other.start or finding.start >= other.end for other in kept):
            kept.append(finding)
    kept.sort(key=_BY_START)
    return kept


@cache
def default_analyzer() -> Analyzer:
    """The shared analyzer with every recognizer, built once per process."""
    return Analyzer()
