"""The encrypted original of a message: what its plaintext holds (see docs/privacy.md).

A compact JSON object with only what the stored, masked row does not already say:

* ``t`` — the original text, only when masking changed it;
* ``p`` — the original payload, only when masking changed it;
* ``r`` — the raw source record, when the source had one;
* ``n`` — the customer's name as they gave it;
* ``m`` — SHA-256 (hex) of the masked text stored readable in the row, so that an edit of what
  people read is found by ``ledger verify`` (the ciphertext, and so this hash, is committed to by
  the message's ledger leaf);
* ``s`` — 32 random bytes (base64), the salt of the ledger's commitment to the original content:
  kept only here, inside the encryption, so that once the message's key is destroyed its ledger
  leaf reveals nothing, not even to someone guessing the content.

Most messages carry no personal data, so most originals hold only the salt: the row is the
original.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson


def pack(
    salt: bytes,
    text: str | None,
    masked_text: str | None,
    payload: dict[str, Any] | None,
    masked_payload: dict[str, Any] | None,
    raw: str | None,
    name: str | None,
) -> bytes:
    """The plaintext to encrypt for one message."""
    out: dict[str, Any] = {
        "s": base64.b64encode(salt).decode(),
        "m": masked_digest(masked_text),
    }
    if text != masked_text:
        out["t"] = text
    if payload != masked_payload:
        out["p"] = payload
    if raw:
        out["r"] = raw
    if name:
        out["n"] = name
    return orjson.dumps(out)


def masked_digest(masked_text: str | None) -> str:
    """The digest of a row's readable (masked) text, as the original records it."""
    return hashlib.sha256((masked_text or "").encode()).hexdigest()


def unpack(plaintext: bytes, stored_text: str | None) -> dict[str, Any]:
    """The original as ``{"text", "payload", "raw", "name"}`` (payload only when it differed)."""
    data = orjson.loads(plaintext)
    return {
        "text": data.get("t", stored_text),
        "payload": data.get("p"),
        "raw": data.get("r"),
        "name": data.get("n"),
        "salt": base64.b64decode(data["s"]) if "s" in data else None,
        "masked_digest": data.get("m"),
        "_packed": data,
    }
