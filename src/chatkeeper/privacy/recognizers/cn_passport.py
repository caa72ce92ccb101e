"""Passports of the People's Republic of China (中华人民共和国护照).

Ordinary e-passports are ``E`` plus eight digits, or ``E``, a letter (not I or O) and seven
digits once the numeric series ran out; older ordinary passports are ``G`` plus eight digits;
diplomatic, service and public-affairs passports start with ``D``, ``S`` or ``P`` (optionally
followed by ``E``). The shape is short and common in product and coupon codes, so a context word
(护照, passport) must come shortly before the number.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context

_PASSPORT = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:[EeGg][0-9]{8}|[Ee][A-HJ-NP-Za-hj-np-z][0-9]{7}|[DdSsPp][Ee]?[0-9]{7,8})"
    r"(?![0-9A-Za-z])"
)
_CUE = re.compile(r"护照|passport|Passport|PASSPORT")


class CnPassportRecognizer:
    """Finds PRC passport numbers right after a passport context word."""

    types: tuple[PiiType, ...] = (PiiType.CN_PASSPORT,)
    gate = _CUE

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Passport numbers preceded (within a few characters) by 护照 or passport."""
        return [
            Finding(
                PiiType.CN_PASSPORT,
                match.start(),
                match.end(),
                context.PATTERN_CONTEXT,
                Reason.CONTEXT,
            )
            for match in _PASSPORT.finditer(folded)
            if context.cue_before(_CUE, folded, match.start(), window=16)
        ]
