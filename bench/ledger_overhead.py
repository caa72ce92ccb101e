"""What the ledger costs ingest: the full private pipeline with and without it, same data, same
run.

    python -m bench.ledger_overhead [--messages 200000] [--rounds 2]

Both runs ingest the demo data set into fresh SQLite data folders through ``ingest_files`` with
the full pipeline (classification, detection and masking, sealing, dedup, store and index), in
one process (``ingest.workers = 0``), so that the comparison is of the work itself, not of how
it is spread over processes. In the run *without* the ledger, sealing computes no leaf
(``message_leaf`` is replaced by one whose hash is ``None``), so the writer appends nothing and
signs no checkpoint; everything else is identical. Rounds alternate the two to spread the
machine's noise; a third run per round gives the default configuration's rate (one reader
process), with the ledger. Result: ``<out>/ledger-overhead.json`` and the overhead,
1 − with ÷ without.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import chatkeeper.ingest.privacy as sealing
from bench.run import ROOT, dataset, machine
from chatkeeper.config import load_settings
from chatkeeper.domain import Actor
from chatkeeper.services import open_context
from chatkeeper.services.ingest import ingest_files

ACTOR = Actor("bench", frozenset({"system"}))
TARGET = 0.10


class _NoLeaf:
    def leaf_hash(self) -> None:
        return None


def _run(data: Path, folder: Path, ledger: bool, workers: int) -> float:
    shutil.rmtree(folder, ignore_errors=True)
    settings = load_settings(data_dir=folder)
    settings = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"workers": workers})}
    )
    ctx = open_context(settings, create=True)
    original = sealing.message_leaf
    if not ledger:
        sealing.message_leaf = lambda **_: _NoLeaf()  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        report = ingest_files(ctx, ACTOR, [data], "jsonl")
        seconds = time.perf_counter() - started
    finally:
        sealing.message_leaf = original
    with ctx.archive.reader() as conn:
        leaves = conn.exec_driver_sql("SELECT size FROM ledger_logs WHERE log_id = 1").scalar()
    ctx.close()
    assert bool(leaves) == ledger, "the run without the ledger appended leaves"
    return report.ingested / seconds


def main() -> None:
    """Alternate rounds with and without the ledger; report the best of each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = dataset(args.out, args.messages)
    rates: dict[str, list[float]] = {"with": [], "without": [], "default_with": []}
    for _ in range(args.rounds):
        rates["without"].append(_run(data, args.out / "no-ledger", ledger=False, workers=0))
        rates["with"].append(_run(data, args.out / "ledger", ledger=True, workers=0))
        rates["default_with"].append(_run(data, args.out / "ledger", ledger=True, workers=1))
    best = {k: max(v) for k, v in rates.items()}
    overhead = 1 - best["with"] / best["without"]
    result: dict[str, Any] = {
        "messages": args.messages,
        "messages_per_second": {k: [round(r) for r in v] for k, v in rates.items()},
        "ratio_with_to_without": round(best["with"] / best["without"], 3),
        "overhead": round(overhead, 3),
        "target": TARGET,
        "machine": machine(),
    }
    (args.out / "ledger-overhead.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
