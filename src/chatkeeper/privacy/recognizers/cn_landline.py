"""Mainland fixed-line numbers: a real area code followed by a 7- or 8-digit local number.

Accepted forms: ``010-12345678``, ``0755 1234567``, ``(020)12345678``, ``0371 8994 8502``,
``010-1234-5678``, plain ``075512345678`` and international ``+86 10 12345678``. The area code must
be in the shipped table (``data/area_codes.tsv``), so 400/800 company hotlines, short service
numbers (95533, 10086) and mobile numbers never match. Local numbers never start with 0 or 1.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType
from chatkeeper.privacy.recognizers import context, tables
from chatkeeper.privacy.recognizers.context import NOT_AFTER_ALNUM, NOT_BEFORE_ALNUM

_LANDLINE = re.compile(
    NOT_AFTER_ALNUM + r"(?<!\+)"
    r"(?:"
    r"\((?P<a1>0[1-9][0-9]{1,2})\)[ \-]?(?P<l1>[2-9][0-9]{6,7})"
    r"|(?P<a2>0[1-9][0-9]{1,2})[ \-](?P<l2>[2-9][0-9]{6,7})"
    r"|(?P<a3>0[1-9][0-9]{1,2})(?P<s3>[ \-])(?P<l3>[2-9][0-9]{2,3}(?P=s3)[0-9]{4})"
    r"|(?P<plain>0[1-9][0-9]{9,10})"
    r"|(?:\+86|0086)[ \-]?(?P<a4>[1-9][0-9]{1,2})[ \-](?P<l4>[2-9][0-9]{6,7})"
    r")" + NOT_BEFORE_ALNUM
)
_CUE = re.compile(r"座机|电话|固话|办公|联系|传真|总机|分机|打|tel|Tel|TEL|phone|Phone")


class CnLandlineRecognizer:
    """Finds fixed-line numbers whose area code exists; context words raise the score."""

    types: tuple[PiiType, ...] = (PiiType.CN_LANDLINE,)
    gate = context.LONG_DIGITS_GATE

    def __init__(self) -> None:
        """Load the area-code table once per recognizer."""
        self._area_codes = tables.area_codes()

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Fixed-line numbers in every accepted written form."""
        findings = []
        for match in _LANDLINE.finditer(folded):
            if not self._valid(match):
                continue
            start, end = match.span()
            score, reason = context.phone_score(_CUE, folded, start, end)
            findings.append(Finding(PiiType.CN_LANDLINE, start, end, score, reason))
        return findings

    def _valid(self, match: re.Match[str]) -> bool:
        """Whether the area code is real and the local number has 7 or 8 digits."""
        groups = match.groupdict()
        plain = groups["plain"]
        if plain is not None:
            # Three-digit codes are exactly 010 and 02x; every other code has four digits.
            cut = 3 if plain[1] in "12" else 4
            area, local = plain[:cut], plain[cut:]
            return area in self._area_codes and len(local) in (7, 8) and local[0] not in "01"
        if groups["a4"] is not None:
            area, local = "0" + groups["a4"], groups["l4"]
        else:
            area = groups["a1"] or groups["a2"] or groups["a3"]
            local = (groups["l1"] or groups["l2"] or groups["l3"]).replace(" ", "").replace("-", "")
        return area in self._area_codes and len(local) in (7, 8)
