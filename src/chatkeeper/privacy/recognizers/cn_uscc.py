"""Unified social credit codes (统一社会信用代码, GB 32100-2015) of companies and organisations.

18 characters from a 31-character alphabet (no I, O, Z, S, V): registration authority and
organisation type, a six-digit region code (a real province), the nine-character organisation
code and a mod-31 check character. A sole trader's code identifies a person, which is why the
type is personal data at all. All-digit candidates need a context word (税号, 信用代码, ...) since
they are easily confused with ID and order numbers.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import checksums, context

_CHAR = "0-9A-HJ-NP-RT-UW-Ya-hj-np-rt-uw-y"
_USCC = re.compile(rf"(?<![0-9A-Za-z])[{_CHAR}]{{2}}[0-9]{{6}}[{_CHAR}]{{10}}(?![0-9A-Za-z])")
# Registration authorities (1 机构编制 ... 9 市场监管, A 军队, N 农业, Y 其他) and
# organisation types.
_AUTHORITIES = frozenset("123456789ANY")
_TYPES = frozenset("123459")
_CUE = re.compile(r"税号|信用代码|社会信用|纳税人识别号|识别号|营业执照|执照号|注册号|USCC|uscc")
_NEEDS_ALNUM = re.compile(r"[0-9]{6}")


class CnUsccRecognizer:
    """Finds unified social credit codes by their GB 32100 check character."""

    types: tuple[PiiType, ...] = (PiiType.CN_USCC,)
    gate = _NEEDS_ALNUM

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Codes with a valid check character, and low-confidence near misses in context."""
        findings = []
        for match in _USCC.finditer(folded):
            code = match.group().upper()
            if code[0] not in _AUTHORITIES or code[1] not in _TYPES:
                continue
            if code[2:4] not in checksums.PROVINCE_CODES:
                continue
            start, end = match.span()
            cued = context.cue_before(_CUE, folded, start)
            if code.isdigit() and not cued:
                continue
            if checksums.uscc_check_char(code[:17]) == code[17]:
                findings.append(
                    Finding(PiiType.CN_USCC, start, end, context.CHECKSUM, Reason.CHECKSUM)
                )
            elif cued:
                findings.append(
                    Finding(
                        PiiType.CN_USCC, start, end, context.LOW_CONFIDENCE, Reason.LOW_CONFIDENCE
                    )
                )
        return findings
