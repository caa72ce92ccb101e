"""How long the daily job takes to plan over an archive the size of 10M messages.

    python -m bench.lifecycle_plan [--conversations 630000] [--holds 20]

Planning reads conversations, not messages: the demo data set holds 15.9 messages per
conversation, so 10,000,000 messages make about 630,000 conversations. The benchmark fills a
fresh SQLite archive with that many conversation rows (platforms, departments, service types,
customers with tags, service dates spread over three years, some already in the recycle bin)
straight through SQL — ingesting 10M messages would take most of an hour and change nothing the
planner reads — adds legal holds by department, customer and date range, and times
``lifecycle run --dry-run`` (the service: facts read from the database, holds evaluated, plan,
audit) twice. The result goes to ``<out>/lifecycle-plan.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.run import ROOT, machine
from chatkeeper.config import load_settings
from chatkeeper.domain import Actor
from chatkeeper.services import open_context
from chatkeeper.services.holds import create_hold
from chatkeeper.services.lifecycle import run_lifecycle

ACTOR = Actor("bench", frozenset({"system"}))
TARGET_SECONDS = 10.0
TYPES = ("consultation", "after_sales", "complaint", "transaction", "legal_dispute")
DEPARTMENTS = ("售后服务部", "投诉处理部", "售前咨询部", "财务部", "法务部")
DAY = 86_400_000


def _fill(ctx, conversations: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    now = ctx.now_ms()
    with ctx.archive.writer() as writer:
        conn = writer.connection
        for code in ("wecom", "sobot", "xiaoneng", "webchat"):
            conn.exec_driver_sql("INSERT INTO platforms (code) VALUES (?)", (code,))
        for name in DEPARTMENTS:
            conn.exec_driver_sql("INSERT INTO departments (name) VALUES (?)", (name,))
        conn.exec_driver_sql("INSERT INTO tags (name) VALUES ('vip')")
        services = dict(conn.exec_driver_sql("SELECT code, id FROM service_types").all())
        customers = conversations // 3
        conn.connection.executemany(
            "INSERT INTO customers (platform_id, external_id) VALUES (?, ?)",
            [(1 + i % 4, f"cust-{i}") for i in range(customers)],
        )
        conn.connection.executemany(
            "INSERT INTO customer_tags (customer_id, tag_id) VALUES (?, 1)",
            [(i,) for i in range(1, customers, 10)],
        )
        rows = []
        for i in range(conversations):
            ended = now - rng.randrange(0, 3 * 365) * DAY
            state = "recycle_bin" if i % 50 == 0 else "active"
            rows.append((1 + i % 4, f"conv-{i}", 1 + i % 5, 1 + rng.randrange(customers),
                         services[rng.choice(TYPES)], ended - 3_600_000, ended, 16, state,
                         now, now))  # fmt: skip
        conn.connection.executemany(
            "INSERT INTO conversations (platform_id, external_id, department_id, customer_id,"
            " service_type_id, started_at, ended_at, message_count, state, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.connection.executemany(
            "INSERT INTO recycle_bin (conversation_id, binned_at, binned_by, reason,"
            " previous_state) VALUES (?, ?, 'bench', 'bench', 'active')",
            [(i + 1, now - rng.randrange(0, 60) * DAY) for i in range(0, conversations, 50)],
        )


def main() -> None:
    """Fill, hold, plan twice."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=630_000)
    parser.add_argument("--holds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    folder = args.out / "lifecycle-plan"
    shutil.rmtree(folder, ignore_errors=True)
    ctx = open_context(load_settings(data_dir=folder), create=True)
    started = time.perf_counter()
    _fill(ctx, args.conversations, 7)
    filled = time.perf_counter() - started
    legal = Actor("bench-legal", frozenset({"system"}))
    for n in range(args.holds):  # one department, then customers and service-date ranges
        if n == 0:
            create_hold(ctx, legal, f"h{n}", reason="bench", departments=[DEPARTMENTS[4]])
        elif n % 2:
            create_hold(ctx, legal, f"h{n}", reason="bench", customers=[f"cust-{n * 97}"])
        else:
            start = datetime(2025, 1 + n % 12, 1, tzinfo=UTC)
            create_hold(ctx, legal, f"h{n}", reason="bench", since=start,
                        until=start.replace(day=10))  # fmt: skip
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        plan = run_lifecycle(ctx, ACTOR, dry_run=True)
        times.append(time.perf_counter() - t0)
    ctx.close()
    result = {
        "conversations": args.conversations,
        "messages_equivalent": round(args.conversations * 15.9),
        "holds": args.holds,
        "fill_seconds": round(filled, 1),
        "plan_seconds": [round(t, 2) for t in times],
        "target_seconds": TARGET_SECONDS,
        "summary": {
            k: plan[k]
            for k in ("archived", "to_recycle_bin", "purged", "held", "kept_by_floor", "stayed")
        },
        "machine": machine(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lifecycle-plan.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
