"""Ingest with privacy and encryption against the archive core's plain ingest, same data, same run.

    python -m bench.privacy_ingest [--messages 200000]

Both runs go through ``ingest_files`` with the reader process, into fresh SQLite data folders:
the plain run with the core pipeline (normalise, validate, prepare, dedup, store + index), the
privacy run with the full one (adding detection and masking, encryption of the originals and the
vault). Results: ``bench/out/privacy-ingest.json`` and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from bench.run import ROOT, dataset, folder_bytes
from chatkeeper.config import load_settings
from chatkeeper.domain import Actor
from chatkeeper.ingest import default_steps
from chatkeeper.services import open_context
from chatkeeper.services.ingest import ingest_files, pipeline_steps


def _run(data: Path, folder: Path, private: bool) -> dict[str, Any]:
    shutil.rmtree(folder, ignore_errors=True)
    ctx = open_context(load_settings(data_dir=folder), create=True)
    steps = pipeline_steps(ctx) if private else default_steps()
    started = time.perf_counter()
    report = ingest_files(ctx, Actor("bench", frozenset({"system"})), [data], "jsonl", steps=steps)
    seconds = time.perf_counter() - started
    ctx.close()
    return {
        "ingested": report.ingested,
        "seconds": round(seconds, 2),
        "messages_per_second": round(report.ingested / seconds),
        "bytes_per_message": round(folder_bytes(folder) / report.ingested, 1),
    }


def main() -> None:
    """Both runs, then the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = dataset(args.out, args.messages)
    plain = _run(data, args.out / "plain", private=False)
    private = _run(data, args.out / "private", private=True)
    ratio = private["messages_per_second"] / plain["messages_per_second"]
    result = {
        "messages": args.messages,
        "plain": plain,
        "privacy": private,
        "ratio": round(ratio, 3),
    }
    (args.out / "privacy-ingest.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print("| pipeline | messages/s | seconds | bytes per message |")
    print("| --- | --- | --- | --- |")
    for name, run in (("plain (archive core)", plain), ("privacy + encryption", private)):
        print(f"| {name} | {run['messages_per_second']:,} | {run['seconds']} | "
              f"{run['bytes_per_message']} |")  # fmt: skip
    print(f"\nprivacy ÷ plain = {ratio:.2f}")


if __name__ == "__main__":
    main()
