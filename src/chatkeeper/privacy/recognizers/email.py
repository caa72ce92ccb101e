"""E-mail addresses: an ASCII local part, ``@``, and a domain with a letter-only top-level label.

Chinese text puts addresses right next to 汉字 (``发到xiaobo@sina.com谢谢``), so the boundaries are
explicit ASCII look-arounds. Full-width ``＠`` and letters are folded before matching.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])"
    r"[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?"
    r"@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
)


class EmailRecognizer:
    """Finds e-mail addresses by shape."""

    types: tuple[PiiType, ...] = (PiiType.EMAIL,)
    gate = re.compile("@")

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Every e-mail address in the text."""
        return [
            Finding(PiiType.EMAIL, match.start(), match.end(), context.CONTEXT, Reason.PATTERN)
            for match in _EMAIL.finditer(folded)
        ]
