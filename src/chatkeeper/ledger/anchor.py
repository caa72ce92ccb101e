"""External anchors: publishing signed checkpoints where the operator cannot change them.

An anchor is anything outside the operator's control that records a checkpoint with a time: an
RFC 3161 time-stamp authority, a judicial chain such as 天平链, a folder or bucket another party
owns. Once a checkpoint is anchored, the operator cannot later present a different history
without the anchored checkpoint exposing it (a consistency proof from it must verify). This
module defines the port, a registry for plug-ins, and the file-drop anchor.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from chatkeeper.ledger.errors import LedgerError


class Anchor(Protocol):
    """Where checkpoints are published."""

    name: str

    def publish(self, log: str, size: int, note: str, at: datetime) -> str:
        """Record a signed checkpoint; returns a receipt (a path, a token, a transaction id)."""
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
            raise LedgerError(f"{path}: cannot publish the checkpoint ({exc.strerror})") from exc
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(note)
        return str(path)


_REGISTRY: dict[str, Callable[[str], Anchor]] = {"file": lambda spec: FileDropAnchor(Path(spec))}


def register_anchor(kind: str, factory: Callable[[str], Anchor]) -> None:
    """Make an anchor plug-in available as ``KIND:SPEC`` in ``ledger.anchor``."""
    _REGISTRY[kind] = factory


def open_anchor(setting: str) -> Anchor:
    """The anchor a ``KIND:SPEC`` setting names (``file:/mnt/notary/chatkeeper``)."""
    kind, _, spec = setting.partition(":")
    if kind not in _REGISTRY or not spec:
        valid = ", ".join(f"{name}:SPEC" for name in sorted(_REGISTRY))
        raise LedgerError(f"unknown anchor {setting!r}; valid: {valid}")
    return _REGISTRY[kind](spec)
