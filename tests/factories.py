"""Builders for realistic zh-CN canonical records, and files of them."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

_counter = itertools.count(1)


def record(**fields: Any) -> dict[str, Any]:
    """One canonical record with sensible defaults; keyword arguments override fields."""
    n = next(_counter)
    base: dict[str, Any] = {
        "platform": "webchat",
        "conversation_id": "conv-1",
        "message_id": f"msg-{n:06d}",
        "sent_at": f"2025-03-01T10:{(n // 60) % 60:02d}:{n % 60:02d}+08:00",
        "sender_role": "customer",
        "sender_id": "cust-1",
        "sender_name": "王小明",
        "text": "你好，我想申请退款",
        "msgtype": "text",
        "department": "售后服务部",
        "agent_id": "a001",
        "agent_name": "陈静",
        "customer_id": "cust-1",
        "customer_tags": ["vip"],
        "service_type": "after_sales",
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def write_jsonl(path: Path, records: Iterable[dict[str, Any] | str]) -> Path:
    """Write records (dicts, or raw lines for malformed input) as JSON Lines."""
    with path.open("wb") as handle:
        for item in records:
            line = item.encode() if isinstance(item, str) else orjson.dumps(item)
            handle.write(line + b"\n")
    return path


def write_csv(path: Path, records: Iterable[dict[str, Any]], columns: list[str]) -> Path:
    """Write records as canonical CSV (tags joined by |)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for item in records:
            row = []
            for column in columns:
                value = item.get(column, "")
                if isinstance(value, list):
                    value = "|".join(value)
                row.append(value)
            writer.writerow(row)
    return path


def make_cold(ctx: Any, conversation_ids: Iterable[str] | None = None) -> list[int]:
    """Move conversations (platform external ids; every active one if ``None``) into cold
    storage now, as the daily job does for those past ``cold_after_days``; their database ids."""
    from chatkeeper.domain import Actor
    from chatkeeper.services.lifecycle import move_to_cold

    with ctx.archive.reader() as connection:
        rows = connection.exec_driver_sql(
            "SELECT id, external_id FROM conversations WHERE state = 'active' ORDER BY id"
        ).all()
    wanted = None if conversation_ids is None else set(conversation_ids)
    pks = [int(pk) for pk, external in rows if wanted is None or external in wanted]
    move_to_cold(ctx, Actor("tests", frozenset({"system"})), pks)
    return pks
