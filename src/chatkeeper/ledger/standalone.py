"""ChatKeeper 证据包独立校验程序 / ChatKeeper evidence-bundle verifier (standalone).

中文
----
本文件随每个证据包一起提供（文件名 ``verify.py``），无需安装 ChatKeeper 即可核验证据包。
它只依赖 Python 3.11+ 标准库和 ``cryptography`` 库（``pip install cryptography``）。

它检查：

1. 检查点（checkpoint，C2SP 签名笔记格式）的 Ed25519 签名能用包内公钥验证通过
   （签名行的密钥名称与密钥 ID 都必须与公钥一致）；
2. 对每条消息，根据原文、盐值、会话/消息 ID、发送时间、发送方角色、密钥 ID 和密文哈希
   重新计算内容承诺与叶子哈希，再用包含证明（RFC 9162）验证它确实位于检查点所签的
   默克尔树中（树大小与根哈希）；
3. 若证据包带有已发布到外部锚点（RFC 3161 时间戳机构、存证链、第三方存储）的检查点，
   则验证其签名，并用一致性证明（RFC 9162）验证两棵树中较小的一棵是较大一棵的前缀：
   锚定之后的历史未被改写，且叶子序号小于锚定树大小的消息在锚定时已经存在。
   若尚无锚定检查点，报告会如实说明（这不是验证失败）。锚点回执（如 RFC 3161 时间戳
   令牌）本程序不检查，请用 ``chatkeeper evidence verify`` 或 ``openssl ts -verify`` 核验。

运行方法::

    python verify.py BUNDLE.zip          # 或包含 evidence.json 的文件夹
    python verify.py BUNDLE.zip --public-key '<名称+十六进制+base64>'

全部通过时退出码为 0，否则为 1。请将包内公钥与运营方另行公布的公钥核对
（或用 ``--public-key`` 指定公布的公钥）：只信任证据包自带的公钥是不够的。

English
-------
This file ships inside every evidence bundle (as ``verify.py``) so that anyone (a court, a
customer, an auditor) can check a bundle without installing ChatKeeper. It needs only the Python
3.11+ standard library and the ``cryptography`` package (``pip install cryptography``).

It checks:

1. that the checkpoint (a C2SP signed note) carries an Ed25519 signature that verifies under the
   bundle's public key (the signature line's key name and key ID must both match that key);
2. for every message, that the leaf recomputed from the original content, its salt, the
   conversation and message ids, the send time, the sender role, the data-key id and the
   ciphertext hash is included, by its RFC 9162 inclusion proof, in the Merkle tree whose size and
   root the checkpoint signs;
3. when the bundle carries the newest checkpoint that was published to an external anchor (an
   RFC 3161 time-stamp authority, a judicial chain, another party's storage): its signature, and
   the RFC 9162 consistency proof that the smaller of the two trees is a prefix of the larger.
   So the history was not rewritten after it was anchored, and every message whose leaf index is
   below the anchored tree's size was in the log when it was anchored. When there is no anchored
   checkpoint yet, the report says so (a stated fact, not a failure). The anchor's receipt (an
   RFC 3161 token, say) is not checked here: ``chatkeeper evidence verify`` checks it, as does
   ``openssl ts -verify``.

Run it as::

    python verify.py BUNDLE.zip          # or a folder holding evidence.json
    python verify.py BUNDLE.zip --public-key '<name+hex+base64>'

It exits 0 when everything verifies, 1 otherwise. Compare the bundle's public key with the one
the operator publishes elsewhere (or pass that published key with ``--public-key``): a key taken
from the bundle alone proves only that the bundle is self-consistent.

It is one file, longer than ChatKeeper's other modules, on purpose: it travels alone inside each
bundle, and a reader must be able to audit everything it trusts in one place.

Formats (re-implemented here, byte for byte, from ChatKeeper's docs/ledger.md): the message leaf
``0x01 0x01 ‖ str16 conversation_id ‖ str16 message_id ‖ int64 sent_at (µs) ‖ str8 sender_role ‖
str8 key_id ‖ hash8 ciphertext hash ‖ hash8 content commitment``; the content commitment
``H("chatkeeper.content.v1" ‖ 0x00 ‖ salt ‖ content)``; RFC 6962 leaf ``H(0x00 ‖ data)`` and node
``H(0x01 ‖ left ‖ right)`` hashes; C2SP signed notes with key ID = first 4 bytes of
``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)``; C2SP checkpoints (origin, size, base64 root,
optional extension lines, ``hash-algorithm <name>`` for any hash but SHA-256); the evidence file
``chatkeeper.evidence/v2`` (v1: without the ``anchor`` section), its ``anchor`` section ``kind``,
``checkpoint``, ``receipt``, ``anchored_at``, ``consistency_proof`` (RFC 9162, from the smaller
tree to the larger).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "chatkeeper.evidence/v2"
FORMATS = ("chatkeeper.evidence/v1", FORMAT)  # v1: no anchor section
ANCHOR_FIELDS = {"kind", "checkpoint", "receipt", "anchored_at", "consistency_proof"}
EVIDENCE_FILE = "evidence.json"
ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # U+2014 EM DASH, then a space
MAX_SIGNATURES = 100
LEAF_VERSION = 0x01
MESSAGE_LEAF = 0x01
SALT_SIZE = 32
CONTENT_TAG = b"chatkeeper.content.v1\x00"
HASH_EXTENSION = "hash-algorithm "
DIGEST_SIZES = {"sha256": 32, "sm3": 32}
_MAX_SIZE = 1 << 64

Hash = Callable[[bytes], bytes]


class Problem(Exception):
    """One thing that does not verify, worded for the report."""


# --- hashing (RFC 6962) ------------------------------------------------------------------------


def hash_function(name: str) -> Hash:
    """``H`` for the tree's algorithm: SHA-256, or SM3 when this Python's OpenSSL offers it."""
    if name == "sha256":
        return lambda data: hashlib.sha256(data).digest()
    if name == "sm3":
        try:
            hashlib.new("sm3")
        except ValueError as exc:
            raise Problem(
                "the checkpoint's tree uses SM3, which this Python's OpenSSL does not offer"
            ) from exc
        return lambda data: hashlib.new("sm3", data).digest()
    raise Problem(f"the checkpoint names an unknown hash algorithm {name!r}")


def leaf_hash(data: bytes, h: Hash) -> bytes:
    """RFC 6962 leaf hash ``H(0x00 ‖ data)``."""
    return h(b"\x00" + data)


def node_hash(left: bytes, right: bytes, h: Hash) -> bytes:
    """RFC 6962 inner node hash ``H(0x01 ‖ left ‖ right)``."""
    return h(b"\x01" + left + right)


def content_commitment(salt: bytes, content: bytes, h: Hash) -> bytes:
    """``H("chatkeeper.content.v1" ‖ 0x00 ‖ salt ‖ content)``."""
    if len(salt) != SALT_SIZE:
        raise Problem(f"the salt has {len(salt)} bytes, not {SALT_SIZE}")
    return h(CONTENT_TAG + salt + content)


def _text_field(name: str, value: str, width: int) -> bytes:
    """A ``str8`` (width 1) or ``str16`` (width 2) field: length, then UTF-8 bytes."""
    data = value.encode("utf-8")
    if not data or len(data) >= 1 << (8 * width):
        raise Problem(f"{name} must be 1 to {(1 << (8 * width)) - 1} bytes of UTF-8")
    return len(data).to_bytes(width, "big") + data


def message_leaf(
    *,
    conversation_id: str,
    message_id: str,
    sent_at_us: int,
    sender_role: str,
    key_id: str,
    ciphertext_hash: bytes,
    content_commitment: bytes,
    digest_size: int = 32,
) -> bytes:
    """The message leaf data (docs/ledger.md, "Message leaf", version 0x01, type 0x01)."""
    if not -(1 << 63) <= sent_at_us < 1 << 63:
        raise Problem("sent_at_us does not fit a signed 64-bit integer")
    for name, value in (
        ("ciphertext_sha256", ciphertext_hash),
        ("content commitment", content_commitment),
    ):
        if len(value) != digest_size:
            raise Problem(f"{name} has {len(value)} bytes, not {digest_size}")
    return b"".join(
        (
            bytes((LEAF_VERSION, MESSAGE_LEAF)),
            _text_field("conversation_id", conversation_id, 2),
            _text_field("message_id", message_id, 2),
            sent_at_us.to_bytes(8, "big", signed=True),
            _text_field("sender_role", sender_role, 1),
            _text_field("key_id", key_id, 1),
            bytes((len(ciphertext_hash),)) + ciphertext_hash,
            bytes((len(content_commitment),)) + content_commitment,
        )
    )


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes, h: Hash
) -> None:
    """RFC 9162 §2.1.3.2: ``leaf`` (a leaf hash) is leaf ``index`` of the tree ``size``/``root``.

    Raises ``Problem`` naming why not.
    """
    if not 0 <= index < size:  # step 1
        raise Problem(f"leaf index {index} is not in the checkpoint's tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf  # steps 2 and 3
    for p in proof:  # step 4
        if sn == 0:
            raise Problem(
                f"the inclusion proof has {len(proof)} hashes, too many for leaf {index} "
                f"in a tree of {size}"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r, h)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p, h)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # step 5
        raise Problem(
            f"the inclusion proof has {len(proof)} hashes, too few for leaf {index} "
            f"in a tree of {size}"
        )
    if r != root:
        raise Problem(
            "the root computed from the recomputed leaf and its inclusion proof differs from the "
            "checkpoint's root: the content, salt, ids, time, role, key id, ciphertext hash, "
            "leaf index or proof were altered"
        )


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes], h: Hash
) -> None:
    """RFC 9162 §2.1.4.2: the tree of ``old`` leaves (``old_root``) is a prefix of ``new``'s.

    Edge cases as ChatKeeper's own verifier (and Go's transparency-dev/merkle) decide them: equal
    sizes need an empty proof and equal roots; an empty old tree needs an empty proof. Raises
    ``Problem`` naming why not.
    """
    if not 0 <= old <= new:
        raise Problem(f"a tree of {old} leaves cannot be a prefix of one of {new}")
    if old in (0, new):
        if proof:
            raise Problem(f"the consistency proof from {old} to {new} must be empty")
        if old_root != (new_root if old else h(b"")):
            raise Problem(f"the two checkpoints of size {old} have different roots")
        return
    if not proof:  # step 1
        raise Problem(f"the consistency proof from {old} to {new} is empty")
    path = [old_root, *proof] if old & (old - 1) == 0 else list(proof)  # step 2
    fn, sn = old - 1, new - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise Problem(f"the consistency proof has too many hashes for {old} to {new}")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr, h), node_hash(c, sr, h)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c, h)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # step 7
        raise Problem(f"the consistency proof has too few hashes for {old} to {new}")
    if fr != old_root or sr != new_root:
        which = "old" if fr != old_root else "new"
        raise Problem(
            f"the consistency proof from {old} to {new} does not lead to the {which} root: the "
            "proof or a checkpoint was altered, or the log was rewritten"
        )


# --- signed notes and checkpoints (C2SP) -------------------------------------------------------


def strict_b64decode(text: object, what: str) -> bytes:
    """Standard padded base64 that re-encodes to itself (one byte string, one encoding)."""
    if not isinstance(text, str):
        raise Problem(f"{what} is not a base64 string")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Problem(f"{what} is not standard base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise Problem(f"{what} is not canonical standard base64")
    return raw


def key_id(name: str, public_key: bytes) -> int:
    """First 4 bytes, big-endian, of ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)``."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes((ED25519,)) + public_key)
    return int.from_bytes(digest.digest()[:4], "big")


def _check_key_name(name: str, what: str) -> None:
    """A key name is non-empty, without Unicode spaces or ``+``."""
    if not name or "+" in name or any(char.isspace() for char in name):
        raise Problem(f"{what}: a key name must be non-empty, without spaces or '+'")


def parse_verifier_key(text: object) -> tuple[str, bytes]:
    """``<name>+<8 hex digits key ID>+<base64(0x01 ‖ public key)>`` → (name, public key)."""
    if not isinstance(text, str):
        raise Problem("the public key is not a string")
    parts = text.split("+", 2)  # the base64 part may itself contain "+"
    if len(parts) != 3 or len(parts[1]) != 8:
        raise Problem("the public key is not <name>+<8 hex digits>+<base64>")
    name, hex_id, blob = parts
    _check_key_name(name, "the public key")
    try:
        claimed = int(hex_id, 16)
    except ValueError as exc:
        raise Problem("the public key's key ID is not hexadecimal") from exc
    raw = strict_b64decode(blob, "the public key's key part")
    if len(raw) != 33 or raw[0] != ED25519:
        raise Problem("the public key is not an Ed25519 (type 0x01) key")
    if key_id(name, raw[1:]) != claimed:
        raise Problem(f"the public key's key ID {claimed:08x} does not match its name and key")
    return name, raw[1:]


def parse_note(message: str) -> tuple[str, list[tuple[str, int, bytes]]]:
    """A signed note → (text with final newline, [(key name, key ID, signature)])."""
    if not message.endswith("\n"):
        raise Problem("the checkpoint note does not end with a newline")
    for number, line in enumerate(message.split("\n"), start=1):
        if any(char < " " for char in line):
            raise Problem(f"checkpoint note line {number} contains a control character")
    split = message.rfind("\n\n")  # the text ends at the LAST blank line
    if split < 0:
        raise Problem("the checkpoint note has no blank line before its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise Problem("the checkpoint note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise Problem(f"the checkpoint note has more than {MAX_SIGNATURES} signature lines")
    signatures = []
    first = text.count("\n") + 2
    for number, line in enumerate(lines, start=first):
        if not line.startswith(SIGNATURE_PREFIX):
            raise Problem(f"checkpoint note line {number} is not a signature line ('— ...')")
        fields = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(fields) != 2:
            raise Problem(f"checkpoint note line {number} is not '— <key name> <signature>'")
        name, blob = fields
        _check_key_name(name, f"checkpoint note line {number}")
        raw = strict_b64decode(blob, f"the signature on checkpoint note line {number}")
        if len(raw) < 5:
            raise Problem(f"the signature on checkpoint note line {number} is too short")
        signatures.append((name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, signatures


def verify_note_signature(
    signatures: list[tuple[str, int, bytes]], text: str, name: str, public_key: bytes
) -> None:
    """At least one signature line by (name, key ID) of ``public_key``, and every such line
    verifies; other keys' lines (cosigners) are ignored."""
    expected_id = key_id(name, public_key)
    verifier = Ed25519PublicKey.from_public_bytes(public_key)
    data = text.encode("utf-8")
    verified = 0
    for sig_name, sig_id, signature in signatures:
        if (sig_name, sig_id) != (name, expected_id):
            continue
        try:
            verifier.verify(signature, data)
        except InvalidSignature as exc:
            raise Problem(
                f"the checkpoint signature by key {name}+{expected_id:08x} does not verify: "
                "the signed text (origin, tree size or root hash) or the signature was altered"
            ) from exc
        verified += 1
    if not verified:
        present = ", ".join(f"{n}+{i:08x}" for n, i, _ in signatures)
        raise Problem(
            f"the checkpoint has no signature by the public key {name}+{expected_id:08x}; "
            f"it is signed by {present}"
        )


def parse_checkpoint(text: str) -> tuple[str, int, bytes, str]:
    """A checkpoint's note text → (origin, size, root hash, hash algorithm name)."""
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise Problem("the checkpoint lacks an origin, a tree size or a root hash line")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise Problem("the checkpoint's origin (line 1) is empty")
    if (
        not size_line
        or not size_line.isascii()
        or not size_line.isdigit()
        or (size_line != "0" and size_line[0] == "0")
        or int(size_line) >= _MAX_SIZE
    ):
        raise Problem("the checkpoint's tree size (line 2) is not a decimal number below 2^64")
    root = strict_b64decode(root_line, "the checkpoint's root hash (line 3)")
    algorithm = "sha256"
    for number, line in enumerate(extensions, start=4):
        if not line:
            raise Problem(f"the checkpoint's extension line {number} is empty")
        if line.startswith(HASH_EXTENSION):
            algorithm = line[len(HASH_EXTENSION) :]
    if algorithm not in DIGEST_SIZES:
        raise Problem(f"the checkpoint names an unknown hash algorithm {algorithm!r}")
    if len(root) != DIGEST_SIZES[algorithm]:
        raise Problem(
            f"the checkpoint's root hash has {len(root)} bytes; {algorithm} has "
            f"{DIGEST_SIZES[algorithm]}"
        )
    return origin, int(size_line), root, algorithm


# --- the bundle --------------------------------------------------------------------------------


def read_evidence(path: str | Path) -> Any:
    """``evidence.json`` from a .zip bundle, a folder, or the file itself, parsed as JSON."""
    path = Path(path)
    try:
        if path.is_dir():
            raw = (path / EVIDENCE_FILE).read_bytes()
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as bundle:
                names = [
                    n
                    for n in bundle.namelist()
                    if n == EVIDENCE_FILE or n.endswith("/evidence.json")
                ]
                if not names:
                    raise Problem(f"the bundle {path} has no {EVIDENCE_FILE}")
                raw = bundle.read(min(names, key=len))
        else:
            raw = path.read_bytes()
    except OSError as exc:
        raise Problem(f"cannot read {path}: {exc}") from exc
    except zipfile.BadZipFile as exc:
        raise Problem(f"the bundle {path} is not a readable zip file: {exc}") from exc
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Problem(f"{EVIDENCE_FILE} is not UTF-8 JSON: {exc}") from exc


def _field(message: dict[str, Any], name: str, kind: type) -> Any:
    """A required message field of the given JSON type."""
    if name not in message:
        raise Problem(f"field {name} is missing")
    value = message[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Problem(f"field {name} is not a {kind.__name__}")
    return value


def check_message(
    message: dict[str, Any], size: int, root: bytes, h: Hash, digest_size: int
) -> None:
    """Recompute the message's leaf and verify its inclusion proof; ``Problem`` if it fails."""
    salt = strict_b64decode(_field(message, "salt", str), "field salt")
    content = _field(message, "content", str).encode("utf-8")
    proof_field = _field(message, "inclusion_proof", list)
    proof = [strict_b64decode(p, f"inclusion proof hash {n}") for n, p in enumerate(proof_field)]
    for n, p in enumerate(proof):
        if len(p) != digest_size:
            raise Problem(f"inclusion proof hash {n} has {len(p)} bytes, not {digest_size}")
    leaf = message_leaf(
        conversation_id=_field(message, "conversation_id", str),
        message_id=_field(message, "message_id", str),
        sent_at_us=_field(message, "sent_at_us", int),
        sender_role=_field(message, "sender_role", str),
        key_id=_field(message, "key_id", str),
        ciphertext_hash=strict_b64decode(
            _field(message, "ciphertext_sha256", str), "field ciphertext_sha256"
        ),
        content_commitment=content_commitment(salt, content, h),
        digest_size=digest_size,
    )
    index = _field(message, "leaf_index", int)
    verify_inclusion(leaf_hash(leaf, h), index, size, proof, root, h)


class Checkpoint:
    """A parsed checkpoint note and whether its signature verified under the public key."""

    def __init__(self, note: object, what: str) -> None:
        if not isinstance(note, str):
            raise Problem(f"{what} is missing or not a string")
        self.text, self.signatures = parse_note(note)
        self.origin, self.size, self.root, self.algorithm = parse_checkpoint(self.text)

    def summary(self) -> dict[str, Any]:
        """What the report shows."""
        root = base64.b64encode(self.root).decode("ascii")
        return {"origin": self.origin, "size": self.size, "root": root}


def check_anchor(
    anchor: object, bundled: Checkpoint, key: tuple[str, bytes] | None, problems: list[str]
) -> dict[str, Any]:
    """The anchored checkpoint: its signature, its log, and the consistency proof between it and
    the bundle's checkpoint (from the smaller tree to the larger, whichever that is)."""
    if anchor is None:
        return {"present": False}
    found: dict[str, Any] = {"present": True, "consistent": False}
    try:
        if not isinstance(anchor, dict) or set(anchor) != ANCHOR_FIELDS:
            raise Problem(
                f"the anchor section must have exactly {', '.join(sorted(ANCHOR_FIELDS))}"
            )
        for name in ("kind", "receipt", "anchored_at"):
            found[name] = _field(anchor, name, str)
        anchored = Checkpoint(anchor["checkpoint"], "the anchored checkpoint")
        found.update(anchored.summary())
        if (anchored.origin, anchored.algorithm) != (bundled.origin, bundled.algorithm):
            raise Problem("the anchored checkpoint is of another log than the bundle's checkpoint")
        if key is not None:
            verify_note_signature(anchored.signatures, anchored.text, *key)
        h = hash_function(bundled.algorithm)
        size = DIGEST_SIZES[bundled.algorithm]
        proof = [strict_b64decode(p, f"consistency proof hash {n}")
                 for n, p in enumerate(_field(anchor, "consistency_proof", list))]  # fmt: skip
        if any(len(p) != size for p in proof):
            raise Problem(f"a consistency proof hash does not have {size} bytes")
        old, new = sorted((anchored, bundled), key=lambda c: c.size)
        verify_consistency(old.size, new.size, old.root, new.root, proof, h)
    except Problem as exc:
        problems.append(f"anchored checkpoint: {exc}")
    else:
        found["consistent"] = True
    return found


def verify_bundle(path: str | Path, public_key: str | None = None) -> dict[str, Any]:
    """Verify an evidence bundle (a .zip, a folder with ``evidence.json``, or the file itself).

    ``public_key`` (``name+hex+base64``) overrides the bundle's own key: pass the one the operator
    publishes. Returns ``{"ok", "checkpoint": {"origin", "size", "root"} or None, "anchor":
    {"present", ...} or None (format v1), "messages": [{"message_id", "leaf_index", "ok",
    "problem"}], "problems": [...]}``.
    """
    result: dict[str, Any] = {
        "ok": False, "checkpoint": None, "anchor": None, "messages": [], "problems": [],
    }  # fmt: skip
    problems: list[str] = result["problems"]
    try:
        evidence = read_evidence(path)
    except Problem as exc:
        problems.append(str(exc))
        return result
    if not isinstance(evidence, dict):
        problems.append(f"{EVIDENCE_FILE} is not a JSON object")
        return result
    if evidence.get("format") not in FORMATS:
        problems.append(f"{EVIDENCE_FILE} has format {evidence.get('format')!r}, not {FORMAT!r}")
        return result

    # The checkpoint: parse it (even unsigned, to report what it claims), then check its signature.
    bundled, key = None, None
    try:
        bundled = Checkpoint(evidence.get("checkpoint"), "the checkpoint")
        result["checkpoint"] = bundled.summary()
        hash_function(bundled.algorithm)
    except Problem as exc:
        problems.append(f"checkpoint: {exc}")
        bundled = None
    else:
        try:
            key_text = evidence.get("public_key") if public_key is None else public_key
            key = parse_verifier_key(key_text)
            verify_note_signature(bundled.signatures, bundled.text, *key)
        except Problem as exc:
            problems.append(f"checkpoint signature: {exc}")
    if evidence["format"] != FORMATS[0]:
        if "anchor" not in evidence:
            problems.append("the bundle has no anchor section (null when nothing was anchored)")
        elif bundled is not None:
            result["anchor"] = check_anchor(evidence["anchor"], bundled, key, problems)

    messages = evidence.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.append("the bundle lists no messages")
        messages = []
    for position, message in enumerate(messages):
        result["messages"].append(_check_entry(position, message, bundled, problems))
    anchor = result["anchor"]
    if anchor and anchor.get("consistent") and bundled is not None:
        anchor["messages_anchored"] = sum(
            1 for m in result["messages"]
            if m["ok"] and (anchor["size"] >= bundled.size or m["leaf_index"] < anchor["size"])
        )  # fmt: skip
    check_transcripts(path, messages, problems)
    result["ok"] = not problems
    return result


def _check_entry(
    position: int, message: object, bundled: Checkpoint | None, problems: list[str]
) -> dict[str, Any]:
    """One message's entry in the report (its problem also added to ``problems``)."""
    entry: dict[str, Any] = {"message_id": None, "leaf_index": None, "ok": False, "problem": None}
    if isinstance(message, dict):
        entry["message_id"] = message.get("message_id")
        entry["leaf_index"] = message.get("leaf_index")
    label = f"message {position} ({entry['message_id']}, leaf {entry['leaf_index']})"
    try:
        if not isinstance(message, dict):
            raise Problem("it is not a JSON object")
        if bundled is None:
            raise Problem("not checked: the checkpoint could not be read")
        h, size = hash_function(bundled.algorithm), DIGEST_SIZES[bundled.algorithm]
        check_message(message, bundled.size, bundled.root, h, size)
    except Problem as exc:
        entry["problem"] = str(exc)
        problems.append(f"{label}: {exc}")
    else:
        entry["ok"] = True
    return entry


def _member(path: Path, name: str) -> bytes | None:
    """Another file of the bundle, or ``None`` if the bundle has none of that name."""
    try:
        if path.is_dir():
            member = path / name
            return member.read_bytes() if member.exists() else None
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as bundle:
                return bundle.read(name) if name in bundle.namelist() else None
    except (OSError, zipfile.BadZipFile):
        return None
    return None


def check_transcripts(path: str | Path, messages: list[Any], problems: list[str]) -> None:
    """The readable copies must say what the verified messages say (else someone edited them).

    The proofs cover ``evidence.json``; ``transcript.json`` and ``transcript.html`` are for
    people, so each verified original must appear in them unchanged.
    """
    contents = {
        str(m.get("message_id", "")).split(":", 1)[-1]: str(m.get("content", ""))
        for m in messages
        if isinstance(m, dict)
    }
    raw = _member(Path(path), "transcript.json")
    if raw is not None:
        try:
            listed = json.loads(raw.decode("utf-8")).get("messages", [])
        except (UnicodeDecodeError, ValueError, AttributeError):
            problems.append("transcript.json is not the JSON it should be")
            listed = []
        for item in listed:
            ident = str(item.get("message_id", "")) if isinstance(item, dict) else ""
            if ident in contents and item.get("text") != contents[ident]:
                problems.append(f"transcript.json: message {ident} differs from the verified text")
    page = _member(Path(path), "transcript.html")
    if page is not None:
        text = page.decode("utf-8", "replace")
        for ident, content in contents.items():
            if html.escape(content) not in text:
                problems.append(f"transcript.html: message {ident} differs from the verified text")


# --- the command line --------------------------------------------------------------------------


def report(result: dict[str, Any], key: str | None) -> str:
    """The human-readable report, with Chinese and English labels."""
    out = []
    checkpoint = result["checkpoint"]
    if checkpoint:
        out.append(f"日志 / Log origin:      {checkpoint['origin']}")
        out.append(f"树大小 / Tree size:     {checkpoint['size']}")
        out.append(f"根哈希 / Root hash:     {checkpoint['root']}")
    if key:
        out.append(f"公钥 / Public key:      {key}")
        out.append("  请与运营方公布的公钥核对 / compare it with the key the operator publishes")
    out.extend(_anchor_lines(result))
    out.append("")
    out.append("消息 / Messages:")
    for entry in result["messages"]:
        mark = "通过 OK  " if entry["ok"] else "失败 FAIL"
        line = f"  [{mark}] leaf {entry['leaf_index']}  {entry['message_id']}"
        if entry["problem"]:
            line += f"\n             {entry['problem']}"
        out.append(line)
    out.append("")
    if result["ok"]:
        out.append(
            f"结论 / Result: 全部通过 / VERIFIED: signature and all "
            f"{len(result['messages'])} messages verify"
        )
    else:
        out.append(f"结论 / Result: 未通过 / NOT VERIFIED: {len(result['problems'])} problem(s)")
        out.extend(f"  - {problem}" for problem in result["problems"])
    return "\n".join(out) + "\n"


def _anchor_lines(result: dict[str, Any]) -> list[str]:
    """What the report says about the anchored checkpoint, or that there is none."""
    anchor, checkpoint = result["anchor"], result["checkpoint"]
    if anchor is None:
        return ["锚定 / Anchor:          （v1 证据包不含锚定信息 / a v1 bundle carries none)"]
    if not anchor["present"]:
        return [
            "锚定 / Anchor:          无：导出时该日志尚未发布到外部锚点",
            "  none: the log had not been published to an external anchor when this bundle was",
            "  exported; the checkpoint rests on the operator's signature alone",
        ]
    lines = [
        f"锚定检查点 / Anchored:  size {anchor.get('size')}, {anchor.get('kind')}, "
        f"published {anchor.get('anchored_at')}",
        f"  回执 / receipt: {str(anchor.get('receipt'))[:60]}…"
        " (verify.py 不检查回执 / not checked here: use chatkeeper evidence verify)",
    ]
    if anchor["consistent"] and checkpoint:
        old, new = sorted((anchor["size"], checkpoint["size"]))
        lines.append(
            f"  一致性证明 / consistency {old} → {new}: 通过 OK; "
            f"{anchor['messages_anchored']} of {len(result['messages'])} messages were in the "
            "log when it was anchored"
        )
    else:
        lines.append("  一致性证明或签名 / consistency proof or signature: 失败 FAIL (below)")
    return lines


USAGE = "用法 / usage: python verify.py BUNDLE.zip|FOLDER [--public-key NAME+HEX+BASE64]\n"


def main(argv: list[str]) -> int:
    """Verify the bundle named in ``argv`` and print the report; 0 if it verifies, else 1."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:  # a console that cannot show Chinese still gets the report
        reconfigure(errors="replace")
    args = list(argv)
    key = None
    if "--public-key" in args:
        at = args.index("--public-key")
        if at + 1 >= len(args):
            sys.stderr.write(USAGE)
            return 1
        key = args[at + 1]
        del args[at : at + 2]
    if len(args) != 1 or args[0] in ("-h", "--help"):
        sys.stderr.write(USAGE)
        return 1
    result = verify_bundle(args[0], public_key=key)
    if key is None:
        try:
            evidence = read_evidence(args[0])
            bundled = evidence.get("public_key") if isinstance(evidence, dict) else None
            key = bundled if isinstance(bundled, str) else None
        except Problem:
            key = None
    sys.stdout.write(report(result, key))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
