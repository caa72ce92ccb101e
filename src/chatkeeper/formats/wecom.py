"""WeCom 会话内容存档 (msgaudit) adapter: decrypted message objects, one JSON per line.

The input is what the msgaudit SDK's ``DecryptData`` returns for each archived message
(``msgid``, ``action``, ``from``, ``tolist``, ``roomid``, ``msgtime``, ``msgtype`` and the
msgtype's payload object). ``docs/formats.md`` ("WeCom 会话内容存档") is the reference for the
mapping; in short:

- a ``switch`` record (the user switched corporation) is not conversation content: ``Skip``;
- ``revoke`` is a recall event pointing at the withdrawn message, ``agree``/``disagree`` is the
  customer's consent to archiving, everything else is a message, unknown msgtypes included;
- who is who follows WeCom's id prefixes: ``wm``/``wo`` external contacts are customers, ``wb``
  ids are bots, any other id is a corp userid (an agent);
- ``text`` is what a reader searching the archive would look for (the words of a text message,
  a link's title, the lines of a forwarded chat record, ...); ``payload`` keeps the structured
  part, media ids and checksums included; ``raw`` keeps the whole source record for audit.

WeCom carries no department, names, tags or service type: those stay empty here and are
filled in later by classification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import orjson

from chatkeeper.domain import CanonicalMessage, RecordKind, SenderRole
from chatkeeper.errors import RecordError
from chatkeeper.formats.base import RawRecord, Skip
from chatkeeper.formats.canonical import CanonicalJsonlFormat

PLATFORM = "wecom"

#: China Standard Time. A fixed offset is exact for Asia/Shanghai: it has had no DST since 1991,
#: and ``msgtime`` is refused before 2000.
CHINA_TIME = timezone(timedelta(hours=8))
_EPOCH = datetime.fromtimestamp(0, tz=CHINA_TIME)

# ``msgtime`` is milliseconds since the epoch. The window catches a time given in seconds (it
# lands in 1970) and values that no real archive holds, before datetime arithmetic overflows.
_MIN_MSGTIME = 946_684_800_000  # 2000-01-01T00:00:00Z
_MAX_MSGTIME = 4_102_444_800_000  # 2100-01-01T00:00:00Z

_MAX_ID = 128
_MAX_MSGTYPE = 32
# Chat records can be forwarded inside chat records; real ones nest a few levels at most.
_MAX_DEPTH = 8

_CUSTOMER_PREFIXES = ("wm", "wo")
_BOT_PREFIX = "wb"

#: msgtypes whose payload object is not under the key named like the msgtype (WeCom's
#: documentation). Any other msgtype, and these too when that key is absent, use the msgtype.
PAYLOAD_KEYS = {
    "docmsg": "doc",
    "external_redpacket": "redpacket",
    "markdown": "info",
    "news": "info",
    "qydiskfile": "info",
}

#: The readable string fields of a payload, in reading order, and how to join them.
_READABLE_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "text": ("\n", ("content",)),
    "markdown": ("\n", ("content",)),
    "link": ("\n", ("title", "description")),
    "location": (" ", ("title", "address")),
    "weapp": ("\n", ("title", "description", "displayname")),
    "sphfeed": ("\n", ("feed_desc", "sph_name")),
    "file": ("\n", ("filename",)),
    "qydiskfile": ("\n", ("filename",)),
    "voip_doc_share": ("\n", ("filename",)),
    # A card's userid is an id, not words; the company name is what people search for.
    "card": ("\n", ("corpname",)),
    "docmsg": ("\n", ("title",)),
    "todo": ("\n", ("title", "content")),
    "meeting": ("\n", ("topic", "address", "remarks")),
    "calendar": ("\n", ("title", "place", "remarks")),
    "redpacket": ("\n", ("wish",)),
    "external_redpacket": ("\n", ("wish",)),
}

#: msgtypes whose ``item`` list holds other messages, each ``content`` a JSON string.
_ITEM_MSGTYPES = frozenset({"chatrecord", "mixed"})
_CHATRECORD_PREFIX = "chatrecord"


def role_of(user_id: str) -> SenderRole:
    """The role of a WeCom id, from its prefix: external contact, bot or corp user."""
    if user_id.startswith(_CUSTOMER_PREFIXES):
        return SenderRole.CUSTOMER
    if user_id.startswith(_BOT_PREFIX):
        return SenderRole.BOT
    return SenderRole.AGENT


def parse_msgtime(value: object) -> datetime:
    """``msgtime`` (integer milliseconds since the epoch) as an aware time at +08:00."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError("must be an integer (milliseconds since the epoch)", field="msgtime")
    if not _MIN_MSGTIME <= value < _MAX_MSGTIME:
        raise RecordError(
            "is out of range: expected milliseconds since the epoch, between 2000 and 2100",
            field="msgtime",
        )
    # Integer milliseconds added to the epoch are exact; a float division could round them.
    return _EPOCH + timedelta(milliseconds=value)


def _id(data: dict[str, Any], name: str, *, field: str | None = None) -> str | None:
    """An optional id: ``None`` when absent or empty, else a string of bounded length."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"must be a string, not {type(value).__name__}", field=field or name)
    if len(value) > _MAX_ID:
        raise RecordError(f"is longer than {_MAX_ID} characters", field=field or name)
    return value


def _required_id(data: dict[str, Any], name: str) -> str:
    value = _id(data, name)
    if value is None:
        raise RecordError("is required", field=name)
    return value


def _tolist(value: object) -> list[str]:
    """The recipients; a missing ``tolist`` is an empty one, empty entries are ignored."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"must be a list of ids, not {type(value).__name__}", field="tolist")
    if not all(isinstance(item, str) and len(item) <= _MAX_ID for item in value):
        raise RecordError(f"must hold only ids of at most {_MAX_ID} characters", field="tolist")
    return [item for item in value if item]


def _conversation_id(roomid: str | None, sender: str, recipients: list[str]) -> str:
    """A group chat is its room; a 1:1 chat is its two parties, in sorted order.

    Sorting makes both directions of a chat the same conversation, whoever wrote first.
    """
    if roomid is not None:
        return f"room:{roomid}"
    other = next((party for party in recipients if party != sender), None)
    if other is None:
        raise RecordError(
            "must name the other party of a one-to-one chat (roomid is empty)", field="tolist"
        )
    first, second = sorted((sender, other))
    return f"single:{first}:{second}"


def _msgtype(data: dict[str, Any]) -> str:
    value = data.get("msgtype")
    if value is None or value == "":
        raise RecordError("is required", field="msgtype")
    if not isinstance(value, str):
        raise RecordError(f"must be a string, not {type(value).__name__}", field="msgtype")
    if len(value) > _MAX_MSGTYPE:
        raise RecordError(f"is longer than {_MAX_MSGTYPE} characters", field="msgtype")
    return value


def _payload(data: dict[str, Any], msgtype: str) -> tuple[str, dict[str, Any] | None]:
    """The key the msgtype's payload object sits under, and the object (``None`` if absent)."""
    key = PAYLOAD_KEYS.get(msgtype, msgtype)
    if data.get(key) is None:
        key = msgtype
    value = data.get(key)
    if value is None:
        return key, None
    if not isinstance(value, dict):
        raise RecordError(f"must be a JSON object, not {type(value).__name__}", field=key)
    return key, value


def _raw(data: dict[str, Any]) -> str:
    try:
        return orjson.dumps(data).decode()
    except TypeError:
        # Only possible for records not read from JSON text (integers beyond 64 bits, keys
        # that are not strings); the record could not be kept verbatim, so refuse it.
        raise RecordError("cannot be stored as JSON (a key or number is out of range)") from None


def _item_type(item: dict[str, Any]) -> str:
    """An item's msgtype: ``ChatRecordText`` (chat records) and ``text`` (mixed) are ``text``."""
    value = item.get("type")
    if not isinstance(value, str):
        return ""
    lowered = value.lower()
    if lowered.startswith(_CHATRECORD_PREFIX) and lowered != _CHATRECORD_PREFIX:
        return lowered[len(_CHATRECORD_PREFIX) :]
    return lowered


def decode_items(msgtype: str, payload: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """The payload with each ``chatrecord``/``mixed`` item's JSON-string ``content`` decoded.

    WeCom sends every item's content as a JSON string; decoded, its media ids are as easy to
    find as those of a top-level image. Content that is not a JSON object stays as given.
    """
    items = payload.get("item")
    if msgtype not in _ITEM_MSGTYPES or depth >= _MAX_DEPTH or not isinstance(items, list):
        return payload
    return {**payload, "item": [_decode_item(item, depth) for item in items]}


def _decode_item(item: object, depth: int) -> object:
    if not isinstance(item, dict):
        return item
    content = item.get("content")
    if isinstance(content, str):
        try:
            content = orjson.loads(content)
        except orjson.JSONDecodeError:
            return item
    if not isinstance(content, dict):
        return item
    return {**item, "content": decode_items(_item_type(item), content, depth + 1)}


def _strings(values: Iterable[object]) -> list[str]:
    """The non-blank strings among ``values``, stripped."""
    return [value.strip() for value in values if isinstance(value, str) and value.strip()]


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _items_text(payload: dict[str, Any], depth: int) -> list[str]:
    # A chat record's title ("与客服的聊天记录", "群聊") comes first; mixed messages have none.
    lines = _strings([payload.get("title")])
    for item in _dicts(payload.get("item")):
        content = item.get("content")
        if isinstance(content, dict):
            text = readable_text(_item_type(item), content, depth + 1)
            if text:
                lines.append(text)
    return lines


def _news_text(payload: dict[str, Any], depth: int) -> list[str]:
    return _strings(readable_text("link", item, depth + 1) for item in _dicts(payload.get("item")))


def _vote_text(payload: dict[str, Any], depth: int) -> list[str]:
    options = payload.get("voteitem")
    return _strings([payload.get("votetitle"), *(options if isinstance(options, list) else [])])


def _collect_text(payload: dict[str, Any], depth: int) -> list[str]:
    questions = [detail.get("ques") for detail in _dicts(payload.get("details"))]
    return _strings([payload.get("title"), *questions])


_READABLE_BUILDERS: dict[str, Callable[[dict[str, Any], int], list[str]]] = {
    "chatrecord": _items_text,
    "mixed": _items_text,
    "news": _news_text,
    "vote": _vote_text,
    "collect": _collect_text,
}


def readable_text(msgtype: str, payload: dict[str, Any], depth: int = 0) -> str | None:
    """The words of a (decoded) payload a reader would search for, or ``None`` if none.

    Parts are joined by line breaks, not run together, so that a search for the end of one
    part and the start of the next finds nothing that was never written.
    """
    if depth > _MAX_DEPTH:
        return None
    builder = _READABLE_BUILDERS.get(msgtype)
    if builder is not None:
        parts = builder(payload, depth)
        separator = "\n"
    elif msgtype in _READABLE_FIELDS:
        separator, names = _READABLE_FIELDS[msgtype]
        parts = _strings([payload.get(name) for name in names])
    else:
        return None
    return separator.join(parts) or None


@dataclass(frozen=True, slots=True)
class _Envelope:
    """What every non-switch record carries, validated."""

    message_id: str
    sent_at: datetime
    sender: str
    recipients: list[str]
    conversation_id: str
    raw: str

    def parties(self, exclude: str | None = None) -> list[str]:
        """Sender first, then recipients; the first of a role is the conversation's one."""
        return [p for p in (self.sender, *self.recipients) if p != exclude]

    def first(self, role: SenderRole, exclude: str | None = None) -> str | None:
        """The first party of ``role``, or ``None``."""
        return next((p for p in self.parties(exclude) if role_of(p) is role), None)


def _envelope(data: dict[str, Any]) -> _Envelope:
    message_id = _required_id(data, "msgid")
    sent_at = parse_msgtime(data.get("msgtime"))
    sender = _required_id(data, "from")
    recipients = _tolist(data.get("tolist"))
    conversation_id = _conversation_id(_id(data, "roomid"), sender, recipients)
    return _Envelope(message_id, sent_at, sender, recipients, conversation_id, _raw(data))


def _message(envelope: _Envelope, msgtype: str, **fields: Any) -> CanonicalMessage:
    """A canonical message with the envelope's fields; ``fields`` override the defaults."""
    defaults: dict[str, Any] = {
        "sender_role": role_of(envelope.sender),
        "sender_id": envelope.sender,
        "customer_id": envelope.first(SenderRole.CUSTOMER),
        "agent_id": envelope.first(SenderRole.AGENT),
    }
    return CanonicalMessage(
        platform=PLATFORM,
        conversation_id=envelope.conversation_id,
        message_id=envelope.message_id,
        sent_at=envelope.sent_at,
        msgtype=msgtype,
        raw=envelope.raw,
        **(defaults | fields),
    )


def _recall(envelope: _Envelope, data: dict[str, Any]) -> CanonicalMessage:
    key, payload = _payload(data, "revoke")
    target = _id(payload or {}, "pre_msgid", field=f"{key}.pre_msgid")
    if target is None:
        raise RecordError("is required for a recall", field=f"{key}.pre_msgid")
    return _message(
        envelope, "revoke", kind=RecordKind.RECALL, ref_message_id=target, payload=payload
    )


def _consent(envelope: _Envelope, data: dict[str, Any], msgtype: str) -> CanonicalMessage:
    # The payload's userid is the external contact who answered; WeCom sends it as ``from``
    # too, but the payload is what the consent is about, so it wins if they differ.
    key, payload = _payload(data, msgtype)
    customer = _id(payload or {}, "userid", field=f"{key}.userid") or envelope.sender
    return _message(
        envelope,
        msgtype,
        kind=RecordKind.CONSENT,
        consent=msgtype,
        sender_role=SenderRole.CUSTOMER,
        sender_id=customer,
        customer_id=customer,
        agent_id=envelope.first(SenderRole.AGENT, exclude=customer),
        payload=payload,
    )


def _text_message(envelope: _Envelope, data: dict[str, Any]) -> CanonicalMessage:
    _, payload = _payload(data, "text")
    content = (payload or {}).get("content")
    if not isinstance(content, str) or not content.strip():
        raise RecordError("is required: a non-empty string", field="text.content")
    return _message(envelope, "text", text=content)


def _other_message(envelope: _Envelope, data: dict[str, Any], msgtype: str) -> CanonicalMessage:
    _, payload = _payload(data, msgtype)
    if payload is not None:
        payload = decode_items(msgtype, payload)
    text = readable_text(msgtype, payload) if payload is not None else None
    return _message(envelope, msgtype, text=text, payload=payload)


def normalise_wecom(data: dict[str, Any]) -> CanonicalMessage | Skip:
    """One decrypted msgaudit record as a canonical message; ``RecordError`` names the field.

    Error messages name the field and what is wrong with it, never its value.
    """
    action = data.get("action")
    if action is not None and not isinstance(action, str):
        raise RecordError(f"must be a string, not {type(action).__name__}", field="action")
    if action == "switch":
        return Skip("wecom switch record (not a message)")
    envelope = _envelope(data)
    msgtype = _msgtype(data)
    if action == "recall" or msgtype == "revoke":
        return _recall(envelope, data)
    if msgtype in ("agree", "disagree"):
        return _consent(envelope, data, msgtype)
    if msgtype == "text":
        return _text_message(envelope, data)
    return _other_message(envelope, data, msgtype)


class WecomFormat:
    """WeCom 会话内容存档: the SDK's decrypted message objects as JSON Lines."""

    name: ClassVar[str] = "wecom"

    def parse(self, path: Path) -> Iterator[RawRecord]:
        """Each line is one JSON object, exactly as for canonical JSON Lines."""
        return CanonicalJsonlFormat().parse(path)

    def normalise(self, data: dict[str, Any]) -> CanonicalMessage | Skip:
        """See :func:`normalise_wecom`."""
        return normalise_wecom(data)
