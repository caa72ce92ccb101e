"""Mainland China mobile numbers: 11 digits in an allocated 1[3-9]x segment.

Accepted forms: plain ``13800138000``, grouped 3-4-4 by spaces or dashes, and prefixed by
``+86``, ``0086``, ``(+86)`` (with or without a space or dash after the prefix); the prefix belongs
to the span. Numbers in unallocated segments (``12x``, ``140``, ``154``, ...) are never reported:
those are order numbers and other codes that happen to be 11 digits long.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType
from chatkeeper.privacy.recognizers import context
from chatkeeper.privacy.recognizers.context import NOT_BEFORE_ALNUM

#: Three-digit segments allocated to public mobile service (China Mobile, Unicom, Telecom,
#: Broadnet and the virtual operators' 162/165/167/170/171 ranges). 140-144 and 148 are IoT
#: ranges with 13-digit numbers; 154, 160-161, 163-164, 168-169, 179 and 194 are unallocated.
MOBILE_SEGMENTS = frozenset(
    [f"13{d}" for d in range(10)]
    + ["145", "146", "147", "149"]
    + [f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)]
    + ["162", "165", "166", "167"]
    + [f"17{d}" for d in range(9)]
    + [f"18{d}" for d in range(10)]
    + [f"19{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)]
)

# The look-behind also refuses a "+" so that "+8613800138000" is only matched with its prefix.
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z+])(?<![0-9][ \-])"
    r"(?:(?:\+86|0086|\(\+86\)|\(86\))[ \-]?)?"
    r"(1[3-9][0-9])([ \-]?)[0-9]{4}\2[0-9]{4}" + NOT_BEFORE_ALNUM
)
_CUE = re.compile(
    r"手机|电话|联系|致电|来电|号码|打|短信|call|tel|Tel|TEL|mobile|Mobile|phone|Phone"
)


class CnMobileRecognizer:
    """Finds mainland mobile numbers; context words raise the score, order-number words lower it."""

    types: tuple[PiiType, ...] = (PiiType.CN_MOBILE,)
    gate = context.LONG_DIGITS_GATE

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Mobile numbers in allocated segments, in every accepted written form."""
        findings = []
        for match in _MOBILE.finditer(folded):
            if match.group(1) not in MOBILE_SEGMENTS:
                continue
            start, end = match.span()
            score, reason = context.phone_score(_CUE, folded, start, end)
            findings.append(Finding(PiiType.CN_MOBILE, start, end, score, reason))
        return findings
