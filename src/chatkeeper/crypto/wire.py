"""Byte-level helpers shared by the blob and wrapped-key formats: ids and a bounds-checked reader.

Both formats are specified in ``docs/crypto.md``. Every read is bounds-checked so that a truncated
or hostile input raises :class:`CiphertextMalformed` instead of an ``IndexError`` or, worse, a
silently short field.
"""

from __future__ import annotations

import re
from functools import lru_cache

from chatkeeper.crypto.errors import CiphertextMalformed, InvalidKey

#: Ids are length-prefixed by one byte.
MAX_ID_BYTES = 255
_PRINTABLE = re.compile(rb"[\x21-\x7e]{1,255}")


@lru_cache(maxsize=65536)
def encode_id(value: str, what: str) -> bytes:
    """``value`` as ASCII bytes, after checking it is 1–255 printable characters without spaces.

    Ids appear in error messages and logs; the narrow alphabet keeps them printable and unambiguous
    (no look-alike Unicode, no control characters that could forge log lines).
    """
    # isascii first: encoding with errors="replace" would turn "中文" into a valid-looking "??".
    raw = value.encode("ascii") if value.isascii() else b""
    # Cached, and one regex rather than a check per byte: every encryption calls this, with
    # the few key ids of a batch.
    if _PRINTABLE.fullmatch(raw) is None:
        raise InvalidKey(
            f"invalid {what}: must be 1–{MAX_ID_BYTES} printable ASCII characters without spaces"
        )
    return raw


def length_prefixed(raw: bytes) -> bytes:
    """``raw`` preceded by its length as one byte (the caller has bounded it to 255)."""
    return bytes((len(raw),)) + raw


_ID_BYTES = re.compile(rb"[\x21-\x7e]+")  # printable ASCII, no space


class Reader:
    """Reads fields front to back from ``data``; raises :class:`CiphertextMalformed` at the end."""

    __slots__ = ("_data", "_offset", "_what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._offset = 0
        self._what = what

    @property
    def offset(self) -> int:
        """How many bytes have been read so far."""
        return self._offset

    def take(self, size: int) -> bytes:
        """The next ``size`` bytes."""
        end = self._offset + size
        if end > len(self._data):
            raise CiphertextMalformed(f"{self._what} is truncated")
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    def byte(self) -> int:
        """The next byte as an integer."""
        return self.take(1)[0]

    def expect(self, magic: bytes, version: int) -> int:
        """Check the magic and the version byte; returns the version."""
        if self.take(len(magic)) != magic:
            raise CiphertextMalformed(f"not a ChatKeeper {self._what} (bad magic bytes)")
        found = self.byte()
        if found != version:
            raise CiphertextMalformed(
                f"{self._what} has format version {found}; this ChatKeeper reads version {version}"
            )
        return found

    def ident(self) -> str:
        """A length-prefixed id."""
        raw = self.take(self.byte())
        if _ID_BYTES.fullmatch(raw) is None:
            raise CiphertextMalformed(f"{self._what} has an invalid id field")
        return raw.decode("ascii")

    def rest(self) -> bytes:
        """Every byte not read yet."""
        chunk = self._data[self._offset :]
        self._offset = len(self._data)
        return chunk
