"""Cold segments in a local folder (the blob store): write once, read, purge by rewriting.

Each segment is one file, ``<segment id>.cks``. Writing goes to a hidden temporary file in the
same folder, which is flushed and ``fsync``-ed and then linked into place: a segment appears
whole or not at all, and an existing segment is never overwritten by a new write.

Purging conversations from a segment rewrites it (:meth:`LocalSegmentStore.copy_without`): the
blocks of every other conversation are copied byte for byte into a new segment (sealed and
compressed as they are, so no key is needed and their checksums stay), which is ``fsync``-ed and
linked into place; the caller points its index entries at the new segment and then removes the
old one. Afterwards no byte of a purged block is in any file; the filesystem may keep the freed
blocks on disk until it reuses them, which is why every block is also sealed under the
conversation's own data key, destroyed at purge (crypto-shredding).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

from chatkeeper.lifecycle.compression import DEFAULT_LEVEL, RecordCodec, SegmentDictionary
from chatkeeper.lifecycle.errors import SegmentError, SegmentNotInStore
from chatkeeper.lifecycle.segments import (
    FileSource,
    Seal,
    SegmentInfo,
    SegmentReader,
    SegmentWriter,
)

SUFFIX = ".cks"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_T = TypeVar("_T")


class LocalSegmentStore:
    """Cold segments as files in ``directory`` (created if missing)."""

    def __init__(self, directory: str | os.PathLike[str], *, create: bool = True) -> None:
        self.directory = Path(directory)
        self._dictionaries: dict[int, SegmentDictionary] = {}
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, segment_id: str) -> Path:
        """The file of ``segment_id`` (ids are 1-128 of ``A-Z a-z 0-9 . _ -``)."""
        if not _ID.fullmatch(segment_id):
            raise SegmentError(
                f"segment id {segment_id!r} is invalid: use 1-128 letters, digits, '.', '_' or '-'"
            )
        return self.directory / f"{segment_id}{SUFFIX}"

    def segment_ids(self) -> list[str]:
        """Every segment in the folder, sorted."""
        return sorted(
            p.name[: -len(SUFFIX)]
            for p in self.directory.glob(f"*{SUFFIX}")
            if _ID.fullmatch(p.stem)
        )

    def write(
        self,
        segment_id: str,
        conversations: Iterable[tuple[str, Sequence[bytes]]],
        dictionary: SegmentDictionary,
        seal: Seal,
        *,
        level: int = DEFAULT_LEVEL,
        codec: RecordCodec | None = None,
    ) -> SegmentInfo:
        """Write a new segment of ``(conversation id, records)`` pairs; it must not exist yet."""
        target = self.path(segment_id)

        def fill(handle: BinaryIO) -> SegmentInfo:
            writer = SegmentWriter(handle, dictionary, level=level, codec=codec)
            for conversation_id, records in conversations:
                writer.add(conversation_id, records, seal)
            entries, size = writer.finish()
            return SegmentInfo(segment_id, size, dictionary.id, entries)

        return self._atomic(target, fill)

    def write_with(
        self,
        segment_id: str,
        dictionary: SegmentDictionary,
        fill: Callable[[SegmentWriter], None],
        *,
        level: int = DEFAULT_LEVEL,
        codec: RecordCodec | None = None,
    ) -> SegmentInfo:
        """Write a new segment whose blocks ``fill`` adds to the writer it is given (it may
        stop early, say at :attr:`SegmentWriter.position`); it must not exist yet."""
        target = self.path(segment_id)

        self.keep_dictionary(dictionary)

        def write(handle: BinaryIO) -> SegmentInfo:
            writer = SegmentWriter(handle, dictionary, level=level, codec=codec, embed=False)
            fill(writer)
            entries, size = writer.finish()
            return SegmentInfo(segment_id, size, dictionary.id, entries)

        return self._atomic(target, write)

    def copy_without(self, segment_id: str, new_id: str, keep: Sequence[str]) -> SegmentInfo:
        """Write segment ``new_id`` holding only the blocks of ``keep`` from ``segment_id``,
        byte for byte (sealed and compressed as they are: no key is needed). The old segment
        stays until the caller removes it, so that a crash between the two leaves a whole
        segment either way."""
        with self.open(segment_id) as reader:
            wanted = [reader.entry(conversation_id) for conversation_id in keep]

            def write(handle: BinaryIO) -> SegmentInfo:
                writer = SegmentWriter(handle, reader.dictionary, embed=reader.embedded)
                for entry in wanted:
                    writer.add_sealed(
                        entry.conversation_id, reader.read_block(entry), entry.records
                    )
                entries, size = writer.finish()
                return SegmentInfo(new_id, size, reader.dictionary.id, entries)

            return self._atomic(self.path(new_id), write)

    def dictionary_path(self, dictionary_id: int) -> Path:
        """The file of a dictionary kept apart from its segments."""
        return self.directory / "dictionaries" / f"{dictionary_id}.zdict"

    def keep_dictionary(self, dictionary: SegmentDictionary) -> None:
        """Store a dictionary apart, once (segments written by :meth:`write_with` name it)."""
        path = self.dictionary_path(dictionary.id)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            with open(temporary, "xb") as handle:
                handle.write(dictionary.data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    def dictionary(self, dictionary_id: int) -> SegmentDictionary | None:
        """A dictionary kept apart, by id (``None`` if the store has none such)."""
        cached = self._dictionaries.get(dictionary_id)
        if cached is not None:
            return cached
        try:
            data = self.dictionary_path(dictionary_id).read_bytes()
        except FileNotFoundError:
            return None
        found = SegmentDictionary.from_bytes(data)
        if found.id != dictionary_id:
            raise SegmentError(f"{self.dictionary_path(dictionary_id)} holds dictionary {found.id}")
        self._dictionaries[dictionary_id] = found
        return found

    def open(self, segment_id: str, *, lazy: bool = False) -> SegmentReader:
        """A reader for ``segment_id`` (close it, or use it as a context manager)."""
        path = self.path(segment_id)
        try:
            source = FileSource(path)
        except FileNotFoundError:
            raise SegmentNotInStore(
                f"no segment {segment_id} in {self.directory}", segment_id=segment_id
            ) from None
        try:
            return SegmentReader(
                source, segment_id=segment_id, dictionaries=self.dictionary, lazy=lazy
            )
        except BaseException:
            source.close()
            raise

    def remove(self, segment_id: str, *, missing_ok: bool = False) -> None:
        """Delete a segment file (every conversation in it has been purged)."""
        try:
            self.path(segment_id).unlink()
        except FileNotFoundError:
            if missing_ok:
                return
            raise SegmentNotInStore(
                f"no segment {segment_id} in {self.directory}", segment_id=segment_id
            ) from None
        self._sync_directory()

    def _atomic(self, target: Path, fill: Callable[[BinaryIO], _T]) -> _T:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            with open(temporary, "xb") as handle:
                result = fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, target)  # fails if the target exists: never overwrite
            except FileExistsError:
                raise SegmentError(
                    f"segment {target.name} already exists; segments are never overwritten"
                ) from None
        finally:
            temporary.unlink(missing_ok=True)
        self._sync_directory()
        return result

    def _sync_directory(self) -> None:
        # A rename or unlink is durable only once the directory itself is flushed (POSIX).
        if os.name != "posix":  # pragma: no cover
            return
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
