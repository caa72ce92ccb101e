"""Accuracy and speed of the personal-data analyzer on the labelled sample.

    python -m bench.pii_accuracy [--sample PATH] [--out bench/out/pii-accuracy.json]

The sample (``../shared/samples/pii-sample.jsonl`` next to the repository, else the 3,000-line
copy in ``tests/samples``) holds short Chinese customer-service messages with ground-truth spans;
only values with valid check digits are true, and decoys (order and tracking numbers, bad check
digits, hotlines) are deliberately present.

A finding counts as a detection when its score is at least
:data:`~chatkeeper.privacy.recognizers.context.REPORT_THRESHOLD` (0.5): low-confidence findings (a
bad check digit next to a context word, a valid number right after 订单号) are reported by the
analyzer for masking but score below it, because the sample does not count them as true. A true
positive is a detection of the same type and exactly the same span as a labelled one.

Speed is ``default_analyzer().analyze`` over every message of the sample, best of three runs, on
one core; the table is printed as Markdown and everything is written as JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatkeeper.privacy.analyzer import default_analyzer
from chatkeeper.privacy.findings import PiiType
from chatkeeper.privacy.recognizers.context import REPORT_THRESHOLD

ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLE = ROOT.parent / "shared" / "samples" / "pii-sample.jsonl"
TEST_SAMPLE = ROOT / "tests" / "samples" / "pii-sample-3000.jsonl"
DEFAULT_OUT = ROOT / "bench" / "out" / "pii-accuracy.json"
ROUNDS = 3

Span = tuple[str, int, int]


def load(path: Path) -> list[tuple[str, set[Span]]]:
    """The sample's messages with their labelled spans as (type, start, end) sets."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                spans = {(s["type"], s["start"], s["end"]) for s in record["spans"]}
                rows.append((record["text"], spans))
    return rows


def score(rows: list[tuple[str, set[Span]]]) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 per type (and overall) of detections at or above the threshold."""
    analyzer = default_analyzer()
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for text, truth in rows:
        found = {
            (f.type.value, f.start, f.end)
            for f in analyzer.analyze(text)
            if f.score >= REPORT_THRESHOLD
        }
        for span in found & truth:
            tp[span[0]] += 1
        for span in found - truth:
            fp[span[0]] += 1
        for span in truth - found:
            fn[span[0]] += 1
    table = {
        kind.value: _metrics(tp[kind.value], fp[kind.value], fn[kind.value]) for kind in PiiType
    }
    table["ALL"] = _metrics(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return table


def _metrics(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Counts with precision, recall and F1 (1.0 where nothing was expected and nothing found)."""
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def speed(texts: list[str]) -> dict[str, float]:
    """Messages and megabytes (UTF-8) per second of ``analyze``, best of :data:`ROUNDS` runs."""
    analyze = default_analyzer().analyze
    analyze(texts[0])  # load the tables outside the timed runs
    best = float("inf")
    for _ in range(ROUNDS):
        began = time.perf_counter()
        for text in texts:
            analyze(text)
        best = min(best, time.perf_counter() - began)
    megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6
    return {
        "messages": len(texts),
        "seconds": best,
        "messages_per_s": len(texts) / best,
        "mb_per_s": megabytes / best,
    }


def markdown(table: dict[str, dict[str, float]], rate: dict[str, float]) -> str:
    """The results as a Markdown table followed by the scan rate."""
    lines = [
        "| type | TP | FP | FN | precision | recall | F1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, m in table.items():
        lines.append(
            f"| {kind} | {m['tp']:.0f} | {m['fp']:.0f} | {m['fn']:.0f} | "
            f"{m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} |"
        )
    lines.append("")
    lines.append(
        f"Scan rate: {rate['messages_per_s']:,.0f} messages/s, {rate['mb_per_s']:.2f} MB/s "
        f"({rate['messages']:,.0f} messages, best of {ROUNDS}, one core)."
    )
    return "\n".join(lines)


def default_sample() -> Path:
    """The full shared sample if it is there, else the copy kept with the tests."""
    return SHARED_SAMPLE if SHARED_SAMPLE.exists() else TEST_SAMPLE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the Markdown table and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=None, help="labelled JSONL sample")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args(argv)
    sample: Path = args.sample or default_sample()
    rows = load(sample)
    table = score(rows)
    rate = speed([text for text, _ in rows])
    print(markdown(table, rate))
    results: dict[str, Any] = {
        "sample": str(sample),
        "threshold": REPORT_THRESHOLD,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "types": table,
        "speed": rate,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
