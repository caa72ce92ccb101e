"""Permits for travel between the mainland and Hong Kong / Macao.

Two documents share the type: the Mainland Travel Permit for Hong Kong and Macao Residents
(港澳居民来往内地通行证, "回乡证": ``H`` or ``M`` plus eight digits, sometimes two more for the
issue count) and the Exit-Entry Permit for Travelling to and from Hong Kong and Macao
(往来港澳通行证: ``C`` plus eight digits, or ``C``, a letter and seven digits). A context word must
come shortly before, and a Taiwan word (台湾, 台胞) hands the number to the Taiwan recognizer.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context

_PERMIT = re.compile(
    r"(?<![0-9A-Za-z])"
    r"(?:[HhMm][0-9]{8}(?:[0-9]{2})?|[Cc][0-9]{8}|[Cc][A-HJ-NP-Za-hj-np-z][0-9]{7})"
    r"(?![0-9A-Za-z])"
)
_CUE = re.compile(r"回乡证|回乡卡|港澳|来往内地|往来港澳|通行证")
# The closest permit word before the number decides between Hong Kong/Macao and Taiwan.
# A Taiwan word swallows the 通行证 that follows it ("往来台湾通行证" is one Taiwan cue).
_CUES = re.compile(
    r"(?P<taiwan>(?:台湾|台胞|赴台|入台)(?:居民)?(?:来往大陆)?(?:通行证|证)?)"
    r"|回乡证|回乡卡|港澳|来往内地|往来港澳|通行证"
)
_WINDOW = 16


class CnHkMacaoPermitRecognizer:
    """Finds Hong Kong / Macao travel permit numbers right after a permit context word."""

    types: tuple[PiiType, ...] = (PiiType.CN_HK_MACAO_PERMIT,)
    gate = _CUE

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Permit numbers preceded by 回乡证, 港澳通行证 or a similar word."""
        findings = []
        for match in _PERMIT.finditer(folded):
            start, end = match.span()
            closest = None
            for cue in _CUES.finditer(folded, max(0, start - _WINDOW), start):
                closest = cue
            if closest is not None and closest.group("taiwan") is None:
                findings.append(
                    Finding(
                        PiiType.CN_HK_MACAO_PERMIT,
                        start,
                        end,
                        context.PATTERN_CONTEXT,
                        Reason.CONTEXT,
                    )
                )
        return findings
