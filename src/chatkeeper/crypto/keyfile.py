"""The default KEK: a ``chatkeeper-kek`` JSON key file readable by its owner only.

Format in docs/crypto.md ("Local key file"). The file is the one secret that unlocks every data key,
so it is created 0600 and never overwritten, and a file that group or others can access is refused
rather than used: a loose mode usually means it was copied carelessly, and it must be fixed, not
tolerated.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from chatkeeper.crypto.errors import CryptoError, KeyFileError, KeyFileInsecure
from chatkeeper.crypto.kek import SymmetricKek
from chatkeeper.crypto.keys import new_key_id
from chatkeeper.crypto.suites import DEFAULT_SUITE, suite_named

FORMAT = "chatkeeper-kek"
VERSION = 1
#: A key file is a few hundred bytes; refusing anything much larger avoids reading a wrong path
#: (a database, a log) into memory.
_MAX_BYTES = 64 * 1024


class LocalKeyFile(SymmetricKek):
    """A KEK loaded from a key file; ``kek_id`` and ``suite`` are the ones the file names."""

    __slots__ = ("_path",)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        kek_id, suite, material = _parse(self._path, _read_private(self._path))
        try:
            super().__init__(kek_id, suite, material)
        except CryptoError as exc:
            raise KeyFileError(f"key file {self._path}: {exc.message}", path=str(path)) from exc

    @property
    def path(self) -> Path:
        """The key file this KEK was loaded from."""
        return self._path


def create_key_file(
    path: str | os.PathLike[str], *, suite: str = DEFAULT_SUITE, kek_id: str | None = None
) -> LocalKeyFile:
    """Create a new key file at ``path`` (mode 0600) with fresh random material, and load it.

    Refuses to overwrite an existing file: replacing a KEK in place would make every key it wrapped
    unreadable. Rotation creates a new file and rewraps (see :func:`~chatkeeper.crypto.rewrap`).
    """
    target = Path(path)
    material = os.urandom(suite_named(suite).key_size)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "kek_id": kek_id if kek_id is not None else new_key_id("kek"),
        "suite": suite,
        "key": base64.b64encode(material).decode("ascii"),
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    try:
        # O_EXCL: never truncate an existing KEK. Mode 0600 at creation, so there is no moment at
        # which the material sits in a file others can read.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(
            f"key file {target} already exists; refusing to overwrite a KEK", path=str(target)
        ) from None
    except OSError as exc:
        raise KeyFileError(
            f"key file {target} cannot be created: {exc.strerror}", path=str(target)
        ) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        # The umask can only narrow the mode; fchmod makes it exactly 0600 whatever the umask.
        os.fchmod(handle.fileno(), 0o600)
        json.dump(document, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    return LocalKeyFile(target)


def _read_private(path: Path) -> bytes:
    """The bytes of the key file at ``path``, after checking it is a private regular file."""
    try:
        # O_NONBLOCK: a FIFO at the key path must not hang start-up; it is refused below as "not
        # a regular file". The flag changes nothing for a regular file.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist", path=str(path)) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise KeyFileError(f"key file {path} cannot be read: {reason}", path=str(path)) from exc
    try:
        # fstat on the open descriptor, not stat on the path: the file checked is the file read.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"key file {path} is not a regular file", path=str(path))
        mode = stat.S_IMODE(info.st_mode)
        if os.name == "posix" and mode & 0o077:
            raise KeyFileInsecure(
                f"key file {path} has mode {mode:04o}: group or others can access it; "
                f"it must be readable by its owner only (chmod 600 {path})",
                path=str(path),
                mode=f"{mode:04o}",
            )
        raw = b""
        while len(raw) <= _MAX_BYTES and (chunk := os.read(fd, _MAX_BYTES + 1 - len(raw))):
            raw += chunk
    finally:
        os.close(fd)
    if len(raw) > _MAX_BYTES:
        raise KeyFileError(f"key file {path} is too large to be a key file", path=str(path))
    return raw


def _parse(path: Path, raw: bytes) -> tuple[str, str, bytes]:
    """``(kek_id, suite, material)`` from a key file's bytes; :class:`KeyFileError` otherwise."""

    def bad(reason: str) -> KeyFileError:
        # Name the field, never its value: the value may be the key.
        return KeyFileError(f"key file {path} is not a {FORMAT} file: {reason}", path=str(path))

    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad("not UTF-8 JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise bad(f"field 'format' must be {FORMAT!r}")
    if document.get("version") != VERSION:
        raise bad(f"field 'version' must be {VERSION}")

    def text(name: str) -> str:
        value = document.get(name)
        if not isinstance(value, str):
            raise bad(f"field '{name}' must be a string")
        return value

    kek_id, suite, key = text("kek_id"), text("suite"), text("key")
    try:
        material = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise bad("field 'key' is not standard base64") from None
    return kek_id, suite, material
