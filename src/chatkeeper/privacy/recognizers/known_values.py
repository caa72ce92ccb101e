"""Values already known for a conversation's customer, found wherever and however they are written.

The ingest pipeline passes a :class:`KnownValues` (the customer's name, phones, addresses and any
other values on file). Each is searched for in all of its usual written forms
(:func:`chatkeeper.privacy.normalise.written_forms`): ``13800138000`` is also found as
``138 0013 8000`` and ``+86-138-0013-8000``. A known value needs no context and beats every
other finding of the same span.
"""

from __future__ import annotations

import re
from functools import lru_cache

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.normalise import canonical_value, fold, written_forms
from chatkeeper.privacy.recognizers import context

# Digit-like values must not be matched inside a longer number or code.
_DIGIT_TYPES = frozenset(
    {
        PiiType.CN_MOBILE,
        PiiType.CN_LANDLINE,
        PiiType.BANK_CARD,
        PiiType.CN_ID_CARD,
        PiiType.QQ_NUMBER,
    }
)


@lru_cache(maxsize=4096)
def _pattern(form: str, bounded: bool) -> re.Pattern[str]:
    """A case-insensitive pattern for one written form, optionally fenced by ASCII look-arounds."""
    body = re.escape(form)
    if bounded:
        body = rf"(?<![0-9A-Za-z]){body}(?![0-9A-Za-z])"
    return re.compile(body, re.IGNORECASE)


class KnownValueRecognizer:
    """Finds the customer's known names, phones, addresses and other values."""

    types: tuple[PiiType, ...] = tuple(PiiType)

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Every occurrence of every known value, in any of its written forms."""
        if known is None:
            return []
        findings: list[Finding] = []
        for name in known.names:
            self._search(findings, folded, PiiType.PERSON_NAME, [fold(name).strip()])
        for phone in known.phones:
            kind = _phone_type(phone)
            self._search(findings, folded, kind, written_forms(kind, phone))
        for address in known.addresses:
            self._search(findings, folded, PiiType.CN_ADDRESS, [fold(address).strip()])
        for kind, values in known.others.items():
            for value in values:
                self._search(findings, folded, kind, written_forms(kind, value))
        return findings

    @staticmethod
    def _search(findings: list[Finding], folded: str, kind: PiiType, forms: list[str]) -> None:
        """Append a finding for each occurrence of any of ``forms`` in ``folded``."""
        bounded = kind in _DIGIT_TYPES
        for form in forms:
            if not form:
                continue
            for match in _pattern(form, bounded).finditer(folded):
                findings.append(
                    Finding(
                        kind, match.start(), match.end(), context.KNOWN_VALUE, Reason.KNOWN_VALUE
                    )
                )


def _phone_type(phone: str) -> PiiType:
    """Mobile if the number is 11 digits in a 1x segment once normalised, landline otherwise."""
    mobile = canonical_value(PiiType.CN_MOBILE, phone)
    if len(mobile) == 11 and mobile.startswith("1"):
        return PiiType.CN_MOBILE
    return PiiType.CN_LANDLINE
