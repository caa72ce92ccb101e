"""Time-ordered message ids: a date range is an id range.

``id = sent_at_ms << 12 | slot``. The slot (0-4095) starts at a hash of the message's dedup key
and moves to the next free slot of the same millisecond on a collision, so ids are unique, stay
inside their millisecond (date filters remain exact) and are the same for the same message on a
re-run. Every search index keys its rows by this id, so a time filter is a range scan there too.
"""

from __future__ import annotations

import zlib

SLOT_BITS = 12
SLOTS = 1 << SLOT_BITS
_MASK = SLOTS - 1


def first_candidate(sent_at_ms: int, platform: str, message_id: str) -> int:
    """The id a message gets unless another message of the same millisecond holds it."""
    slot = zlib.crc32(f"{platform}\x00{message_id}".encode()) & _MASK
    return (sent_at_ms << SLOT_BITS) | slot


def next_candidate(candidate: int) -> int:
    """The next slot of the same millisecond, wrapping round."""
    base = candidate & ~_MASK
    return base | ((candidate + 1) & _MASK)


def id_range(since_ms: int | None, until_ms: int | None) -> tuple[int | None, int | None]:
    """The inclusive id bounds of messages sent in ``[since_ms, until_ms)``."""
    low = None if since_ms is None else since_ms << SLOT_BITS
    high = None if until_ms is None else (until_ms << SLOT_BITS) - 1
    return low, high


def sent_at_ms(message_id: int) -> int:
    """The send time an id encodes."""
    return message_id >> SLOT_BITS
