"""The archive-core benchmarks: ingest and Chinese search at scale, against a linear scan.

    python -m bench.run [--messages 1000000] [--out bench/out]

1. Writes a synthetic data set (``chatkeeper demo --out``) of canonical JSONL, once per size.
2. Ingests it into a fresh SQLite data folder with the ``chatkeeper`` command, as a user would,
   timing it end to end and reading the peak memory of each process.
3. Searches the result with 1-, 2-, 3- and 4-character terms and a two-term query, each with and
   without a date-range + department filter: the full service call (exact total, first page,
   snippets), and the index alone (count, first page).
4. Runs the same searches as a linear scan over the same messages held in memory, the baseline.

Results go to ``<out>/results.json`` and into the generated part of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench import report
from chatkeeper.config import load_settings
from chatkeeper.domain import Actor
from chatkeeper.search import filter_token, fold, parse
from chatkeeper.services import open_context
from chatkeeper.services.search import SearchRequest, search
from chatkeeper.store import ids
from chatkeeper.store.search import IndexQuery

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = timezone(timedelta(hours=8))
TERMS = {
    "1 char": ["退", "票", "卡", "快", "诉"],
    "2 chars": ["退款", "发票", "快递", "投诉", "银行"],
    "3 chars": ["退货款", "信用卡", "身份证", "营业厅", "物流单"],
    "4 chars": ["申请退款", "增值税票", "银行卡号", "消费者协", "宽带套餐"],
    "two terms": ["退款 订单", "发票 抬头", "快递 地址", "投诉 处理", "银行卡 还款"],
}
DEPARTMENT = "售后服务部"
ROUNDS = 20


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
    }


def dataset(out: Path, messages: int) -> Path:
    """The benchmark's JSONL file, generated once per size."""
    path = out / f"demo-{messages}.jsonl"
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "chatkeeper", "demo", "--messages", str(messages),
             "--out", str(path)],
            check=True,
        )  # fmt: skip
    return path


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under a folder."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def bench_ingest(data: Path, folder: Path, messages: int) -> dict[str, Any]:
    """Ingest the file end to end with the CLI; rate, peak memory, bytes on disk."""
    shutil.rmtree(folder, ignore_errors=True)
    cli = [sys.executable, "-m", "chatkeeper"]
    subprocess.run([*cli, "init", "--data-dir", str(folder)], check=True, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    run = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cli, "ingest", str(data), "--data-dir", str(folder),
         "--json"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    summary = json.loads(run.stdout)
    main_peak_kib = int(run.stderr.strip().splitlines()[-1])
    children_peak_kib = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    disk = folder_bytes(folder)
    source = data.stat().st_size
    return {
        "messages": messages,
        "ingested": summary["ingested"],
        "seconds": round(seconds, 2),
        "messages_per_second": round(summary["ingested"] / seconds),
        "peak_rss_main_mib": round(main_peak_kib / 1024, 1),
        "peak_rss_any_process_mib": round(children_peak_kib / 1024, 1),
        "source_bytes": source,
        "data_folder_bytes": disk,
        "bytes_per_message": round(disk / messages, 1),
        "source_bytes_per_message": round(source / messages, 1),
        "folder_to_source_ratio": round(disk / source, 3),
    }


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3), "p95_ms": round(p95 * 1000, 3)}


def _timed(action: Any, rounds: int = ROUNDS) -> list[float]:
    action()  # warm the page cache and the query plan
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def bench_search(folder: Path) -> dict[str, Any]:
    """Service and index latencies, and the linear scan of the same messages."""
    ctx = open_context(load_settings(data_dir=folder))
    actor = Actor("bench", frozenset({"system"}))
    archive = ctx.archive
    with archive.reader() as conn:
        newest = conn.exec_driver_sql("SELECT max(sent_at) FROM messages").scalar_one()
        department_id = conn.exec_driver_sql(
            "SELECT id FROM departments WHERE name = ?", (DEPARTMENT,)
        ).scalar_one()
        corpus = scan_corpus(conn)
    until = datetime.fromtimestamp(newest / 1000, tz=SHANGHAI) + timedelta(seconds=1)
    since = until - timedelta(days=30)
    results: dict[str, Any] = {}
    for label, terms in TERMS.items():
        for filtered in (False, True):
            key = f"{label}, {'date range + department' if filtered else 'no filter'}"
            results[key] = _one_case(
                ctx, actor, corpus, terms, filtered, since, until, department_id
            )
    ctx.close()
    return results


def _one_case(ctx, actor, corpus, terms, filtered, since, until, department_id) -> dict:  # type: ignore[no-untyped-def]
    service, count, page, scan, totals = [], [], [], [], []
    filters: dict[str, Any] = (
        {"since": since, "until": until, "departments": (DEPARTMENT,)} if filtered else {}
    )
    low, high = ids.id_range(int(since.timestamp() * 1000), int(until.timestamp() * 1000))
    for term in terms:
        request = SearchRequest(term, limit=20, **filters)
        result = search(ctx, actor, request)
        totals.append(result.total)
        service += _timed(lambda request=request: search(ctx, actor, request))
        node = parse(term)
        groups = ((filter_token("d", department_id),),) if filtered else ()
        bounds = (low, high) if filtered else (None, None)
        count_query = IndexQuery(node, groups, *bounds, "time", 0, 0)
        page_query = IndexQuery(node, groups, *bounds, "time", 20, 0)
        with ctx.archive.reader() as conn:
            count += _timed(lambda q=count_query, c=conn: ctx.archive.index.search(c, q))
            page += _timed(lambda q=page_query, c=conn: _page_only(c, q))
        scanned = _timed(
            lambda node=node: linear_scan(corpus, node, filtered, since, until, department_id),
            rounds=3,
        )
        hits = linear_scan(corpus, node, filtered, since, until, department_id)
        if hits != result.total:
            raise SystemExit(f"index total {result.total} != scan total {hits} for {term!r}")
        scan += scanned
    out = {
        "terms": terms,
        "totals": totals,
        "service_total_and_first_page": percentiles(service),
        "index_exact_count": percentiles(count),
        "index_first_page": percentiles(page),
        "linear_scan": percentiles(scan),
    }
    out["scan_over_service_p50"] = round(
        out["linear_scan"]["p50_ms"] / out["service_total_and_first_page"]["p50_ms"], 1
    )
    return out


def _page_only(conn: Any, query: IndexQuery) -> list[int]:
    """The first page of ids without the total (the SQLite index's own call)."""
    from chatkeeper.store.search.sqlite_fts5 import Fts5Index

    return Fts5Index().page(conn, query)


def scan_corpus(conn: Any) -> list[tuple[str, int, int | None]]:
    """Every message's folded text, send time and department, in memory."""
    rows = conn.exec_driver_sql(
        "SELECT m.text, m.sent_at, c.department_id FROM messages m "
        "JOIN conversations c ON c.id = m.conversation_id WHERE m.text IS NOT NULL"
    )
    return [(" ".join(fold(text).split()), sent, dept) for text, sent, dept in rows]


def linear_scan(corpus, node, filtered, since, until, department_id) -> int:  # type: ignore[no-untyped-def]
    """The baseline: test every message in memory (the same definition as the index).

    As fast as a scan can fairly be: a plain term is one ``in`` test per message, and the
    cheap filters are tested before the text.
    """
    from chatkeeper.search import Term, matches

    if isinstance(node, Term):
        needle = node.folded

        def test(text: str) -> bool:
            return needle in text
    else:

        def test(text: str) -> bool:
            return matches(node, text)

    if not filtered:
        return sum(1 for text, _, _ in corpus if test(text))
    low, high = int(since.timestamp() * 1000), int(until.timestamp() * 1000)
    return sum(
        1
        for text, sent, dept in corpus
        if dept == department_id and low <= sent < high and test(text)
    )


def main() -> None:
    """Run everything and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--skip-ingest", action="store_true", help="reuse the last data folder")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = dataset(args.out, args.messages)
    folder = args.out / f"data-{args.messages}"
    results: dict[str, Any] = {
        "machine": machine(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    previous = args.out / f"results-{args.messages}.json"
    if not args.skip_ingest:
        results["ingest"] = bench_ingest(data, folder, args.messages)
        print(json.dumps(results["ingest"], ensure_ascii=False, indent=1))
    elif previous.exists():
        results["ingest"] = json.loads(previous.read_text(encoding="utf-8")).get("ingest")
    results["search"] = bench_search(folder)
    previous.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    report.write(ROOT / "docs" / "benchmarks.md", results)
    print(report.search_table(results["search"]))


if __name__ == "__main__":
    main()
