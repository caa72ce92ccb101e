"""Personal data: scanning text, finding a value through the blind index, unmasking (recorded),
taking a message or a span offline for good, and rotating the key-encryption key."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson

from chatkeeper.crypto import decrypt, encrypt
from chatkeeper.domain import Actor
from chatkeeper.errors import NotFound, SearchError
from chatkeeper.ingest.privacy import blind_index
from chatkeeper.privacy.analyzer import default_analyzer
from chatkeeper.privacy.findings import Finding, PiiType, Reason
from chatkeeper.privacy.normalise import canonical_value
from chatkeeper.privacy.operators import apply
from chatkeeper.services.authz import Permit, authorize, authorized, check_reach
from chatkeeper.services.context import Context
from chatkeeper.services.search import SearchResult, hit
from chatkeeper.store import original as original_record


def scan(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The findings of each input text, in order: what ``chatkeeper pii scan`` prints."""
    analyzer = default_analyzer()
    for line in lines:
        yield {
            "spans": [
                {
                    "type": str(f.type),
                    "start": f.start,
                    "end": f.end,
                    "score": round(f.score, 3),
                    "reason": str(f.reason),
                }
                for f in analyzer.analyze(line)
            ]
        }


def _kinds_of(value: str) -> list[PiiType]:
    """Which types a value given on its own can be: what the analyzer says, else all."""
    findings = default_analyzer().analyze(value)
    covering = [f.type for f in findings if f.end - f.start >= len(value.strip()) * 0.8]
    return covering or list(PiiType)


def find_by_value(ctx: Context, actor: Actor, value: str, limit: int = 100) -> SearchResult:
    """Every message that mentions a personal value, in any written form, via the blind index.

    The value itself is never stored, logged or put in an index: only its keyed hash is
    compared.
    """
    permit = authorize(ctx, actor, "pii.search")
    if not value.strip():
        raise SearchError("the value to look for is empty", field="pii")
    key = ctx.system_key("blind-index")
    blinds = sorted(
        {blind_index(key, kind, canonical_value(kind, value.strip())) for kind in _kinds_of(value)}
    )
    with ctx.archive.writer() as writer:
        found = ctx.archive.vault_messages(writer.connection, blinds)
        by_id = ctx.archive.messages_by_id(writer.connection, found)
        rows = [
            i for i in found
            if i in by_id and by_id[i]["state"] not in CLOSED
            and permit.covers(by_id[i]["conversation_pk"], by_id[i]["department_id"])
        ]  # fmt: skip
        writer.audit(actor, "pii.searched", result="ok",
                     details={"messages": len(rows)})  # fmt: skip
    hits = [hit(by_id[i], by_id[i]["text"] or "") for i in rows[:limit]]
    return SearchResult(len(rows), hits, limit, 0)


CLOSED = ("recycle_bin", "purged")  # conversation states hidden from every read


@dataclass(frozen=True, slots=True)
class Unmasked:
    """A message's original text, as an audited unmask returned it."""

    conversation_id: str
    message_id: str
    text: str | None


def _original(ctx: Context, connection: Any, row: dict[str, Any]) -> dict[str, Any]:
    if row["ciphertext"] is None:
        raise NotFound(
            f"message '{row['message_id']}' has no original: it was taken offline or purged",
            message_id=row["message_id"],
        )
    key = ctx.keys(connection).by_id([row["key_id"]])[row["key_id"]]
    context = f"{row['platform']}:{row['message_id']}".encode()
    return original_record.unpack(decrypt(bytes(row["ciphertext"]), key, context), row["text"])


def _reached(ctx: Context, actor: Actor, permit: Permit, connection: Any, message_id: str,
             platform: str | None) -> dict[str, Any]:  # fmt: skip
    row = ctx.archive.message_row(connection, message_id, platform)
    check_reach(permit, actor, row["conversation_pk"], row["department_id"], row["conversation_id"])
    if row["state"] in CLOSED:
        state = "in the recycle bin" if row["state"] == "recycle_bin" else "purged"
        raise NotFound(f"message '{message_id}' is {state}", message_id=message_id)
    return row


def _target(
    ctx: Context, actor: Actor, message_id: str, platform: str | None
) -> Callable[[Permit], None]:
    """A check that the message exists and is within reach, before a request is filed."""

    def check(permit: Permit) -> None:
        with ctx.archive.reader() as connection:
            _reached(ctx, actor, permit, connection, message_id, platform)

    return check


@contextmanager
def _unmasking(
    ctx: Context,
    actor: Actor,
    message_id: str,
    at: int | None,
    reason: str,
    platform: str | None,
    approval: int | None,
) -> Iterator[tuple[Permit, Any, dict[str, Any]]]:
    """The permit (claiming the approval), the write transaction and the message row of one
    unmask; the approval covers the message and the offset asked for, nothing else."""
    if not reason.strip():
        raise SearchError("unmasking needs a reason", field="reason")
    params = {"message": message_id, "platform": platform, "value_at": at}
    ctx.load_keys()  # before the write transaction: loading may write the system keys
    check = _target(ctx, actor, message_id, platform)
    with (
        authorized(
            ctx, actor, "message.unmask", params, approval, reason=reason, check=check
        ) as permit,  # fmt: skip
        ctx.archive.writer() as writer,
    ):
        yield permit, writer, _reached(ctx, actor, permit, writer.connection, message_id, platform)


def unmask_message(
    ctx: Context,
    actor: Actor,
    message_id: str,
    reason: str,
    platform: str | None = None,
    approval: int | None = None,
) -> Unmasked:
    """The original text of one message; a key operation (it needs an approval), recorded
    with the reason given."""
    with _unmasking(ctx, actor, message_id, None, reason, platform, approval) as opened:
        permit, writer, row = opened
        original = _original(ctx, writer.connection, row)
        writer.audit(actor, "message.unmasked", target_kind="message",
            target_id=f"{row['platform']}:{row['message_id']}", reason=reason,
            approval_id=permit.approval_id,
        )  # fmt: skip
    return Unmasked(row["conversation_id"], row["message_id"], original.get("text"))


def unmask_value(
    ctx: Context,
    actor: Actor,
    message_id: str,
    start: int,
    reason: str,
    platform: str | None = None,
    approval: int | None = None,
) -> str:
    """One personal value of a message, from the vault (the span starting at ``start``);
    a key operation like :func:`unmask_message`."""
    with _unmasking(ctx, actor, message_id, start, reason, platform, approval) as opened:
        permit, writer, row = opened
        entry = ctx.archive.vault_entry(writer.connection, row["id"], start)
        if entry is None:
            raise NotFound(
                f"message '{message_id}' has no vault entry starting at {start}",
                message_id=message_id,
            )
        key_id, ciphertext = entry
        key = ctx.keys(writer.connection).by_id([key_id])[key_id]
        value = decrypt(ciphertext, key, f"{row['platform']}:{row['message_id']}".encode())
        writer.audit(actor, "value.unmasked", target_kind="message",
            target_id=f"{row['platform']}:{row['message_id']}", reason=reason,
            details={"at": start}, approval_id=permit.approval_id,
        )  # fmt: skip
    return value.decode()


def take_offline(
    ctx: Context,
    actor: Actor,
    message_id: str,
    reason: str,
    span: tuple[int, int] | None = None,
    platform: str | None = None,
    approval: int | None = None,
) -> dict[str, Any]:
    """Replace a message's original (or one span of it) by its masked form, for good.

    The whole message: its ciphertext and every vault entry go. A span: the original is
    re-encrypted with that span masked, and the vault entries inside the span go. A message in
    cold storage is thawed first (its conversation is active again); the blocks its
    conversation was thawed from are cut out of their segments once this commits, so that no
    copy of the original stays behind.
    """
    if not reason.strip():
        raise SearchError("taking offline needs a reason", field="reason")
    params = {"message": message_id, "platform": platform, "span": list(span) if span else None}
    ctx.load_keys()
    with (
        authorized(
            ctx,
            actor,
            "message.take_offline",
            params,
            approval,
            reason=reason,
            check=_target(ctx, actor, message_id, platform),
        ) as permit,  # fmt: skip
        ctx.archive.writer() as writer,
    ):
        conn = writer.connection
        row = _reached(ctx, actor, permit, conn, message_id, platform)
        if row["state"] == "archived":  # cold: back to the hot tables, to be changed there
            writer.thaw([row["conversation_pk"]], ctx.now_ms())
            row = _reached(ctx, actor, permit, conn, message_id, platform)
        # Blocks it was thawed from still hold the original: they go with their segment's rewrite.
        dropped = writer.cold.drop([row["conversation_pk"]], []) if writer.cold else []
        segments = {block.segment_id for block in dropped}
        target = f"{row['platform']}:{row['message_id']}"
        if span is None:
            removed = ctx.archive.drop_original(conn, row["id"], None, None)
        else:
            original = _original(ctx, conn, row)
            text = original.get("text") or ""
            start, end = span
            if not 0 <= start < end <= len(text):
                raise SearchError(
                    f"the span {start}:{end} is outside the message (0:{len(text)})",
                    field="span",
                )
            finding = Finding(PiiType.PERSON_NAME, start, end, 0.0, Reason.PATTERN)
            packed = dict(original["_packed"])
            packed["t"] = apply(text, [finding], lambda f, v: "*" * len(v))
            key = ctx.keys(conn).by_id([row["key_id"]])[row["key_id"]]
            sealed = encrypt(orjson.dumps(packed), key, target.encode())
            ctx.archive.replace_original(conn, row["id"], sealed)
            removed = ctx.archive.drop_original(conn, row["id"], start, end)
        writer.audit(actor, "message.taken_offline", target_kind="message", target_id=target,
            reason=reason, details={"span": list(span) if span else None, "vault_entries": removed},
            approval_id=permit.approval_id,
        )  # fmt: skip
    if segments:
        ctx.archive.compact_segments(segments, ctx.now_ms())
    return {"message_id": row["message_id"], "span": span, "vault_entries_destroyed": removed}
