"""Text folding and the one-pass term automaton shared by the risk lexicon and the rules.

Both sides are folded the same way (NFKC, then case folding), so a term written ``12315`` or
``SB`` also finds ``１２３１５`` and ``ｓｂ``. Every term is looked up in one Aho-Corasick pass over
the folded text (pyahocorasick, built once), overlapping matches included.

A term written only in ASCII matches only where the text has no ASCII letter or digit right
next to its letter or digit edges: ``12315`` is found in ``打12315投诉`` but not inside
``8123156``, and ``sb`` not inside ``usb``. Every other term (CJK, or CJK mixed with ASCII such
as ``加我qq``) matches anywhere, because Chinese is written without spaces between words and
``加我qq12345678`` must still be found.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Generic, TypeVar

import ahocorasick

T = TypeVar("T")

# After folding, upper-case ASCII letters no longer occur, so these are the ASCII word characters.
ASCII_WORD = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """The form both terms and texts are matched in: NFKC-normalised, then case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


class TermAutomaton(Generic[T]):
    """Finds every occurrence of a set of folded terms in a folded text, in one pass.

    Each term carries a value (a lexicon entry, a keyword number); :meth:`find` returns the
    values of the occurrences, one per occurrence, in the order their ends appear in the text.
    """

    __slots__ = ("_automaton",)

    def __init__(self, terms: Iterable[tuple[str, T]]) -> None:
        automaton = ahocorasick.Automaton()
        for key, value in terms:
            if not key:
                raise ValueError("a term must not be empty once folded")
            # Stored with each term: its length and whether each edge needs a word boundary.
            ascii_only = key.isascii()
            guard = (ascii_only and key[0] in ASCII_WORD, ascii_only and key[-1] in ASCII_WORD)
            if not automaton.add_word(key, (len(key), guard, value)):
                raise ValueError(f"the term '{key}' occurs twice once folded")
        self._automaton = automaton if len(automaton) else None
        if self._automaton is not None:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._automaton) if self._automaton is not None else 0

    def find(self, folded: str) -> list[T]:
        """The values of every occurrence of a term in ``folded`` (already folded)."""
        if self._automaton is None or not folded:
            return []
        found: list[T] = []
        last = len(folded) - 1
        for end, (length, (left, right), value) in self._automaton.iter(folded):
            if left:
                start = end - length + 1
                if start > 0 and folded[start - 1] in ASCII_WORD:
                    continue
            if right and end < last and folded[end + 1] in ASCII_WORD:
                continue
            found.append(value)
        return found
