"""Vehicle licence plates of mainland China (GA 36-2018).

A plate is a province abbreviation (京, 沪, 粤, ...), the issuing authority's letter (A-Z without
I and O), an optional separator (space, ``·``, ``-``) and either five characters (ordinary plates:
letters and digits, at most three letters) or six (new-energy plates: ``D``/``F``-style letter then
five characters for small cars, five digits then the letter for large ones). Plates ending in 学,
警, 挂, 港, 澳, 领 are accepted too. The shape is distinctive enough to report without context;
car words (车牌, 我的车) raise the score.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Za-hj-np-z"
_PLATE = re.compile(
    rf"([{_PROVINCES}])[{_LETTER}][ ·•・.\-]?"
    rf"(?:([{_LETTER}0-9]{{5,6}})|[{_LETTER}0-9]{{4}}[学警挂港澳领试超])"
    r"(?![0-9A-Za-z])"
)
# New-energy plates: the energy letter (D, A, B, C, E electric; F, G, H, J, K hybrid) leads for
# small cars and trails for large ones.
_NEW_ENERGY = re.compile(r"[A-HJK][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[A-HJK]")
_CUE = re.compile(r"车牌|牌照|号牌|车号|我的车|车辆|爱车|停车")


class CnLicensePlateRecognizer:
    """Finds ordinary and new-energy licence plates by shape."""

    types: tuple[PiiType, ...] = (PiiType.CN_LICENSE_PLATE,)

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Every plausible licence plate in the text."""
        findings = []
        for match in _PLATE.finditer(folded):
            tail = match.group(2)
            if tail is not None and not _tail_ok(tail.upper()):
                continue
            start, end = match.span()
            if context.cue_before(_CUE, folded, start):
                score, reason = context.CONTEXT, Reason.CONTEXT
            else:
                score, reason = context.PATTERN, Reason.PATTERN
            findings.append(Finding(PiiType.CN_LICENSE_PLATE, start, end, score, reason))
        return findings


def _tail_ok(tail: str) -> bool:
    """Whether the characters after the authority letter form an ordinary or new-energy plate."""
    if len(tail) == 6:
        return _NEW_ENERGY.fullmatch(tail) is not None
    letters = sum(1 for char in tail if char.isalpha())
    return letters <= 3
