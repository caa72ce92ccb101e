"""Hot and cold bytes per message, measured on one archive in one run; cold move and read rates.

    python -m bench.cold_storage [--messages 1000000] [--out bench/out]

1. Writes the demo data set (``chatkeeper demo --out``), once per size, as ``bench.run`` does,
   and ingests it into a fresh SQLite data folder through the service.
2. **Hot bytes per message**: what the hot tables spend on the messages that will move — the
   ``messages`` table and its two indexes, read from SQLite's ``dbstat`` after ``VACUUM``.
   Rows that stay put in both states (index entries, vault entries, ledger nodes, keys) are
   left out of both sides; the whole data folder per message is reported too.
3. Moves every conversation to cold storage with the daily job's step (a segment per service day
   up to ``lifecycle.segment_mb``, one transaction each: ``move_to_cold``), timing it.
4. **Cold bytes per message**: the segment files and the kept-apart dictionary in the blob
   store, plus the database rows cold storage keeps (``cold_blocks``, ``cold_messages``, their
   indexes, ``cold_segments``, ``cold_dictionaries``), again after ``VACUUM``. The target of the
   issue is cold ≤ 25 % of hot.
5. Reads: full transcripts of 200 random cold conversations, and search pages of 20 hits that
   are all cold (each hit read from its block), timed per call.

The result goes to ``<out>/cold-storage.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from bench.run import ROOT, dataset, folder_bytes, machine
from chatkeeper.config import load_settings
from chatkeeper.domain import Actor
from chatkeeper.services import Context, open_context
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.lifecycle import move_to_cold
from chatkeeper.services.search import SearchRequest, search

ACTOR = Actor("bench", frozenset({"system"}))
TARGET_SHARE = 0.25
HOT_TABLES = ("messages", "sqlite_autoindex_messages_1", "ix_messages_conversation_id_id")


def _table_bytes(database: Path) -> dict[str, int]:
    """Bytes per table and index after a VACUUM (``dbstat``)."""
    with sqlite3.connect(database) as db:
        db.execute("VACUUM")
        return {name: int(size) for name, size in db.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"
        )}  # fmt: skip


def _count(ctx: Context, sql: str) -> int:
    with ctx.archive.reader() as connection:
        return int(connection.exec_driver_sql(sql).scalar_one())


def _timed(calls: list[Any]) -> dict[str, float]:
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def bench_cold(data: Path, folder: Path) -> dict[str, Any]:
    """Ingest, measure hot, move everything cold, measure cold, read back."""
    shutil.rmtree(folder, ignore_errors=True)
    ctx = open_context(load_settings(data_dir=folder), create=True)
    database = folder / "chatkeeper.db"
    try:
        ingest_files(ctx, ACTOR, [data], "jsonl")
        messages = _count(ctx, "SELECT count(*) FROM messages")
        hot_sizes = {
            name: size for name, size in _table_bytes(database).items() if name in HOT_TABLES
        }
        hot = sum(hot_sizes.values())
        folder_hot = folder_bytes(folder)
        with ctx.archive.reader() as connection:
            pks = [int(r[0]) for r in connection.exec_driver_sql("SELECT id FROM conversations")]
        started = time.perf_counter()
        segments = move_to_cold(ctx, ACTOR, pks)["segments"]
        move_seconds = time.perf_counter() - started
        cold_messages = _count(ctx, "SELECT count(*) FROM cold_messages")
        assert cold_messages == messages, (cold_messages, messages)
        sizes = _table_bytes(database)
        cold_db = {name: size for name, size in sizes.items() if "cold" in name}
        assert ctx.archive.segments is not None
        store = ctx.archive.segments.directory
        segment_bytes = sum(p.stat().st_size for p in store.glob("*.cks"))
        dictionary_bytes = sum(p.stat().st_size for p in store.glob("dictionaries/*"))
        cold = segment_bytes + dictionary_bytes + sum(cold_db.values())
        rng = random.Random(5)
        with ctx.archive.reader() as connection:
            names = [
                r[0] for r in connection.exec_driver_sql("SELECT external_id FROM conversations")
            ]
        sample = rng.sample(names, min(200, len(names)))
        ctx.archive.kek = None  # the first read loads it, as in a fresh process
        transcripts = _timed([lambda c=c: show_conversation(ctx, ACTOR, c) for c in sample])
        pages = _timed(
            [
                lambda q=q: search(ctx, ACTOR, SearchRequest(q, limit=20))
                for q in ("退款", "订单", "发票", "物流", "您好")
            ]
        )
        return {
            "messages": messages,
            "conversations": len(pks),
            "hot_bytes_per_message": round(hot / messages, 1),
            "hot_parts_per_message": {
                n: round(v / messages, 1) for n, v in sorted(hot_sizes.items())
            },
            "folder_bytes_per_message_hot": round(folder_hot / messages, 1),
            "cold_bytes_per_message": round(cold / messages, 1),
            "cold_parts_per_message": {
                "segments": round(segment_bytes / messages, 1),
                "dictionary": round(dictionary_bytes / messages, 2),
                **{name: round(size / messages, 1) for name, size in sorted(cold_db.items())},
            },
            "cold_share_of_hot": round(cold / hot, 4),
            "target_share": TARGET_SHARE,
            "segments": segments,
            "move_seconds": round(move_seconds, 1),
            "move_messages_per_second": round(messages / move_seconds),
            "transcript_of_a_cold_conversation": transcripts,
            "search_page_of_cold_hits": pages,
        }
    finally:
        ctx.close()


def main() -> None:
    """Run the benchmark and write the result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    data = dataset(args.out, args.messages)
    result = {**bench_cold(data, args.out / "cold-storage"), "machine": machine()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cold-storage.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
