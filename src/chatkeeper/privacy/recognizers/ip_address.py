"""IP addresses, version 4 and 6, validated by :mod:`ipaddress`.

Dotted quads must not be part of a longer dotted number (``v4.20.1.3`` software versions, dates);
IPv6 candidates are runs of hex digits and colons with at least two colons, so clock times
(``10:41:16``) and MAC addresses fail validation. Loopback and unspecified addresses (127.0.0.1,
0.0.0.0, ::1, ::) name no host and are reported below the report threshold; every other valid
address, private ranges included, is personal data in a customer's message.
"""

from __future__ import annotations

import ipaddress
import re

from chatkeeper.privacy.findings import Finding, KnownValues, PiiType, Reason
from chatkeeper.privacy.recognizers import context

_IPV4 = re.compile(r"(?<![0-9.])(?<![vV])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9])(?!\.[0-9])")
# One character class, so matching stays linear however long the run; the colon count and the
# length are checked in Python.
_IPV6 = re.compile(r"(?<![0-9A-Za-z:.])[0-9A-Fa-f:.]{3,}(?![0-9A-Za-z:.])")
_IPV6_MAX = 45
_GATE = re.compile(r"[0-9]\.[0-9]|[0-9A-Fa-f:]:[0-9A-Fa-f:]")

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class IpAddressRecognizer:
    """Finds IPv4 and IPv6 addresses that :mod:`ipaddress` accepts."""

    types: tuple[PiiType, ...] = (PiiType.IP_ADDRESS,)
    gate = _GATE

    def find(self, text: str, folded: str, known: KnownValues | None) -> list[Finding]:
        """Every valid IP address in the text."""
        findings: list[Finding] = []
        for match in _IPV4.finditer(folded):
            self._add(findings, match.group(), match.start(), ipaddress.IPv4Address)
        if ":" in folded:
            for match in _IPV6.finditer(folded):
                start, candidate = match.start(), match.group()
                # "地址:2001:db8::1" starts the run at the label's colon; a single leading or
                # trailing colon is punctuation, a double one is part of the address.
                if candidate.startswith(":") and not candidate.startswith("::"):
                    start, candidate = start + 1, candidate[1:]
                if candidate.endswith(":") and not candidate.endswith("::"):
                    candidate = candidate[:-1]
                if candidate.count(":") >= 2 and len(candidate) <= _IPV6_MAX:
                    self._add(findings, candidate, start, ipaddress.IPv6Address)
        return findings

    @staticmethod
    def _add(findings: list[Finding], candidate: str, start: int, kind: type[_Address]) -> None:
        """Append a finding for ``candidate`` if it is a valid address of ``kind``."""
        try:
            address = kind(candidate)
        except ValueError:
            return
        identifies = not (address.is_loopback or address.is_unspecified)
        score = context.PATTERN_CONTEXT if identifies else context.CONTRADICTED
        findings.append(
            Finding(PiiType.IP_ADDRESS, start, start + len(candidate), score, Reason.PATTERN)
        )
