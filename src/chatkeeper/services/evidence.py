"""Evidence bundles: one conversation, provably as it was stored, checkable offline by anyone.

A bundle (a zip) holds the transcript (JSON and a readable HTML page), for each message the
fields of its ledger leaf, its salt and original text (so its content commitment can be
recomputed) and its inclusion proof, the signed checkpoint the proofs lead to, the log's public
key, a README in Chinese and English, and ``verify.py``: a single file (Python standard library
and ``cryptography``) that checks all of it without ChatKeeper or its data folder.

The bundle reveals the conversation's original text: exporting one is an audited operation.
"""

from __future__ import annotations

import base64
import hashlib
import html
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from chatkeeper.crypto import decrypt, peek
from chatkeeper.domain import Actor
from chatkeeper.errors import NotFound, StoreError
from chatkeeper.ledger import hash_algorithm
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.keyring import VERIFIER_KEY_FILE, key_folder
from chatkeeper.store import original as original_record
from chatkeeper.store.ledger import MESSAGES_LOG, SqlNodeStore

FORMAT = "chatkeeper.evidence/v1"

README = """# 会话存证包 / Conversation evidence bundle

本压缩包证明其中的会话记录自存档以来未被改动。验证不需要安装 ChatKeeper，也不需要信任存档方：

    pip install cryptography
    python verify.py 本文件.zip

`verify.py` 用每条消息的原文与盐值重新计算其承诺值和 Merkle 树叶子，按包含证明算到签名检查点的根，
并用公钥验证检查点的 Ed25519 签名（C2SP 签名格式）。任何一个字节被改动都会导致验证失败。

This archive proves that the conversation in it is unchanged since it was archived. Checking it
needs neither ChatKeeper nor trust in the operator:

    pip install cryptography
    python verify.py this-file.zip

`verify.py` recomputes each message's content commitment and Merkle leaf from its original text and
salt, follows its inclusion proof to the root of the signed checkpoint, and checks the
checkpoint's Ed25519 signature (C2SP signed note) with the public key. Changing any byte makes it
fail. Files: `evidence.json` (what is checked), `transcript.json` / `transcript.html` (readable),
`verify.py` (the checker), `public_key.txt` (the log's verifier key).
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
        entries, checkpoint, size = _entries(ctx, conn, transcript.conversation)
    public_key = (key_folder(ctx.settings) / VERIFIER_KEY_FILE).read_text(encoding="ascii").strip()
    evidence = {
        "format": FORMAT,
        "checkpoint": checkpoint,
        "public_key": public_key,
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
            details={"messages": len(entries), "checkpoint_size": size},
        )  # fmt: skip
    return {"file": str(out), "messages": len(entries), "checkpoint_size": size}


def _entries(
    ctx: Context, conn: Any, conversation: dict[str, Any]
) -> tuple[list[dict[str, Any]], str, int]:
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
        "SELECT m.ledger_index, m.external_id, m.sent_at, m.sender_role, m.ciphertext, m.text "
        "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        f"JOIN platforms p ON p.id = c.platform_id WHERE p.code = {mark} "
        f"AND c.external_id = {mark} AND m.ledger_index IS NOT NULL "
        f"AND m.ciphertext IS NOT NULL AND m.ledger_index < {mark} ORDER BY m.id",
        (platform, external, size),
    )
    entries = []
    for index, message, sent_at, role, blob, text in rows:
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
    return entries, note, size


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
