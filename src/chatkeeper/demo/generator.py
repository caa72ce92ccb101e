"""Deterministic synthetic customer-service data in ChatKeeper's canonical format.

:func:`generate_records` streams canonical records (plain, JSON-ready dicts) conversation by
conversation; :func:`write_jsonl` writes them as JSON Lines. The same seed and count always give
byte-identical output: one ``random.Random(seed)`` drives everything, customers are pure
functions of ``(seed, index)``, and the clock is derived from the requested count, not from the
time of day. Memory stays constant: one conversation is built at a time and the customer cache
is bounded.

Conversation start times rise through the 180 days before ``start`` (default
2026-11-01T00:00:00+08:00), weighted towards busy hours, weekdays and the 618 sales period; each
conversation's own messages are in time order, so conversations overlap in time as they do in a
real contact centre. The last conversation is cut short when the count runs out.
"""

from __future__ import annotations

import base64
from bisect import bisect_right
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import accumulate
from os import PathLike
from random import Random
from typing import Any

import orjson

from chatkeeper.demo.conversation import VOICE_WEIGHTS, VOICES, compose, gap_before, voice
from chatkeeper.demo.people import Agent, Customer, make_agents, make_customer
from chatkeeper.demo.pii import id_card_check_char, luhn_ok, make_hex
from chatkeeper.demo.scripts import Line
from chatkeeper.demo.slots import Slots
from chatkeeper.domain import SenderRole

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_START",
    "INDUSTRIES",
    "INDUSTRY_DEPARTMENT",
    "SERVICE_TYPES",
    "generate_records",
    "id_card_check_char",
    "luhn_ok",
    "write_jsonl",
]

CST = timezone(timedelta(hours=8), "CST")
DEFAULT_SEED = 20250101
DEFAULT_START = datetime(2026, 11, 1, tzinfo=CST)
WINDOW_DAYS = 180

INDUSTRIES = ("ecommerce", "finance", "telecom")
SERVICE_TYPES = ("consultation", "after_sales", "complaint", "transaction", "legal_dispute")
_INDUSTRY_CUM = tuple(accumulate((45, 25, 30)))
_SERVICE_CUM = tuple(accumulate((36, 24, 17, 17, 6)))
_VOICE_CUM = tuple(accumulate(VOICE_WEIGHTS))
_OFFSET = 8 * 3600

#: The department that answers an industry's routine conversations.
INDUSTRY_DEPARTMENT = {"ecommerce": "电商客服部", "finance": "金融客服部", "telecom": "电信客服部"}
DEPARTMENTS = ("电商客服部", "金融客服部", "电信客服部", "售后服务部", "投诉处理部", "法务部")

_PLATFORMS = {  # platforms and their cumulative weights, per industry
    "ecommerce": (("webchat", "sobot", "xiaoneng", "wecom"), (30, 55, 85, 100)),
    "finance": (("wecom", "sobot", "webchat"), (35, 70, 100)),
    "telecom": (("webchat", "sobot", "dingtalk", "wecom"), (40, 70, 85, 100)),
}
_BOTS = {"sobot": "小智", "xiaoneng": "小能", "webchat": "小E", "dingtalk": "钉小蜜"}

# Contact volume by hour of day (0-23): quiet at night, peaks mid-morning and evening.
_HOUR_WEIGHTS = (
    2,
    1,
    1,
    1,
    1,
    1,
    2,
    4,
    8,
    12,
    14,
    14,
    10,
    11,
    13,
    13,
    12,
    11,
    10,
    11,
    13,
    13,
    10,
    5,
)
_MEDIA_SIZES = {"image": (30_000, 4_000_000), "file": (20_000, 8_000_000)}


def department_for(industry: str, service: str) -> str:
    """The department that handles a conversation of this industry and service type."""
    if service == "complaint":
        return "投诉处理部"
    if service == "legal_dispute":
        return "法务部"
    if service == "after_sales" and industry == "ecommerce":
        return "售后服务部"
    return INDUSTRY_DEPARTMENT[industry]


class _Clock:
    """Maps progress through the data set (0..1) to a start time inside the window.

    The window's hours are weighted (hour of day, weekends, the 618 sales period), and the
    mapping is the inverse of their cumulative weight, so conversation starts are monotone and
    busy hours get more of them.
    """

    def __init__(self, end: datetime) -> None:
        self.begin = int((end - timedelta(days=WINDOW_DAYS)).timestamp())
        weights = []
        for hour in range(WINDOW_DAYS * 24):
            moment = datetime.fromtimestamp(self.begin + hour * 3600, CST)
            weight = float(_HOUR_WEIGHTS[moment.hour])
            if moment.weekday() >= 5:
                weight *= 0.8
            if moment.month == 6 and moment.day <= 20:
                weight *= 1.6
            weights.append(weight)
        self.weights = weights
        self.cumulative = list(accumulate(weights))

    def at(self, progress: float) -> int:
        """Epoch seconds of the moment ``progress`` of the way through the window's weight."""
        target = progress * self.cumulative[-1]
        hour = min(bisect_right(self.cumulative, target), len(self.cumulative) - 1)
        before = self.cumulative[hour - 1] if hour else 0.0
        inside = (target - before) / self.weights[hour]
        return self.begin + hour * 3600 + int(min(inside, 0.9997) * 3600)


class _Customers:
    """The customer pool: index → customer, made on demand and kept in a bounded cache."""

    def __init__(self, seed: int, size: int) -> None:
        self.seed = seed
        self.size = size
        self.cache: dict[int, Customer] = {}

    def pick(self, rng: Random) -> Customer:
        # Skewed towards low indexes, so some customers come back several times.
        index = int(self.size * rng.random() ** 1.6)
        customer = self.cache.get(index)
        if customer is None:
            if len(self.cache) >= 4096:
                self.cache.clear()
            customer = self.cache[index] = make_customer(self.seed, index)
        return customer


def _payload(rng: Random, line: Line, slots: Slots, order: int) -> dict[str, Any]:
    if line.media == "link":
        return {
            "title": line.title.format_map(slots),
            "description": "点击查看商品详情",
            "link_url": f"https://item.shop.example.cn/{rng.randrange(10**11, 10**12)}.html",
        }
    low, high = _MEDIA_SIZES.get(line.media or "", (30_000, 4_000_000))
    payload: dict[str, Any] = {
        "sdkfileid": base64.b64encode(rng.getrandbits(288).to_bytes(36, "big")).decode(),
        "md5sum": make_hex(rng, 32),
        "filesize": rng.randrange(low, high),
    }
    if line.media == "file":
        payload["filename"] = line.title.format_map(slots) or f"附件{order}.pdf"
    return payload


def _senders(platform: str, agent: Agent, customer: Customer) -> dict[str, tuple[str, str]]:
    return {
        SenderRole.CUSTOMER.value: (customer.id, customer.name),
        SenderRole.AGENT.value: (agent.id, agent.name),
        SenderRole.BOT.value: (f"bot-{platform}", _BOTS.get(platform, "智能助手")),
        SenderRole.SYSTEM.value: ("system", "系统"),
    }


@lru_cache(maxsize=512)
def _day_prefix(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400 - _OFFSET, CST).strftime("%Y-%m-%dT")


def _iso(moment: int) -> str:
    """Epoch seconds as ISO 8601 in China Standard Time (no DST, so plain arithmetic is exact)."""
    day, second = divmod(moment + _OFFSET, 86_400)
    hour, rest = divmod(second, 3600)
    minute, second = divmod(rest, 60)
    return f"{_day_prefix(day)}{hour:02d}:{minute:02d}:{second:02d}+08:00"


def _conversation(
    rng: Random,
    number: int,
    begins: int,
    customer: Customer,
    agents: dict[str, tuple[Agent, ...]],
) -> Iterator[dict[str, Any]]:
    """Yield the records of conversation ``number``, which starts at epoch second ``begins``."""
    industry = rng.choices(INDUSTRIES, cum_weights=_INDUSTRY_CUM)[0]
    service = rng.choices(SERVICE_TYPES, cum_weights=_SERVICE_CUM)[0]
    names, cum_weights = _PLATFORMS[industry]
    platform = rng.choices(names, cum_weights=cum_weights)[0]
    department = department_for(industry, service)
    agent = rng.choice(agents[department])
    started = datetime.fromtimestamp(begins, CST)
    bot = _BOTS.get(platform, "智能助手")
    dept = rng.choice(("投诉处理部", "专项处理小组", "客户关系部", "客服主管"))
    slots = Slots(rng, customer, agent, industry, started, bot=bot, dept=dept)
    lines = compose(rng, industry, service, has_bot=platform in _BOTS)
    senders = _senders(platform, agent, customer)
    conversation_id = f"c{started.year}-{number:06d}"
    style = rng.choices(VOICES, cum_weights=_VOICE_CUM)[0]
    moment, previous, waiting = begins, None, False
    for order, line in enumerate(lines, start=1):
        moment += gap_before(rng, line, previous, waiting)
        waiting = line.waits or (waiting and line.role != "agent")
        previous = line
        role = line.role
        sender_id, sender_name = senders[role]
        if line.media is None:
            text = rng.choice(line.templates).format_map(slots)
            if style and role == "customer":
                text = voice(rng, text, style)
            content: dict[str, Any] = {"text": text, "msgtype": "text"}
        else:
            content = {"msgtype": line.media, "payload": _payload(rng, line, slots, order)}
        yield {
            "platform": platform,
            "conversation_id": conversation_id,
            "message_id": f"m-{number:06d}-{order:04d}",
            "sent_at": _iso(moment),
            "sender_role": role,
            "sender_id": sender_id,
            "sender_name": sender_name,
            **content,
            "department": department,
            "agent_id": agent.id,
            "agent_name": agent.name,
            "customer_id": customer.id,
            "customer_tags": list(customer.tags),
            "service_type": service,
        }


def generate_records(
    messages: int, seed: int = DEFAULT_SEED, start: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Stream exactly ``messages`` canonical records, conversation by conversation.

    The conversations fall in the 180 days before ``start`` (default :data:`DEFAULT_START`;
    a naive ``start`` is taken as China Standard Time) and every ``sent_at`` carries the +08:00
    offset. The same ``seed`` and ``messages`` always give the same records.
    """
    if messages < 0:
        raise ValueError("messages must be zero or more")
    end = DEFAULT_START if start is None else start
    end = end.replace(tzinfo=CST) if end.tzinfo is None else end.astimezone(CST)
    return _records(messages, seed, end)


def _records(messages: int, seed: int, end: datetime) -> Iterator[dict[str, Any]]:
    if messages == 0:
        return
    rng = Random(seed)
    agents = make_agents(rng, DEPARTMENTS, per_department=12)
    customers = _Customers(seed, size=max(12, messages // 22))
    clock = _Clock(end)
    emitted = 0
    number = 0
    while emitted < messages:
        number += 1
        begins = clock.at(emitted / messages) + rng.randrange(0, 60)
        customer = customers.pick(rng)
        for record in _conversation(rng, number, begins, customer, agents):
            yield record
            emitted += 1
            if emitted == messages:
                return


def write_jsonl(
    path: str | PathLike[str],
    messages: int,
    seed: int = DEFAULT_SEED,
    start: datetime | None = None,
) -> int:
    """Write :func:`generate_records` to ``path`` as UTF-8 JSON Lines; return the count."""
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    count = 0
    # One growing buffer written every megabyte: faster than a list of small bytes objects.
    buffer = bytearray()
    with open(path, "wb") as handle:
        for record in generate_records(messages, seed=seed, start=start):
            buffer += dumps(record, option=newline)
            count += 1
            if len(buffer) >= 1 << 20:
                handle.write(buffer)
                buffer.clear()
        handle.write(buffer)
    return count
