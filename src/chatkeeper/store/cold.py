"""Cold storage in the archive: conversations moved out of the hot tables into segment blocks.

A cold conversation has no rows in ``messages``. Its records are one block of a segment file in
the blob store (``chatkeeper.lifecycle.segments``): framed, compressed with the segment's zstd
dictionary and sealed (AES-256-GCM or SM4, the archive's suite) under the conversation's own
data key, so the purge that destroys that key shreds the block in every copy. The database keeps
where each block is (``cold_blocks``) and, per message, its block and a 31-bit hash of its
platform id (``cold_messages``) for look-ups by id; index entries, vault entries and ledger
leaves do not move and keep the message's id.

**A record** is one message row (docs/lifecycle.md, "Cold records")::

    varint len | JSON array of the row's readable columns | varint len | bytes | rest

where the bytes and the rest depend on the record's *form*: the encrypted original's header
(suite, key id, nonces) and its plaintext, from which :func:`chatkeeper.crypto.reseal` remakes
the very ciphertext the ledger leaf committed to (form 1; form 2 also leaves out the SHA-256 of
the masked text the original records, which the row's text gives back); the ciphertext as it
was (form 3, should it not be remade); nothing (form 0: no original). Storing the plaintext
inside the sealed block instead of the ciphertext is what lets zstd compress it.

Everything here runs on the caller's connection inside the caller's transaction, except the
segment files, which are written before the transaction commits (an abandoned file is an
orphan that :meth:`ColdStore.sweep` removes) and rewritten only after a purge committed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from chatkeeper.crypto import (
    DataKey,
    decrypt,
    derived_nonces,
    encrypt,
    header_prefix,
    reseal,
)
from chatkeeper.crypto.suites import suite_named
from chatkeeper.errors import StoreError
from chatkeeper.lifecycle import (
    IndexEntry,
    LocalSegmentStore,
    RecordCodec,
    SegmentDictionary,
    train_dictionary,
)
from chatkeeper.lifecycle.compression import read_varint, write_varint
from chatkeeper.lifecycle.errors import SegmentNotInStore
from chatkeeper.lifecycle.segments import SegmentWriter
from chatkeeper.store import ids
from chatkeeper.store.bulk import execute_in, insert_many, select_in, update_many
from chatkeeper.store.keys import KeyStore
from chatkeeper.store.original import derived_salt

#: The columns of a message row, as ``messages`` holds them (``store.writer.MESSAGE_COLUMNS``).
COLUMNS = (
    "id", "conversation_id", "platform_id", "external_id", "sent_at", "utc_offset",
    "sender_role", "sender_id", "agent_id", "msgtype", "kind", "text", "recalled_at", "payload",
    "raw", "ingest_run_id", "ciphertext", "key_id", "ledger_index",
)  # fmt: skip
# The readable columns a record's JSON array holds, in order (conversation id: the block's).
_META = (
    "id", "platform_id", "external_id", "sent_at", "utc_offset", "sender_role", "sender_id",
    "agent_id", "msgtype", "kind", "text", "recalled_at", "payload", "raw", "ingest_run_id",
    "key_id", "ledger_index",
)  # fmt: skip
_SENT_AT = _META.index("sent_at")
_ID, _LEAF, _KEY = _META.index("id"), _META.index("ledger_index"), _META.index("key_id")
# Forms: no original; the ciphertext as it was; 16 + flags for an original kept as plaintext
# whose ciphertext is remade, the flags saying what was left out because it can be derived.
FORM_NONE, FORM_VERBATIM, FORM_SEALED = 0, 1, 16
F_DIGEST, F_SALT, F_NONCE = 1, 2, 4
# ``{"s":"<44 base64 characters>","m":"<64 hex digits>"`` opens every original (store.original).
_SALT_AT = len(b'{"s":"')
_SALT_END = _SALT_AT + 44
_DIGEST_AT = _SALT_END + len(b'","m":"')
_DIGEST_END = _DIGEST_AT + 64
LIVE, THAWED = "live", "thawed"
_DICTIONARY_SAMPLES = 20_000
_SYNTHETIC_SAMPLES = 4_000
_MIN_REAL_SAMPLES = 2_000
_WINDOW = 20_000


def ext_hash(platform_id: int, external_id: str) -> int:
    """The 31-bit look-up hash of a message's platform id: SQLite stores it in four bytes, and
    the few messages sharing one are told apart by reading their records."""
    digest = hashlib.blake2b(f"{platform_id}\x00{external_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 33


def block_context(conversation_pk: int, first: int, last: int, records: int) -> bytes:
    """What a block's seal authenticates besides its bytes: which conversation and messages
    it holds, so that no block can stand in for another."""
    return f"chatkeeper.cold/v1:{conversation_pk}:{first}:{last}:{records}".encode()


def masked_digest(text: str | None) -> bytes:
    """The hex SHA-256 of a row's readable text (``store.original.masked_digest``)."""
    return hashlib.sha256((text or "").encode()).hexdigest().encode()


def encode_record(
    row: dict[str, Any],
    plaintext: bytes | None,
    key: DataKey | None,
    previous: dict[str, Any] | None = None,
) -> bytes:
    """One message row as a cold record: ``plaintext`` is its decrypted original (``None``
    without one), ``key`` the data key it was encrypted under, ``previous`` the row before it in
    the block (its id and ledger index are then written as differences)."""
    meta = [row[name] for name in _META]
    if row["sent_at"] == ids.sent_at_ms(row["id"]):
        meta[_SENT_AT] = None  # the id says it
    if previous is not None:
        meta[_ID] = row["id"] - previous["id"]
        if row["ledger_index"] is not None and previous["ledger_index"] is not None:
            meta[_LEAF] = row["ledger_index"] - previous["ledger_index"]
        if row["key_id"] == previous["key_id"]:
            meta[_KEY] = 0
    blob = row["ciphertext"]
    form, binary, rest = FORM_NONE, b"", b""
    if blob is not None:
        blob = bytes(blob)
        form, binary = FORM_VERBATIM, blob
        if plaintext is not None and key is not None:
            form, binary, rest = _sealed_form(row, blob, plaintext, key)
    meta.append(form)
    out = bytearray()
    encoded = orjson.dumps(meta)
    write_varint(out, len(encoded))
    out += encoded
    write_varint(out, len(binary))
    return bytes(out + binary + rest)


def _sealed_form(
    row: dict[str, Any], blob: bytes, plaintext: bytes, key: DataKey
) -> tuple[int, bytes, bytes]:
    """``(form, header or b"", plaintext left)`` of an original that can be remade; verbatim
    when it cannot."""
    prefix = header_prefix(key)
    header = blob[: len(prefix) + suite_named(key.suite).nonce_size]
    if not blob.startswith(prefix):
        return FORM_VERBATIM, blob, b""
    context = _context(row)
    if reseal(header, plaintext, key, context) != blob:
        return FORM_VERBATIM, blob, b""
    flags, kept = 0, plaintext
    if header == prefix + derived_nonces(
        key, prefix, context, plaintext, len(header) - len(prefix)
    ):
        flags |= F_NONCE
        header = b""
    if (
        kept[_DIGEST_AT:_DIGEST_END] == masked_digest(row["text"])
        and kept[_DIGEST_END:][:1] == b'"'
    ):
        flags |= F_DIGEST
        kept = kept[:_DIGEST_AT] + kept[_DIGEST_END:]
    if kept[:_SALT_AT] == b'{"s":"' and kept[_SALT_AT:_SALT_END] == salt_text(key, context):
        flags |= F_SALT
        kept = kept[:_SALT_AT] + kept[_SALT_END:]
    return FORM_SEALED + flags, header, kept


def salt_text(key: DataKey, context: bytes) -> bytes:
    """The base64 text of a message's derived salt (``store.original.derived_salt``)."""
    return base64.b64encode(derived_salt(key, context))


def _context(row: dict[str, Any]) -> bytes:
    """The context a message's original is encrypted with: its platform and message id."""
    return f"{row['platform']}:{row['external_id']}".encode()


@dataclass(slots=True)
class ColdMessage:
    """A message read from a block: its row (``COLUMNS``; ``ciphertext`` only once
    :meth:`ColdStore.ciphertexts` remade it, or when it was kept verbatim) and its original's
    plaintext (``None`` without one or when kept verbatim)."""

    row: dict[str, Any]
    original: bytes | None = None
    header: bytes | None = field(default=None, repr=False)
    flags: int = 0

    def __getitem__(self, name: str) -> Any:
        return self.row[name]


def decode_records(records: Sequence[bytes], conversation_pk: int) -> list[ColdMessage]:
    """A block's records back as message rows; originals still to :func:`restore`."""
    out: list[ColdMessage] = []
    previous: dict[str, Any] | None = None
    for data in records:
        message = decode_record(data, conversation_pk, previous)
        previous = message.row
        out.append(message)
    return out


def decode_record(
    data: bytes, conversation_pk: int, previous: dict[str, Any] | None = None
) -> ColdMessage:
    """One cold record back as a message row (``previous``: the row before it in its block)."""
    length, position = read_varint(data, 0, "a record's length")
    meta = orjson.loads(data[position : position + length])
    position += length
    size, position = read_varint(data, position, "a record's length")
    binary = bytes(data[position : position + size])
    rest = bytes(data[position + size :])
    form = meta.pop()
    row = dict(zip(_META, meta, strict=True))
    if previous is not None:
        row["id"] += previous["id"]
        if row["ledger_index"] is not None and previous["ledger_index"] is not None:
            row["ledger_index"] += previous["ledger_index"]
        if row["key_id"] == 0:
            row["key_id"] = previous["key_id"]
    row["conversation_id"] = conversation_pk
    if row["sent_at"] is None:
        row["sent_at"] = ids.sent_at_ms(row["id"])
    row["ciphertext"] = None
    message = ColdMessage(row)
    if form == FORM_VERBATIM:
        row["ciphertext"] = binary
    elif form >= FORM_SEALED:
        message.original, message.header, message.flags = rest, binary, form - FORM_SEALED
    return message


def restore(message: ColdMessage, key: DataKey, platform: str) -> None:
    """Put back what a record left out of its original (salt, masked-text digest, nonces)."""
    flags = message.flags
    if not flags or message.original is None:
        return
    row = message.row
    context = f"{platform}:{row['external_id']}".encode()
    kept = message.original
    if flags & F_SALT:
        kept = kept[:_SALT_AT] + salt_text(key, context) + kept[_SALT_AT:]
    if flags & F_DIGEST:
        kept = kept[:_DIGEST_AT] + masked_digest(row["text"]) + kept[_DIGEST_AT:]
    if flags & F_NONCE:
        prefix = header_prefix(key)
        size = suite_named(key.suite).nonce_size
        message.header = prefix + derived_nonces(key, prefix, context, kept, size)
    message.original, message.flags = kept, 0


@dataclass(frozen=True, slots=True)
class Block:
    """A ``cold_blocks`` row."""

    id: int
    conversation_id: int
    segment_id: str
    offset: int
    length: int
    records: int
    sha256: bytes
    first_message_id: int
    last_message_id: int
    key_id: str
    state: str

    @property
    def entry(self) -> IndexEntry:
        """The block as the segment reader's index entry."""
        return IndexEntry(str(self.conversation_id), self.offset, self.length, self.records,
                          self.sha256)  # fmt: skip


_BLOCK_COLUMNS = (
    "id",
    "conversation_id",
    "segment_id",
    "byte_offset",
    "byte_length",
    "records",
    "sha256",
    "first_message_id",
    "last_message_id",
    "key_id",
    "state",
)
_SELECT_BLOCKS = f"SELECT {', '.join(_BLOCK_COLUMNS)} FROM cold_blocks"


@dataclass(slots=True)
class ArchiveResult:
    """What one :meth:`ColdStore.archive` call moved."""

    segments: list[str] = field(default_factory=list)
    conversations: int = 0
    messages: int = 0
    bytes: int = 0


class ColdStore:
    """Cold blocks on one connection: read, archive, thaw, drop; segments in ``segments``."""

    def __init__(
        self,
        connection: Connection,
        segments: LocalSegmentStore,
        keys: Callable[[], KeyStore],
    ) -> None:
        self.connection = connection
        self.segments = segments
        self._key_store = keys
        self._keys: dict[str, DataKey] = {}
        self._platforms: dict[int, str] | None = None

    # -- which conversations and messages are cold ---------------------------------------------

    def blocks_of(self, conversation_pks: Iterable[int], *, thawed: bool = False) -> list[Block]:
        """The live blocks (and dead ones with ``thawed``) of the conversations, oldest first."""
        state = "" if thawed else f" AND state = '{LIVE}'"
        rows = select_in(
            self.connection,
            f"{_SELECT_BLOCKS} WHERE conversation_id IN ({{params}})" + state,
            sorted(set(conversation_pks)),
        )
        return sorted((_block(row) for row in rows), key=lambda b: b.id)

    def blocks_by_id(self, block_ids: Iterable[int]) -> dict[int, Block]:
        """Blocks by their ids."""
        rows = select_in(
            self.connection,
            f"{_SELECT_BLOCKS} WHERE id IN ({{params}})",
            sorted(set(block_ids)),
        )
        return {block.id: block for block in map(_block, rows)}

    def cold_conversations(self, conversation_pks: Iterable[int]) -> set[int]:
        """Which of the conversations have live blocks."""
        return {
            int(row[0])
            for row in select_in(
                self.connection,
                "SELECT DISTINCT conversation_id FROM cold_blocks WHERE state = 'live' "
                "AND conversation_id IN ({params})",
                sorted(set(conversation_pks)),
            )
        }

    def block_ids_of_messages(self, message_ids: Iterable[int]) -> dict[int, int]:
        """``message id -> block id`` for the messages that are cold."""
        return {
            int(row[0]): int(row[1])
            for row in select_in(
                self.connection,
                "SELECT id, block_id FROM cold_messages WHERE id IN ({params})",
                sorted(set(message_ids)),
            )
        }

    def has_any(self) -> bool:
        """Whether anything at all is cold (most archives under 30 days old: nothing)."""
        row = self.connection.exec_driver_sql("SELECT id FROM cold_blocks LIMIT 1").first()
        return row is not None

    # -- reading ---------------------------------------------------------------------------

    def _key(self, key_id: str) -> DataKey:
        key = self._keys.get(key_id)
        if key is None:
            found = self._key_store().by_id([key_id])
            if key_id not in found:
                raise StoreError(f"the data key {key_id} of a cold block is not in the key store")
            key = self._keys[key_id] = found[key_id]
        return key

    def read(self, blocks: Sequence[Block]) -> Iterator[tuple[Block, list[ColdMessage]]]:
        """Each block with its messages, in id order (one ranged read per block)."""
        if not blocks:
            return
        platforms = self.platforms()
        by_segment: dict[str, list[Block]] = {}
        for block in blocks:
            by_segment.setdefault(block.segment_id, []).append(block)
        for segment_id, group in sorted(by_segment.items()):
            try:
                opened = self.segments.open(segment_id, lazy=True)
            except SegmentNotInStore:
                pks = sorted({b.conversation_id for b in group})
                raise StoreError(
                    f"segment {segment_id}, which holds {len(pks)} cold conversation(s) (database"
                    f" ids {', '.join(map(str, pks[:5]))}{', ...' if len(pks) > 5 else ''}), is"
                    f" missing from {self.segments.directory}: restore the file from a backup"
                    " (chatkeeper ledger verify lists every missing segment)"
                ) from None
            with opened as reader:
                for block in sorted(group, key=lambda b: b.offset):
                    key = self._key(block.key_id)
                    context = block_context(block.conversation_id, block.first_message_id,
                                            block.last_message_id, block.records)  # fmt: skip
                    records = reader.read_entry(block.entry, _opener(key, context))
                    messages = decode_records(records, block.conversation_id)
                    for m in messages:
                        if m.flags:
                            restore(m, self._key(m.row["key_id"]), platforms[m.row["platform_id"]])
                    yield block, messages

    def platforms(self) -> dict[int, str]:
        """Platform codes by id (read once per store)."""
        if self._platforms is None:
            self._platforms = {
                int(row[0]): str(row[1])
                for row in self.connection.exec_driver_sql("SELECT id, code FROM platforms")
            }
        return self._platforms

    def messages(self, conversation_pks: Iterable[int]) -> list[ColdMessage]:
        """Every cold message of the conversations, in id order."""
        out = [m for _, messages in self.read(self.blocks_of(conversation_pks)) for m in messages]
        out.sort(key=lambda m: m.row["id"])
        return out

    def messages_by_id(self, message_ids: Iterable[int]) -> dict[int, ColdMessage]:
        """The cold messages among ``message_ids``."""
        wanted = self.block_ids_of_messages(message_ids)
        if not wanted:
            return {}
        blocks = list(self.blocks_by_id(set(wanted.values())).values())
        out: dict[int, ColdMessage] = {}
        for _, messages in self.read(blocks):
            out.update((m.row["id"], m) for m in messages if m.row["id"] in wanted)
        return out

    def find_external(
        self, platform_id: int, external_ids: Iterable[str]
    ) -> dict[str, ColdMessage]:
        """The cold messages of one platform with these platform ids (hashes matched, then
        confirmed against the records: a 31-bit hash is shared by about one message in 2³¹, so
        at 100M cold messages a look-up of 5,000 ids reads some 230 blocks more than it finds)."""
        names = set(external_ids)
        hashes = sorted({ext_hash(platform_id, e) for e in names})
        rows = list(
            select_in(
                self.connection,
                "SELECT id, block_id FROM cold_messages WHERE ext_hash IN ({params})",
                hashes,
            )
        )
        if not rows:
            return {}
        blocks = list(self.blocks_by_id({int(row[1]) for row in rows}).values())
        out: dict[str, ColdMessage] = {}
        for _, messages in self.read(blocks):
            for m in messages:
                if m.row["platform_id"] == platform_id and m.row["external_id"] in names:
                    out[m.row["external_id"]] = m
        return out

    def ciphertexts(self, messages: Iterable[ColdMessage], platforms: dict[int, str]) -> None:
        """Remake each message's ciphertext (``row["ciphertext"]``) from its original."""
        for m in messages:
            if m.header is None or m.original is None or m.row["ciphertext"] is not None:
                continue
            row = m.row
            context = f"{platforms[row['platform_id']]}:{row['external_id']}".encode()
            row["ciphertext"] = reseal(m.header, m.original, self._key(row["key_id"]), context)

    # -- moving in -------------------------------------------------------------------------

    def dictionary(self, samples: Callable[[], Iterable[bytes]], now: int) -> SegmentDictionary:
        """The archive's segment dictionary, trained (and stored) the first time it is needed."""
        row = self.connection.exec_driver_sql(
            "SELECT data FROM cold_dictionaries ORDER BY created_at DESC, id DESC LIMIT 1"
        ).first()
        if row is not None:
            return SegmentDictionary.from_bytes(bytes(row[0]))
        sample = list(samples())
        count = len(sample)
        if count < _MIN_REAL_SAMPLES:
            sample.extend(synthetic_samples(_SYNTHETIC_SAMPLES))
        trained = train_dictionary(sample)
        insert_many(
            self.connection,
            "cold_dictionaries",
            ("id", "data", "samples", "created_at"),
            [(trained.id, trained.data, count, now)],
        )
        return trained

    def archive_segment(
        self, prefix: str, conversation_pks: Sequence[int], now: int, *, max_bytes: int
    ) -> tuple[int, ArchiveResult]:
        """Move conversations from the front of ``conversation_pks`` into one new segment
        (named ``prefix-<random>``) until it reaches ``max_bytes``; ``(how many of the
        conversations were taken, what moved)``. Conversations no longer ``active`` are
        skipped. Their hot rows go, their state becomes ``archived``, in this transaction. At
        most ``_WINDOW`` conversations are considered per call (more would not fit a segment)."""
        pks = list(conversation_pks[:_WINDOW])
        refs = self._refs(pks)
        owners = {pk: ("conversation", ref) for pk, ref, _ in refs}
        active = [pk for pk, _, state in refs if state == "active"]
        result = ArchiveResult()
        if not active:
            return len(pks), result
        dictionary = self.dictionary(lambda: self._samples(active), now)
        taken, segment_id, size, moved, messages = self._write_segment(
            prefix, active, dictionary, now, max_bytes, owners
        )
        consumed = pks.index(active[taken - 1]) + 1 if taken else 0
        if moved:
            self._set_state(moved, "archived", now)
            result.segments.append(segment_id)
            result.conversations, result.messages, result.bytes = len(moved), messages, size
        return consumed, result

    def _refs(self, pks: Sequence[int]) -> list[tuple[int, str, str]]:
        """``(pk, key owner reference, state)`` of the conversations, in the order given."""
        found = {
            int(row[0]): (f"{row[1]}:{row[2]}", str(row[3]))
            for row in select_in(
                self.connection,
                "SELECT c.id, p.code, c.external_id, c.state FROM conversations c "
                "JOIN platforms p ON p.id = c.platform_id WHERE c.id IN ({params})",
                sorted(set(pks)),
            )
        }
        return [(pk, *found[pk]) for pk in pks if pk in found]

    def _set_state(self, pks: Sequence[int], state: str, now: int) -> None:
        execute_in(self.connection, "UPDATE conversations SET state = {p}, updated_at = {p} "
                   "WHERE id IN ({params})", pks, (state, now))  # fmt: skip

    def hot_rows(self, conversation_pks: Sequence[int]) -> list[dict[str, Any]]:
        """The conversations' hot message rows (``COLUMNS`` and ``platform``), in conversation
        and id order."""
        columns = ", ".join(f"m.{c}" for c in COLUMNS)
        rows = select_in(
            self.connection,
            f"SELECT {columns}, p.code FROM messages m JOIN platforms p ON p.id = m.platform_id "
            "WHERE m.conversation_id IN ({params})",
            sorted(set(conversation_pks)),
        )
        out = [dict(zip((*COLUMNS, "platform"), row, strict=True)) for row in rows]
        out.sort(key=lambda r: (r["conversation_id"], r["id"]))
        return out

    def _samples(self, pks: Sequence[int]) -> Iterator[bytes]:
        """Readable (masked) records of the first conversations, to train a dictionary on."""
        count = 0
        for start in range(0, len(pks), 200):
            for row in self.hot_rows(pks[start : start + 200]):
                yield encode_record(row, None, None)
                count += 1
            if count >= _DICTIONARY_SAMPLES:
                return

    def _next_block_id(self) -> int:
        row = self.connection.exec_driver_sql("SELECT MAX(id) FROM cold_blocks").first()
        return int(row[0] or 0) + 1 if row else 1

    def _write_segment(
        self,
        prefix: str,
        pks: Sequence[int],
        dictionary: SegmentDictionary,
        now: int,
        max_bytes: int,
        owners: dict[int, tuple[str, str]],
    ) -> tuple[int, str, int, list[int], int]:
        """Write one segment from the front of ``pks``; ``(conversations taken, segment id,
        size, conversations moved, messages)``."""
        next_block = self._next_block_id()
        segment_id = f"{prefix}-{secrets.token_hex(4)}"
        codec = RecordCodec(dictionary)
        blocks: list[tuple[Any, ...]] = []
        cold_rows: list[tuple[int, int, int]] = []
        hot: list[int] = []
        taken = 0

        def fill(writer: SegmentWriter) -> None:
            nonlocal taken
            for start in range(0, len(pks), 100):
                chunk = pks[start : start + 100]
                rows = self.hot_rows(chunk)
                keys = self._key_store().data_keys(owners[pk] for pk in chunk)
                by_conversation: dict[int, list[dict[str, Any]]] = {}
                for row in rows:
                    by_conversation.setdefault(int(row["conversation_id"]), []).append(row)
                for pk in chunk:
                    taken += 1
                    messages = by_conversation.get(pk)
                    if not messages:
                        continue
                    records = self._records(messages)
                    first, last = messages[0]["id"], messages[-1]["id"]
                    key = keys[owners[pk]]
                    context = block_context(pk, first, last, len(records))
                    entry = writer.add(str(pk), records, _sealer(key, context))
                    block_id = next_block + len(blocks)
                    blocks.append((block_id, pk, segment_id, entry.offset, entry.length,
                                   entry.records, entry.sha256, first, last, key.key_id, LIVE,
                                   now))  # fmt: skip
                    cold_rows.extend(
                        (row["id"], block_id, ext_hash(row["platform_id"], row["external_id"]))
                        for row in messages
                    )
                    hot.append(pk)
                    if writer.position >= max_bytes:
                        return
                del rows, by_conversation

        info = self.segments.write_with(segment_id, dictionary, fill, codec=codec)
        if not blocks:
            self.segments.remove(segment_id)
            return taken, segment_id, 0, [], 0
        try:
            insert_many(self.connection, "cold_segments",
                        ("id", "dictionary_id", "size", "blocks", "created_at"),
                        [(segment_id, dictionary.id, info.size, len(blocks), now)])  # fmt: skip
            insert_many(self.connection, "cold_blocks", (*_BLOCK_COLUMNS, "created_at"), blocks)
            insert_many(self.connection, "cold_messages", ("id", "block_id", "ext_hash"),
                        cold_rows)  # fmt: skip
            # By id: a message another transaction stored meanwhile (PostgreSQL and MariaDB do
            # not serialise writers) stays hot rather than going without a copy in the block.
            moved_ids = [row[0] for row in cold_rows]
            execute_in(self.connection, "DELETE FROM messages WHERE id IN ({params})", moved_ids)
        except BaseException:
            self.segments.remove(segment_id, missing_ok=True)
            raise
        return taken, segment_id, info.size, hot, len(cold_rows)

    def _records(self, rows: Sequence[dict[str, Any]]) -> list[bytes]:
        """A conversation's rows (id order) as the records of its block."""
        out = []
        previous: dict[str, Any] | None = None
        for row in rows:
            blob, key_id = row["ciphertext"], row["key_id"]
            if blob is None or key_id is None:
                out.append(encode_record(row, None, None, previous))
            else:
                key = self._key(str(key_id))
                plaintext = decrypt(bytes(blob), key, _context(row))
                out.append(encode_record(row, plaintext, key, previous))
            previous = row
        return out

    # -- moving out ------------------------------------------------------------------------

    def thaw(self, conversation_pks: Iterable[int], now: int) -> int:
        """Bring the conversations back to the hot tables (a late message, taking a value
        offline): their messages inserted into ``messages`` with their ciphertexts remade,
        the blocks marked thawed (dead, until a purge rewrites their segment), the state back
        to ``active``; how many messages."""
        blocks = self.blocks_of(conversation_pks)
        if not blocks:
            return 0
        messages = [m for _, ms in self.read(blocks) for m in ms]
        self.ciphertexts(messages, self.platforms())
        messages.sort(key=lambda m: m.row["id"])
        insert_many(
            self.connection, "messages", COLUMNS,
            [tuple(m.row[c] for c in COLUMNS) for m in messages],
        )  # fmt: skip
        self._forget([m.row["id"] for m in messages])
        execute_in(self.connection, "UPDATE cold_blocks SET state = 'thawed' "
                   "WHERE id IN ({params})", [b.id for b in blocks])  # fmt: skip
        execute_in(self.connection, "UPDATE conversations SET state = 'active', updated_at = {p} "
                   "WHERE state = 'archived' AND id IN ({params})",
                   sorted({b.conversation_id for b in blocks}), (now,))  # fmt: skip
        return len(messages)

    def _forget(self, message_ids: Sequence[int]) -> None:
        execute_in(self.connection, "DELETE FROM cold_messages WHERE id IN ({params})",
                   message_ids)  # fmt: skip

    def drop(self, conversation_pks: Iterable[int], message_ids: Sequence[int]) -> list[Block]:
        """Forget every block (live or thawed) of the conversations and their messages' rows;
        the blocks forgotten, whose segments are to be rewritten once this transaction commits
        (:meth:`compact`)."""
        blocks = self.blocks_of(conversation_pks, thawed=True)
        self._forget(message_ids)
        execute_in(self.connection, "DELETE FROM cold_blocks WHERE id IN ({params})",
                   [b.id for b in blocks])  # fmt: skip
        return blocks

    # -- segments --------------------------------------------------------------------------

    def stale_segments(self) -> list[str]:
        """Segments whose file holds blocks the database no longer lists (a purge committed,
        its rewrite not yet done)."""
        rows = self.connection.exec_driver_sql(
            "SELECT s.id FROM cold_segments s LEFT JOIN cold_blocks b ON b.segment_id = s.id "
            "GROUP BY s.id, s.blocks HAVING COUNT(b.id) < s.blocks ORDER BY s.id"
        )
        return [str(row[0]) for row in rows]

    def compact(self, segment_id: str, now: int) -> str | None:
        """Rewrite a segment without the blocks the database no longer lists, as a new segment
        (the blocks it keeps move there, byte for byte); the old segment's id, whose file the
        caller removes once this transaction commits (``None`` if nothing was to be done)."""
        rows = select_in(
            self.connection, f"{_SELECT_BLOCKS} WHERE segment_id IN ({{params}})", [segment_id]
        )
        kept = sorted((_block(row) for row in rows), key=lambda b: b.offset)
        listed = next(select_in(self.connection, "SELECT blocks FROM cold_segments WHERE id IN"
                                " ({params})", [segment_id]), None)  # fmt: skip
        if listed is None or int(listed[0]) == len(kept):
            return None
        if kept:
            new_id = "-".join([*segment_id.split("-")[:2], secrets.token_hex(4)])
            info = self.segments.copy_without(
                segment_id, new_id, [str(b.conversation_id) for b in kept]
            )
            try:
                insert_many(self.connection, "cold_segments",
                            ("id", "dictionary_id", "size", "blocks", "created_at"),
                            [(new_id, info.dictionary_id, info.size, len(kept), now)])  # fmt: skip
                moved = {entry.conversation_id: entry for entry in info.entries}
                update_many(
                    self.connection,
                    "UPDATE cold_blocks SET segment_id = {p}, byte_offset = {p}, "
                    "byte_length = {p} WHERE id = {p}",
                    [(new_id, moved[str(b.conversation_id)].offset,
                      moved[str(b.conversation_id)].length, b.id) for b in kept],
                )  # fmt: skip
            except BaseException:
                self.segments.remove(new_id, missing_ok=True)
                raise
        execute_in(
            self.connection, "DELETE FROM cold_segments WHERE id IN ({params})", [segment_id]
        )
        return segment_id

    def sweep(self, older_than_s: float = 3600.0) -> list[str]:
        """Remove segment files the database does not list (a write whose transaction rolled
        back, a rewrite's old file) once they are ``older_than_s`` seconds old; their ids."""
        listed = set(self.segment_rows())
        removed = []
        cutoff = time.time() - older_than_s
        for segment_id in self.segments.segment_ids():
            if segment_id in listed:
                continue
            path = self.segments.path(segment_id)
            try:
                if path.stat().st_mtime > cutoff:
                    continue
            except FileNotFoundError:
                continue
            self.segments.remove(segment_id, missing_ok=True)
            removed.append(segment_id)
        return removed

    def totals(self) -> dict[str, int]:
        """What cold storage holds: segments and their bytes, conversations and messages in live
        blocks, and segments waiting for a rewrite."""
        segments, size = self.connection.exec_driver_sql(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM cold_segments"
        ).one()
        conversations, messages = self.connection.exec_driver_sql(
            "SELECT COUNT(DISTINCT conversation_id), COALESCE(SUM(records), 0) FROM cold_blocks"
            " WHERE state = 'live'"
        ).one()
        return {
            "segments": int(segments), "bytes": int(size), "conversations": int(conversations),
            "messages": int(messages), "segments_to_rewrite": len(self.stale_segments()),
        }  # fmt: skip

    def segment_rows(self) -> dict[str, tuple[int, int]]:
        """``segment id -> (size, blocks)`` of every segment the database lists."""
        rows = self.connection.exec_driver_sql("SELECT id, size, blocks FROM cold_segments")
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}


def _opener(key: DataKey, context: bytes) -> Callable[[str, bytes], bytes]:
    def unseal(_: str, sealed: bytes) -> bytes:
        return decrypt(sealed, key, context)

    return unseal


def _sealer(key: DataKey, context: bytes) -> Callable[[str, bytes], bytes]:
    def seal(_: str, data: bytes) -> bytes:
        return encrypt(data, key, context)

    return seal


def _block(row: Sequence[Any]) -> Block:
    return Block(int(row[0]), int(row[1]), str(row[2]), int(row[3]), int(row[4]), int(row[5]),
                 bytes(row[6]), int(row[7]), int(row[8]), str(row[9]), str(row[10]))  # fmt: skip


def synthetic_samples(count: int) -> list[bytes]:
    """Records of generated demo messages (no customer's data), to train a dictionary when the
    archive has too few of its own."""
    from chatkeeper.demo import generate_records
    from chatkeeper.privacy.analyzer import default_analyzer
    from chatkeeper.privacy.operators import apply, mask_value

    analyzer = default_analyzer()
    out = []
    for number, record in enumerate(generate_records(count, seed=20261128)):
        text = record.get("text")
        if text:  # masked as stored: the generator's made-up people look like real ones
            findings = analyzer.analyze(text)
            record["text"] = apply(text, findings, lambda f, value: mask_value(f.type, value))
        row = {
            "id": number, "platform_id": 1, "external_id": record.get("message_id", ""),
            "sent_at": None, "utc_offset": 480, "sender_role": record.get("sender_role", ""),
            "sender_id": None, "agent_id": None, "msgtype": record.get("msgtype", "text"),
            "kind": "message", "text": record.get("text"), "recalled_at": None,
            "payload": None, "raw": None, "ingest_run_id": 1, "key_id": None,
            "ledger_index": number, "ciphertext": None,
        }  # fmt: skip
        out.append(encode_record(row, None, None))
    return out
