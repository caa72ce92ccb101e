"""Payment card numbers: 16 to 19 digits, Luhn-valid, from a known issuer prefix (BIN).

Found plain or grouped by four (``6222 0212 3456 7890 123``). Card words (卡号, 银行卡, 退到这张卡,
户名, ...) raise the score so that a card number wins over a resident ID number of the same span;
order words right before the number (订单号, 单号, 快递, ...) are negative evidence and push the
score below the report threshold. A number after a card word that fails the Luhn check is still
reported, as :data:`Reason.LOW_CONFIDENCE`, because a mistyped card number is still personal data.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import checksums, context, tables
from chatkeeper.privacy.recognizers.context import NOT_AFTER_ALNUM, NOT_BEFORE_ALNUM

_CARD = re.compile(
    NOT_AFTER_ALNUM
    + r"(?:[0-9]{16,19}|[0-9]{4}([ \-])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{1,3})?)"
    + NOT_BEFORE_ALNUM
)
_CUE = re.compile(
    r"卡号|银行卡|储蓄卡|信用卡|借记卡|这张卡|账号|帐号|账户|帐户|户名|开户|收款|银联|card|Card"
)


class BankCardRecognizer:
    """Finds Luhn-valid card numbers with a known BIN; card words raise, order words lower."""

    types: tuple[PiiType, ...] = (PiiType.BANK_CARD,)
    gate = context.LONG_DIGITS_GATE

    def __init__(self) -> None:
        """Load the issuer prefix table once per recognizer."""
        self._bins = tables.card_bins()

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Card numbers, and low-confidence near misses next to a card word."""
        findings = []
        for match in _CARD.finditer(folded):
            start, end = match.span()
            digits = match.group()
            if match.group(1) is not None:
                digits = digits.replace(match.group(1), "")
            known_issuer = any(bin_range.matches(digits) for bin_range in self._bins)
            valid = checksums.luhn_ok(digits)
            cued = context.cue_before(_CUE, folded, start, window=16)
            if valid and known_issuer:
                if context.order_number_before(folded, start) and not cued:
                    score = context.CONTRADICTED
                elif cued:
                    # Above an uncued ID number, so a card word decides an 18-digit tie.
                    score = context.CHECKSUM_CONTEXT + 0.01
                else:
                    # 18-digit cards are rare; an uncued 18-digit number is more likely an ID.
                    score = context.CHECKSUM - (0.08 if len(digits) == 18 else 0.03)
                findings.append(Finding(PiiType.BANK_CARD, start, end, score, Reason.CHECKSUM))
            elif cued and valid:
                # An issuer missing from the BIN table: the card word and the Luhn check decide.
                findings.append(
                    Finding(PiiType.BANK_CARD, start, end, context.WEAK, Reason.CONTEXT)
                )
            elif cued:
                findings.append(
                    Finding(
                        PiiType.BANK_CARD, start, end, context.LOW_CONFIDENCE, Reason.LOW_CONFIDENCE
                    )
                )
        return findings
