"""Writing one batch of messages inside one transaction.

:class:`ArchiveWriter` is what the ingest pipeline's dedup and store steps talk to. Every method
works on a whole batch with a fixed number of statements, and everything it writes commits or
rolls back together: a batch is either fully stored and indexed, or not at all. The hot
statements go to the driver directly (``store.bulk``): at tens of thousands of messages a second,
SQL compilation would cost more than the database's own work.

Messages in cold storage (``chatkeeper.store.cold``) count as stored: a record already there is a
duplicate, and its id is taken. A batch that adds to a cold conversation, or recalls one of its
messages, first thaws it back into the hot tables in the same transaction. An archive with
nothing cold pays one cheap query per batch for this.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from chatkeeper.crypto import DataKey
from chatkeeper.domain import Actor
from chatkeeper.errors import StoreError
from chatkeeper.store import audit, ids
from chatkeeper.store.bulk import insert_many, select_in
from chatkeeper.store.classes import classify_batch, mark_risks
from chatkeeper.store.cold import ColdStore
from chatkeeper.store.conversations import BatchParties, Conversations, ConversationState
from chatkeeper.store.keys import KeyStore, KeyUnavailable
from chatkeeper.store.ledger import MESSAGES_LOG, LedgerSigner, LedgerWriter
from chatkeeper.store.lookups import resolve_names, resolve_people
from chatkeeper.store.prepared import NewKey, StorableMessage
from chatkeeper.store.search import SearchIndex, meta_tokens

MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "platform_id",
    "external_id",
    "sent_at",
    "utc_offset",
    "sender_role",
    "sender_id",
    "agent_id",
    "msgtype",
    "kind",
    "text",
    "recalled_at",
    "payload",
    "raw",
    "ingest_run_id",
    "ciphertext",
    "key_id",
    "ledger_index",
)


class ArchiveWriter:
    """Batch writes on one connection inside an open write transaction."""

    def __init__(
        self,
        connection: Connection,
        index: SearchIndex,
        keys: KeyStore | None = None,
        ledger: LedgerSigner | None = None,
        cold: ColdStore | None = None,
    ) -> None:
        self.connection = connection
        self.index = index
        self.keys = keys
        self.ledger = ledger
        self.cold = cold
        self._any_cold: bool | None = None

    def _has_cold(self) -> bool:
        """Whether anything is in cold storage (asked once per transaction)."""
        if self._any_cold is None:
            self._any_cold = self.cold is not None and self.cold.has_any()
        return self._any_cold

    def thaw(self, conversation_pks: Iterable[int], now: int | None = None) -> int:
        """Bring cold conversations back to the hot tables in this transaction (see
        :meth:`ColdStore.thaw`); how many messages came back."""
        pks = sorted(set(conversation_pks))
        if not pks:
            return 0
        if self.cold is None:
            raise StoreError("a conversation is in cold storage but no blob store is configured")
        return self.cold.thaw(pks, int(time.time() * 1000) if now is None else now)

    def audit(self, actor: Actor, action: str, **fields: Any) -> None:
        """Record an audit event (and its ledger leaf) in this transaction."""
        audit.record(self.connection, actor, action, signer=self.ledger, **fields)

    def insert_keys(self, keys: Sequence[NewKey]) -> None:
        """Store data keys made (and wrapped) outside the transaction."""
        now = int(time.time() * 1000)
        insert_many(
            self.connection,
            "data_keys",
            ("key_id", "owner_kind", "owner_ref", "suite", "kek_id", "wrapped", "created_at"),
            [(*key, now) for key in keys],
        )

    def data_keys(self, owners: Iterable[tuple[str, str]]) -> dict[tuple[str, str], DataKey]:
        """The owners' live data keys, created where missing (see ``chatkeeper.store.keys``)."""
        if self.keys is None:
            raise KeyUnavailable("encryption is on but no key-encryption key is loaded")
        return self.keys.data_keys(owners)

    def closed_conversations(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Which ``(platform, conversation id)`` are in the recycle bin or purged, and which."""
        by_platform: dict[str, list[str]] = {}
        for platform, conversation in keys:
            by_platform.setdefault(platform, []).append(conversation)
        out: dict[tuple[str, str], str] = {}
        for platform, conversations in by_platform.items():
            rows = select_in(
                self.connection,
                "SELECT c.external_id, c.state FROM conversations c JOIN platforms p"
                " ON p.id = c.platform_id WHERE p.code = {p} AND c.state IN"
                " ('recycle_bin', 'purged') AND c.external_id IN ({params})",
                sorted(set(conversations)),
                leading=(platform,),
            )
            out.update({(platform, row[0]): str(row[1]) for row in rows})
        return out

    def existing_keys(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which ``(platform, message id)`` keys are already stored, hot or cold."""
        by_platform: dict[str, list[str]] = {}
        for platform, message_id in keys:
            by_platform.setdefault(platform, []).append(message_id)
        platform_ids: dict[str, int] = {
            code: id_
            for code, id_ in select_in(
                self.connection,
                "SELECT code, id FROM platforms WHERE code IN ({params})",
                list(by_platform),
            )
        }
        found: set[tuple[str, str]] = set()
        for platform, message_ids in by_platform.items():
            if platform in platform_ids:
                rows = select_in(
                    self.connection,
                    "SELECT external_id FROM messages WHERE platform_id = {p} "
                    "AND external_id IN ({params})",
                    message_ids,
                    leading=(platform_ids[platform],),
                )
                found.update((platform, row[0]) for row in rows)
        if self.cold is not None and self._has_cold():
            for platform, message_ids in by_platform.items():
                missing = [m for m in message_ids if (platform, m) not in found]
                if platform in platform_ids and missing:
                    cold = self.cold.find_external(platform_ids[platform], missing)
                    found.update((platform, external) for external in cold)
        return found

    def store(self, records: Sequence[StorableMessage], run_id: int | None) -> list[int]:
        """Store and index new (already deduplicated) records; returns their ids, in order.

        Earlier messages of a conversation whose filter values this batch completed are
        re-indexed too (see ``chatkeeper.store.conversations``).
        """
        if not records:
            return []
        conn = self.connection
        parties = self._parties(records)
        participants = self._participants(records, parties)
        book = Conversations(conn, self.index, self._tags_of, self.thaw, cold=self.cold)
        states = book.resolve(records, parties)
        classify_batch(conn, records, states, parties.platforms)
        message_ids = self._assign_ids(records)
        self._thaw_recalled(records, parties.platforms)
        recalled = self._recall_times(records, parties.platforms)
        ledger = LedgerWriter(conn, MESSAGES_LOG, self._origin())
        leaf_indexes = self._leaf_indexes(records, message_ids, ledger.size)
        rows: list[tuple[Any, ...]] = []
        index_rows: list[tuple[int, str]] = []
        for r, message_id in zip(records, message_ids, strict=True):
            platform_id = parties.platforms[r.platform]
            state = states[(platform_id, r.conversation_id)]
            sender = participants.get((platform_id, r.sender_role, r.sender_id))
            agent = participants.get((platform_id, "agent", r.agent_id))
            if agent is None and r.sender_role == "agent":
                agent = sender
            if agent is not None:
                state.agents.add(agent)
            rows.append(
                (
                    message_id, state.id, platform_id, r.message_id, r.sent_at, r.utc_offset,
                    r.sender_role, sender, agent, r.msgtype, r.kind, r.text,
                    recalled.pop((platform_id, r.message_id), None), r.payload, r.raw, run_id,
                    r.ciphertext, r.key_id, leaf_indexes.get(message_id),
                )
            )  # fmt: skip
            meta = meta_tokens(state.meta, r.sender_role, agent, state.id)
            index_rows.append((message_id, f"{r.tokens} {meta}" if r.tokens else meta))
        # In id order: B-tree pages then fill left to right instead of splitting half-empty.
        rows.sort(key=lambda row: row[0])
        insert_many(conn, "messages", MESSAGE_COLUMNS, rows)
        self._mark_stored_recalls(recalled)
        self._write_vault(records, message_ids, states, parties)
        mark_risks(conn, records, message_ids, states, parties.platforms)
        self._write_events(records, rows, message_ids, states, parties.platforms)
        book.save(states, set(message_ids))
        book.retag_others(states, parties)
        self.index.add(conn, index_rows)
        leaves = [r.leaf_hash for r in records if r.leaf_hash is not None]
        if leaves:
            ledger.append(leaves)
            if self.ledger is not None:
                ledger.checkpoint(self.ledger.key)
        return message_ids

    def _origin(self) -> str:
        return self.ledger.origin(MESSAGES_LOG) if self.ledger else "chatkeeper/messages"

    @staticmethod
    def _leaf_indexes(
        records: Sequence[StorableMessage], message_ids: list[int], size: int
    ) -> dict[int, int]:
        """Each sealed message's index in the ledger: leaves are appended in record order."""
        out: dict[int, int] = {}
        for record, message_id in zip(records, message_ids, strict=True):
            if record.leaf_hash is not None:
                out[message_id] = size + len(out)
        return out

    # -- people and names -----------------------------------------------------------------

    def _parties(self, records: Sequence[StorableMessage]) -> BatchParties:
        conn = self.connection
        platforms = resolve_names(conn, "platforms", "code", {r.platform for r in records})
        departments = resolve_names(
            conn, "departments", "name", {r.department for r in records if r.department}
        )
        services = resolve_names(
            conn, "service_types", "code", {r.service_type for r in records if r.service_type}
        )
        wanted: dict[tuple[Any, ...], dict[str, Any]] = {}
        for r in records:
            if r.customer_id:
                key = (platforms[r.platform], r.customer_id)
                row = wanted.setdefault(
                    key, {"platform_id": key[0], "external_id": key[1], "name": None}
                )
                if r.sender_role == "customer" and r.sender_id == r.customer_id:
                    row["name"] = row["name"] or r.sender_name
        customers = resolve_people(conn, "customers", ("platform_id",), wanted)
        before, after = self._customer_tags(records, platforms, customers)
        return BatchParties(platforms, departments, services, customers, after, before)

    def _customer_tags(
        self,
        records: Sequence[StorableMessage],
        platforms: dict[str, int],
        customers: dict[tuple[int, str], int],
    ) -> tuple[dict[int, tuple[int, ...]], dict[int, tuple[int, ...]]]:
        """Each batch customer's tag ids before and after adding the tags the batch names."""
        named: dict[int, set[str]] = {}
        for r in records:
            if r.customer_id and r.customer_tags:
                customer = customers[(platforms[r.platform], r.customer_id)]
                named.setdefault(customer, set()).update(r.customer_tags)
        tag_ids = resolve_names(
            self.connection, "tags", "name", {t for ts in named.values() for t in ts}
        )
        current = self._tags_of(set(customers.values()))
        before = {customer: tuple(sorted(tags)) for customer, tags in current.items()}
        additions = []
        for customer, tag_names in named.items():
            held = current.setdefault(customer, set())
            for name in sorted(tag_names):
                if tag_ids[name] not in held:
                    held.add(tag_ids[name])
                    additions.append((customer, tag_ids[name]))
        insert_many(self.connection, "customer_tags", ("customer_id", "tag_id"), additions)
        return before, {customer: tuple(sorted(tags)) for customer, tags in current.items()}

    def _tags_of(self, customer_ids: set[int]) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        rows = select_in(
            self.connection,
            "SELECT customer_id, tag_id FROM customer_tags WHERE customer_id IN ({params})",
            sorted(customer_ids),
        )
        for customer, tag in rows:
            out.setdefault(customer, set()).add(tag)
        return out

    def _participants(
        self, records: Sequence[StorableMessage], parties: BatchParties
    ) -> dict[tuple[Any, ...], int]:
        wanted: dict[tuple[Any, ...], dict[str, Any]] = {}

        def want(platform_id: int, external: str, role: str, name: str | None) -> None:
            key = (platform_id, role, external)
            row = wanted.get(key)
            if row is None:
                customer = parties.customers.get((platform_id, external))
                row = wanted[key] = {
                    "platform_id": platform_id,
                    "role": role,
                    "external_id": external,
                    "customer_id": customer if role == "customer" else None,
                    "name": None,
                }
            row["name"] = row["name"] or name

        for r in records:
            platform_id = parties.platforms[r.platform]
            if r.sender_id:
                want(platform_id, r.sender_id, r.sender_role, r.sender_name)
            if r.agent_id:
                name = r.agent_name
                if r.sender_role == "agent" and r.sender_id == r.agent_id:
                    name = name or r.sender_name
                want(platform_id, r.agent_id, "agent", name)
        return resolve_people(self.connection, "participants", ("platform_id", "role"), wanted)

    # -- ids, recalls, events -------------------------------------------------------------

    def _assign_ids(self, records: Sequence[StorableMessage]) -> list[int]:
        """Time-ordered ids (see ``chatkeeper.store.ids``), unique against the stored ones."""
        candidates = [r.id_candidate for r in records]
        checked = set(candidates)
        taken = self._stored_ids(candidates)
        assigned = []
        for candidate in candidates:
            for _ in range(ids.SLOTS):
                if candidate not in taken:
                    if candidate in checked or not self._id_stored(candidate):
                        break
                    taken.add(candidate)
                candidate = ids.next_candidate(candidate)
            else:
                raise RuntimeError("more than 4096 messages share one millisecond")
            taken.add(candidate)
            assigned.append(candidate)
        return assigned

    def _id_stored(self, message_id: int) -> bool:
        return bool(self._stored_ids([message_id]))

    def _stored_ids(self, message_ids: Sequence[int]) -> set[int]:
        """Which of the ids a stored message holds, hot or cold."""
        statements = ["SELECT id FROM messages WHERE id IN ({params})"]
        if self._has_cold():
            statements.append("SELECT id FROM cold_messages WHERE id IN ({params})")
        return {
            int(row[0])
            for sql in statements
            for row in select_in(self.connection, sql, message_ids)
        }

    def _thaw_recalled(self, records: Sequence[StorableMessage], platforms: dict[str, int]) -> None:
        """Thaw the conversations of cold messages this batch's recalls withdraw, so that they
        are marked recalled like hot ones."""
        targets: dict[int, list[str]] = {}
        for r in records:
            if r.kind == "recall" and r.ref_message_id:
                targets.setdefault(platforms[r.platform], []).append(r.ref_message_id)
        if not targets or self.cold is None or not self._has_cold():
            return
        pks = {
            int(m["conversation_id"])
            for platform_id, externals in targets.items()
            for m in self.cold.find_external(platform_id, externals).values()
        }
        self.thaw(pks)

    def _recall_times(
        self, records: Sequence[StorableMessage], platforms: dict[str, int]
    ) -> dict[tuple[int, str], int]:
        """When each recalled message of interest was recalled: by a recall in this batch, or
        by one stored earlier that names a message of this batch."""
        recalled: dict[tuple[int, str], int] = {}
        for r in records:
            if r.kind == "recall" and r.ref_message_id:
                key = (platforms[r.platform], r.ref_message_id)
                recalled[key] = min(recalled.get(key, r.sent_at), r.sent_at)
        by_platform: dict[int, list[str]] = {}
        for r in records:
            by_platform.setdefault(platforms[r.platform], []).append(r.message_id)
        for platform_id, externals in by_platform.items():
            if not self._has_recalls(platform_id):
                continue
            rows = select_in(
                self.connection,
                "SELECT target_external_id, message_id FROM recall_events "
                "WHERE platform_id = {p} AND target_external_id IN ({params})",
                externals,
                leading=(platform_id,),
            )
            for target, message_id in rows:
                # The id holds the recall's send time (store.ids), hot or cold.
                sent_at = ids.sent_at_ms(int(message_id))
                key = (platform_id, target)
                recalled[key] = min(recalled.get(key, sent_at), sent_at)
        return recalled

    def _has_recalls(self, platform_id: int) -> bool:
        """Whether any recall is stored for the platform (most sources send none)."""
        rows = select_in(
            self.connection,
            "SELECT message_id FROM recall_events WHERE platform_id IN ({params}) LIMIT 1",
            [platform_id],
        )
        return next(rows, None) is not None

    def _mark_stored_recalls(self, recalled: dict[tuple[int, str], int]) -> None:
        """Mark messages stored by earlier batches that this batch's recalls withdraw."""
        if recalled:
            mark = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"
            self.connection.exec_driver_sql(
                f"UPDATE messages SET recalled_at = {mark} WHERE platform_id = {mark} "
                f"AND external_id = {mark} AND recalled_at IS NULL",
                [(at, platform_id, target) for (platform_id, target), at in recalled.items()],
            )

    def _write_vault(
        self,
        records: Sequence[StorableMessage],
        message_ids: list[int],
        states: dict[tuple[int, str], ConversationState],
        parties: BatchParties,
    ) -> None:
        rows: list[tuple[Any, ...]] = []
        for r, message_id in zip(records, message_ids, strict=True):
            if not r.vault:
                continue
            platform_id = parties.platforms[r.platform]
            conversation = states[(platform_id, r.conversation_id)].id
            customer = (
                parties.customers.get((platform_id, r.customer_id)) if r.customer_id else None
            )
            rows.extend(
                (message_id, conversation, customer, v.pii_type, v.start, v.end, v.key_id,
                 v.ciphertext, v.blind_index)
                for v in r.vault
            )  # fmt: skip
        insert_many(
            self.connection,
            "pii_vault",
            ("message_id", "conversation_id", "customer_id", "pii_type", "span_start", "span_end",
             "key_id", "ciphertext", "blind_index"),
            rows,
        )  # fmt: skip

    def _write_events(
        self,
        records: Sequence[StorableMessage],
        rows: list[tuple[Any, ...]],
        message_ids: list[int],
        states: dict[tuple[int, str], ConversationState],
        platforms: dict[str, int],
    ) -> None:
        recalls, consents = [], []
        senders = {row[0]: row[7] for row in rows}
        for r, message_id in zip(records, message_ids, strict=True):
            platform_id = platforms[r.platform]
            if r.kind == "recall" and r.ref_message_id:
                recalls.append((message_id, platform_id, r.ref_message_id))
            elif r.kind == "consent":
                conversation = states[(platform_id, r.conversation_id)].id
                decision = r.consent or r.msgtype
                consents.append(
                    (message_id, conversation, senders[message_id], decision, r.sent_at)
                )
        insert_many(
            self.connection,
            "recall_events",
            ("message_id", "platform_id", "target_external_id"),
            recalls,
        )
        insert_many(
            self.connection,
            "consent_records",
            ("message_id", "conversation_id", "participant_id", "decision", "decided_at"),
            consents,
        )
