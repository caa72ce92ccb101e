"""The archive store: the one object the services use to reach the database.

It owns the engine and the search index backend, hands out :class:`ArchiveWriter`s inside write
transactions, and answers the read queries (transcripts, statistics, search hits). Backend
differences stay in ``engine``, the migration and ``store.search``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Integer, cast, false, func, or_, select, text, true, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from chatkeeper.crypto import KeyEncryptionKey
from chatkeeper.domain import Actor
from chatkeeper.errors import NotFound, NotInitialised, StoreError
from chatkeeper.lifecycle import LocalSegmentStore
from chatkeeper.store import migrations, tables
from chatkeeper.store.bulk import select_in
from chatkeeper.store.cold import ColdStore
from chatkeeper.store.keys import KeyStore, KeyUnavailable
from chatkeeper.store.ledger import LedgerSigner
from chatkeeper.store.search import IndexQuery, IndexResult, index_for
from chatkeeper.store.writer import ArchiveWriter

# A reach over conversations: department ids and conversation ids (either may be empty).
Scope = tuple[frozenset[int], frozenset[int]]


class SqlArchive:
    """Conversations and messages in a SQL database, with its full-text index."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.index = index_for(self.dialect)
        self.kek: KeyEncryptionKey | None = None
        self.suite = "AES-256-GCM"
        self.ledger_signer: LedgerSigner | None = None
        # Cold storage: the blob store of segments, and what loads the KEK the first time a
        # cold block must be read (the context's loader; search alone never needs it otherwise).
        self.segments: LocalSegmentStore | None = None
        self.key_loader: Callable[[], None] | None = None

    def use_keys(self, kek: KeyEncryptionKey, suite: str) -> None:
        """Encrypt with data keys wrapped by ``kek``, new keys in ``suite``."""
        self.kek, self.suite = kek, suite

    def keys(self, connection: Connection) -> KeyStore:
        """The key store on a connection (``KeyUnavailable`` without a KEK)."""
        if self.kek is None:
            raise KeyUnavailable("no key-encryption key is loaded")
        return KeyStore(connection, self.kek, self.suite)

    def cold(self, connection: Connection) -> ColdStore:
        """Cold storage on a connection (reading loads the KEK on first need)."""
        if self.segments is None:
            raise StoreError("no blob store folder is configured for cold storage")

        def keys() -> KeyStore:
            if self.kek is None and self.key_loader is not None:
                self.key_loader()
            return self.keys(connection)

        return ColdStore(connection, self.segments, keys)

    def compact_segments(self, segment_ids: Iterable[str] | None, now: int) -> list[str]:
        """Rewrite segments that hold blocks the database no longer lists (these, or every one
        it says is stale), each in its own transaction, then remove their old files; the ids
        rewritten (``ColdStore.compact``). A purge calls it right after it commits; the daily
        job calls it for any that a crash left."""
        if self.segments is None:
            return []
        if segment_ids is None:
            with self.reader() as connection:
                segment_ids = self.cold(connection).stale_segments()
        done = []
        for segment_id in sorted(set(segment_ids)):
            with self.writer() as writer:
                old = self.cold(writer.connection).compact(segment_id, now)
            if old is not None:
                self.segments.remove(old, missing_ok=True)
                done.append(old)
        return done

    # -- schema --------------------------------------------------------------------------

    def initialise(self) -> None:
        """Create or migrate the schema (idempotent)."""
        try:
            migrations.upgrade(self.engine)
        except OperationalError as exc:
            raise StoreError(f"cannot reach the database: {exc.orig}") from exc

    def check_ready(self) -> None:
        """Raise ``NotInitialised`` unless the schema is at this version's revision."""
        try:
            with self.engine.connect() as connection:
                current = migrations.current_revision(connection)
        except OperationalError as exc:
            raise StoreError(f"cannot reach the database: {exc.orig}") from exc
        if current is None:
            raise NotInitialised(
                "the data folder or database is not initialised: run chatkeeper init"
            )
        if current != migrations.head_revision():
            raise NotInitialised(
                f"the database schema is at revision {current}; run chatkeeper init to migrate"
            )

    # -- writing -------------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator[ArchiveWriter]:
        """A writer inside one write transaction: committed on exit, rolled back on error."""
        connection = self.engine.connect().execution_options(write=True)
        with connection, connection.begin():
            keys = KeyStore(connection, self.kek, self.suite) if self.kek else None
            cold = self.cold(connection) if self.segments is not None else None
            yield ArchiveWriter(connection, self.index, keys, self.ledger_signer, cold)

    def start_run(self, fmt: str, files: list[str], actor: str) -> int:
        """Record the start of an ingest run; returns its id."""
        with self.writer() as w:
            result = w.connection.execute(
                tables.ingest_runs.insert().values(
                    format=fmt,
                    files=orjson.dumps(files).decode(),
                    started_at=int(time.time() * 1000),
                    status="running",
                    ingested=0,
                    duplicates=0,
                    rejected=0,
                    skipped=0,
                    actor=actor,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def finish_run(
        self,
        actor: Actor,
        run_id: int,
        status: str,
        counts: dict[str, int],
        rejects: str | None,
    ) -> None:
        """Record how an ingest run ended, and audit it, in one transaction."""
        with self.writer() as w:
            w.connection.execute(
                update(tables.ingest_runs)
                .where(tables.ingest_runs.c.id == run_id)
                .values(
                    finished_at=int(time.time() * 1000),
                    status=status,
                    rejects_file=rejects,
                    **counts,
                )
            )
            w.audit(actor, "ingest.completed", target_kind="ingest_run", target_id=str(run_id),
                    result=status, details=counts)  # fmt: skip

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A connection inside a read transaction (one consistent snapshot)."""
        with self.engine.connect() as connection, connection.begin():
            yield connection

    def filter_ids(self, connection: Connection, kind: str, values: list[str]) -> list[int]:
        """Ids of filter values (a department's name, a tag, ...); unknown values have none."""
        queries = {
            "platform": "SELECT id FROM platforms WHERE code IN ({params})",
            "department": "SELECT id FROM departments WHERE name IN ({params})",
            "service_type": "SELECT id FROM service_types WHERE code IN ({params})",
            "customer_tag": "SELECT id FROM tags WHERE name IN ({params})",
            "agent": (
                "SELECT id FROM participants WHERE role = 'agent' AND external_id IN ({params})"
            ),
            "customer": "SELECT id FROM customers WHERE external_id IN ({params})",
        }
        return [row[0] for row in select_in(connection, queries[kind], values)]

    def search_index(self, connection: Connection, query: IndexQuery) -> IndexResult:
        """Ask the full-text index (with a reader of cold messages' texts, for a backend that
        checks candidates against the text)."""
        if self.segments is not None and query.cold_texts is None:

            def cold_texts(message_ids: Sequence[int]) -> dict[int, str | None]:
                found = self.cold(connection).messages_by_id(message_ids)
                return {id_: m.row["text"] for id_, m in found.items()}

            query = dataclasses.replace(query, cold_texts=cold_texts)
        try:
            return self.index.search(connection, query)
        except (OperationalError, ProgrammingError) as exc:
            raise StoreError(f"the search index failed: {exc.orig}") from exc

    def messages_by_id(self, connection: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Message rows with their conversation's external id and platform code.

        Plain SQL through the driver: this runs on every search, where compiling the
        statement would cost more than running it.
        """
        columns = (
            "id", "message_id", "sent_at", "utc_offset", "sender_role", "msgtype", "text",
            "recalled_at", "conversation_id", "platform", "conversation_pk", "department_id",
            "state",
        )  # fmt: skip
        rows = select_in(
            connection,
            "SELECT m.id, m.external_id, m.sent_at, m.utc_offset, m.sender_role, m.msgtype, "
            "m.text, m.recalled_at, c.external_id, p.code, c.id, c.department_id, c.state "
            "FROM messages m "
            "JOIN conversations c ON c.id = m.conversation_id "
            "JOIN platforms p ON p.id = c.platform_id WHERE m.id IN ({params})",
            ids,
        )
        out = {row[0]: dict(zip(columns, row, strict=True)) for row in rows}
        missing = [id_ for id_ in ids if id_ not in out]
        if missing and self.segments is not None:
            cold = self.cold(connection).messages_by_id(missing)
            if cold:
                info = self._conversation_info(
                    connection, {m["conversation_id"] for m in cold.values()}
                )
                for id_, m in cold.items():
                    row = m.row
                    out[id_] = {
                        "id": id_, "message_id": row["external_id"], "sent_at": row["sent_at"],
                        "utc_offset": row["utc_offset"], "sender_role": row["sender_role"],
                        "msgtype": row["msgtype"], "text": row["text"],
                        "recalled_at": row["recalled_at"], **info[row["conversation_id"]],
                    }  # fmt: skip
        return out

    @staticmethod
    def _conversation_info(connection: Connection, pks: set[int]) -> dict[int, dict[str, Any]]:
        """The conversation fields a message row carries, by conversation id."""
        rows = select_in(
            connection,
            "SELECT c.id, c.external_id, p.code, c.department_id, c.state FROM conversations c "
            "JOIN platforms p ON p.id = c.platform_id WHERE c.id IN ({params})",
            sorted(pks),
        )
        return {
            row[0]: {"conversation_id": row[1], "platform": row[2], "conversation_pk": row[0],
                     "department_id": row[3], "state": row[4]}
            for row in rows
        }  # fmt: skip

    def find_conversation(
        self, connection: Connection, external_id: str, platform: str | None
    ) -> dict[str, Any]:
        """The conversation with this external id (on ``platform`` where several match)."""
        c, p = tables.conversations, tables.platforms
        d, s, cu = tables.departments, tables.service_types, tables.customers
        query = (
            select(
                c,
                p.c.code.label("platform"),
                d.c.name.label("department"),
                s.c.code.label("service_type"),
                cu.c.external_id.label("customer"),
                cu.c.name.label("customer_name"),
            )
            .join(p, p.c.id == c.c.platform_id)
            .outerjoin(d, d.c.id == c.c.department_id)
            .outerjoin(s, s.c.id == c.c.service_type_id)
            .outerjoin(cu, cu.c.id == c.c.customer_id)
            .where(c.c.external_id == external_id)
        )
        if platform:
            query = query.where(p.c.code == platform)
        rows = [dict(row) for row in connection.execute(query).mappings()]
        if not rows:
            raise NotFound(f"no conversation with id '{external_id}'", conversation=external_id)
        if len(rows) > 1:
            names = ", ".join(sorted(row["platform"] for row in rows))
            raise NotFound(
                f"conversation id '{external_id}' exists on several platforms ({names}); "
                "name one with --platform",
                conversation=external_id,
            )
        return rows[0]

    # -- privacy ---------------------------------------------------------------------------

    def vault_messages(self, connection: Connection, blinds: list[bytes]) -> list[int]:
        """Ids of the messages whose vault holds one of these blind indexes, newest first."""
        rows = select_in(
            connection,
            "SELECT DISTINCT message_id FROM pii_vault WHERE blind_index IN ({params}) "
            "AND message_id IS NOT NULL",
            blinds,
        )
        return sorted((row[0] for row in rows), reverse=True)

    def message_row(
        self, connection: Connection, message_id: str, platform: str | None
    ) -> dict[str, Any]:
        """One message by its platform id, with its ciphertext and key id."""
        mark = "?" if self.dialect == "sqlite" else "%s"
        sql = (
            "SELECT m.id, m.external_id, p.code, c.external_id, m.ciphertext, m.key_id, m.text, "
            "c.id, c.department_id, c.state "
            "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            f"JOIN platforms p ON p.id = m.platform_id WHERE m.external_id = {mark}"
        )
        params: tuple[Any, ...] = (message_id,)
        if platform:
            sql += f" AND p.code = {mark}"
            params += (platform,)
        rows: list[Any] = list(connection.exec_driver_sql(sql, params))
        if not rows and self.segments is not None:
            rows = self._cold_message_row(connection, message_id, platform)
        if not rows:
            raise NotFound(f"no message with id '{message_id}'", message_id=message_id)
        if len(rows) > 1:
            raise NotFound(
                f"message id '{message_id}' exists on several platforms; name one with --platform",
                message_id=message_id,
            )
        keys = (
            "id", "message_id", "platform", "conversation_id", "ciphertext", "key_id", "text",
            "conversation_pk", "department_id", "state",
        )  # fmt: skip
        return dict(zip(keys, rows[0], strict=True))

    def _cold_message_row(
        self, connection: Connection, message_id: str, platform: str | None
    ) -> list[tuple[Any, ...]]:
        """``message_row``'s columns for a cold message with this platform id."""
        cold = self.cold(connection)
        platforms = cold.platforms()
        out = []
        for platform_id, code in platforms.items():
            if platform and code != platform:
                continue
            found = cold.find_external(platform_id, [message_id])
            if message_id not in found:
                continue
            m = found[message_id]
            cold.ciphertexts([m], platforms)
            info = self._conversation_info(connection, {m["conversation_id"]})
            c = info[m["conversation_id"]]
            out.append((m["id"], m["external_id"], code, c["conversation_id"], m["ciphertext"],
                        m["key_id"], m["text"], c["conversation_pk"], c["department_id"],
                        c["state"]))  # fmt: skip
        return out

    def vault_entry(
        self, connection: Connection, message_pk: int, start: int
    ) -> tuple[str, bytes] | None:
        """The key id and ciphertext of a message's vault entry starting at ``start``."""
        mark = "?" if self.dialect == "sqlite" else "%s"
        row = connection.exec_driver_sql(
            f"SELECT key_id, ciphertext FROM pii_vault WHERE message_id = {mark} "
            f"AND span_start = {mark}",
            (message_pk, start),
        ).first()
        return None if row is None else (str(row[0]), bytes(row[1]))

    def drop_original(
        self, connection: Connection, message_pk: int, start: int | None, end: int | None
    ) -> int:
        """Destroy a message's original (whole: ``start`` None) or the vault entries of a span;
        returns how many vault entries were destroyed."""
        mark = "?" if self.dialect == "sqlite" else "%s"
        if start is None:
            connection.exec_driver_sql(
                f"UPDATE messages SET ciphertext = NULL, key_id = NULL WHERE id = {mark}",
                (message_pk,),
            )
            result = connection.exec_driver_sql(
                f"DELETE FROM pii_vault WHERE message_id = {mark}", (message_pk,)
            )
        else:
            result = connection.exec_driver_sql(
                f"DELETE FROM pii_vault WHERE message_id = {mark} "
                f"AND span_start < {mark} AND span_end > {mark}",
                (message_pk, end, start),
            )
        return int(result.rowcount or 0)

    def replace_original(self, connection: Connection, message_pk: int, ciphertext: bytes) -> None:
        """Store a new encrypted original for a message (after part of it was taken offline)."""
        mark = "?" if self.dialect == "sqlite" else "%s"
        connection.exec_driver_sql(
            f"UPDATE messages SET ciphertext = {mark} WHERE id = {mark}", (ciphertext, message_pk)
        )

    def sample_conversation(self, connection: Connection, service_type: str) -> str | None:
        """The external id of the first conversation of a service type (for examples)."""
        row = connection.exec_driver_sql(
            "SELECT c.external_id FROM conversations c JOIN service_types s "
            "ON s.id = c.service_type_id WHERE s.code = %s ORDER BY c.id LIMIT 1"
            % ("?" if self.dialect == "sqlite" else "%s"),
            (service_type,),
        ).first()
        return None if row is None else str(row[0])

    def transcript(self, connection: Connection, conversation_pk: int) -> list[dict[str, Any]]:
        """Every stored record of a conversation in time order, with sender names."""
        m, pa = tables.messages, tables.participants
        query = (
            select(
                m.c.id,
                m.c.external_id.label("message_id"),
                m.c.sent_at,
                m.c.utc_offset,
                m.c.sender_role,
                pa.c.external_id.label("sender_id"),
                pa.c.name.label("sender_name"),
                m.c.msgtype,
                m.c.kind,
                m.c.text,
                m.c.recalled_at,
                m.c.payload,
            )
            .outerjoin(pa, pa.c.id == m.c.sender_id)
            .where(m.c.conversation_id == conversation_pk)
            .order_by(m.c.id)
        )
        out = [dict(row) for row in connection.execute(query).mappings()]
        if self.segments is None:
            return out
        cold = self.cold(connection)
        if not cold.cold_conversations([conversation_pk]):
            return out
        messages = cold.messages([conversation_pk])
        senders = {
            row[0]: (row[1], row[2])
            for row in select_in(
                connection,
                "SELECT id, external_id, name FROM participants WHERE id IN ({params})",
                sorted({cm["sender_id"] for cm in messages if cm["sender_id"] is not None}),
            )
        }
        for cm in messages:
            sender_id, sender_name = senders.get(cm["sender_id"], (None, None))
            out.append({
                "id": cm["id"], "message_id": cm["external_id"], "sent_at": cm["sent_at"],
                "utc_offset": cm["utc_offset"], "sender_role": cm["sender_role"],
                "sender_id": sender_id, "sender_name": sender_name, "msgtype": cm["msgtype"],
                "kind": cm["kind"], "text": cm["text"], "recalled_at": cm["recalled_at"],
                "payload": cm["payload"],
            })  # fmt: skip
        out.sort(key=lambda row: row["id"])  # hot rows of a late message among the cold ones
        return out

    def agents_of(self, connection: Connection, conversation_pk: int) -> list[dict[str, Any]]:
        """The agents who served in a conversation."""
        ca, pa = tables.conversation_agents, tables.participants
        query = (
            select(pa.c.external_id, pa.c.name)
            .join(ca, ca.c.participant_id == pa.c.id)
            .where(ca.c.conversation_id == conversation_pk)
            .order_by(pa.c.external_id)
        )
        return [dict(row) for row in connection.execute(query).mappings()]

    @staticmethod
    def _in_scope(scope: Scope | None) -> Any:
        """The SQL condition on ``conversations`` of a scope (``None``: everything)."""
        c = tables.conversations
        if scope is None:
            return true()
        departments, conversations = scope
        parts = []
        if departments:
            parts.append(c.c.department_id.in_(sorted(departments)))
        if conversations:
            parts.append(c.c.id.in_(sorted(conversations)))
        return or_(*parts) if parts else false()

    def counts(self, connection: Connection, scope: Scope | None = None) -> dict[str, int]:
        """Totals of conversations and messages (within a scope)."""
        c = tables.conversations
        row = connection.execute(
            select(func.count(), func.coalesce(func.sum(c.c.message_count), 0)).where(
                self._in_scope(scope)
            )
        ).one()
        return {"conversations": int(row[0]), "messages": int(row[1])}

    def counts_by(
        self, connection: Connection, dimension: str, scope: Scope | None = None
    ) -> list[tuple[str, int, int]]:
        """``(value, conversations, messages)`` per platform, service type or department."""
        c = tables.conversations
        label_table, label_column, key = {
            "platform": (tables.platforms, "code", c.c.platform_id),
            "service_type": (tables.service_types, "code", c.c.service_type_id),
            "department": (tables.departments, "name", c.c.department_id),
        }[dimension]
        query = (
            select(
                label_table.c[label_column],
                func.count(),
                func.coalesce(func.sum(c.c.message_count), 0),
            )
            .select_from(c)
            .outerjoin(label_table, label_table.c.id == key)
            .where(self._in_scope(scope))
            .group_by(label_table.c[label_column])
            .order_by(func.count().desc())
        )
        return [(row[0] or "-", int(row[1]), int(row[2])) for row in connection.execute(query)]

    def messages_per_day(
        self, connection: Connection, utc_offset_minutes: int, scope: Scope | None = None
    ) -> list[tuple[str, int]]:
        """Messages per calendar day in the given time zone offset."""
        shift = utc_offset_minutes * 60_000
        day = (tables.messages.c.sent_at + shift) / 86_400_000
        # SQLite has no FLOOR before 3.35's math functions; a cast truncates (times are > 0).
        bucket: Any = cast(day, Integer) if self.dialect == "sqlite" else func.floor(day)
        query = select(bucket.label("d"), func.count()).group_by(text("d")).order_by(text("d"))
        query = query.select_from(tables.messages)
        if scope is not None:
            c = tables.conversations
            query = query.join(c, c.c.id == tables.messages.c.conversation_id).where(
                self._in_scope(scope)
            )
        counts: dict[int, int] = {}
        for days, count in connection.execute(query):
            counts[int(days)] = counts.get(int(days), 0) + int(count)
        # Cold messages: the id holds the send time (store.ids), the block the conversation.
        mark = "?" if self.dialect == "sqlite" else "%s"
        cold_sql = (
            "SELECT m.id FROM cold_messages m JOIN cold_blocks b ON b.id = m.block_id "
            "JOIN conversations c ON c.id = b.conversation_id WHERE {where}"
        )
        where, params = self._scope_sql(scope, mark)
        for (message_id,) in connection.exec_driver_sql(cold_sql.format(where=where), params):
            bucket = (int(message_id) // 4096 + shift) // 86_400_000
            counts[bucket] = counts.get(bucket, 0) + 1
        return [
            (time.strftime("%Y-%m-%d", time.gmtime(bucket * 86_400)), count)
            for bucket, count in sorted(counts.items())
        ]

    @staticmethod
    def _scope_sql(scope: Scope | None, mark: str) -> tuple[str, tuple[Any, ...]]:
        """A scope as a plain-SQL condition on ``conversations c``."""
        if scope is None:
            return "1 = 1", ()
        departments, conversations = scope
        parts, params = [], []
        if departments:
            parts.append(f"c.department_id IN ({','.join([mark] * len(departments))})")
            params.extend(sorted(departments))
        if conversations:
            parts.append(f"c.id IN ({','.join([mark] * len(conversations))})")
            params.extend(sorted(conversations))
        return (" OR ".join(parts) if parts else "1 = 0"), tuple(params)
