"""Ledger benchmarks on the embedded store: append rate, proofs, tree recomputation.

    python -m bench.ledger [--leaves 1000000]

Appends random leaf hashes to the messages log of a fresh SQLite data folder through the same
``LedgerWriter`` ingest uses (in transactions of 5,000), then times inclusion-proof generation
(reading nodes from the database) and verification, and the full recomputation of the tree from
its stored leaves as ``ledger verify`` does it. Results: ``bench/out/ledger.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

from bench.run import ROOT
from chatkeeper.config import load_settings
from chatkeeper.ledger import CompactRange, MerkleLog, verify_inclusion
from chatkeeper.services import open_context
from chatkeeper.store.ledger import MESSAGES_LOG, LedgerWriter, SqlNodeStore


def main() -> None:
    """Append, prove, verify, recompute; print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    folder = args.out / "ledger-bench"
    if folder.exists():
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    ctx = open_context(load_settings(data_dir=folder), create=True)
    started = time.perf_counter()
    for start in range(0, args.leaves, 5000):
        batch = [os.urandom(32) for _ in range(min(5000, args.leaves - start))]
        with ctx.archive.writer() as writer:
            LedgerWriter(writer.connection, MESSAGES_LOG, "bench/messages").append(batch)
    append_seconds = time.perf_counter() - started
    rng = random.Random(1)
    generate, verify = [], []
    with ctx.archive.reader() as conn:
        store = SqlNodeStore(conn, MESSAGES_LOG)
        log = MerkleLog(store, size=args.leaves)
        root = log.root()
        for _ in range(2000):
            index = rng.randrange(args.leaves)
            t0 = time.perf_counter()
            proof = store.inclusion_proof(index, args.leaves, log.algorithm)
            t1 = time.perf_counter()
            verify_inclusion(store.get(0, index), index, args.leaves, proof, root)
            t2 = time.perf_counter()
            generate.append(t1 - t0)
            verify.append(t2 - t1)
        t0 = time.perf_counter()
        frontier = CompactRange()
        leaves = conn.exec_driver_sql(
            "SELECT hash FROM ledger_nodes WHERE log_id = ? AND level = 0 ORDER BY idx",
            (MESSAGES_LOG,),
        )
        for (leaf,) in leaves:
            frontier.extend([bytes(leaf)])
        assert frontier.root() == root
        recompute_seconds = time.perf_counter() - t0
    ctx.close()
    result = {
        "leaves": args.leaves,
        "append_per_second": round(args.leaves / append_seconds),
        "inclusion_generate_us_p50": round(statistics.median(generate) * 1e6, 1),
        "inclusion_verify_us_p50": round(statistics.median(verify) * 1e6, 1),
        "tree_recompute_seconds": round(recompute_seconds, 2),
        "tree_recompute_leaves_per_second": round(args.leaves / recompute_seconds),
    }
    (args.out / "ledger.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
