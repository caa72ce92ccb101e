"""Ledger benchmarks on the embedded store: append rate, proofs, tree recomputation.

    python -m bench.ledger [--leaves 1000000] [--proofs 2000] [--database-url URL]

Appends random leaf hashes to the messages log of a fresh data folder (SQLite, or the database
``--database-url`` names, which must be empty) through the same ``LedgerWriter`` ingest uses (in
transactions of 5,000), then times inclusion-proof generation from the database and
verification, and the full recomputation of the tree from its stored leaves as ``ledger verify``
does it. Proof generation is timed twice: on one store for the whole run, as an evidence export
uses it (the upper levels of the tree come from memory after the first proofs), and on a fresh
store per proof (a single proof: every node from the database). Results:
``bench/out/ledger.json``.
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
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--database-url", help="another backend (default: SQLite in the folder)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    folder = args.out / "ledger-bench"
    if folder.exists():
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    overrides = {"database_url": args.database_url} if args.database_url else {}
    ctx = open_context(load_settings(data_dir=folder, **overrides), create=True)
    started = time.perf_counter()
    for start in range(0, args.leaves, 5000):
        batch = [os.urandom(32) for _ in range(min(5000, args.leaves - start))]
        with ctx.archive.writer() as writer:
            LedgerWriter(writer.connection, MESSAGES_LOG, "bench/messages").append(batch)
    append_seconds = time.perf_counter() - started
    rng = random.Random(1)
    generate, cold, verify = [], [], []
    with ctx.archive.reader() as conn:
        store = SqlNodeStore(conn, MESSAGES_LOG)
        log = MerkleLog(store, size=args.leaves)
        root = log.root()
        indexes = [rng.randrange(args.leaves) for _ in range(args.proofs)]
        for index in indexes[:500]:  # warm the database's page cache, as a running server has it
            SqlNodeStore(conn, MESSAGES_LOG).inclusion_proof(index, args.leaves, log.algorithm)
        for index in indexes:
            # one store for the whole run, as an evidence export uses it: upper levels from memory
            t0 = time.perf_counter()
            proof = store.inclusion_proof(index, args.leaves, log.algorithm)
            generate.append(time.perf_counter() - t0)
            leaf = store.get(0, index)  # not timed: a verifier is handed the leaf hash
            t0 = time.perf_counter()
            verify_inclusion(leaf, index, args.leaves, proof, root)
            verify.append(time.perf_counter() - t0)
        for _ in indexes:  # other leaves than above, whose pages the loop above cached
            index = rng.randrange(args.leaves)
            fresh = SqlNodeStore(conn, MESSAGES_LOG)  # a single proof: every node from the database
            t0 = time.perf_counter()
            fresh.inclusion_proof(index, args.leaves, log.algorithm)
            cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        frontier = CompactRange()
        leaves = conn.exec_driver_sql(
            f"SELECT hash FROM ledger_nodes WHERE log_id = {MESSAGES_LOG} AND level = 0 "
            "ORDER BY idx"
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
        "inclusion_generate_single_us_p50": round(statistics.median(cold) * 1e6, 1),
        "inclusion_verify_us_p50": round(statistics.median(verify) * 1e6, 1),
        "tree_recompute_seconds": round(recompute_seconds, 2),
        "tree_recompute_leaves_per_second": round(args.leaves / recompute_seconds),
    }
    (args.out / "ledger.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
