"""The purge benchmark: crypto-shred a million messages on SQLite.

    python -m bench.purge [--messages 1000000] [--out bench/out] [--direct]

1. Writes the demo data set (``chatkeeper demo --out``), once per size, as ``bench.run`` does.
2. Ingests it into a fresh SQLite data folder through the service, as a system job.
3. Puts every conversation in the recycle bin (the daily job's first step: index entries
   removed), then purges them all in one run (keys destroyed, rows deleted, tombstones, the
   signed certificate, the purged leaves, the audit event), timing each step. With
   ``--direct`` the conversations are purged straight from the active state instead (the
   purge then removes the index entries itself: the slowest path).
4. Verifies the ledger afterwards: every message counted as purged, no finding.

The result goes to ``<out>/purge.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from bench.run import ROOT, dataset, folder_bytes, machine
from chatkeeper.config import load_settings
from chatkeeper.domain import Actor
from chatkeeper.services import Context, open_context
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.ledger import verify_ledger
from chatkeeper.services.purge import purge
from chatkeeper.services.recycle import move_to_bin

ACTOR = Actor("bench", frozenset({"system"}))
TARGET_SECONDS = 60.0


def _count(ctx: Context, sql: str) -> int:
    with ctx.archive.reader() as connection:
        return int(connection.exec_driver_sql(sql).scalar_one())


def bench_purge(data: Path, folder: Path, direct: bool) -> dict[str, Any]:
    """Ingest, bin, purge, verify; seconds and counts of each step."""
    shutil.rmtree(folder, ignore_errors=True)
    ctx = open_context(load_settings(data_dir=folder), create=True)
    try:
        started = time.perf_counter()
        ingest_files(ctx, ACTOR, [data], "jsonl")
        ingest_seconds = time.perf_counter() - started
        messages = _count(ctx, "SELECT count(*) FROM messages")
        vault = _count(ctx, "SELECT count(*) FROM pii_vault")
        bytes_before = folder_bytes(folder)
        with ctx.archive.reader() as connection:
            pks = [row[0] for row in connection.exec_driver_sql("SELECT id FROM conversations")]
        bin_seconds = 0.0
        if not direct:
            started = time.perf_counter()
            move_to_bin(ctx, ACTOR, pks, "retention deadline reached")
            bin_seconds = time.perf_counter() - started
        started = time.perf_counter()
        certificate = purge(ctx, ACTOR, pks, reason="recycle-bin window elapsed")
        purge_seconds = time.perf_counter() - started
        started = time.perf_counter()
        report = verify_ledger(ctx, ACTOR)
        verify_seconds = time.perf_counter() - started
        left = _count(ctx, "SELECT count(*) FROM messages")
    finally:
        ctx.close()
    return {
        "messages": messages,
        "conversations": len(pks),
        "vault_entries": vault,
        "path": "active -> purged" if direct else "active -> recycle bin -> purged",
        "ingest_seconds": round(ingest_seconds, 2),
        "bin_seconds": round(bin_seconds, 2),
        "purge_seconds": round(purge_seconds, 2),
        "bin_and_purge_seconds": round(bin_seconds + purge_seconds, 2),
        "purged_messages_per_second": round(messages / purge_seconds),
        "target_seconds_per_million": TARGET_SECONDS,
        "purge_seconds_per_million": round(purge_seconds * 1_000_000 / messages, 2),
        "bin_and_purge_seconds_per_million": round(
            (bin_seconds + purge_seconds) * 1_000_000 / messages, 2
        ),
        "data_keys_destroyed": certificate["data_keys_destroyed"],
        "messages_left": left,
        "ledger_verify_seconds": round(verify_seconds, 2),
        "ledger_intact": report.intact,
        "ledger_purged": report.purged,
        "folder_bytes_before": bytes_before,
    }


def main() -> None:
    """Run the benchmark and write ``purge.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--direct", action="store_true", help="purge without the bin step")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = dataset(args.out, args.messages)
    result = {"machine": machine(), **bench_purge(data, args.out / "purge-data", args.direct)}
    (args.out / "purge.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
