"""The cold-segment file format (``CKSG`` version 1): writer and reader.

A segment holds the records of many conversations, one *block* per conversation: the records
framed and compressed with the segment's zstd dictionary (:mod:`.compression`), then sealed by
the caller's ``seal(conversation_id, plaintext)`` (AES-GCM under the conversation's data key, so
destroying that key shreds the block). A footer index maps each conversation id to its block's
offset, length, record count and SHA-256, so a reader that has the index fetches one
conversation with one ranged read. The byte layout is specified in ``docs/lifecycle.md``::

    header   "CKSG" ver comp 00 00  dict-id  dict-len  dictionary  SHA-256(header)

A dictionary length of 0 means the dictionary is kept apart, once for many segments (the blob
store's ``dictionaries/<id>.zdict``): small daily segments would otherwise carry more
dictionary than data. The reader is then handed a look-up of dictionaries by id.
    blocks   sealed block, sealed block, ...
    footer   entry count, entries (id, offset, length, records, SHA-256(block))
    trailer  footer offset, footer length, SHA-256(footer), "CKSE"

Integers are unsigned big-endian. A segment is immutable once written; purging a conversation
rewrites the segment without it (:mod:`.segment_store`).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple, Protocol, Self

from chatkeeper.lifecycle.compression import DEFAULT_LEVEL, RecordCodec, SegmentDictionary
from chatkeeper.lifecycle.errors import ConversationNotInSegment, SegmentCorrupt, SegmentError

MAGIC = b"CKSG"
END_MAGIC = b"CKSE"
VERSION = 1
COMPRESSION_ZSTD_DICTIONARY = 1
_HEADER = struct.Struct(">4sBBHII")  # magic, version, compression, reserved, dict id, dict length
_ENTRY = struct.Struct(">QII32s")  # offset, length, record count, SHA-256 of the block
_COUNT = struct.Struct(">I")
_TRAILER = struct.Struct(">QI32s4s")  # footer offset, footer length, SHA-256(footer), magic
_DIGEST = 32
MAX_ID_BYTES = 255

#: ``seal(conversation_id, plaintext) -> ciphertext`` and its inverse, supplied by the caller.
Seal = Callable[[str, bytes], bytes]
Unseal = Callable[[str, bytes], bytes]


class IndexEntry(NamedTuple):
    """Where one conversation's block is: the footer's entry, also fit to store in a database."""

    conversation_id: str
    offset: int
    length: int
    records: int
    sha256: bytes


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """A written segment: its id, size in bytes, dictionary id and index."""

    segment_id: str
    size: int
    dictionary_id: int
    entries: tuple[IndexEntry, ...]


#: Finds a dictionary kept apart by its id (``None`` if there is none).
Dictionaries = Callable[[int], "SegmentDictionary | None"]


def header_bytes(dictionary: SegmentDictionary, *, embed: bool = True) -> bytes:
    """The segment header for ``dictionary`` (fixed part, dictionary unless kept apart, SHA-256
    of both)."""
    data = dictionary.data if embed else b""
    fixed = _HEADER.pack(MAGIC, VERSION, COMPRESSION_ZSTD_DICTIONARY, 0, dictionary.id, len(data))
    body = fixed + data
    return body + hashlib.sha256(body).digest()


class SegmentWriter:
    """Writes one segment to ``handle``, block by block, then the footer (:meth:`finish`)."""

    def __init__(
        self,
        handle: BinaryIO,
        dictionary: SegmentDictionary,
        *,
        level: int = DEFAULT_LEVEL,
        codec: RecordCodec | None = None,
        embed: bool = True,
    ) -> None:
        self._handle = handle
        self.dictionary = dictionary
        self._codec = codec
        self._level = level
        self._entries: list[IndexEntry] = []
        self._ids: set[str] = set()
        header = header_bytes(dictionary, embed=embed)
        handle.write(header)
        self._position = len(header)

    @property
    def position(self) -> int:
        """Bytes written so far (header and blocks)."""
        return self._position

    def add(self, conversation_id: str, records: Sequence[bytes], seal: Seal) -> IndexEntry:
        """Compress, seal and append one conversation's records; return its index entry."""
        if self._codec is None:
            self._codec = RecordCodec(self.dictionary, self._level)
        block = seal(conversation_id, self._codec.compress(records))
        return self.add_sealed(conversation_id, block, len(records))

    def add_sealed(self, conversation_id: str, block: bytes, records: int) -> IndexEntry:
        """Append a block that is already compressed and sealed (a rewrite copies blocks so)."""
        encoded = conversation_id.encode("utf-8")
        if not 1 <= len(encoded) <= MAX_ID_BYTES:
            raise SegmentError(f"conversation id must be 1-{MAX_ID_BYTES} bytes of UTF-8")
        if conversation_id in self._ids:
            raise SegmentError(f"conversation {conversation_id} is already in this segment")
        if len(block) > 0xFFFFFFFF:
            raise SegmentError(f"the block of conversation {conversation_id} exceeds 4 GiB")
        entry = IndexEntry(
            conversation_id, self._position, len(block), records, hashlib.sha256(block).digest()
        )
        self._handle.write(block)
        self._position += len(block)
        self._ids.add(conversation_id)
        self._entries.append(entry)
        return entry

    def finish(self) -> tuple[tuple[IndexEntry, ...], int]:
        """Write the footer and trailer; return the index and the segment's size in bytes."""
        parts = [_COUNT.pack(len(self._entries))]
        for entry in self._entries:
            encoded = entry.conversation_id.encode("utf-8")
            parts.append(bytes([len(encoded)]) + encoded)
            parts.append(_ENTRY.pack(entry.offset, entry.length, entry.records, entry.sha256))
        footer = b"".join(parts)
        trailer = _TRAILER.pack(
            self._position, len(footer), hashlib.sha256(footer).digest(), END_MAGIC
        )
        self._handle.write(footer + trailer)
        return tuple(self._entries), self._position + len(footer) + len(trailer)


class RangeSource(Protocol):
    """Bytes read by offset: a local file, or an object in object storage (a ranged GET)."""

    name: str
    size: int

    def read_at(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer only at the end)."""
        ...


class FileSource:
    """A local segment file, read with ``os.pread`` (one system call per read, no shared seek)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.name = os.fspath(path)
        self._fd = os.open(self.name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self.size = os.fstat(self._fd).st_size

    def read_at(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset``."""
        if hasattr(os, "pread"):
            return os.pread(self._fd, length, offset)
        os.lseek(self._fd, offset, os.SEEK_SET)  # pragma: no cover - Windows
        return os.read(self._fd, length)  # pragma: no cover

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class SegmentReader:
    """Reads a segment: checks header, footer and trailer on open, then one read per conversation.

    Opening reads the trailer, the header (with the dictionary) and the footer, and verifies
    their checksums (``lazy``: the footer only when first needed, for callers that keep the
    index entries themselves, as the archive does in ``cold_blocks``); :meth:`read` then costs
    one ranged read, a SHA-256, the caller's ``unseal`` and a decompression. Damage raises
    :class:`SegmentCorrupt` naming the file and the byte offset.
    """

    def __init__(
        self,
        source: RangeSource,
        *,
        segment_id: str | None = None,
        dictionaries: Dictionaries | None = None,
        lazy: bool = False,
    ) -> None:
        self.source = source
        self._dictionaries = dictionaries
        self.embedded = True
        self.name = source.name
        self.segment_id = segment_id or os.path.basename(source.name)
        self.dictionary, self._blocks_start = self._read_header()
        self._entries: dict[str, IndexEntry] | None = None
        if not lazy:
            self._entries = self._read_footer()
        self._codec: RecordCodec | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying source if it can be closed."""
        close = getattr(self.source, "close", None)
        if close is not None:
            close()

    @property
    def entries(self) -> dict[str, IndexEntry]:
        """The footer index by conversation id (read and checked on first use when lazy)."""
        if self._entries is None:
            self._entries = self._read_footer()
        return self._entries

    @property
    def info(self) -> SegmentInfo:
        """The segment's id, size, dictionary id and index."""
        entries = tuple(self.entries.values())
        return SegmentInfo(self.segment_id, self.source.size, self.dictionary.id, entries)

    def entry(self, conversation_id: str) -> IndexEntry:
        """The index entry of ``conversation_id``."""
        try:
            return self.entries[conversation_id]
        except KeyError:
            raise ConversationNotInSegment(
                f"segment {self.name} holds no conversation {conversation_id}",
                conversation_id=conversation_id,
                file=self.name,
            ) from None

    def read(self, conversation_id: str, unseal: Unseal) -> list[bytes]:
        """The records of one conversation, in the order they were written."""
        return self.read_entry(self.entry(conversation_id), unseal)

    def read_entry(self, entry: IndexEntry, unseal: Unseal) -> list[bytes]:
        """The records of the block ``entry`` points to (an entry kept in a database will do)."""
        block = self.read_block(entry)
        plaintext = unseal(entry.conversation_id, block)
        if self._codec is None:
            self._codec = RecordCodec(self.dictionary)
        try:
            records = self._codec.decompress(plaintext)
        except ValueError as exc:
            raise self._corrupt(entry.offset, f"block of {entry.conversation_id}: {exc}") from exc
        if len(records) != entry.records:
            raise self._corrupt(
                entry.offset,
                f"block of {entry.conversation_id} holds {len(records)} records, "
                f"the index says {entry.records}",
            )
        return records

    def read_block(self, entry: IndexEntry) -> bytes:
        """The sealed block of ``entry``, its length and SHA-256 checked (one ranged read)."""
        block = self.source.read_at(entry.offset, entry.length)
        if len(block) != entry.length:
            raise self._corrupt(entry.offset, f"block of {entry.conversation_id} is truncated")
        if hashlib.sha256(block).digest() != entry.sha256:
            raise self._corrupt(
                entry.offset, f"block of {entry.conversation_id} does not match its SHA-256"
            )
        return block

    def verify(self) -> int:
        """Check every block's length and SHA-256 (no keys needed); return the block count."""
        for entry in self.entries.values():
            self.read_block(entry)
        return len(self.entries)

    def _corrupt(self, offset: int, reason: str) -> SegmentCorrupt:
        return SegmentCorrupt(self.name, offset, reason)

    def _read_header(self) -> tuple[SegmentDictionary, int]:
        fixed = self.source.read_at(0, _HEADER.size)
        if len(fixed) < _HEADER.size or fixed[:4] != MAGIC:
            raise self._corrupt(0, "not a ChatKeeper cold segment (no CKSG magic)")
        _, version, compression, _, dict_id, dict_length = _HEADER.unpack(fixed)
        if version != VERSION:
            raise SegmentError(
                f"segment {self.name} has format version {version}; this reader knows {VERSION}"
            )
        if compression != COMPRESSION_ZSTD_DICTIONARY:
            raise self._corrupt(5, f"unknown compression id {compression}")
        rest = self.source.read_at(_HEADER.size, dict_length + _DIGEST)
        if len(rest) != dict_length + _DIGEST:
            raise self._corrupt(_HEADER.size, "header is truncated")
        data, digest = rest[:dict_length], rest[dict_length:]
        if hashlib.sha256(fixed + data).digest() != digest:
            raise self._corrupt(0, "header does not match its SHA-256")
        if dict_length == 0:
            self.embedded = False
            kept = self._dictionaries(dict_id) if self._dictionaries is not None else None
            if kept is None:
                raise SegmentError(
                    f"segment {self.name} needs dictionary {dict_id}, which is not at hand"
                )
            return kept, _HEADER.size + _DIGEST
        try:
            dictionary = SegmentDictionary.from_bytes(data)
        except SegmentError as exc:
            raise self._corrupt(_HEADER.size, exc.message) from exc
        if dictionary.id != dict_id:
            raise self._corrupt(8, f"dictionary id {dict_id} does not match the dictionary's")
        return dictionary, _HEADER.size + dict_length + _DIGEST

    def _read_footer(self) -> dict[str, IndexEntry]:
        size = self.source.size
        at = size - _TRAILER.size
        if at < self._blocks_start + _COUNT.size:
            raise self._corrupt(max(at, 0), "too short for a trailer (truncated?)")
        offset, length, digest, end = _TRAILER.unpack(self.source.read_at(at, _TRAILER.size))
        if end != END_MAGIC:
            raise self._corrupt(at, "no CKSE end marker (truncated or overwritten)")
        if offset < self._blocks_start or offset + length != at or length < _COUNT.size:
            raise self._corrupt(at, "trailer points outside the file")
        footer = self.source.read_at(offset, length)
        if hashlib.sha256(footer).digest() != digest:
            raise self._corrupt(offset, "footer index does not match its SHA-256")
        return self._parse_footer(footer, offset)

    def _parse_footer(self, footer: bytes, base: int) -> dict[str, IndexEntry]:
        entries: dict[str, IndexEntry] = {}
        (count,) = _COUNT.unpack_from(footer, 0)
        position, expected = _COUNT.size, self._blocks_start
        for _ in range(count):
            if position >= len(footer):
                raise self._corrupt(base + position, "footer ends before its last entry")
            id_length = footer[position]
            start = position + 1
            position = start + id_length + _ENTRY.size
            if position > len(footer) or id_length == 0:
                raise self._corrupt(base + start - 1, "footer entry is malformed")
            conversation_id = footer[start : start + id_length].decode("utf-8", "replace")
            block_at, length, records, digest = _ENTRY.unpack_from(footer, start + id_length)
            if block_at != expected or conversation_id in entries:
                raise self._corrupt(
                    base + start - 1, f"footer entry of {conversation_id} is out of order"
                )
            expected = block_at + length
            entries[conversation_id] = IndexEntry(
                conversation_id, block_at, length, records, digest
            )
        if position != len(footer) or expected != base:
            raise self._corrupt(base + position, "footer entries do not cover the blocks exactly")
        return entries
