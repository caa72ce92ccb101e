"""ChatKeeper's canonical exchange format, as JSON Lines and as CSV (``docs/formats.md``).

One message per line (JSONL) or row (CSV). Both carry the same fields; in CSV the list
``customer_tags`` is joined by ``|`` and ``payload`` is a JSON string. Fields this module does
not know are kept, verbatim, in the record's ``raw`` member so that nothing a source sent is
lost.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import orjson

from chatkeeper.domain import CanonicalMessage, RecordKind, SenderRole
from chatkeeper.errors import IngestError, RecordError
from chatkeeper.formats.base import RawRecord, Skip

FIELDS = (
    "platform",
    "conversation_id",
    "message_id",
    "sent_at",
    "sender_role",
    "sender_id",
    "sender_name",
    "text",
    "msgtype",
    "department",
    "agent_id",
    "agent_name",
    "customer_id",
    "customer_tags",
    "service_type",
    "ref_message_id",
    "payload",
)
REQUIRED = ("platform", "conversation_id", "message_id", "sent_at", "sender_role")
KNOWN = frozenset(FIELDS)

_PLATFORM = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
_ROLES = {role.value: role for role in SenderRole}
_MAX_ID = 128
_MAX_NAME = 200
_MAX_TEXT = 100_000

#: msgtypes that are events rather than something a party said.
KIND_OF_MSGTYPE = {
    "revoke": RecordKind.RECALL,
    "agree": RecordKind.CONSENT,
    "disagree": RecordKind.CONSENT,
}


def _text(data: dict[str, Any], name: str, *, limit: int = _MAX_ID) -> str | None:
    value = data.get(name)
    if type(value) is str:  # the common case first: this runs a dozen times per record
        value = value.strip()
        if len(value) > limit:
            raise RecordError(f"is longer than {limit} characters", field=name)
        return value or None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordError(f"must be a string, not {type(value).__name__}", field=name)
    if abs(value) >= 10 ** (limit - (value < 0)):  # checked before str(), which caps digits
        raise RecordError(f"is longer than {limit} characters", field=name)
    return str(value)


def _required(data: dict[str, Any], name: str) -> str:
    value = _text(data, name)
    if value is None:
        raise RecordError("is required", field=name)
    return value


def parse_sent_at(value: object, field: str = "sent_at") -> datetime:
    """An ISO 8601 time with a UTC offset (``Z`` or ``+08:00``); a naive time is refused."""
    if not isinstance(value, str):
        raise RecordError("must be an ISO 8601 string with a UTC offset", field=field)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(
            "is not an ISO 8601 time (expected e.g. 2025-01-02T10:11:12+08:00)", field=field
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RecordError("has no UTC offset (add +08:00 or Z)", field=field)
    return moment


def _tags(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: list[object] = list(value.split("|"))
    elif isinstance(value, list):
        items = value
    else:
        raise RecordError("must be a list of strings", field="customer_tags")
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise RecordError("must be a list of strings", field="customer_tags")
        tag = item.strip()
        if len(tag) > 64:
            raise RecordError("has a tag longer than 64 characters", field="customer_tags")
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _payload(value: object) -> dict[str, object] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise RecordError("is not valid JSON", field="payload") from None
    if not isinstance(value, dict):
        raise RecordError("must be a JSON object", field="payload")
    return value


def normalise_canonical(data: dict[str, Any]) -> CanonicalMessage:
    """Validate one canonical record and build the message; ``RecordError`` names the field."""
    platform = _required(data, "platform").lower()
    if not _PLATFORM.fullmatch(platform):
        raise RecordError("must be 1-32 characters of a-z, 0-9, '_', '.', '-'", field="platform")
    role_value = _required(data, "sender_role").lower()
    role = _ROLES.get(role_value)
    if role is None:
        raise RecordError("must be one of customer, agent, bot, system", field="sender_role")
    msgtype = (_text(data, "msgtype", limit=32) or "text").lower()
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise RecordError(f"must be a string, not {type(text).__name__}", field="text")
    if text is not None and len(text) > _MAX_TEXT:
        raise RecordError(f"is longer than {_MAX_TEXT} characters", field="text")
    if msgtype == "text" and (text is None or not text.strip()):
        raise RecordError("is required for a text message", field="text")
    kind = KIND_OF_MSGTYPE.get(msgtype, RecordKind.MESSAGE)
    ref = _text(data, "ref_message_id")
    if kind is RecordKind.RECALL and ref is None:
        raise RecordError("is required for a revoke (recall) record", field="ref_message_id")
    extra = None if KNOWN.issuperset(data) else {k: v for k, v in data.items() if k not in KNOWN}
    tags = data.get("customer_tags")
    return CanonicalMessage(
        platform=platform,
        conversation_id=_required(data, "conversation_id"),
        message_id=_required(data, "message_id"),
        sent_at=parse_sent_at(data.get("sent_at")),
        sender_role=role,
        sender_id=_text(data, "sender_id"),
        sender_name=_text(data, "sender_name", limit=_MAX_NAME),
        text=text or None,
        msgtype=msgtype,
        department=_text(data, "department", limit=_MAX_NAME),
        agent_id=_text(data, "agent_id"),
        agent_name=_text(data, "agent_name", limit=_MAX_NAME),
        customer_id=_text(data, "customer_id"),
        customer_tags=_tags(tags) if tags else (),
        service_type=(_text(data, "service_type", limit=64) or "").lower() or None,
        kind=kind,
        ref_message_id=ref,
        consent=msgtype if kind is RecordKind.CONSENT else None,
        payload=_payload(data["payload"]) if "payload" in data else None,
        raw=_extra_json(extra) if extra else None,
    )


def _extra_json(extra: dict[str, Any]) -> str:
    """Unknown fields, kept verbatim for audit."""
    try:
        return orjson.dumps(extra).decode()
    except TypeError:
        bad = next(k for k, v in extra.items() if not _serialisable(v))
        raise RecordError("holds a value that cannot be stored as JSON", field=bad) from None


def _serialisable(value: object) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True


def _open_binary(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror})", file=str(path)) from exc


class CanonicalJsonlFormat:
    """Canonical messages as JSON Lines: one JSON object per line, blank lines ignored."""

    name: ClassVar[str] = "jsonl"

    def parse(self, path: Path) -> Iterator[RawRecord]:
        """Yield each line's object; a line that is not a JSON object is an error record."""
        with _open_binary(path) as handle:
            for number, line in enumerate(handle, start=1):
                if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                if not line.strip():
                    continue
                try:
                    data = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    yield RawRecord(number, None, RecordError(f"not valid JSON ({exc.msg})"))
                    continue
                if not isinstance(data, dict):
                    yield RawRecord(number, None, RecordError("is not a JSON object"))
                    continue
                yield RawRecord(number, data)

    def normalise(self, data: dict[str, Any]) -> CanonicalMessage | Skip:
        """See :func:`normalise_canonical`."""
        return normalise_canonical(data)


# Bytes that are not UTF-8 are decoded as lone surrogates, so that one bad row is reported on
# its own line while the rows around it are still read.
_UNDECODABLE = re.compile("[\udc80-\udcff]")


class CanonicalCsvFormat:
    """Canonical messages as CSV with a header row naming the fields (UTF-8, BOM allowed)."""

    name: ClassVar[str] = "csv"

    def parse(self, path: Path) -> Iterator[RawRecord]:
        """Yield each row as a dict; the line is where the row starts in the file."""
        try:
            handle = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
        except OSError as exc:
            raise IngestError(f"{path}: cannot be read ({exc.strerror})", file=str(path)) from exc
        with handle:
            reader = csv.reader(handle)
            try:
                header = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise IngestError(
                    f"{path}: line 1: cannot read the header ({exc})", file=str(path)
                ) from exc
            if any(_UNDECODABLE.search(name) for name in header):
                raise IngestError(f"{path}: line 1: the header is not valid UTF-8", file=str(path))
            header = [name.strip() for name in header]
            missing = [name for name in REQUIRED if name not in header]
            if missing:
                raise IngestError(
                    f"{path}: line 1: the header lacks the required column(s) "
                    + ", ".join(missing),
                    file=str(path),
                )
            yield from self._rows(reader, header)

    @staticmethod
    def _rows(reader: Any, header: list[str]) -> Iterator[RawRecord]:
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield RawRecord(start, None, RecordError(f"is not valid CSV ({exc})"))
                start = reader.line_num + 1
                continue
            line, start = start, reader.line_num + 1
            if not row or all(not cell.strip() for cell in row):
                continue
            if any(_UNDECODABLE.search(cell) for cell in row):
                yield RawRecord(line, None, RecordError("is not valid UTF-8"))
                continue
            if len(row) != len(header):
                yield RawRecord(
                    line,
                    None,
                    RecordError(f"has {len(row)} columns, the header has {len(header)}"),
                )
                continue
            yield RawRecord(line, {k: v for k, v in zip(header, row, strict=True) if v != ""})

    def normalise(self, data: dict[str, Any]) -> CanonicalMessage | Skip:
        """See :func:`normalise_canonical`."""
        return normalise_canonical(data)
