"""External anchors: publishing signed checkpoints where the operator cannot change them.

An anchor is anything outside the operator's control that records a checkpoint with a time: an
RFC 3161 time-stamp authority (``rfc3161.py``), a judicial chain such as 天平链 (a plug-in of
the same shape; docs/ledger.md, "Anchors"), a folder or bucket another party owns. Once a
checkpoint is anchored, the operator cannot later present a different history without the
anchored checkpoint exposing it (a consistency proof from it must verify). This module defines
the port, a registry for plug-ins, and the file-drop anchor.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from chatkeeper.errors import ConfigError
from chatkeeper.ledger.errors import AnchorReceiptInvalid, AnchorUnavailable

SETTING = "ledger.anchor"


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    """What a receipt that checks out attests about an anchored checkpoint."""

    kind: str
    """The anchor's kind (``file``, ``rfc3161``)."""
    time: datetime | None
    """The time the anchor itself attests (a TSA's ``genTime``); ``None`` if it attests none."""
    authority: str
    """Who attests it: the TSA certificate's subject and fingerprint, the folder."""


class Anchor(Protocol):
    """Where checkpoints are published, and how a stored receipt is checked again later."""

    name: str

    def publish(self, log: str, size: int, note: str, at: datetime) -> str:
        """Record a signed checkpoint; returns a receipt (a path, a token, a transaction id).

        Raises ``AnchorUnavailable`` when the anchor cannot be reached, ``AnchorRefused`` when
        it refuses, ``AnchorReceiptInvalid`` when what it returns does not attest the note.
        """
        ...

    def verify_receipt(self, note: str, receipt: str) -> VerifiedReceipt:
        """Check that ``receipt`` attests exactly ``note``; ``AnchorReceiptInvalid`` if not."""
        ...


class FileDropAnchor:
    """Writes each checkpoint as a file into a folder the operator does not control.

    Files are created exclusively and never rewritten: ``<log>-<UTC date>-<size>.checkpoint``.
    Point it at a mount of another party's storage (or an object-storage bucket with a
    retention lock) for it to be an anchor rather than a copy.
    """

    name = "file"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def publish(self, log: str, size: int, note: str, at: datetime) -> str:
        """Write the note; an existing file for the same checkpoint is left as it is."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{log}-{at.strftime('%Y%m%d')}-{size}.checkpoint"
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return str(path)
        except OSError as exc:
            raise AnchorUnavailable(
                f"{path}: cannot publish the checkpoint ({exc.strerror})"
            ) from exc
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(note)
        return str(path)

    def verify_receipt(self, note: str, receipt: str) -> VerifiedReceipt:
        """The dropped file must still hold the note, byte for byte.

        The file's own time is not attested (whoever controls the folder can set it); a file
        anchor proves only that the other party holds this checkpoint.
        """
        path = Path(receipt)
        try:
            held = path.read_bytes()
        except OSError as exc:
            raise AnchorReceiptInvalid(
                f"{path}: the anchored checkpoint cannot be read ({exc.strerror})"
            ) from exc
        if held != note.encode("utf-8"):
            raise AnchorReceiptInvalid(f"{path}: the anchored file differs from the checkpoint")
        return VerifiedReceipt(self.name, None, str(path.parent))


def _rfc3161(spec: str) -> Anchor:
    from chatkeeper.ledger.rfc3161 import TimeStampAuthorityAnchor  # asn1crypto only when used

    return TimeStampAuthorityAnchor.from_spec(spec)


_REGISTRY: dict[str, Callable[[str], Anchor]] = {
    "file": lambda spec: FileDropAnchor(Path(spec)),
    "rfc3161": _rfc3161,
}


def register_anchor(kind: str, factory: Callable[[str], Anchor]) -> None:
    """Make an anchor plug-in available as ``KIND:SPEC`` in ``ledger.anchor``."""
    _REGISTRY[kind] = factory


def anchor_kinds() -> list[str]:
    """The kinds ``ledger.anchor`` accepts."""
    return sorted(_REGISTRY)


def open_anchor(setting: str) -> Anchor:
    """The anchor a ``KIND:SPEC`` setting names (``file:/mnt/notary/chatkeeper``,
    ``rfc3161:https://tsa.example/tsr#cert=/etc/chatkeeper/tsa.pem``)."""
    kind, _, spec = setting.partition(":")
    if kind not in _REGISTRY or not spec:
        valid = ", ".join(f"{name}:SPEC" for name in anchor_kinds())
        raise ConfigError(f"{SETTING}: unknown anchor {setting!r}; valid: {valid}", key=SETTING)
    return _REGISTRY[kind](spec)


__all__ = [
    "SETTING",
    "Anchor",
    "FileDropAnchor",
    "VerifiedReceipt",
    "anchor_kinds",
    "open_anchor",
    "register_anchor",
]
