"""Ingest: files in a source format go through the pipeline into the archive."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from chatkeeper.classify import Lexicon, Rules
from chatkeeper.config import Settings
from chatkeeper.domain import Actor
from chatkeeper.errors import IngestError
from chatkeeper.formats import get_format
from chatkeeper.ingest.classify import ClassifyStep
from chatkeeper.ingest.pipeline import (
    Batch,
    DedupStep,
    Item,
    NormaliseStep,
    Outcome,
    PrepareStep,
    Step,
    StoreStep,
    ValidateStep,
)
from chatkeeper.ingest.privacy import ProtectStep, SealStep
from chatkeeper.ingest.worker import prepared_batches
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.review import open_reviews

Progress = Callable[[int], None]


@dataclass(slots=True)
class IngestReport:
    """The outcome of one ``ingest`` call (the CLI's ``--json`` object)."""

    ingested: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: int = 0
    rejects_file: str | None = None
    run_id: int | None = None
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The machine-readable summary."""
        return {
            "ingested": self.ingested,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "rejects_file": self.rejects_file,
        }


class _Rejects:
    """The rejects file: one JSON object per bad record (file, line, field, error).

    It names where each bad record is and what is wrong with it, never the record's content,
    so it holds no personal data; the source file is where the record itself can be fixed.
    """

    def __init__(self, folder: Path, run_id: int) -> None:
        self.path = folder / f"ingest-{run_id:06d}.rejects.jsonl"
        self.folder = folder
        self.handle: BinaryIO | None = None

    def write(self, source: str, line: int, field_name: str | None, reason: str | None) -> None:
        if self.handle is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.handle = self.path.open("ab")
        entry = {"file": source, "line": line, "field": field_name, "error": reason}
        self.handle.write(orjson.dumps(entry) + b"\n")

    def close(self) -> str | None:
        if self.handle is None:
            return None
        self.handle.close()
        return str(self.path)


def count_records(paths: list[Path]) -> int:
    """About how many records the files hold (their line count), for a progress total."""
    total = 0
    for path in paths:
        with path.open("rb") as handle:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return total


def classifiers(settings: Settings) -> tuple[Rules, Lexicon]:
    """The classification rules and risk lexicon: the shipped ones, or the configured files
    (which extend or replace them; see docs/classification.md)."""
    config = settings.classify
    rules = Rules.from_toml(config.rules_file) if config.rules_file else Rules.default()
    lexicon = Lexicon.from_toml(config.lexicon_file) if config.lexicon_file else Lexicon.default()
    return rules, lexicon


def pipeline_steps(ctx: Context) -> list[Step]:
    """The full ingest pipeline: the archive core's steps with privacy and encryption."""
    protect = ProtectStep(
        ctx.system_key("blind-index"), ctx.system_key("pseudonym"), ctx.settings.privacy.masking
    )
    assert ctx.archive.kek is not None  # system_key() loaded it
    seal = SealStep(
        ctx.archive.kek, ctx.settings.privacy.suite, in_writer=ctx.settings.ingest.workers < 1
    )
    return [
        NormaliseStep(),
        ValidateStep(),
        ClassifyStep(*classifiers(ctx.settings)),
        protect,
        PrepareStep(),
        seal,
        DedupStep(),
        StoreStep(),
    ]


def ingest_files(
    ctx: Context,
    actor: Actor,
    paths: list[Path],
    fmt_name: str,
    *,
    progress: Progress | None = None,
    steps: list[Step] | None = None,
) -> IngestReport:
    """Ingest every file; bad records go to the rejects file, the good ones all land.

    Each batch commits on its own, so an interrupted run keeps what it acknowledged and a
    re-run of the same files adds only what is missing.
    """
    authorize(ctx, actor, "ingest.run")
    get_format(fmt_name)  # an unknown format is refused before anything is recorded
    for path in paths:
        if not path.is_file():
            raise IngestError(f"{path}: no such file", file=str(path))
    steps = steps or pipeline_steps(ctx)
    pure = [step for step in steps if not step.transactional]
    transactional = [step for step in steps if step.transactional]
    config = ctx.settings.ingest
    small = sum(p.stat().st_size for p in paths) < config.worker_min_bytes
    readers = 0 if small else config.workers
    archive = ctx.archive
    report = IngestReport(files=[str(p) for p in paths])
    report.run_id = archive.start_run(fmt_name, report.files, actor.name)
    rejects = _Rejects(ctx.data_dir / "rejects", report.run_id)
    status = "failed"
    pace = _Pace()
    try:
        for batch in prepared_batches(fmt_name, paths, pure, config.batch_size, readers=readers):
            batch.run_id = report.run_id
            _store_batch(ctx, batch, transactional, pace)
            _account(batch, report, rejects)
            if progress is not None:
                progress(len(batch.items))
        status = "completed"
        open_reviews(ctx, actor)  # conversations this run made risky enough for review
    finally:
        report.rejects_file = rejects.close()
        archive.finish_run(
            actor,
            report.run_id,
            status,
            {
                "ingested": report.ingested,
                "duplicates": report.duplicates,
                "rejected": report.rejected,
                "skipped": report.skipped,
            },
            report.rejects_file,
        )
        if report.rejects_file:
            summary = Path(report.rejects_file.replace(".rejects.jsonl", ".summary.json"))
            summary.write_bytes(
                orjson.dumps(
                    {
                        **report.as_dict(),
                        "files": report.files,
                        "status": status,
                        "finished_at": int(time.time()),
                    },
                    option=orjson.OPT_INDENT_2,
                )
            )
    return report


# A transaction (and so a signed checkpoint) at least this often while ingest is busy.
PART_SECONDS = 0.5
MIN_PART = 200


@dataclass(slots=True)
class _Pace:
    """How long storing one record takes, as measured so far in this run."""

    seconds_per_item: float = 0.0

    def part_size(self, pending: int) -> int:
        if self.seconds_per_item <= 0:
            return pending
        return max(MIN_PART, int(PART_SECONDS / self.seconds_per_item))

    def observe(self, seconds: float, items: int) -> None:
        if items:
            latest = seconds / items
            seen = self.seconds_per_item
            self.seconds_per_item = latest if seen <= 0 else 0.7 * seen + 0.3 * latest


def _parts(batch: Batch, size: int) -> list[list[Item]]:
    parts: list[list[Item]] = [[]]
    count = 0
    for item in batch.items:
        if item.outcome is Outcome.PENDING:
            if count == size:
                parts.append([])
                count = 0
            count += 1
        parts[-1].append(item)
    return parts


def _store_batch(ctx: Context, batch: Batch, steps: list[Step], pace: _Pace) -> None:
    """Run the transactional steps, each commit acknowledging what it stored.

    A batch that would take longer than about half a second to store is stored in parts, each
    in its own transaction ending with its own signed checkpoint: the ledger is checkpointed at
    least once a second of ingest, whatever the batch size or the backend's speed.
    """
    pending = sum(1 for _ in batch.pending())
    if not pending:
        return
    for items in _parts(batch, pace.part_size(pending)):
        part = Batch(batch.source, batch.fmt, items, batch.run_id,
                     new_keys=batch.new_keys, extra=batch.extra)  # fmt: skip
        count = sum(1 for _ in part.pending())
        started = time.perf_counter()
        with ctx.archive.writer() as writer:
            part.writer = writer
            for step in steps:
                step(part)
        part.writer = None
        pace.observe(time.perf_counter() - started, count)
        stored = {i.prepared.key_id for i in items if i.message_id is not None and i.prepared}
        stored.update(
            v.key_id
            for i in items
            if i.message_id is not None and i.prepared
            for v in i.prepared.vault
        )
        batch.new_keys = [key for key in batch.new_keys if key.key_id not in stored]


def _account(batch: Batch, report: IngestReport, rejects: _Rejects) -> None:
    for item in batch.items:
        if item.outcome is Outcome.INGESTED:
            report.ingested += 1
        elif item.outcome is Outcome.DUPLICATE:
            report.duplicates += 1
        elif item.outcome is Outcome.SKIPPED:
            report.skipped += 1
        elif item.outcome is Outcome.REJECTED:
            report.rejected += 1
            rejects.write(batch.source, item.line, item.field, item.reason)
