"""Verifying the message ledger: recompute everything, name every difference.

``verify_ledger`` recomputes each stored message's leaf from its ciphertext and the salt sealed
inside it, rebuilds the whole tree from the leaves and compares every stored node and the
committed root, checks every signed checkpoint's signature and root, the consistency of each
checkpoint with the next, and every anchor receipt against the checkpoint it anchors. A message
whose key was destroyed (purged) is reported as purged, not as tampering: its leaf reveals nothing
and the tree still verifies.

Cold messages (``chatkeeper.store.cold``) are checked as hot ones: segment by segment, a page of
blocks at a time, every block ``cold_blocks`` lists (live or thawed) must match its SHA-256, and
the messages of the live ones, their ciphertexts remade, are recomputed leaf by leaf. A segment
file missing or damaged, or a block that does not open, is a finding, and verification goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from chatkeeper.crypto import decrypt, peek
from chatkeeper.crypto.errors import CryptoError
from chatkeeper.domain import Actor
from chatkeeper.errors import ChatKeeperError, ConfigError
from chatkeeper.ledger import (
    CompactRange,
    LedgerError,
    MerkleLog,
    hash_algorithm,
    parse_verifier_key,
    verify_checkpoint,
    verify_consistency,
)
from chatkeeper.ledger.anchor import open_anchor
from chatkeeper.lifecycle import SegmentReader
from chatkeeper.lifecycle.errors import SegmentCorrupt, SegmentError, SegmentNotInStore
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.keyring import VERIFIER_KEY_FILE, key_folder
from chatkeeper.store import original as original_record
from chatkeeper.store.audit import audit_leaf
from chatkeeper.store.bulk import insert_many, select_in
from chatkeeper.store.cold import LIVE, Block, ColdMessage, ColdStore
from chatkeeper.store.keys import KeyDestroyed, KeyUnavailable
from chatkeeper.store.ledger import (
    AUDIT_LOG,
    LOG_NAMES,
    MESSAGES_LOG,
    SqlNodeStore,
    message_leaf,
)

Progress = Callable[[int], None]
_CHUNK = 2000
_BLOCKS = 1000  # cold blocks read per page (a segment is opened again for each)


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between what is stored and what the ledger committed to."""

    # message_altered, leaf_missing, message_missing, node_altered, root_mismatch, ...,
    # segment_missing, segment_corrupt, segment_unreadable, block_unreadable
    kind: str
    target: str
    detail: str


@dataclass(slots=True)
class VerifyReport:
    """What ``ledger verify`` checked and found."""

    size: int = 0
    audit_size: int = 0
    messages: int = 0
    audit_events: int = 0
    purged: int = 0
    checkpoints: int = 0
    anchors: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """No finding at all."""
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {
            "intact": self.intact,
            "log_size": self.size,
            "audit_log_size": self.audit_size,
            "audit_events_checked": self.audit_events,
            "messages_checked": self.messages,
            "purged": self.purged,
            "checkpoints_checked": self.checkpoints,
            "anchors_checked": self.anchors,
            "findings": [{"kind": f.kind, "target": f.target, "detail": f.detail}
                         for f in self.findings],
        }  # fmt: skip


def verify_ledger(
    ctx: Context, actor: Actor, progress: Progress | None = None, total: Progress | None = None
) -> VerifyReport:
    """Recompute both logs (messages, audit events) and compare them with everything stored.

    ``total`` is called once, before the messages are checked, with how many there should be
    (the message log's size); ``progress`` then with the number checked since its last call
    (every 2,000, and once for the rest), so that its counts add up to ``report.messages``.
    """
    authorize(ctx, actor, "ledger.verify")
    ctx.load_keys()
    report = VerifyReport()
    with ctx.archive.reader() as conn:
        for log_id in (MESSAGES_LOG, AUDIT_LOG):
            _verify_log(ctx, conn, log_id, report, progress, total)
    with ctx.archive.writer() as writer:
        writer.audit(actor, "ledger.verified", target_kind="ledger",
            target_id="messages+audit", result="intact" if report.intact else "findings",
            details={"findings": len(report.findings), "size": report.size},
        )  # fmt: skip
    return report


def _verify_log(ctx: Context, conn: Any, log_id: int, report: VerifyReport,
                progress: Progress | None, total: Progress | None) -> None:  # fmt: skip
    state = conn.exec_driver_sql(
        f"SELECT size, root, algorithm, origin FROM ledger_logs WHERE log_id = {log_id}"
    ).first()
    if state is None:
        return
    size, stored_root, algorithm_name, origin = state
    algorithm = hash_algorithm(str(algorithm_name))
    store = SqlNodeStore(conn, log_id)
    if log_id == MESSAGES_LOG:
        report.size = int(size)
        if total is not None:
            total(report.size)
        leaves = _check_messages(ctx, conn, store, report, progress)
    else:
        report.audit_size = int(size)
        leaves = _check_audit(conn, store, report, int(size))
    _check_tree(store, leaves, report, bytes(stored_root), algorithm, int(size), log_id)
    _check_checkpoints(ctx, conn, store, report, str(origin), algorithm, int(size), log_id)
    _check_anchors(conn, report, log_id)


def _check_audit(
    conn: Any, store: SqlNodeStore, report: VerifyReport, size: int
) -> dict[int, bytes]:
    """Recompute every audit event's leaf; returns the stored leaf hashes by index."""
    leaves = store.leaf_hashes(list(range(size))) if size else {}
    columns = ("at", "actor", "roles", "action", "target_kind", "target_id", "source",
               "address", "reason", "result", "details", "ledger_index", "approval_id")  # fmt: skip
    seen: set[int] = set()
    rows = conn.exec_driver_sql(f"SELECT {', '.join(columns)} FROM audit_events ORDER BY id")
    for values in rows:
        row = dict(zip(columns, values, strict=True))
        report.audit_events += 1
        index = row["ledger_index"]
        target = f"audit event {index}"
        if index is None or int(index) not in leaves:
            report.findings.append(
                Finding("event_unlogged", target, "has no leaf in the audit log")
            )
            continue
        seen.add(int(index))
        if audit_leaf(row).leaf_hash() != leaves[int(index)]:
            report.findings.append(Finding("event_altered", target, "does not match its leaf"))
    for index in sorted(set(range(size)) - seen):
        report.findings.append(
            Finding("event_missing", f"audit leaf {index}", "no stored event has this leaf")
        )
    return leaves


def _message_rows(conn: Any) -> Iterator[tuple[Any, ...]]:
    yield from conn.exec_driver_sql(
        "SELECT m.ledger_index, m.external_id, m.sent_at, m.sender_role, m.ciphertext, m.text, "
        "c.external_id, p.code FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "JOIN platforms p ON p.id = m.platform_id ORDER BY m.id"
    )


def _cold_rows(ctx: Context, conn: Any, report: VerifyReport) -> Iterator[tuple[Any, ...]]:
    """The cold messages as :func:`_message_rows` gives the hot ones, their ciphertexts remade,
    one segment and one page of blocks at a time; every block listed (live or thawed) must
    match its SHA-256, and what cannot be read is added to the report's findings."""
    if ctx.archive.segments is None:
        return
    cold = ctx.archive.cold(conn)
    if not cold.has_any():
        return
    platforms = {
        int(row[0]): str(row[1]) for row in conn.exec_driver_sql("SELECT id, code FROM platforms")
    }
    segment_ids = [
        str(row[0])
        for row in conn.exec_driver_sql(
            "SELECT DISTINCT segment_id FROM cold_blocks ORDER BY segment_id"
        )
    ]
    for segment_id in segment_ids:
        reader = _open_segment(cold, segment_id, report)
        if reader is None:
            continue
        with reader:
            for blocks in _block_pages(cold, segment_id):
                for block in blocks:
                    if block.state != LIVE:  # dead, but still in the file
                        _check_bytes(reader, block, report)
                live = [block for block in blocks if block.state == LIVE]
                conversations = {
                    int(row[0]): str(row[1])
                    for row in select_in(
                        conn,
                        "SELECT id, external_id FROM conversations WHERE id IN ({params})",
                        sorted({block.conversation_id for block in live}),
                    )
                }
                for block, messages in _live_blocks(cold, reader, live, platforms, report):
                    conversation = conversations[block.conversation_id]
                    for m in messages:
                        yield (m["ledger_index"], m["external_id"], m["sent_at"],
                               m["sender_role"], m["ciphertext"], m["text"], conversation,
                               platforms[m["platform_id"]])  # fmt: skip


def _open_segment(cold: ColdStore, segment_id: str, report: VerifyReport) -> SegmentReader | None:
    """A reader of the segment; ``None`` and a finding naming it if it cannot be opened."""
    try:
        return cold.segments.open(segment_id)
    except SegmentError as exc:
        mark = "?" if cold.connection.dialect.paramstyle == "qmark" else "%s"
        blocks, messages = cold.connection.exec_driver_sql(
            f"SELECT COUNT(*), SUM(records) FROM cold_blocks WHERE segment_id = {mark} "
            f"AND state = '{LIVE}'",
            (segment_id,),
        ).one()
        finding = _segment_finding(segment_id, exc)
        report.findings.append(
            Finding(finding.kind, finding.target, f"{finding.detail}; the {int(messages or 0)} "
                    f"messages of its {int(blocks)} live blocks cannot be checked")
        )  # fmt: skip
        return None


def _segment_finding(segment_id: str, exc: SegmentError) -> Finding:
    """What a segment that cannot be read is reported as."""
    target = f"segment {segment_id}"
    if isinstance(exc, SegmentNotInStore):
        return Finding("segment_missing", target, "its file is not in the blob store")
    if isinstance(exc, SegmentCorrupt):
        return Finding("segment_corrupt", target, exc.message)  # names the file and the offset
    return Finding("segment_unreadable", target, exc.message)


def _block_pages(cold: ColdStore, segment_id: str) -> Iterator[list[Block]]:
    """Every block ``cold_blocks`` lists in the segment (live or thawed), in file order, a
    page of at most ``_BLOCKS`` at a time."""
    mark = "?" if cold.connection.dialect.paramstyle == "qmark" else "%s"
    after = -1
    while True:
        page = cold.connection.exec_driver_sql(
            f"SELECT id, byte_offset FROM cold_blocks WHERE segment_id = {mark} "
            f"AND byte_offset > {mark} ORDER BY byte_offset LIMIT {_BLOCKS}",
            (segment_id, after),
        ).all()
        if not page:
            return
        found = cold.blocks_by_id(int(row[0]) for row in page)
        yield sorted(found.values(), key=lambda block: block.offset)
        after = int(page[-1][1])


def _live_blocks(
    cold: ColdStore,
    reader: SegmentReader,
    blocks: list[Block],
    platforms: dict[int, str],
    report: VerifyReport,
) -> Iterator[tuple[Block, list[ColdMessage]]]:
    """Each live block (in file order) with its messages, ciphertexts remade; a block that
    cannot be read is a finding (none if its key was destroyed: purged), and reading goes on
    with the next one."""
    pending = blocks
    while pending:
        done = 0
        try:
            for block, messages in cold.read(pending):  # file order too: one segment
                cold.ciphertexts(messages, platforms)
                done += 1
                yield block, messages
            return
        except KeyUnavailable:
            raise
        except SegmentError as exc:
            report.findings.append(_segment_finding(pending[done].segment_id, exc))
        except ChatKeeperError as exc:
            failed = pending[done]
            if not isinstance(exc, KeyDestroyed):
                detail = exc.message
                if isinstance(exc, CryptoError):
                    detail = ("it does not open under its data key as the conversation and "
                              "messages cold_blocks lists")  # fmt: skip
                report.findings.append(
                    Finding("block_unreadable", f"segment {failed.segment_id} block {failed.id}",
                            detail)
                )  # fmt: skip
            _check_bytes(reader, failed, report)
        pending = pending[done + 1 :]


def _check_bytes(reader: SegmentReader, block: Block, report: VerifyReport) -> None:
    """Check a block's bytes against its length and SHA-256 (no key needed)."""
    try:
        reader.read_block(block.entry)
    except SegmentCorrupt as exc:
        report.findings.append(_segment_finding(block.segment_id, exc))


def _check_messages(
    ctx: Context, conn: Any, store: SqlNodeStore, report: VerifyReport, progress: Progress | None
) -> dict[int, bytes]:
    """Recompute every message's leaf, hot and cold; returns the stored leaf hashes by index."""
    leaves = store.leaf_hashes(list(range(report.size))) if report.size else {}
    seen: set[int] = set()
    keys: dict[str, Any] = {}
    rows = chain(_message_rows(conn), _cold_rows(ctx, conn, report))
    for count, row in enumerate(rows, start=1):
        index, message, blob, platform = row[0], row[1], row[4], row[7]
        target = f"{platform}:{message}"
        report.messages += 1
        if progress is not None and count % _CHUNK == 0:
            progress(_CHUNK)
        if index is None:
            report.findings.append(Finding("leaf_missing", target, "stored without a ledger leaf"))
            continue
        seen.add(int(index))
        if index not in leaves:
            report.findings.append(
                Finding("leaf_missing", target, f"its leaf {index} is not in the tree")
            )
            continue
        if blob is None:
            report.purged += 1  # taken offline or purged: nothing left to recompute
            continue
        recomputed = _leaf(ctx, conn, keys, row)
        if recomputed is None:
            report.purged += 1
        elif recomputed[0] != leaves[index]:
            report.findings.append(
                Finding("message_altered", target, f"does not match its leaf {index}")
            )
        elif recomputed[1]:
            report.findings.append(
                Finding("text_altered", target, "its readable text is not what was stored")
            )
    if progress is not None and report.messages % _CHUNK:
        progress(report.messages % _CHUNK)
    # A leaf is purged only if a valid, audited deletion certificate lists it (docs/lifecycle.md).
    from chatkeeper.services.purge import purged_leaves

    proven, problems = purged_leaves(ctx, conn)
    report.findings.extend(Finding(*problem) for problem in problems)
    for index in sorted(set(range(report.size)) - seen):
        if index in proven:
            report.purged += 1
            continue
        report.findings.append(
            Finding("message_missing", f"leaf {index}", "no stored message has this leaf")
        )
    return leaves


def _leaf(
    ctx: Context, conn: Any, keys: dict[str, Any], row: tuple[Any, ...]
) -> tuple[bytes, bool] | None:
    """The leaf hash recomputed from a stored row, and whether its readable text was edited;
    ``None`` if its key was destroyed."""
    _, message, sent_at, role, blob, text, conversation, platform = row
    blob = bytes(blob)
    try:
        key_id = peek(blob).key_id
        if key_id not in keys:
            keys[key_id] = ctx.keys(conn).by_id([key_id]).get(key_id)
        key = keys[key_id]
        if key is None:
            return b"", False  # the key is not in the key store at all: cannot match
        original = original_record.unpack(
            decrypt(blob, key, f"{platform}:{message}".encode()), text
        )
    except KeyDestroyed:
        return None
    except CryptoError:
        return b"", False  # a ciphertext that does not decrypt cannot match its leaf
    leaf = message_leaf(
        platform=platform, conversation_id=conversation, message_id=message, sent_at_ms=sent_at,
        sender_role=role, key_id=key_id, ciphertext=blob, text=original["text"],
        salt=original["salt"] or b"",
    )  # fmt: skip
    recorded = original["masked_digest"]
    edited = recorded is not None and recorded != original_record.masked_digest(text)
    return leaf.leaf_hash(), edited


def _check_tree(
    store: SqlNodeStore,
    leaves: dict[int, bytes],
    report: VerifyReport,
    stored_root: bytes,
    algorithm: Any,
    size: int,
    log_id: int,
) -> None:
    """Rebuild the tree from the leaves; compare every stored node and the root."""
    frontier = CompactRange(algorithm)
    name = LOG_NAMES[log_id]
    for index in range(size):
        if index not in leaves:
            return  # already reported; the tree cannot be rebuilt past a missing leaf
        for node in frontier.extend([leaves[index]])[1:]:
            try:
                stored = store.get(node.level, node.index)
            except KeyError:
                stored = b""
            if stored != node.hash:
                report.findings.append(
                    Finding("node_altered", f"{name} node {node.level}/{node.index}",
                            "differs from the hash of its children")
                )  # fmt: skip
    if frontier.root() != stored_root:
        report.findings.append(
            Finding("root_mismatch", f"{name} log", "the committed root is not the tree's root")
        )


def _check_checkpoints(
    ctx: Context,
    conn: Any,
    store: SqlNodeStore,
    report: VerifyReport,
    origin: str,
    algorithm: Any,
    size_now: int,
    log_id: int,
) -> None:
    """Every checkpoint: signature, root at its size, consistency with the next one."""
    verifier_path = key_folder(ctx.settings) / VERIFIER_KEY_FILE
    verifier = parse_verifier_key(verifier_path.read_text(encoding="ascii").strip())
    rows = list(
        conn.exec_driver_sql(
            f"SELECT size, root, note FROM ledger_checkpoints WHERE log_id = {log_id} ORDER BY size"
        )
    )
    log = MerkleLog(store, algorithm, size_now)
    previous: tuple[int, bytes] | None = None
    for size, stored_root, note in rows:
        report.checkpoints += 1
        target = f"{LOG_NAMES[log_id]} checkpoint {size}"
        try:
            checkpoint = verify_checkpoint(str(note), verifier.public_key, verifier.name)
        except LedgerError as exc:
            report.findings.append(Finding("checkpoint_invalid", target, exc.message))
            continue
        if (
            checkpoint.origin != origin
            or checkpoint.size != size
            or checkpoint.root_hash != bytes(stored_root)
        ):
            report.findings.append(
                Finding("checkpoint_invalid", target, "its note and its row disagree")
            )
            continue
        if size > size_now or log.root(int(size)) != checkpoint.root_hash:
            report.findings.append(
                Finding(
                    "checkpoint_mismatch", target, "its root is not the tree's root at its size"
                )
            )
            continue
        if previous is not None:
            try:
                proof = log.consistency_proof(previous[0], int(size))
                verify_consistency(previous[0], int(size), previous[1], checkpoint.root_hash, proof)
            except LedgerError as exc:
                report.findings.append(Finding("checkpoint_inconsistent", target, exc.message))
        previous = (int(size), checkpoint.root_hash)


def _check_anchors(conn: Any, report: VerifyReport, log_id: int) -> None:
    """Every anchor receipt, re-checked against the checkpoint it anchors by the plug-in its
    recorded setting names (a TSA token's imprint and signature, a dropped file's bytes)."""
    rows = conn.exec_driver_sql(
        "SELECT a.size, a.anchor, a.receipt, c.note FROM ledger_anchors a "
        "LEFT JOIN ledger_checkpoints c ON c.log_id = a.log_id AND c.size = a.size "
        f"WHERE a.log_id = {log_id} ORDER BY a.size, a.anchor"
    )
    for size, setting, receipt, note in rows:
        report.anchors += 1
        target = f"{LOG_NAMES[log_id]} anchor {size} ({str(setting).partition(':')[0]})"
        if note is None:
            report.findings.append(
                Finding("anchor_invalid", target, "no signed checkpoint of its size is stored")
            )
            continue
        try:
            open_anchor(str(setting)).verify_receipt(str(note), str(receipt))
        except ChatKeeperError as exc:
            report.findings.append(Finding("anchor_invalid", target, exc.message))


def anchor_checkpoints(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """Publish each log's newest signed checkpoint to the configured anchor (once each).

    Publishing (a network call to a TSA) happens outside any transaction; what was published is
    recorded, and the operation audited, afterwards, also when a later publication failed.
    """
    authorize(ctx, actor, "ledger.anchor")
    setting = ctx.settings.ledger.anchor
    if not setting:
        raise ConfigError(
            "no anchor is configured: set ledger.anchor (for example file:/mnt/notary)",
            key="ledger.anchor",
        )
    anchor = open_anchor(setting)
    pending = []
    with ctx.archive.reader() as conn:
        for log_id in (MESSAGES_LOG, AUDIT_LOG):
            row = conn.exec_driver_sql(
                "SELECT c.size, c.note, (SELECT count(*) FROM ledger_anchors a WHERE "
                "a.log_id = c.log_id AND a.size = c.size) FROM ledger_checkpoints c "
                f"WHERE c.log_id = {log_id} ORDER BY c.size DESC"
            ).first()
            if row is not None and not row[2]:
                pending.append((log_id, int(row[0]), str(row[1])))
    rows = []
    try:
        for log_id, size, note in pending:
            now = datetime.now(UTC)
            receipt = anchor.publish(LOG_NAMES[log_id], size, note, now)
            rows.append((log_id, size, setting, receipt, int(now.timestamp() * 1000)))
    finally:
        with ctx.archive.writer() as writer:
            insert_many(writer.connection, "ledger_anchors",
                        ("log_id", "size", "anchor", "receipt", "anchored_at"), rows)  # fmt: skip
            writer.audit(actor, "ledger.anchored", result="ok" if len(rows) == len(pending)
                         else "failed", details={"published": len(rows)})  # fmt: skip
    return [{"log": LOG_NAMES[r[0]], "size": r[1], "receipt": r[3]} for r in rows]
