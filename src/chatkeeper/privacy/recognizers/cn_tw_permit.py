"""Permits for travel between the mainland and Taiwan.

The Mainland Travel Permit for Taiwan Residents (台湾居民来往大陆通行证, "台胞证") carries eight
digits since 2015 (older booklets: ten digits, sometimes with a bracketed letter); the mainland
residents' Exit-Entry Permit for Travelling to and from Taiwan (大陆居民往来台湾通行证) is ``L``
plus eight digits (older ``T`` plus eight). Eight bare digits are everywhere, so a Taiwan permit
word must come shortly before the number.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context

_PERMIT = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:[0-9]{8}|[0-9]{10}(?:\([A-Z]\))?|[LlTt][0-9]{8})"
    r"(?![0-9A-Za-z])"
)
_CUE = re.compile(r"台胞证|台湾居民|往来台湾|来往大陆|台湾通行证|赴台|入台证|台湾同胞")


class CnTwPermitRecognizer:
    """Finds Taiwan travel permit numbers right after a Taiwan permit context word."""

    types: tuple[PiiType, ...] = (PiiType.CN_TW_PERMIT,)
    gate = _CUE

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Permit numbers preceded by 台胞证, 往来台湾通行证 or a similar word."""
        return [
            Finding(
                PiiType.CN_TW_PERMIT,
                match.start(),
                match.end(),
                context.CONTEXT_STRONG,
                Reason.CONTEXT,
            )
            for match in _PERMIT.finditer(folded)
            if context.cue_before(_CUE, folded, match.start(), window=16)
        ]
