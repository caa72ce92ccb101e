"""Readers for the compact text tables the demo's data modules are written in.

Word lists and small tables are kept as blocks of text rather than Python literals: one line
per row reads well in Chinese, diffs well, and does not balloon into one item per line.
"""

from __future__ import annotations


def words(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of ``text``."""
    return tuple(text.split())


def pairs(text: str, sep: str = ":") -> tuple[tuple[str, str], ...]:
    """Words written ``left:right``, as pairs, e.g. surnames with their pinyin."""
    result = []
    for word in text.split():
        left, _, right = word.partition(sep)
        result.append((left, right))
    return tuple(result)


def rows(text: str) -> tuple[tuple[str, ...], ...]:
    """One tuple of whitespace-separated fields per non-blank line."""
    return tuple(tuple(line.split()) for line in text.splitlines() if line.strip())
