"""Compression of one conversation's records: record framing and zstd with a trained dictionary.

Chat messages are short and alike (the same JSON keys, greetings, order and refund phrases), so
compressing each conversation alone gains little without a dictionary; with a dictionary trained
on a sample of records (``zstandard.train_dictionary``) every block starts from what the sample
had in common.

The dictionary is stored in clear beside the encrypted blocks (in the segment header) and
outlives every conversation it was trained on, so **train it on records without personal data**
(the masked form of the messages): what the dictionary learns from a conversation survives that
conversation's purge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import zstandard

from chatkeeper.lifecycle.errors import SegmentError

#: zstd level for cold blocks. With a dictionary, level 9 is within 5 % of level 19's size at
#: about 40 times its speed on short chat conversations (figures in docs/lifecycle.md).
DEFAULT_LEVEL = 9
DEFAULT_DICTIONARY_SIZE = 64 * 1024
_DICTIONARY_MAGIC = (0xEC30A437).to_bytes(4, "little")


@dataclass(frozen=True, slots=True)
class SegmentDictionary:
    """A zstd dictionary and its id (the id zstd wrote into it when training)."""

    id: int
    data: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> SegmentDictionary:
        """Wrap a trained zstd dictionary; raise if ``data`` is not one."""
        if data[:4] != _DICTIONARY_MAGIC:
            raise SegmentError("not a zstd dictionary (no dictionary magic number)")
        try:
            parsed = zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_FULLDICT)
            parsed.precompute_compress(level=1)  # loads the entropy tables: fails if malformed
        except zstandard.ZstdError as exc:
            raise SegmentError(f"not a zstd dictionary ({exc})") from exc
        return cls(parsed.dict_id(), bytes(data))

    def zstd(self) -> zstandard.ZstdCompressionDict:
        """The dictionary as ``zstandard`` uses it."""
        return zstandard.ZstdCompressionDict(self.data, dict_type=zstandard.DICT_TYPE_FULLDICT)


def train_dictionary(
    samples: Iterable[bytes], *, size: int = DEFAULT_DICTIONARY_SIZE
) -> SegmentDictionary:
    """Train a dictionary of at most ``size`` bytes on sample records (personal data removed).

    A few thousand records are enough; zstd needs at least a few dozen and about ten times
    ``size`` bytes of samples to make a useful dictionary.
    """
    sample_list: list[bytes | bytearray | memoryview] = [bytes(sample) for sample in samples]
    total = sum(map(len, sample_list))
    try:
        trained = zstandard.train_dictionary(size, sample_list)
    except zstandard.ZstdError as exc:
        raise SegmentError(
            f"cannot train a dictionary of {size} bytes from {len(sample_list)} samples "
            f"({total} bytes): {exc}; give more samples or a smaller size"
        ) from exc
    return SegmentDictionary(trained.dict_id(), trained.as_bytes())


def write_varint(out: bytearray, value: int) -> None:
    """Append ``value`` as an unsigned LEB128 varint."""
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def read_varint(data: bytes, position: int, what: str = "length") -> tuple[int, int]:
    """The unsigned LEB128 varint at ``position`` and the position after it; ``ValueError``
    naming ``what`` if it runs past the end (or past 35 bits)."""
    value = shift = 0
    end = len(data)
    while True:
        if position >= end or shift > 35:
            raise ValueError(f"{what} runs past the end of the frame")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, position


class RecordCodec:
    """Frames a conversation's records and compresses them with the dictionary (and back).

    Frame: for each record, its length as an unsigned LEB128 varint, then its bytes. The zstd
    frame records its content size and no checksum (the segment's SHA-256 and the caller's AEAD
    tag already cover the bytes) and no dictionary id (the segment header names it).
    """

    def __init__(self, dictionary: SegmentDictionary, level: int = DEFAULT_LEVEL) -> None:
        self.dictionary = dictionary
        zdict = dictionary.zstd()
        params = zstandard.ZstdCompressionParameters.from_level(
            level, write_checksum=False, write_content_size=True, write_dict_id=False
        )
        self._compressor = zstandard.ZstdCompressor(dict_data=zdict, compression_params=params)
        self._decompressor = zstandard.ZstdDecompressor(dict_data=zdict)

    def compress(self, records: Sequence[bytes]) -> bytes:
        """The compressed frame of ``records``."""
        framed = bytearray()
        for record in records:
            write_varint(framed, len(record))
            framed += record
        return self._compressor.compress(bytes(framed))

    def decompress(self, data: bytes) -> list[bytes]:
        """The records of a compressed frame; ``ValueError`` if it is not a valid frame."""
        try:
            framed = self._decompressor.decompress(data)
        except zstandard.ZstdError as exc:
            raise ValueError(f"not a zstd frame for this dictionary ({exc})") from exc
        records = []
        position, end = 0, len(framed)
        while position < end:
            size, position = read_varint(framed, position, "record length")
            if position + size > end:
                raise ValueError("record runs past the end of the frame")
            records.append(framed[position : position + size])
            position += size
        return records
