"""Evidence bundles: one conversation, provably as it was stored, checkable offline by anyone.

A bundle (a zip) holds the transcript (JSON and a readable HTML page), for each message the
fields of its ledger leaf, its salt and original text (so its content commitment can be
recomputed) and its inclusion proof, the signed checkpoint the proofs lead to, the log's public
key, the newest checkpoint published to an external anchor with its receipt and the consistency
proof joining it to the bundle's checkpoint (docs/ledger.md, "Evidence bundle"), a README in
Chinese and English, and ``verify.py``: a single file (Python standard library and
``cryptography``) that checks all of it without ChatKeeper or its data folder.

The bundle reveals the conversation's original text: exporting one is an audited operation.
"""

from __future__ import annotations

import base64
import hashlib
import html
import zipfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from chatkeeper.crypto import decrypt, peek
from chatkeeper.domain import Actor
from chatkeeper.errors import NotFound, StoreError
from chatkeeper.ledger import LedgerError, consistency_proof, hash_algorithm
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.keyring import VERIFIER_KEY_FILE, key_folder
from chatkeeper.store import original as original_record
from chatkeeper.store.ledger import MESSAGES_LOG, SqlNodeStore

FORMAT = "chatkeeper.evidence/v2"

README = """# 会话存证包 / Conversation evidence bundle

本压缩包证明其中的会话记录自存档以来未被改动。验证不需要安装 ChatKeeper，也不需要信任存档方：

    pip install cryptography
    python verify.py 本文件.zip

`verify.py` 用每条消息的原文与盐值重新计算其承诺值和 Merkle 树叶子，按包含证明算到签名检查点的根，
并用公钥验证检查点的 Ed25519 签名（C2SP 签名格式）。若该日志已发布到外部锚点（RFC 3161
时间戳机构等），它还验证锚定检查点的签名及其与本包检查点之间的一致性证明：锚定之后历史未被改写，
叶子序号小于锚定树大小的消息在锚定时已存在。尚无锚定时会如实说明。任何一个字节被改动都会导致验证失败。
锚点回执（RFC 3161 时间戳令牌）可用 `chatkeeper evidence verify` 核验。

This archive proves that the conversation in it is unchanged since it was archived. Checking it
needs neither ChatKeeper nor trust in the operator:

    pip install cryptography
    python verify.py this-file.zip

`verify.py` recomputes each message's content commitment and Merkle leaf from its original text and
salt, follows its inclusion proof to the root of the signed checkpoint, and checks the
checkpoint's Ed25519 signature (C2SP signed note) with the public key. When the log had been
published to an external anchor (an RFC 3161 time-stamp authority, ...), it also checks the
anchored checkpoint's signature and the consistency proof between it and the bundle's checkpoint:
the history was not rewritten after anchoring, and the messages whose leaf index is below the
anchored size were in the log when it was anchored. Without an anchored checkpoint it says so.
Changing any byte makes it fail. `chatkeeper evidence verify` also checks the anchor's receipt
(an RFC 3161 time-stamp token). Files: `evidence.json` (what is checked), `transcript.json` /
`transcript.html` (readable), `verify.py` (the checker), `public_key.txt` (the log's verifier key).
"""


def export_evidence(
    ctx: Context,
    actor: Actor,
    conversation_id: str,
    out: Path,
    platform: str | None = None,
    approval: int | None = None,
) -> dict[str, Any]:
    """Write the evidence bundle of one conversation; returns a summary. Exporting is a key
    operation: it needs an approval."""
    authorize(ctx, actor, "evidence.export", {"conversation": conversation_id,
                                              "platform": platform}, approval)  # fmt: skip
    transcript = show_conversation(ctx, actor, conversation_id, platform)
    ctx.load_keys()
    with ctx.archive.reader() as conn:
        entries, checkpoint, size, anchor = _entries(ctx, conn, transcript.conversation)
    anchored = anchor.pop("size") if anchor else None
    public_key = (key_folder(ctx.settings) / VERIFIER_KEY_FILE).read_text(encoding="ascii").strip()
    evidence = {
        "format": FORMAT,
        "checkpoint": checkpoint,
        "public_key": public_key,
        "anchor": anchor,
        "conversation": transcript.conversation,
        "messages": entries,
    }
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr(
                "evidence.json",
                orjson.dumps(evidence, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS),
            )
            readable = _readable(transcript, entries)
            bundle.writestr(
                "transcript.json",
                orjson.dumps(readable, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS),
            )
            bundle.writestr("transcript.html", _html(transcript.conversation, entries))
            bundle.writestr("README.md", README)
            bundle.writestr("public_key.txt", public_key + "\n")
            bundle.writestr("verify.py", _verifier_source())
    except OSError as exc:
        raise StoreError(f"{out}: cannot write the bundle ({exc.strerror})") from exc
    with ctx.archive.writer() as writer:
        writer.audit(
            actor, "evidence.exported", target_kind="conversation",
            target_id=f"{transcript.conversation['platform']}:{conversation_id}",
            details={"messages": len(entries), "checkpoint_size": size,
                     "anchored_size": anchored},
        )  # fmt: skip
    return {"file": str(out), "messages": len(entries), "checkpoint_size": size,
            "anchored_size": anchored}  # fmt: skip


def _entries(
    ctx: Context, conn: Any, conversation: dict[str, Any]
) -> tuple[list[dict[str, Any]], str, int, dict[str, Any] | None]:
    """Each message's bundle entry (hot or cold, in id order), the newest checkpoint's note
    and size, and the anchor section."""
    row = conn.exec_driver_sql(
        f"SELECT size, note FROM ledger_checkpoints WHERE log_id = {MESSAGES_LOG} "
        "ORDER BY size DESC"
    ).first()
    if row is None:
        raise NotFound("the ledger has no signed checkpoint yet")
    size, note = int(row[0]), str(row[1])
    algorithm = hash_algorithm(
        str(conn.exec_driver_sql(
            f"SELECT algorithm FROM ledger_logs WHERE log_id = {MESSAGES_LOG}").scalar())
    )  # fmt: skip
    store = SqlNodeStore(conn, MESSAGES_LOG)
    platform, external = conversation["platform"], conversation["conversation_id"]
    mark = "?" if ctx.archive.dialect == "sqlite" else "%s"
    rows = conn.exec_driver_sql(
        "SELECT m.id, m.ledger_index, m.external_id, m.sent_at, m.sender_role, m.ciphertext, "
        "m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        f"JOIN platforms p ON p.id = c.platform_id WHERE p.code = {mark} "
        f"AND c.external_id = {mark} AND m.ledger_index IS NOT NULL "
        f"AND m.ciphertext IS NOT NULL AND m.ledger_index < {mark} ORDER BY m.id",
        (platform, external, size),
    ).all()
    rows = sorted([*rows, *_cold_rows(ctx, conn, platform, external, size)], key=lambda r: r[0])
    entries = []
    for _, index, message, sent_at, role, blob, text in rows:
        blob = bytes(blob)
        key_id = peek(blob).key_id
        key = ctx.keys(conn).by_id([key_id])[key_id]
        original = original_record.unpack(
            decrypt(blob, key, f"{platform}:{message}".encode()), text
        )
        entries.append({
            "leaf_index": int(index),
            "conversation_id": f"{platform}:{external}",
            "message_id": f"{platform}:{message}",
            "sent_at_us": int(sent_at) * 1000,
            "sender_role": role,
            "key_id": key_id,
            "ciphertext_sha256": base64.b64encode(hashlib.sha256(blob).digest()).decode(),
            "salt": base64.b64encode(original["salt"] or b"").decode(),
            "content": original["text"] or "",
            "inclusion_proof": [
                base64.b64encode(h).decode()
                for h in store.inclusion_proof(int(index), size, algorithm)
            ],
        })  # fmt: skip
    return entries, note, size, _anchor(conn, store, size, algorithm)


def _cold_rows(
    ctx: Context, conn: Any, platform: str, external: str, size: int
) -> list[tuple[Any, ...]]:
    """The conversation's cold messages as the query of hot ones gives them (id, leaf index,
    message id, time, role, ciphertext, text), their ciphertexts remade as they were stored."""
    if ctx.archive.segments is None:
        return []
    pk = int(ctx.archive.find_conversation(conn, external, platform)["id"])
    cold = ctx.archive.cold(conn)
    messages = cold.messages([pk])
    if not messages:
        return []
    platforms = {
        int(r[0]): str(r[1]) for r in conn.exec_driver_sql("SELECT id, code FROM platforms")
    }
    cold.ciphertexts(messages, platforms)
    return [
        (m["id"], m["ledger_index"], m["external_id"], m["sent_at"], m["sender_role"],
         m["ciphertext"], m["text"])
        for m in messages
        if m["ledger_index"] is not None and m["ciphertext"] is not None
        and m["ledger_index"] < size
    ]  # fmt: skip


def _anchor(conn: Any, store: SqlNodeStore, size: int, algorithm: Any) -> dict[str, Any] | None:
    """The newest anchored checkpoint, its receipt, and the consistency proof between it and
    the bundle's checkpoint of ``size``: from the smaller tree to the larger. The anchored one
    is normally the smaller (the bundle takes the newest checkpoint), and the proof shows the
    history was not rewritten since; were it larger, the proof would show every message of the
    bundle was in the log when it was anchored. ``None``: nothing is anchored yet."""
    row = conn.exec_driver_sql(
        "SELECT a.size, a.anchor, a.receipt, a.anchored_at, c.note FROM ledger_anchors a "
        "JOIN ledger_checkpoints c ON c.log_id = a.log_id AND c.size = a.size "
        f"WHERE a.log_id = {MESSAGES_LOG} ORDER BY a.size DESC, a.anchored_at DESC"
    ).first()
    if row is None:
        return None
    anchored, setting, receipt, at, note = int(row[0]), str(row[1]), str(row[2]), row[3], row[4]
    old, new = sorted((anchored, size))
    return {
        "kind": setting.partition(":")[0],
        "checkpoint": str(note),
        "receipt": receipt,
        "anchored_at": datetime.fromtimestamp(int(at) // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "consistency_proof": [
            base64.b64encode(h).decode() for h in consistency_proof(old, new, store.get, algorithm)
        ],
        "size": anchored,  # for the summary; not part of the section
    }


def _readable(transcript: Any, entries: list[dict[str, Any]]) -> dict[str, Any]:
    originals = {e["message_id"].split(":", 1)[1]: e["content"] for e in entries}
    messages = [
        {**m, "text": originals.get(m["message_id"], m["text"])} for m in transcript.messages
    ]
    return {"conversation": transcript.conversation, "messages": messages}


def _html(conversation: dict[str, Any], entries: list[dict[str, Any]]) -> str:
    rows = "\n".join(
        f"<tr><td>{e['leaf_index']}</td><td>{html.escape(e['message_id'])}</td>"
        f"<td>{html.escape(e['sender_role'])}</td><td>{html.escape(e['content'])}</td></tr>"
        for e in entries
    )
    title = html.escape(f"{conversation['platform']}:{conversation['conversation_id']}")
    return (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
        f"<title>会话存证 / Evidence {title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.3em .6em;"
        "border-bottom:1px solid #ddd;vertical-align:top}</style>"
        f"<h1>会话存证 / Conversation evidence</h1><p>{title}</p>"
        "<p>用 verify.py 验证 / check with verify.py</p>"
        "<table><tr><th>#</th><th>消息 / message</th><th>角色 / role</th>"
        f"<th>原文 / original</th></tr>{rows}</table></html>"
    )


def _verifier_source() -> str:
    return resources.files("chatkeeper.ledger").joinpath("standalone.py").read_text("utf-8")


def verify_evidence(bundle: Path, public_key: str | None = None) -> dict[str, Any]:
    """Check a bundle offline, as ``verify.py`` does, and also the anchor's receipt where
    ChatKeeper can: an RFC 3161 token must stamp the anchored checkpoint and carry a valid TSA
    signature (its time and authority are added to the report as ``anchor.time_stamp``)."""
    from chatkeeper.ledger.rfc3161 import verify_timestamp_receipt  # asn1crypto when needed
    from chatkeeper.ledger.standalone import read_evidence, verify_bundle

    report = verify_bundle(bundle, public_key)
    anchor = report.get("anchor") or {}
    if anchor.get("kind") == "rfc3161" and anchor.get("consistent"):
        section = read_evidence(bundle)["anchor"]
        try:
            stamp = verify_timestamp_receipt(section["checkpoint"], section["receipt"])
        except LedgerError as exc:
            report["problems"].append(f"anchor receipt: {exc.message}")
            report["ok"] = False
        else:
            anchor["time_stamp"] = {
                "time": stamp.gen_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "authority": stamp.authority,
                "certificate_sha256": stamp.fingerprint,
                "serial_number": stamp.serial_number,
            }
    return report
