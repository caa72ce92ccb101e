"""A search test corpus: real-looking Chinese messages with known filter values.

The texts are the sample messages (``samples/pii-sample-3000.jsonl``); conversations, parties,
departments, tags, service types and times are assigned deterministically, consistently per
conversation and customer, so that the expected answer to any search can be computed by a
linear scan over these records alone.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from chatkeeper.search import fold, matches, parse

SAMPLE = Path(__file__).resolve().parent / "samples" / "pii-sample-3000.jsonl"
PLATFORMS = ["wecom", "sobot", "webchat"]
DEPARTMENTS = ["售后服务部", "投诉处理部", "金融客服部", "电商客服部"]
SERVICE_TYPES = ["consultation", "after_sales", "complaint", "transaction", "legal_dispute"]
TAGS = ["vip", "新客户", "高风险", "企业"]
START = datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=8)))


@cache
def texts() -> tuple[str, ...]:
    """The sample texts, in file order."""
    with SAMPLE.open("rb") as handle:
        return tuple(orjson.loads(line)["text"] for line in handle)


def build(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` canonical records in conversations of 3-12 messages."""
    rng = random.Random(seed)
    customers = [
        {"id": f"cust-{i:04d}", "tags": rng.sample(TAGS, rng.randint(0, 2))} for i in range(60)
    ]
    agents = [f"a{i:03d}" for i in range(12)]
    out: list[dict[str, Any]] = []
    pool = texts()
    conversation = 0
    while len(out) < count:
        conversation += 1
        customer = rng.choice(customers)
        agent = rng.choice(agents)
        meta = {
            "platform": rng.choice(PLATFORMS),
            "conversation_id": f"conv-{conversation:05d}",
            "department": rng.choice(DEPARTMENTS),
            "agent_id": agent,
            "agent_name": f"客服{agent}",
            "customer_id": customer["id"],
            "customer_tags": customer["tags"],
            "service_type": rng.choice(SERVICE_TYPES),
        }
        moment = START + timedelta(minutes=rng.randint(0, 60 * 24 * 120))
        for _ in range(min(rng.randint(3, 12), count - len(out))):
            moment += timedelta(seconds=rng.randint(5, 300))
            role = rng.choice(["customer", "customer", "agent", "agent", "bot", "system"])
            out.append(
                {
                    **meta,
                    "message_id": f"m-{len(out):06d}",
                    "sent_at": moment.isoformat(),
                    "sender_role": role,
                    "sender_id": customer["id"] if role == "customer" else agent,
                    "text": pool[len(out) % len(pool)],
                }
            )
    return out


def expected(records: list[dict[str, Any]], query: str, **filters: Any) -> set[str]:
    """The message ids a search must return: the linear scan that defines correctness."""
    node = parse(query)
    since, until = filters.get("since"), filters.get("until")
    found = set()
    for r in records:
        if not matches(node, " ".join(fold(r["text"]).split())):
            continue
        sent = datetime.fromisoformat(r["sent_at"])
        if since is not None and sent < since:
            continue
        if until is not None and sent >= until:
            continue
        checks = [
            ("platforms", r["platform"]),
            ("departments", r["department"]),
            ("agents", r["agent_id"]),
            ("customers", r["customer_id"]),
            ("service_types", r["service_type"]),
            ("sender_roles", r["sender_role"]),
        ]
        if any(filters.get(name) and value not in filters[name] for name, value in checks):
            continue
        tags = filters.get("customer_tags")
        if tags and not set(tags) & set(r["customer_tags"]):
            continue
        found.add(r["message_id"])
    return found


def as_stored(ctx: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records as the archive searches them, after ingest: the stored (masked) text, and the
    stored service type (classification may have given another than the source did)."""
    with ctx.archive.reader() as connection:
        stored = dict(connection.exec_driver_sql("SELECT external_id, text FROM messages").all())
        types = dict(
            connection.exec_driver_sql(
                "SELECT m.external_id, s.code FROM messages m JOIN conversations c"
                " ON c.id = m.conversation_id JOIN service_types s ON s.id = c.service_type_id"
            ).all()
        )
    return [
        {**r, "text": stored[r["message_id"]], "service_type": types.get(r["message_id"])}
        for r in records
    ]
