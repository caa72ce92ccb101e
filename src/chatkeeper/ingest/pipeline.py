"""The ingest pipeline: an ordered list of steps over batches of source records.

``parse`` (the format adapter, streaming) feeds batches through the steps::

    normalise -> validate -> prepare -> dedup -> store (+ index)

The first three are pure (no database): they run before the batch's transaction opens, and the
ingest service may run them in a worker process while the main process writes the previous
batch. The rest run inside one write transaction, so a batch is acknowledged (counted, and
never asked for again) only once it is committed. Later capabilities add steps (detect
personal data, mask, encrypt, append to the ledger) by inserting them into
:func:`default_steps`' list, not by editing the loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from chatkeeper.domain import CanonicalMessage
from chatkeeper.errors import RecordError
from chatkeeper.formats import Format, RawRecord, Skip
from chatkeeper.store.prepared import NewKey, StorableMessage, prepare
from chatkeeper.store.writer import ArchiveWriter


class Outcome(StrEnum):
    """What became of one source record."""

    PENDING = "pending"
    INGESTED = "ingested"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    SKIPPED = "skipped"


@dataclass(slots=True)
class Item:
    """One source record on its way through the pipeline."""

    line: int
    data: dict[str, Any] | None
    record: CanonicalMessage | None = None
    prepared: StorableMessage | None = None
    sensitive: Any = None  # originals set aside by the privacy step until encrypted
    klass: Any = None  # the classification step's MessageClass
    risk: Any = None  # the classification step's RiskMatch (None: no risk term)
    outcome: Outcome = Outcome.PENDING
    field: str | None = None
    reason: str | None = None
    message_id: int | None = None

    def reject(self, error: RecordError) -> None:
        """Mark the record bad, keeping which field and why (never its values)."""
        self.outcome = Outcome.REJECTED
        self.field = error.field
        self.reason = error.reason


@dataclass(slots=True)
class Batch:
    """Consecutive records of one file, processed and committed together."""

    source: str
    fmt: Format
    items: list[Item]
    run_id: int | None = None
    writer: ArchiveWriter | None = None
    new_keys: list[NewKey] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def pending(self) -> Iterator[Item]:
        """The items still on their way (not rejected, skipped or found duplicate)."""
        return (item for item in self.items if item.outcome is Outcome.PENDING)


class Step(Protocol):
    """One stage of the pipeline. ``transactional`` steps run inside the batch's transaction."""

    name: str
    transactional: bool

    def __call__(self, batch: Batch) -> None:
        """Process the batch in place."""
        ...


class NormaliseStep:
    """Turn each parsed record canonical with the format's own rules."""

    name, transactional = "normalise", False

    def __call__(self, batch: Batch) -> None:
        """Normalise, skip or reject each pending item."""
        for item in batch.pending():
            assert item.data is not None
            try:
                result = batch.fmt.normalise(item.data)
            except RecordError as exc:
                item.reject(exc)
                continue
            if isinstance(result, Skip):
                item.outcome = Outcome.SKIPPED
                item.reason = result.reason
            else:
                item.record = result
            item.data = None  # the parsed dict is no longer needed; keep memory flat


class ValidateStep:
    """Checks every format shares, on the canonical record."""

    name, transactional = "validate", False
    earliest_year, latest_year = 1990, 2100

    def __call__(self, batch: Batch) -> None:
        """Reject records that no format should let through."""
        for item in batch.pending():
            record = item.record
            assert record is not None
            if not self.earliest_year <= record.sent_at.year <= self.latest_year:
                item.reject(
                    RecordError(
                        f"is outside the years {self.earliest_year}-{self.latest_year}",
                        field="sent_at",
                    )
                )


class PrepareStep:
    """Compute everything storage needs that does not depend on what is stored."""

    name, transactional = "prepare", False

    def __call__(self, batch: Batch) -> None:
        """Turn each pending canonical record into its storage form."""
        for item in batch.pending():
            assert item.record is not None
            item.prepared = prepare(item.record)
            if item.klass is not None or item.risk is not None:
                item.prepared = item.prepared._replace(klass=item.klass, risk=item.risk)
            item.record = None  # the storage form is all that crosses to the writer


class DedupStep:
    """Drop records already stored, or seen earlier in the same batch (platform + id)."""

    name, transactional = "dedup", True

    def __call__(self, batch: Batch) -> None:
        """Mark duplicates."""
        assert batch.writer is not None
        pending = [item for item in batch.pending() if item.prepared is not None]
        keys = [(item.prepared.platform, item.prepared.message_id) for item in pending]  # type: ignore[union-attr]
        stored = batch.writer.existing_keys(keys)
        closed = batch.writer.closed_conversations(
            {(i.prepared.platform, i.prepared.conversation_id) for i in pending}  # type: ignore[union-attr]
        )
        seen: set[tuple[str, str]] = set()
        for item, key in zip(pending, keys, strict=True):
            where = (key[0], item.prepared.conversation_id)  # type: ignore[union-attr]
            if where in closed and key not in stored:
                state = "in the recycle bin" if closed[where] == "recycle_bin" else "purged"
                item.reject(RecordError(
                    f"conversation '{where[1]}' is {state}: nothing is added to it",
                    field="conversation_id",
                ))  # fmt: skip
                continue
            if key in stored or key in seen:
                item.outcome = Outcome.DUPLICATE
            seen.add(key)


class StoreStep:
    """Store the new records and index them, in the batch's transaction."""

    name, transactional = "store", True

    def __call__(self, batch: Batch) -> None:
        """Store, assigning each item its message id."""
        assert batch.writer is not None
        pending = list(batch.pending())
        records = [item.prepared for item in pending]
        used = {r.key_id for r in records if r is not None and r.key_id}
        used.update(v.key_id for r in records if r is not None for v in r.vault)
        batch.writer.insert_keys([key for key in batch.new_keys if key.key_id in used])
        message_ids = batch.writer.store(records, batch.run_id)  # type: ignore[arg-type]
        for item, message_id in zip(pending, message_ids, strict=True):
            item.message_id = message_id
            item.outcome = Outcome.INGESTED


def default_steps() -> list[Step]:
    """The archive core's pipeline without privacy, in order (the ingest service inserts the
    privacy steps; benchmarks compare the two)."""
    return [NormaliseStep(), ValidateStep(), PrepareStep(), DedupStep(), StoreStep()]


def batches(fmt: Format, source: str, records: Iterable[RawRecord], size: int) -> Iterator[Batch]:
    """Group a file's parsed records into batches, in file order."""
    items: list[Item] = []
    for raw in records:
        item = Item(raw.line, raw.data)
        if raw.error is not None:
            item.reject(raw.error)
        items.append(item)
        if len(items) >= size:
            yield Batch(source, fmt, items)
            items = []
    if items:
        yield Batch(source, fmt, items)
