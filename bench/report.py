"""Writes benchmark results into ``docs/benchmarks.md`` (the part between the markers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN, END = "<!-- archive-core results: begin -->", "<!-- archive-core results: end -->"


def search_table(search: dict[str, Any]) -> str:
    """The search latencies as a Markdown table."""
    lines = [
        "| query | total (of 5 terms) | service: exact total + first page p50 / p95 | "
        "index count p50 / p95 | index first page p50 / p95 | linear scan p50 / p95 | "
        "scan ÷ service (p50) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, case in search.items():

        def cell(key: str, case: dict[str, Any] = case) -> str:
            return f"{case[key]['p50_ms']:.2f} / {case[key]['p95_ms']:.2f} ms"

        lines.append(
            f"| {name} | {min(case['totals'])}–{max(case['totals'])} | "
            f"{cell('service_total_and_first_page')} | {cell('index_exact_count')} | "
            f"{cell('index_first_page')} | {cell('linear_scan')} | "
            f"{case['scan_over_service_p50']}× |"
        )
    return "\n".join(lines)


def ingest_table(ingest: dict[str, Any]) -> str:
    """The ingest figures as a Markdown table."""
    return "\n".join(
        [
            "| figure | value |",
            "| --- | --- |",
            f"| messages | {ingest['messages']:,} "
            f"({ingest['source_bytes'] / 2**20:.0f} MiB of JSONL, "
            f"{ingest['source_bytes_per_message']} B per message) |",
            f"| end to end (CLI, `chatkeeper ingest`) | {ingest['seconds']} s, "
            f"**{ingest['messages_per_second']:,} messages/s** |",
            f"| peak memory | main process {ingest['peak_rss_main_mib']} MiB; "
            f"largest process {ingest['peak_rss_any_process_mib']} MiB |",
            f"| data folder | {ingest['data_folder_bytes'] / 2**20:.0f} MiB, "
            f"{ingest['bytes_per_message']} B per message, "
            f"**{ingest['folder_to_source_ratio']}× the JSONL** |",
        ]
    )


def render(results: dict[str, Any]) -> str:
    """The generated section."""
    m = results["machine"]
    parts = [
        BEGIN,
        f"Measured {results['when']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Python {m['python']}, SQLite {m['sqlite']}.",
        "",
    ]
    if results.get("ingest"):
        parts += ["#### Ingest", "", ingest_table(results["ingest"]), ""]
    parts += ["#### Search", "", search_table(results["search"]), "", END]
    return "\n".join(parts)


def write(path: Path, results: dict[str, Any]) -> None:
    """Replace the generated section of the document (or append it)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    section = render(results)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
