"""Purge by crypto-shredding, and the signed deletion certificate every purge run writes.

``purge`` destroys every data key a conversation owns (every ciphertext under them, in every
copy and backup, is unreadable from then on), deletes its messages, their index entries, vault
entries, risk marks, recalls and consents, its class, deadline, reviews and agents, and leaves
the conversation row as a tombstone (state ``purged``, ids only). The ledger keeps the leaves:
they commit to a salted hash sealed under the destroyed key, so they reveal nothing. In the same
transaction it writes a deletion certificate (canonical JSON, signed with the checkpoint-signing
key, and a readable HTML page), lists the purged leaves under it, and audits
``conversation.purged`` with the certificate's digest. ``ledger verify`` counts a missing
message as purged only if a certificate whose signature verifies, and whose digest an audit
event names, lists its leaf (:func:`purged_leaves`; docs/lifecycle.md).
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from chatkeeper.domain import Actor
from chatkeeper.errors import ChatKeeperError, ErrorCode, NotFound
from chatkeeper.governance import GovernanceError, require
from chatkeeper.ledger import SigningKey, VerifierKey, parse_verifier_key
from chatkeeper.lifecycle import State
from chatkeeper.services.authz import authorize, authorized
from chatkeeper.services.context import Context
from chatkeeper.services.keyring import VERIFIER_KEY_FILE, key_folder
from chatkeeper.services.recycle import NotInRecycleBin, refuse_held
from chatkeeper.services.search import format_time
from chatkeeper.store import lifecycle as lifecycle_rows
from chatkeeper.store import purge as rows
from chatkeeper.store.keys import KeyUnavailable
from chatkeeper.store.ledger import MESSAGES_LOG

FORMAT = "chatkeeper-deletion-certificate/1"
# Signed with the key that signs checkpoints; this prefix keeps a certificate signature from
# ever being mistaken for a signature over a checkpoint note (or anything else).
SIGNING_CONTEXT = b"ChatKeeper deletion certificate v1\n"
OPERATION = "conversations.bulk_delete"
_CHUNK = 500  # conversations shredded per round of statements


class CertificateInvalid(ChatKeeperError):
    """A deletion certificate does not verify: changed, or signed by another key."""

    code, http_status, exit_code = ErrorCode.CHECKPOINT_SIGNATURE_INVALID, 422, 65


# -- the certificate format ---------------------------------------------------------------------


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes that are signed: UTF-8 JSON, keys sorted, no whitespace."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def certificate_digest(document: bytes) -> str:
    """SHA-256 of the canonical document, hex."""
    return hashlib.sha256(document).hexdigest()


def key_label(verifier: VerifierKey) -> str:
    """``<name>+<key id hex>``: the key a certificate names (the prefix of its verifier key)."""
    return f"{verifier.name}+{verifier.key_id:08x}"


def sign_certificate(document: bytes, key: SigningKey) -> tuple[str, str]:
    """The Ed25519 signature (base64) over the context and the document, and the key's label."""
    signature = key.sign(SIGNING_CONTEXT + document)
    return base64.b64encode(signature).decode("ascii"), key_label(key.verifier)


def verify_certificate(
    document: bytes, signature: str, verifier: VerifierKey, key_id: str | None = None
) -> dict[str, Any]:
    """The certificate's content if ``signature`` by ``verifier`` (the deployment's published
    key, never one the certificate names) verifies over ``document``; else
    ``CertificateInvalid``."""
    if key_id is not None and key_id != key_label(verifier):
        raise CertificateInvalid(f"signed by key {key_id}, not by {key_label(verifier)}")
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError as exc:
        raise CertificateInvalid("its signature is not base64") from exc
    if not verifier.verify(SIGNING_CONTEXT + document, raw):
        raise CertificateInvalid("its signature does not verify: the certificate was changed")
    body = orjson.loads(document)
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise CertificateInvalid(f"not a {FORMAT} document")
    return body


def verify_certificate_file(path: Path, verifier: VerifierKey) -> dict[str, Any]:
    """Verify a ``cert.json`` written by :func:`export_certificate`; its content."""
    try:
        envelope = orjson.loads(path.read_bytes())
        document = canonical(envelope["certificate"])
        signature = envelope["signature"]
        if envelope["digest"] != certificate_digest(document):
            raise CertificateInvalid(f"{path}: the certificate does not match its digest")
        return verify_certificate(document, signature["value"], verifier, signature["key"])
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise CertificateInvalid(f"{path}: not a deletion certificate file") from exc


def leaf_ranges(indexes: Iterable[int]) -> list[list[int]]:
    """Sorted indexes as half-open ``[start, end)`` runs."""
    out: list[list[int]] = []
    for index in sorted(set(indexes)):
        if out and out[-1][1] == index:
            out[-1][1] = index + 1
        else:
            out.append([index, index + 1])
    return out


def range_indexes(ranges: Iterable[Sequence[int]]) -> Iterator[int]:
    """Every index of ``[start, end)`` runs."""
    for start, end in ranges:
        yield from range(int(start), int(end))


def _iso(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def render_html(body: dict[str, Any], digest: str, signature: str, key_id: str) -> str:
    """The certificate as a page a person reads (zh-CN first, English second)."""
    e = html.escape
    counts = "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in body["counts"].items())
    items = "".join(
        f"<tr><td>{e(c['conversation'])}</td><td>{c['messages']}</td>"
        f"<td>{e(str((c['retention'] or {}).get('policy_version', '-')))}</td>"
        f"<td>{e(str((c['retention'] or {}).get('rule') or '-'))}</td>"
        f"<td>{e(c['binned_at'] or '-')}</td></tr>"
        for c in body["conversations"]
    )
    ranges = ", ".join(f"{a}–{b - 1}" for a, b in body["ledger"]["purged_leaves"]) or "-"
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>删除证明 Deletion certificate {body['certificate_id']}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 8px;text-align:left}</style></head><body>"
        f"<h1>删除证明 / Deletion certificate {body['certificate_id']}</h1>"
        f"<p>签发时间 Issued: {e(body['issued_at'])} · 执行人 Actor: {e(body['actor']['name'])}"
        f" · 原因 Reason: {e(body['reason'])} · 批次 Run: {e(str(body['run_id']))}</p>"
        f"<h2>数量 Counts</h2><table>{counts}</table>"
        "<h2>会话 Conversations</h2><table><tr><th>conversation</th><th>messages</th>"
        f"<th>policy version</th><th>rule</th><th>binned at</th></tr>{items}</table>"
        f"<h2>账本 Ledger</h2><p>log {e(body['ledger']['log'])}, size {body['ledger']['size']};"
        f" purged leaves: {e(ranges)}</p>"
        f"<h2>销毁的数据密钥 Data keys destroyed</h2><p>{e(', '.join(body['data_keys']))}</p>"
        f"<h2>审批与保全 Approvals and holds</h2><p>approvals: {e(str(body['approvals']))};"
        f" active legal holds checked: {e(str(body['holds']['checked']))}; covering: none</p>"
        f"<h2>签名 Signature</h2><p>SHA-256 {e(digest)}<br>Ed25519, key {e(key_id)}<br>"
        f"<code>{e(signature)}</code></p></body></html>\n"
    )


# -- purge --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Shredded:
    """What one purge run removed."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    leaves: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    messages: int = 0
    vault: int = 0
    unindexed: int = 0
    cold_blocks: int = 0
    segments: set[str] = field(default_factory=set)


def _shred(ctx: Context, conn: Connection, facts: dict[int, dict[str, Any]], now: int) -> _Shredded:
    """Destroy the keys, delete the content, leave tombstones; what went."""
    out = _Shredded()
    pks = sorted(facts)
    cold = ctx.archive.cold(conn)
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        messages = rows.message_rows(conn, chunk, cold)
        indexed = {pk for pk in chunk if facts[pk]["state"] != State.RECYCLE_BIN}
        documents = rows.index_documents(
            conn, sorted(indexed), [m for m in messages if m[1] in indexed]
        )
        ctx.archive.index.remove(conn, documents)
        out.unindexed += len(documents)
        retention = rows.retention_rows(conn, chunk)
        binned = {r["conversation_id"]: r for r in rows.bin_rows(conn, chunk)}
        counts: dict[int, int] = dict.fromkeys(chunk, 0)
        for message in messages:
            counts[message[1]] += 1
            if message[5] is not None:
                out.leaves.append(int(message[5]))
        for pk in chunk:
            kept = retention.get(pk)
            entry = binned.get(pk)
            out.conversations.append(
                {
                    "conversation": facts[pk]["ref"],
                    "state_before": facts[pk]["state"],
                    "messages": counts[pk],
                    "binned_at": _iso(entry["binned_at"]) if entry else None,
                    "binned_by": entry["binned_by"] if entry else None,
                    "retention": None
                    if kept is None
                    else {**kept, "deadline": _iso(kept["deadline"])},
                }
            )
        out.messages += len(messages)
        message_ids = [m[0] for m in messages]
        dropped = cold.drop(chunk, message_ids)
        out.cold_blocks += len(dropped)
        out.segments |= {block.segment_id for block in dropped}
        out.vault += rows.delete_content(conn, chunk, message_ids)
    out.keys = sorted(
        k for _, k in rows.conversation_keys(conn, [f["ref"] for f in facts.values()])
    )
    rows.destroy_keys(conn, out.keys, now)
    rows.tombstone(conn, pks, now)
    return out


def _body(
    ctx: Context,
    conn: Connection,
    certificate_id: int,
    now: int,
    actor: Actor,
    reason: str,
    run_id: int | None,
    approval_id: int | None,
    shredded: _Shredded,
) -> dict[str, Any]:
    signer = ctx.archive.ledger_signer
    assert signer is not None
    size = conn.exec_driver_sql(
        f"SELECT size FROM ledger_logs WHERE log_id = {MESSAGES_LOG}"
    ).scalar()
    holds = [h["id"] for h in lifecycle_rows.hold_rows(conn, live_only=True)]
    return {
        "format": FORMAT,
        "certificate_id": certificate_id,
        "deployment": signer.deployment,
        "issued_at": _iso(now),
        "issued_at_ms": now,
        "actor": {"name": actor.name, "roles": sorted(actor.roles)},
        "reason": reason,
        "run_id": run_id,
        "counts": {
            "conversations": len(shredded.conversations),
            "messages": shredded.messages,
            "vault_entries": shredded.vault,
            "index_entries": shredded.unindexed,
            "data_keys_destroyed": len(shredded.keys),
            "cold_blocks": shredded.cold_blocks,
        },
        # Segment files holding a purged block, rewritten without it right after this commits.
        "cold_segments": sorted(shredded.segments),
        "conversations": shredded.conversations,
        "approvals": [] if approval_id is None else [{"operation": OPERATION, "id": approval_id}],
        "holds": {"checked": holds, "covering": []},
        "ledger": {
            "log": "messages",
            "origin": signer.origin(MESSAGES_LOG),
            "size": int(size or 0),
            "purged_leaves": leaf_ranges(shredded.leaves),
        },
        "data_keys": shredded.keys,
    }


def purge(
    ctx: Context,
    actor: Actor,
    conversation_pks: Sequence[int],
    *,
    reason: str,
    run_id: int | None = None,
    approval: int | None = None,
) -> dict[str, Any]:
    """Purge conversations (by database id) for good, and write their deletion certificate.

    The daily job runs it as the system for conversations whose bin window ended; legal may run
    it by hand for any conversation not purged yet, as ``conversations.bulk_delete``, with a
    second legal user's approval. Refused as a whole if one is under a legal hold, purged
    already, or does not exist. Returns the certificate's summary.
    """
    if not reason.strip():
        raise GovernanceError("a purge needs a reason", field="reason")
    require(OPERATION, actor.name, actor.roles)
    if ctx.archive.ledger_signer is None:
        raise KeyUnavailable(
            "the ledger signing key is not loaded: a deletion certificate"
            " cannot be signed; run chatkeeper init"
        )
    pks = sorted(set(conversation_pks))
    with ctx.archive.reader() as connection:
        facts = rows.conversation_facts(connection, pks)
    for pk in sorted(set(pks) - set(facts)):
        raise NotFound(f"no conversation with database id {pk}")

    def purgeable(_: object) -> None:
        for fact in facts.values():
            if fact["state"] == State.PURGED:
                raise NotInRecycleBin(f"conversation {fact['ref']} is purged already")
        refuse_held(ctx, facts)

    params = {"conversations": sorted(f["ref"] for f in facts.values())}
    with (
        authorized(
            ctx, actor, OPERATION, params, approval, reason=reason, check=purgeable
        ) as permit,
        ctx.archive.writer() as writer,
    ):
        conn = writer.connection
        now = ctx.now_ms()
        certificate_id = rows.new_certificate(
            conn,
            created_at=now,
            actor=actor.name,
            run_id=run_id,
            conversations=len(pks),
            messages=0,
        )
        shredded = _shred(ctx, conn, facts, now)
        body = _body(
            ctx, conn, certificate_id, now, actor, reason, run_id, permit.approval_id, shredded
        )
        document = canonical(body)
        digest = certificate_digest(document)
        assert ctx.archive.ledger_signer is not None
        signature, key_id = sign_certificate(document, ctx.archive.ledger_signer.key)
        rows.complete_certificate(
            conn,
            certificate_id,
            document=document.decode(),
            digest=digest,
            signature=signature,
            key_id=key_id,
            messages=shredded.messages,
            html=render_html(body, digest, signature, key_id),
        )
        rows.record_purged_leaves(conn, certificate_id, shredded.leaves)
        summary = {
            "certificate": certificate_id,
            "digest": digest,
            "conversations": len(pks),
            "messages": shredded.messages,
            "run": run_id,
        }
        writer.audit(
            actor,
            "conversation.purged",
            target_kind="deletion_certificate",
            target_id=str(certificate_id),
            reason=reason,
            approval_id=permit.approval_id,
            details=summary,
        )
    ctx.archive.compact_segments(shredded.segments, ctx.now_ms())
    return {
        "id": certificate_id,
        **summary,
        "data_keys_destroyed": len(shredded.keys),
        "vault_entries": shredded.vault,
        "cold_segments_rewritten": len(shredded.segments),
    }


# -- reading certificates -----------------------------------------------------------------------


def _verifier(ctx: Context) -> VerifierKey:
    path = key_folder(ctx.settings) / VERIFIER_KEY_FILE
    return parse_verifier_key(path.read_text(encoding="ascii").strip())


def _checked(row: dict[str, Any], verifier: VerifierKey) -> str | None:
    """Why a stored certificate does not verify (``None``: it does)."""
    document = str(row["document"]).encode()
    if certificate_digest(document) != row["digest"]:
        return "the certificate does not match its digest"
    try:
        verify_certificate(document, row["signature"], verifier, row["key_id"])
    except CertificateInvalid as exc:
        return exc.message
    return None


def _public(ctx: Context, row: dict[str, Any], problem: str | None) -> dict[str, Any]:
    offset = ctx.settings.display.utc_offset_minutes
    return {
        "id": row["id"],
        "issued_at": format_time(row["created_at"], offset),
        "actor": row["actor"],
        "run": row["run_id"],
        "conversations": row["conversations"],
        "messages": row["messages"],
        "digest": row["digest"],
        "key_id": row["key_id"],
        "valid": problem is None,
        "problem": problem,
    }


def list_certificates(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """Every deletion certificate, oldest first, each verified against the deployment's
    verifier key (``valid``; ``problem`` says why not)."""
    authorize(ctx, actor, "lifecycle.certificates")
    verifier = _verifier(ctx)
    with ctx.archive.reader() as connection:
        found = rows.certificate_rows(connection, documents=True)
    out = [_public(ctx, row, _checked(row, verifier)) for row in found]
    with ctx.archive.writer() as writer:
        writer.audit(actor, "certificate.listed", details={"certificates": len(out)})
    return out


def export_certificate(
    ctx: Context, actor: Actor, certificate_id: int, out_dir: Path
) -> dict[str, Any]:
    """Write one certificate as ``cert.json`` (the certificate, its digest, its signature and
    the verifier key) and ``cert.html`` into ``out_dir``; what was written."""
    authorize(ctx, actor, "lifecycle.certificates")
    with ctx.archive.reader() as connection:
        row = rows.certificate_row(connection, certificate_id)
    if row is None:
        raise NotFound(f"there is no deletion certificate {certificate_id}")
    verifier = _verifier(ctx)
    problem = _checked(row, verifier)
    out_dir.mkdir(parents=True, exist_ok=True)
    envelope = {
        "certificate": orjson.loads(row["document"]),
        "digest": row["digest"],
        "signature": {
            "algorithm": "Ed25519",
            "key": row["key_id"],
            "value": row["signature"],
            "context": SIGNING_CONTEXT.decode().strip(),
        },
        "verifier_key": verifier.encode(),
    }
    paths = {"json": out_dir / "cert.json", "html": out_dir / "cert.html"}
    paths["json"].write_bytes(orjson.dumps(envelope, option=orjson.OPT_INDENT_2) + b"\n")
    paths["html"].write_text(str(row["html"]), encoding="utf-8")
    with ctx.archive.writer() as writer:
        writer.audit(
            actor,
            "certificate.exported",
            target_kind="deletion_certificate",
            target_id=str(certificate_id),
            details={"digest": row["digest"]},
        )
    return {**_public(ctx, row, problem), "files": {k: str(v) for k, v in paths.items()}}


def purged_leaves(
    ctx: Context, connection: Connection
) -> tuple[set[int], list[tuple[str, str, str]]]:
    """For ``ledger verify`` (which authorises and audits its own run): the message-log
    indexes proven purged — listed by a certificate whose digest matches, whose signature by
    the deployment's verifier key verifies, and whose digest a ``conversation.purged`` audit
    event names — and ``(kind, target, detail)`` findings for every certificate that fails and
    every ``purged_leaves`` row no such certificate backs."""
    verifier = _verifier(ctx)
    audited = rows.purge_digests(connection)
    proven: set[int] = set()
    problems: list[tuple[str, str, str]] = []
    for row in rows.certificate_rows(connection, documents=True):
        target = f"deletion certificate {row['id']}"
        problem = _checked(row, verifier)
        if problem is None and row["digest"] not in audited:
            problem = "no conversation.purged audit event names its digest"
        if problem is not None:
            problems.append(("certificate_invalid", target, problem))
            continue
        body = orjson.loads(row["document"])
        proven.update(range_indexes(body["ledger"]["purged_leaves"]))
    for index in sorted(rows.listed_purged_leaves(connection) - proven):
        problems.append(
            (
                "purge_unproven",
                f"leaf {index}",
                "listed as purged, but no valid, audited deletion certificate lists it",
            )
        )
    return proven, problems
