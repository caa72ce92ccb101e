"""Resident identity card numbers (居民身份证号码, GB 11643-1999).

An 18-character number is six digits of address code (a real province), eight of birth date (a
real date, not in the future), a three-digit sequence and a MOD 11-2 check character (``0``-``9``
or ``X``). It is found plain or grouped 6-8-4 by spaces or dashes. Findings:

- check character right: :data:`Reason.CHECKSUM`, high score (higher still next to 身份证 etc.);
- check character wrong but everything else right, next to a context word: reported as
  :data:`Reason.LOW_CONFIDENCE` below the report threshold (a mistyped ID is still personal data);
- the legacy 15-digit number (``YYMMDD`` birth date, no check character) only next to a context
  word, since 15 digits alone are far too common.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import checksums, context
from chatkeeper.privacy.recognizers.context import NOT_AFTER_ALNUM, NOT_BEFORE_ALNUM

_ID18 = re.compile(
    NOT_AFTER_ALNUM + r"([1-9][0-9]{5})([ \-]?)([0-9]{8})\2([0-9]{3}[0-9Xx])" + NOT_BEFORE_ALNUM
)
_ID15 = re.compile(NOT_AFTER_ALNUM + r"[1-9][0-9]{14}" + NOT_BEFORE_ALNUM)
_CUE = re.compile(r"身份证|身份号|证件|公民身份|居民身份|身份信息|实名|ID|id|Id")


class CnIdCardRecognizer:
    """Finds 18-digit resident ID numbers by check character, and 15-digit ones by context."""

    types: tuple[PiiType, ...] = (PiiType.CN_ID_CARD,)
    gate = context.LONG_DIGITS_GATE

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """ID numbers with a valid check character, and low-confidence near misses in context."""
        findings = []
        for match in _ID18.finditer(folded):
            area, _, birth, tail = match.groups()
            if area[:2] not in checksums.PROVINCE_CODES or not checksums.birth_date_ok(birth):
                continue
            start, end = match.span()
            cued = context.cue_near(_CUE, folded, start, end)
            if checksums.id_card_check_char(area + birth + tail[:3]) == tail[3].upper():
                if context.order_number_before(folded, start) and not cued:
                    score = context.CONTRADICTED
                else:
                    score = context.CHECKSUM_CONTEXT if cued else context.CHECKSUM
                findings.append(Finding(PiiType.CN_ID_CARD, start, end, score, Reason.CHECKSUM))
            elif cued:
                findings.append(
                    Finding(
                        PiiType.CN_ID_CARD,
                        start,
                        end,
                        context.LOW_CONFIDENCE,
                        Reason.LOW_CONFIDENCE,
                    )
                )
        if len(folded) >= 15:
            findings += self._legacy(folded)
        return findings

    def _legacy(self, folded: str) -> list[Finding]:
        """15-digit numbers of the first-generation card, only next to a context word."""
        findings = []
        for match in _ID15.finditer(folded):
            number = match.group()
            if number[:2] not in checksums.PROVINCE_CODES:
                continue
            if not checksums.birth_date_ok("19" + number[6:12]):
                continue
            start, end = match.span()
            if context.cue_before(_CUE, folded, start) and not context.order_number_before(
                folded, start
            ):
                findings.append(
                    Finding(PiiType.CN_ID_CARD, start, end, context.PATTERN, Reason.CONTEXT)
                )
        return findings
