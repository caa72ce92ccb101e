"""Where batches come from: parsed and run through the pure steps, here or in a worker process.

Parsing, normalising, validating and preparing (tokenising) a record costs about as much CPU as
storing it. On a machine with two cores or more, a worker process does the former for batch
N + 1 while the main process writes batch N, which nearly doubles the ingest rate. The worker
only reads the source files; everything that touches the database stays in the main process,
so acknowledgement (commit) and crash behaviour are the same in both modes.

A batch crosses the process boundary as plain tuples (the prepared records' values), which pickle
several times faster than named tuples or objects with ``datetime``s. At most
a few batches are in flight, so memory stays flat whatever the file size.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue as queue_module
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from chatkeeper.errors import IngestError
from chatkeeper.formats import get_format
from chatkeeper.ingest.pipeline import Batch, Item, Outcome, Step, batches
from chatkeeper.store.prepared import NewKey, StorableMessage

IN_FLIGHT = 4  # batches queued between the processes
_POLL_SECONDS = 1.0
_OUTCOMES = {outcome.value: outcome for outcome in Outcome}


def _pure_batches(
    fmt_name: str,
    paths: Sequence[Path],
    steps: Sequence[Step],
    size: int,
    share: tuple[int, int] = (0, 1),
) -> Iterator[Batch]:
    """Batches in file order; with ``share = (i, n)`` only every n-th, starting at the i-th.

    Every reader parses the whole file (a small part of the work, and the only way to find
    batch boundaries in formats such as CSV, whose records may span lines) but runs the steps
    only on its own share.
    """
    fmt = get_format(fmt_name)
    mine, readers = share
    number = 0
    for path in paths:
        for batch in batches(fmt, str(path), fmt.parse(path), size):
            if number % readers == mine:
                for step in steps:
                    step(batch)
                yield batch
            number += 1


def _pack(batch: Batch) -> tuple[str, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    return (
        batch.source,
        [tuple(key) for key in batch.new_keys],
        [
            (
                item.line,
                item.outcome.value,
                item.field,
                item.reason,
                None if item.prepared is None else tuple(item.prepared),
                item.sensitive,
            )
            for item in batch.items
        ],
    )


def _unpack(
    fmt_name: str, packed: tuple[str, list[tuple[Any, ...]], list[tuple[Any, ...]]]
) -> Batch:
    source, keys, rows = packed
    items = [
        Item(
            line,
            None,
            prepared=None if prepared is None else StorableMessage._make(prepared),
            sensitive=sensitive,
            outcome=_OUTCOMES[outcome],
            field=field,
            reason=reason,
        )
        for line, outcome, field, reason, prepared, sensitive in rows
    ]
    batch = Batch(source, get_format(fmt_name), items)
    batch.new_keys = [NewKey._make(key) for key in keys]
    return batch


def _produce(
    fmt_name: str,
    paths: list[Path],
    steps: list[Step],
    size: int,
    channel: Any,
    share: tuple[int, int] = (0, 1),
) -> None:
    """A reader process: send each prepared batch of its share, then ``done`` (or the error)."""
    try:
        for batch in _pure_batches(fmt_name, paths, steps, size, share):
            channel.put(("batch", _pack(batch)))
        channel.put(("done", None))
    except Exception as exc:  # handed to the main process, which raises it
        channel.put(("error", exc))


def _picklable(steps: Sequence[Step]) -> bool:
    try:
        pickle.dumps(list(steps))
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def prepared_batches(
    fmt_name: str,
    paths: Sequence[Path],
    steps: Sequence[Step],
    size: int,
    *,
    readers: int,
) -> Iterator[Batch]:
    """Batches in file order, with the pure ``steps`` already run on them.

    ``readers`` processes take the batches round-robin; the main process takes them back in the
    same order, so the result is the same as with none (``readers = 0``: all in this process).
    """
    if readers < 1 or not _picklable(steps):
        yield from _pure_batches(fmt_name, paths, steps, size)
        return
    context = multiprocessing.get_context("spawn")
    channels = [context.Queue(maxsize=IN_FLIGHT) for _ in range(readers)]
    workers = [
        context.Process(
            target=_produce,
            args=(fmt_name, list(paths), list(steps), size, channel, (index, readers)),
            name=f"chatkeeper-ingest-reader-{index}",
            daemon=True,
        )
        for index, channel in enumerate(channels)
    ]
    for worker in workers:
        worker.start()
    try:
        number = 0
        while True:
            kind, payload = _receive(channels[number % readers], workers[number % readers])
            if kind == "batch":
                yield _unpack(fmt_name, payload)
                number += 1
            elif kind == "error":
                raise payload
            else:
                return  # the reader whose turn it is has no batch: the input has ended
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join(timeout=5)
        for channel in channels:
            channel.close()


def _receive(channel: Any, worker: Any) -> tuple[str, Any]:
    while True:
        try:
            message: tuple[str, Any] = channel.get(timeout=_POLL_SECONDS)
            return message
        except queue_module.Empty:
            if not worker.is_alive():
                raise IngestError(
                    f"the ingest reader process stopped unexpectedly (exit code {worker.exitcode})"
                ) from None
