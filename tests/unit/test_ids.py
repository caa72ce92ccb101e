"""Time-ordered message ids: ``sent_at_ms << 12 | slot``, so a time range is an id range."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chatkeeper.store.ids import (
    SLOT_BITS,
    SLOTS,
    first_candidate,
    id_range,
    next_candidate,
    sent_at_ms,
)

#: Milliseconds from 1990 to 2100, the years ingest accepts, and a margin either side.
millis = st.integers(min_value=0, max_value=5_000_000_000_000)
slots = st.integers(min_value=0, max_value=SLOTS - 1)
message_ids = st.text(min_size=1, max_size=20)
T0 = 1_740_795_072_000  # 2025-03-01T02:11:12Z


def make_id(ms: int, slot: int) -> int:
    """The id in ``slot`` of millisecond ``ms``."""
    return (ms << SLOT_BITS) | slot


def with_slot(ms: int, slot: int) -> int:
    """An id of millisecond ``ms`` reached the way the writer reaches it: from the first
    candidate, stepping with next_candidate."""
    candidate = first_candidate(ms, "webchat", "m")
    while candidate & (SLOTS - 1) != slot:
        candidate = next_candidate(candidate)
    return candidate


class TestLayout:
    """GIVEN a send time and a message WHEN its first candidate id is made THEN the id holds
    the millisecond in its high bits and a slot from the dedup key in the low 12."""

    def test_constants(self) -> None:
        """GIVEN the module WHEN read THEN 12 slot bits, 4096 slots."""
        assert (SLOT_BITS, SLOTS) == (12, 4096)

    @given(millis, st.sampled_from(["webchat", "wecom"]), message_ids)
    def test_time_round_trips(self, ms: int, platform: str, message_id: str) -> None:
        """GIVEN any message WHEN its id is made THEN sent_at_ms gives its millisecond back."""
        candidate = first_candidate(ms, platform, message_id)
        assert sent_at_ms(candidate) == ms
        assert 0 <= candidate - (ms << SLOT_BITS) < SLOTS

    @given(millis, message_ids)
    def test_deterministic(self, ms: int, message_id: str) -> None:
        """GIVEN the same message twice WHEN ids are made THEN they are equal (a re-run
        of an ingest gives the same ids)."""
        assert first_candidate(ms, "webchat", message_id) == first_candidate(
            ms, "webchat", message_id
        )

    def test_slot_depends_on_platform_and_id(self) -> None:
        """GIVEN the same message id on two platforms, and two ids on one WHEN made THEN the
        slots differ (the dedup key, not just the id, picks the slot)."""
        assert first_candidate(T0, "webchat", "m1") != first_candidate(T0, "wecom", "m1")
        assert first_candidate(T0, "webchat", "m1") != first_candidate(T0, "webchat", "m2")


class TestOrder:
    """GIVEN messages sent at different times WHEN given ids THEN ids sort like send times."""

    @given(millis, millis, slots, slots)
    @example(T0, T0 + 1, SLOTS - 1, 0)
    def test_ids_sort_like_send_times(self, a: int, b: int, slot_a: int, slot_b: int) -> None:
        """GIVEN two different milliseconds and any slots WHEN compared THEN the earlier
        millisecond's id is the smaller, whatever the slots."""
        if a == b:
            return
        assert (with_slot(a, slot_a) < with_slot(b, slot_b)) == (a < b)

    @given(st.lists(st.tuples(millis, message_ids), min_size=2, max_size=20))
    def test_sorting_ids_sorts_by_time(self, messages: list[tuple[int, str]]) -> None:
        """GIVEN many messages WHEN their ids are sorted THEN their times are sorted."""
        ids = sorted(first_candidate(ms, "webchat", mid) for ms, mid in messages)
        times = [sent_at_ms(i) for i in ids]
        assert times == sorted(ms for ms, _ in messages)


class TestNextCandidate:
    """GIVEN an id that is taken WHEN the next candidate is asked for THEN it is the next slot
    of the same millisecond, wrapping from the last slot to the first."""

    @pytest.mark.parametrize(
        ("slot", "next_slot"),
        [(0, 1), (1, 2), (2047, 2048), (4094, 4095), (4095, 0)],
    )
    def test_next_slot(self, slot: int, next_slot: int) -> None:
        """GIVEN the slot WHEN stepped THEN the next slot is as listed, same millisecond."""
        assert next_candidate(make_id(T0, slot)) == make_id(T0, next_slot)

    @given(millis, slots)
    @example(T0, SLOTS - 1)
    @example(0, SLOTS - 1)
    def test_stays_in_the_millisecond(self, ms: int, slot: int) -> None:
        """GIVEN any id WHEN stepped THEN the millisecond is unchanged (date filters stay
        exact) and the slot moves by one, modulo 4096."""
        stepped = next_candidate(make_id(ms, slot))
        assert sent_at_ms(stepped) == ms
        assert stepped & (SLOTS - 1) == (slot + 1) % SLOTS

    @given(millis, message_ids)
    def test_visits_every_slot_once_per_cycle(self, ms: int, message_id: str) -> None:
        """GIVEN a first candidate WHEN stepped 4096 times THEN every slot of the millisecond
        is visited exactly once and the cycle ends where it began."""
        start = candidate = first_candidate(ms, "webchat", message_id)
        seen = set()
        for _ in range(SLOTS):
            seen.add(candidate)
            candidate = next_candidate(candidate)
        assert candidate == start
        assert seen == {make_id(ms, slot) for slot in range(SLOTS)}


class TestIdRange:
    """GIVEN a time window [since, until) WHEN made an id range THEN the inclusive bounds hold
    exactly the ids of messages sent inside it."""

    @pytest.mark.parametrize(
        ("since", "until", "bounds"),
        [
            (None, None, (None, None)),
            (T0, None, (T0 << 12, None)),
            (None, T0, (None, (T0 << 12) - 1)),
            (T0, T0 + 1, (T0 << 12, (T0 << 12) + 4095)),
            (0, 1, (0, 4095)),
            # Negative row: an empty window gives bounds that hold nothing.
            (T0, T0, (T0 << 12, (T0 << 12) - 1)),
        ],
    )
    def test_bounds(
        self, since: int | None, until: int | None, bounds: tuple[int | None, int | None]
    ) -> None:
        """GIVEN the window WHEN made a range THEN the bounds are as listed."""
        assert id_range(since, until) == bounds

    @pytest.mark.parametrize(
        ("ms", "slot", "inside"),
        [
            (T0, 0, True),  # at since, first slot: included
            (T0, SLOTS - 1, True),
            (T0 + 999, SLOTS - 1, True),  # the last millisecond before until
            (T0 + 1000, 0, False),  # at until: excluded, whatever the slot
            (T0 + 1000, SLOTS - 1, False),
            (T0 - 1, SLOTS - 1, False),  # just before since
        ],
    )
    def test_edges(self, ms: int, slot: int, inside: bool) -> None:
        """GIVEN the window [T0, T0 + 1 s) WHEN an id at an edge is tested THEN a message at
        since is in, one at until is out."""
        low, high = id_range(T0, T0 + 1000)
        assert low is not None and high is not None
        assert (low <= make_id(ms, slot) <= high) is inside

    @given(millis, millis, millis, slots)
    @example(T0, T0 + 5, T0, 0)
    @example(T0, T0 + 5, T0 + 5, 0)
    @example(T0, T0 + 5, T0 + 4, SLOTS - 1)
    def test_range_is_exact(self, since: int, until: int, ms: int, slot: int) -> None:
        """GIVEN any window and any message WHEN tested against the range THEN it is inside
        exactly when since <= sent_at < until."""
        low, high = id_range(since, until)
        assert low is not None and high is not None
        identifier = make_id(ms, slot)
        assert (low <= identifier <= high) == (since <= ms < until)

    @given(millis, slots)
    def test_open_ends(self, ms: int, slot: int) -> None:
        """GIVEN a window open at one end WHEN tested THEN only the closed end limits it."""
        identifier = make_id(ms, slot)
        low, high = id_range(T0, None)
        assert high is None and low is not None and (low <= identifier) == (ms >= T0)
        low, high = id_range(None, T0)
        assert low is None and high is not None and (identifier <= high) == (ms < T0)
