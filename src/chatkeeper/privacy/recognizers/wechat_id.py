"""WeChat IDs (微信号): 6 to 20 letters, digits, ``_`` or ``-``, starting with a letter.

A free-form ID is only reported right after a WeChat word (微信, vx, wx, V信, ...), since the
shape alone matches any English word. System-generated ``wxid_`` IDs are distinctive and are
reported wherever they appear.
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context

_LABELLED = re.compile(
    r"(?:微信|薇信|威信|[vV]信"
    # ASCII labels must stand alone: "wxid_..." is a system ID, not the label "wx" plus "id_...".
    r"|(?<![A-Za-z])(?:weixin|Weixin|wechat|WeChat|Wechat|vx|VX|Vx|wx|WX|Wx)(?![A-Za-z0-9_]))"
    r"(?:号|ID|id)?\s{0,3}[:=]?\s{0,3}(?:是|为)?\s{0,3}"
    r"([A-Za-z][\-_A-Za-z0-9]{5,19})(?![\-_A-Za-z0-9])"
)
_SYSTEM_ID = re.compile(r"(?<![A-Za-z0-9_])wxid_[a-z0-9]{6,22}(?![A-Za-z0-9_])")


class WechatIdRecognizer:
    """Finds WeChat IDs after a WeChat word, and ``wxid_`` IDs anywhere."""

    types: tuple[PiiType, ...] = (PiiType.WECHAT_ID,)
    gate = re.compile(r"微信|薇信|威信|[vV]信|weixin|Weixin|wechat|WeChat|Wechat|[vVwW][xX]")

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Labelled WeChat IDs and system ``wxid_`` IDs."""
        findings = [
            Finding(
                PiiType.WECHAT_ID,
                match.start(1),
                match.end(1),
                context.CONTEXT_STRONG,
                Reason.CONTEXT,
            )
            for match in _LABELLED.finditer(folded)
        ]
        findings += [
            Finding(PiiType.WECHAT_ID, match.start(), match.end(), context.PATTERN, Reason.PATTERN)
            for match in _SYSTEM_ID.finditer(folded)
        ]
        return findings
