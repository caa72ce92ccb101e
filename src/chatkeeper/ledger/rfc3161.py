"""The RFC 3161 time-stamp authority anchor: a TSA signs that a checkpoint existed at a time.

docs/ledger.md, "Anchors", is the specification. Publishing a checkpoint sends a
``TimeStampReq`` for the SHA-256 of the signed checkpoint note (the exact UTF-8 bytes ChatKeeper
stores and publishes), with a random nonce and ``certReq``, by HTTP POST
(``application/timestamp-query``) to the configured URL, and keeps the answer's token only if it
passes every check of ``timestamp.py`` (granted; our imprint and nonce; the TSA's signature, by
the pinned certificate when one is set). The token (DER, base64) is the receipt;
``verify_receipt`` re-checks a stored one against its checkpoint (everything but the nonce,
which only the request knew).

The setting is ``rfc3161:URL[#key=value&...]``; the fragment is never sent, it carries options:
``cert=/path/tsa.pem`` pins the TSA certificate (PEM or DER), ``policy=OID`` asks for a TSA
policy, ``timeout=SECONDS`` bounds the request (default 10).
"""

from __future__ import annotations

import base64
import binascii
import http.client
import secrets
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from cryptography import x509

from chatkeeper.errors import ConfigError
from chatkeeper.ledger.anchor import SETTING, VerifiedReceipt
from chatkeeper.ledger.errors import AnchorReceiptInvalid, AnchorUnavailable
from chatkeeper.ledger.timestamp import (
    TimeStamp,
    TimeStampResp,
    build_request,
    check_response,
    check_token,
    imprint,
)

__all__ = [
    "QUERY_TYPE",
    "TimeStamp",
    "TimeStampAuthorityAnchor",
    "TimeStampResp",
    "build_request",
    "imprint",
    "load_certificate",
    "verify_timestamp_receipt",
]

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_REPLY = 1 << 20


def load_certificate(path: Path) -> x509.Certificate:
    """A pinned TSA certificate, PEM or DER; ``ConfigError`` naming the setting if unusable."""
    try:
        data = path.read_bytes()
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{SETTING}: the pinned TSA certificate {path} cannot be read as PEM or DER ({exc})",
            key=SETTING,
        ) from exc


def verify_timestamp_receipt(
    note: str, receipt: str, pinned: x509.Certificate | None = None
) -> TimeStamp:
    """Check a stored receipt (base64 DER token) against the checkpoint note it anchors."""
    try:
        token = base64.b64decode(receipt, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AnchorReceiptInvalid("the receipt is not a base64 time-stamp token") from exc
    return check_token(token, imprint(note), None, pinned)


class TimeStampAuthorityAnchor:
    """Anchors checkpoints with an RFC 3161 time-stamp authority over HTTP."""

    name = "rfc3161"
    OPTIONS = ("cert", "policy", "timeout")

    def __init__(
        self,
        url: str,
        pinned: x509.Certificate | None = None,
        policy: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.pinned = pinned
        self.policy = policy
        self.timeout = timeout

    @classmethod
    def from_spec(cls, spec: str) -> TimeStampAuthorityAnchor:
        """``URL[#cert=PATH&policy=OID&timeout=SECONDS]`` (the part after ``rfc3161:``)."""
        url, _, fragment = spec.partition("#")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{SETTING}: rfc3161 needs an http:// or https:// URL, not {url!r}", key=SETTING
            )
        options = dict(parse_qsl(fragment, keep_blank_values=True, strict_parsing=False))
        unknown = sorted(set(options) - set(cls.OPTIONS))
        if unknown:
            raise ConfigError(
                f"{SETTING}: unknown rfc3161 option(s) {', '.join(unknown)}; valid: "
                f"{', '.join(cls.OPTIONS)}",
                key=SETTING,
            )
        try:
            timeout = float(options.get("timeout", "10"))
        except ValueError as exc:
            raise ConfigError(f"{SETTING}: rfc3161 timeout must be seconds", key=SETTING) from exc
        pinned = load_certificate(Path(options["cert"])) if options.get("cert") else None
        return cls(url, pinned, options.get("policy") or None, timeout)

    def publish(self, log: str, size: int, note: str, at: datetime) -> str:
        """Time-stamp the note; returns the token, base64 of its DER."""
        digest, nonce = imprint(note), secrets.randbits(64)
        answer = self._post(build_request(digest, nonce, self.policy))
        token, _ = check_response(answer, digest, nonce, self.pinned)
        return base64.b64encode(token).decode("ascii")

    def verify_receipt(self, note: str, receipt: str) -> VerifiedReceipt:
        """Re-check a stored token against its checkpoint (and the pinned certificate)."""
        stamp = verify_timestamp_receipt(note, receipt, self.pinned)
        authority = f"{stamp.authority} (certificate SHA-256 {stamp.fingerprint})"
        return VerifiedReceipt(self.name, stamp.gen_time, authority)

    def _post(self, request: bytes) -> bytes:
        """POST the query; any transport failure names the URL."""
        query = urllib.request.Request(
            self.url,
            data=request,
            method="POST",
            headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE},
        )
        try:
            with urllib.request.urlopen(query, timeout=self.timeout) as answer:
                body = bytes(answer.read(MAX_REPLY + 1))
        except urllib.error.HTTPError as exc:
            raise AnchorUnavailable(
                f"the time-stamp authority at {self.url} answered HTTP {exc.code} {exc.reason}",
                url=self.url,
            ) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise AnchorUnavailable(
                f"cannot reach the time-stamp authority at {self.url}: {reason}", url=self.url
            ) from exc
        if len(body) > MAX_REPLY:
            raise AnchorReceiptInvalid(f"the answer from {self.url} is larger than 1 MiB")
        return body
