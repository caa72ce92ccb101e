"""QQ numbers: 5 to 11 digits (never starting with 0) right after a QQ word.

Bare digit runs are far too common to report, so the recognizer only matches ``QQ``, ``扣扣`` or
``企鹅号`` followed (after an optional 号/号码, colon and 是) by the number. Such an explicit label
outranks the mobile recognizer when a QQ number happens to look like a mobile number.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context

_QQ = re.compile(
    r"(?:(?<![A-Za-z])(?:QQ|qq|Qq)|扣扣|企鹅)(?:号码|号|账号|帐号)?\s{0,3}[:=]?\s{0,3}(?:是|为)?\s{0,3}"
    r"([1-9][0-9]{4,10})(?![0-9A-Za-z@])"
)


class QqNumberRecognizer:
    """Finds QQ numbers labelled as such."""

    types: tuple[PiiType, ...] = (PiiType.QQ_NUMBER,)
    gate = re.compile(r"QQ|qq|Qq|扣扣|企鹅")

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """QQ numbers that follow a QQ label."""
        return [
            Finding(
                PiiType.QQ_NUMBER,
                match.start(1),
                match.end(1),
                context.CONTEXT_STRONG,
                Reason.CONTEXT,
            )
            for match in _QQ.finditer(folded)
        ]
