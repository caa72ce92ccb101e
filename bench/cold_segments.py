"""Lifecycle benchmarks: planning rate of ``decide()``, and cold bytes per message in segments.

    python -m bench.cold_segments [--conversations 500000] [--messages 200000]

1. **Planning.** Builds ``--conversations`` synthetic :class:`ConversationFacts` (the demo's mix
   of service types, every lifecycle state, service dates over four years, 20 legal holds by
   customer, conversation, department and date range) and times ``decide()`` over them with the
   shipped policy and floors: every decision taken, totals at the end. The issue's target is a
   run over 10M stored messages planned in ≤ 10 s; the conversations that many messages make
   come from the demo's messages per conversation.
2. **Cold bytes per message.** Generates ``--messages`` demo messages (``chatkeeper.demo``),
   serialises each as compact JSON of its original fields, trains a zstd dictionary on other
   demo data (seed + 1; masked, as production must: the dictionary is stored in clear), writes
   segments of ``--per-segment`` conversations to a folder (each conversation compressed with the
   dictionary, then sealed with ``chatkeeper.crypto.encrypt`` under its own AES-256-GCM data
   key), and reports the folder's bytes per message, the ratio to the raw JSON and to the hot
   figure. It also reports variants (no dictionary, levels, dictionary sizes, an unmasked
   training sample) by compressed size alone, and the rate of reading conversations back.

Results: ``bench/out/cold_segments.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import groupby, islice
from pathlib import Path
from typing import Any

import orjson
import zstandard

from bench.run import ROOT, machine
from chatkeeper.crypto import DataKey, decrypt, encrypt, generate_data_key
from chatkeeper.demo import SERVICE_TYPES, generate_records
from chatkeeper.lifecycle import (
    DEFAULT_LEVEL,
    ConversationFacts,
    LegalHold,
    LocalSegmentStore,
    RecordCodec,
    SegmentDictionary,
    State,
    decide,
    default_floors,
    default_policy,
    default_settings,
    train_dictionary,
)
from chatkeeper.lifecycle.schedule import zone_info
from chatkeeper.privacy.analyzer import default_analyzer
from chatkeeper.privacy.operators import apply, mask_value

SHANGHAI = zone_info("Asia/Shanghai")
NOW = datetime(2026, 11, 1, 22, 0, tzinfo=SHANGHAI)
HOT_BYTES_PER_MESSAGE = (700, 750)  # today's data folder per message, with encryption and ledger
TARGET_SHARE = 0.25
DEPARTMENTS = ("电商客服部", "金融客服部", "电信客服部", "售后服务部", "投诉处理部", "法务部")
PLATFORMS = ("webchat", "sobot", "xiaoneng", "wecom", "dingtalk")


# --- 1. planning ---------------------------------------------------------------------------


def synthetic_conversations(count: int, seed: int = 7) -> list[ConversationFacts]:
    """``count`` conversations in every state, ended over the four years before NOW."""
    rng = random.Random(seed)
    states = (State.ACTIVE, State.ARCHIVED, State.RECYCLE_BIN, State.PURGED)
    conversations = []
    for number in range(count):
        ended = NOW - timedelta(seconds=rng.randrange(4 * 365 * 86_400))
        state = rng.choices(states, weights=(10, 80, 5, 5))[0]
        since = (
            ended + timedelta(days=rng.randrange(30, 400)) if state is not State.ACTIVE else None
        )
        conversations.append(
            ConversationFacts(
                id=f"c{number:08d}",
                service_type=rng.choices(SERVICE_TYPES, weights=(36, 24, 17, 17, 6))[0],
                ended_at=ended,
                state=state,
                state_since=min(since, NOW) if since else None,
                department=rng.choice(DEPARTMENTS),
                platform=rng.choice(PLATFORMS),
                customer=f"u{rng.randrange(count // 3 + 1):07d}",
                tags=("VIP",) if rng.random() < 0.05 else (),
                started_at=ended - timedelta(minutes=rng.randrange(1, 90)),
            )
        )
    return conversations


def holds() -> list[LegalHold]:
    """Twenty holds of every kind, as a busy legal department might have in force."""
    found = [LegalHold(f"H-cust-{i}", customers=frozenset({f"u{i * 997:07d}"})) for i in range(12)]
    found += [
        LegalHold(f"H-conv-{i}", conversations=frozenset({f"c{i * 7919:08d}"})) for i in range(5)
    ]
    found.append(LegalHold("H-dept", departments=frozenset({"法务部"})))
    found.append(
        LegalHold("H-dates", service_dates=(NOW - timedelta(days=800), NOW - timedelta(days=790)))
    )
    found.append(LegalHold("H-query", query="退款 投诉", query_matches=frozenset({"c00000042"})))
    return found


def bench_decide(count: int, messages_per_conversation: float) -> dict[str, Any]:
    """Time decide() over ``count`` conversations, best of three."""
    conversations = synthetic_conversations(count)
    policy, floors, settings, in_force = (
        default_policy(),
        default_floors(),
        default_settings(),
        holds(),
    )
    runs, totals = [], None
    for _ in range(3):
        started = time.perf_counter()
        plan = decide(iter(conversations), policy, floors, in_force, NOW, settings)
        moved = sum(1 for decision in plan if decision.moves)
        totals = plan.totals()
        runs.append(time.perf_counter() - started)
    best = min(runs)
    rate = count / best
    conversations_for_10m = 10_000_000 / messages_per_conversation
    assert totals is not None
    return {
        "conversations": count,
        "seconds_best_of_3": round(best, 3),
        "seconds_runs": [round(r, 3) for r in runs],
        "conversations_per_second": round(rate),
        "moves": moved,
        "totals": {rule: vars_of(t) for rule, t in totals.items()},
        "messages_per_conversation": round(messages_per_conversation, 2),
        "conversations_in_10m_messages": round(conversations_for_10m),
        "seconds_for_10m_messages": round(conversations_for_10m / rate, 2),
        "target_seconds_for_10m_messages": 10,
    }


def vars_of(totals: Any) -> dict[str, int]:
    """A RuleTotals as a plain dict."""
    return {name: getattr(totals, name) for name in totals.__dataclass_fields__}


# --- 2. cold bytes per message ----------------------------------------------------------------


def conversations_of(messages: int, seed: int) -> Iterator[tuple[str, list[bytes]]]:
    """The demo messages as (conversation id, compact JSON records), one conversation at a time."""
    records = generate_records(messages, seed=seed)
    for conversation_id, group in groupby(records, key=lambda r: r["conversation_id"]):
        yield conversation_id, [orjson.dumps(r) for r in group]


_PERSONAL_FIELDS = {"sender_name": "[姓名]", "agent_name": "[姓名]", "customer_id": "[客户]"}


def masked(record: dict[str, Any]) -> bytes:
    """A record with personal data removed: what the dictionary may be trained on."""
    copy = dict(record)
    for field, placeholder in _PERSONAL_FIELDS.items():
        if copy.get(field):
            copy[field] = placeholder
    if copy.get("sender_role") == "customer":
        copy["sender_id"] = "[客户]"
    text = copy.get("text")
    if text:
        findings = default_analyzer().analyze(text)
        copy["text"] = apply(text, findings, lambda finding, value: mask_value(finding.type, value))
    return orjson.dumps(copy)


def training_samples(count: int, seed: int, *, mask: bool) -> list[bytes]:
    """``count`` records of other demo data (another seed), masked or not."""
    records = generate_records(count, seed=seed)
    return [masked(r) if mask else orjson.dumps(r) for r in records]


def compressed_size(
    conversations: list[tuple[str, list[bytes]]], dictionary: SegmentDictionary | None, level: int
) -> tuple[int, float]:
    """Compressed bytes of every conversation's block (no encryption, no segment), and seconds."""
    started = time.perf_counter()
    if dictionary is None:
        compressor = zstandard.ZstdCompressor(level=level, write_checksum=False)
        size = sum(len(compressor.compress(b"".join(records))) for _, records in conversations)
    else:
        codec = RecordCodec(dictionary, level)
        size = sum(len(codec.compress(records)) for _, records in conversations)
    return size, time.perf_counter() - started


def bench_cold(messages: int, per_segment: int, level: int, out: Path) -> dict[str, Any]:
    """Write the demo messages into segments and measure bytes per message; variants by size."""
    conversations = list(conversations_of(messages, seed=20250101))
    raw = sum(len(r) for _, records in conversations for r in records)
    started = time.perf_counter()
    dictionary = train_dictionary(training_samples(20_000, seed=20250102, mask=True))
    train_seconds = time.perf_counter() - started

    folder = out / "cold-segments-bench"
    shutil.rmtree(folder, ignore_errors=True)
    store = LocalSegmentStore(folder)
    keys: dict[str, DataKey] = {}

    def seal(conversation_id: str, plaintext: bytes) -> bytes:
        key = keys[conversation_id] = generate_data_key()
        return encrypt(plaintext, key, context=conversation_id.encode())

    def unseal(conversation_id: str, ciphertext: bytes) -> bytes:
        return decrypt(ciphertext, keys[conversation_id], context=conversation_id.encode())

    codec = RecordCodec(dictionary, level)
    started = time.perf_counter()
    segment_ids = []
    chunks = iter(conversations)
    while chunk := list(islice(chunks, per_segment)):
        segment_id = f"seg-{len(segment_ids):04d}"
        store.write(segment_id, chunk, dictionary, seal, codec=codec)
        segment_ids.append(segment_id)
    write_seconds = time.perf_counter() - started
    cold = sum(store.path(s).stat().st_size for s in segment_ids)
    dictionary_bytes = len(segment_ids) * len(dictionary.data)

    rng = random.Random(3)
    sample = rng.sample(conversations, min(2000, len(conversations)))
    index = {c: s for s in segment_ids for c in store.open(s).entries}
    readers = {s: store.open(s) for s in segment_ids}
    reads = []
    for conversation_id, records in sample:
        t0 = time.perf_counter()
        assert readers[index[conversation_id]].read(conversation_id, unseal) == records
        reads.append(time.perf_counter() - t0)
    for reader in readers.values():
        reader.close()

    per_message = cold / messages
    result = {
        "messages": messages,
        "conversations": len(conversations),
        "segments": len(segment_ids),
        "conversations_per_segment": per_segment,
        "zstd_level": level,
        "dictionary_bytes": len(dictionary.data),
        "dictionary_trained_on": "20,000 masked records of other demo data (seed 20250102)",
        "dictionary_train_seconds": round(train_seconds, 2),
        "raw_json_bytes_per_message": round(raw / messages, 1),
        "cold_bytes_per_message": round(per_message, 1),
        "cold_bytes_per_message_without_dictionary_copies": round(
            (cold - dictionary_bytes) / messages, 1
        ),
        "compression_ratio_raw_to_cold": round(raw / cold, 2),
        "cold_share_of_hot_700_750": [round(per_message / h, 3) for h in HOT_BYTES_PER_MESSAGE],
        "target_share_of_hot": TARGET_SHARE,
        "write_messages_per_second": round(messages / write_seconds),
        "read_conversation_ms_p50": round(statistics.median(reads) * 1000, 3),
        "read_conversation_ms_p95": round(sorted(reads)[int(0.95 * (len(reads) - 1))] * 1000, 3),
        "variants_compressed_bytes_per_message": variants(conversations, messages),
    }
    shutil.rmtree(folder, ignore_errors=True)
    return result


def variants(
    conversations: list[tuple[str, list[bytes]]], messages: int
) -> dict[str, dict[str, float]]:
    """Compressed bytes per message (blocks only) and compression rate for other choices."""
    masked_samples = training_samples(20_000, seed=20250102, mask=True)
    raw_samples = training_samples(20_000, seed=20250102, mask=False)
    sizes = (16_384, 65_536, 112_640)
    by_size = {size: train_dictionary(masked_samples, size=size) for size in sizes}
    cases: list[tuple[str, SegmentDictionary | None, int]] = [
        (f"no dictionary, level {level}", None, level) for level in (3, 9, 19)
    ]
    cases += [
        (f"64 KiB masked dictionary, level {level}", by_size[65_536], level)
        for level in (3, 6, 9, 12, 19)
    ]
    cases += [
        (f"{size // 1024} KiB masked dictionary, level {level}", by_size[size], level)
        for size in (16_384, 112_640)
        for level in (9, 19)
    ]
    unmasked = train_dictionary(raw_samples, size=65_536)
    cases.append(("64 KiB unmasked dictionary, level 19", unmasked, 19))
    found = {}
    for name, dictionary, level in cases:
        size, seconds = compressed_size(conversations, dictionary, level)
        found[name] = {
            "bytes_per_message": round(size / messages, 1),
            "messages_per_second": round(messages / seconds),
        }
    return found


def main() -> None:
    """Run both benchmarks; print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=500_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--per-segment", type=int, default=2_000)
    parser.add_argument("--level", type=int, default=DEFAULT_LEVEL)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cold = bench_cold(args.messages, args.per_segment, args.level, args.out)
    per_conversation = cold["messages"] / cold["conversations"]
    result = {
        "machine": machine(),
        "decide": bench_decide(args.conversations, per_conversation),
        "cold": cold,
    }
    (args.out / "cold_segments.json").write_text(
        json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
