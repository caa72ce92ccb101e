"""Load the tables shipped in ``chatkeeper/privacy/data`` once, on first use.

Nothing is read at import time; each loader is cached, so the first analyzer built pays the cost
(a few milliseconds) and every later one shares the same frozen sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources


def _lines(name: str) -> list[str]:
    """Non-empty, non-comment lines of a shipped data file."""
    text = resources.files("chatkeeper.privacy.data").joinpath(name).read_text("utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Administrative-division names, indexed by first character for left-to-right scanning."""

    names: frozenset[str]
    #: For each first character, the lengths of the names starting with it, longest first.
    lengths_by_first: dict[str, tuple[int, ...]]

    def longest_at(self, text: str, position: int, end: int) -> int:
        """Length of the longest division name starting at ``position`` and ending by ``end``."""
        for length in self.lengths_by_first.get(text[position], ()):
            if position + length <= end and text[position : position + length] in self.names:
                return length
        return 0


# Suffixes stripped to derive the short names people write ("广东" for 广东省, "广州" for 广州市).
_PROVINCE_SUFFIXES = (
    "壮族自治区",
    "回族自治区",
    "维吾尔自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)
# Two-character county-level names that are ordinary words ("城区", "郊区"): never a left anchor.
_GENERIC = frozenset({"城区", "郊区", "矿区", "东区", "西区", "南区", "北区", "新区"})


@cache
def gazetteer() -> Gazetteer:
    """Province, prefecture and county names from ``divisions.tsv``, with short forms."""
    names: set[str] = set()
    for line in _lines("divisions.tsv"):
        province, prefecture, counties = [*line.split("\t"), "", ""][:3]
        if province != "-":
            names.update((province, _short(province)))
        if prefecture != "-":
            names.add(prefecture)
            if prefecture.endswith("市") and len(prefecture) >= 3:
                names.add(prefecture[:-1])
        names.update(counties.split())
    names -= _GENERIC
    names = {name for name in names if len(name) >= 2}
    lengths: dict[str, set[int]] = {}
    for name in names:
        lengths.setdefault(name[0], set()).add(len(name))
    return Gazetteer(
        frozenset(names),
        {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()},
    )


def _short(province: str) -> str:
    """A province's short name: 广西壮族自治区 -> 广西, 山东省 -> 山东, 北京市 -> 北京."""
    for suffix in _PROVINCE_SUFFIXES:
        if province.endswith(suffix) and len(province) > len(suffix) + 1:
            return province[: -len(suffix)]
    return province


@cache
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    """(single-character surnames, two-character compound surnames) from ``surnames.txt``."""
    words = {word for line in _lines("surnames.txt") for word in line.split()}
    return (
        frozenset(word for word in words if len(word) == 1),
        frozenset(word for word in words if len(word) == 2),
    )


@cache
def area_codes() -> frozenset[str]:
    """Mainland fixed-line area codes with their leading zero ("010", "0755", ...)."""
    return frozenset(line.split("\t")[0] for line in _lines("area_codes.tsv"))


@dataclass(frozen=True, slots=True)
class BinRange:
    """Card numbers whose leading digits lie in [first, last] and whose length is allowed."""

    first: str
    last: str
    lengths: frozenset[int]

    def matches(self, digits: str) -> bool:
        """Whether the card number ``digits`` falls in this range with an allowed length."""
        head = digits[: len(self.first)]
        return len(digits) in self.lengths and self.first <= head <= self.last


@cache
def card_bins() -> tuple[BinRange, ...]:
    """Issuer prefix ranges from ``card_bins.tsv``."""
    ranges = []
    for line in _lines("card_bins.tsv"):
        first, last, lengths = line.split("\t")[:3]
        ranges.append(BinRange(first, last, frozenset(int(n) for n in lengths.split(","))))
    return tuple(ranges)
