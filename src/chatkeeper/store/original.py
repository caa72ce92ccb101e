"""The encrypted original of a message: what its plaintext holds (see docs/privacy.md).

A compact JSON object with only what the stored, masked row does not already say:

* ``t`` — the original text, only when masking changed it;
* ``p`` — the original payload, only when masking changed it;
* ``r`` — the raw source record, when the source had one;
* ``n`` — the customer's name as they gave it;
* ``m`` — SHA-256 (hex) of the masked text stored readable in the row, so that an edit of what
  people read is found by ``ledger verify`` (the ciphertext, and so this hash, is committed to by
  the message's ledger leaf);
* ``s`` — 32 bytes (base64), the salt of the ledger's commitment to the original content: kept
  only here, inside the encryption, and derived from the conversation's data key
  (:func:`derived_salt`; random in archives from before cold storage), so that once the key is
  destroyed its ledger leaf reveals nothing, not even to someone guessing the content.

Most messages carry no personal data, so most originals hold only the salt: the row is the
original.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

from chatkeeper.crypto import DataKey, keyed_mac


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


#: The salt a packed original holds until :func:`with_salt` puts the real one in.
SALT_PLACEHOLDER = bytes(32)
_SALT_AT, _SALT_END = len(b'{"s":"'), len(b'{"s":"') + 44


def with_salt(packed: bytes, salt: bytes) -> bytes:
    """``packed`` (from :func:`pack`) with its salt replaced by ``salt`` (same length)."""
    if len(salt) != 32 or packed[:_SALT_AT] != b'{"s":"':
        raise ValueError("not a packed original, or not a 32-byte salt")
    return packed[:_SALT_AT] + base64.b64encode(salt) + packed[_SALT_END:]


def derived_salt(key: DataKey, context: bytes) -> bytes:
    """The salt of a message's content commitment, derived from its conversation's data key and
    its ``platform:message id`` (HMAC-SHA256 under the key's ``salt`` subkey): as secret as a
    random one while the key lives and unrecoverable once it is destroyed, and cold storage need
    not keep it."""
    mac = keyed_mac(key, b"salt")
    mac.update(context)
    return mac.digest()


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
