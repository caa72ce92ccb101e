"""Conversations as a batch of messages touches them: found or created, extended, re-indexed.

A conversation's filter values (department, customer, service type, and the customer's tags)
are indexed with every one of its messages. They come from the first record that names each of
them; when a later batch fills one in, the conversation's earlier messages are re-indexed
under the new values, so a filter never misses them.

A conversation in cold storage (state ``archived``) that a batch adds to is thawed first: its
messages come back to the hot tables, and it is active again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from chatkeeper.store.bulk import insert_many, select_in
from chatkeeper.store.cold import ColdStore
from chatkeeper.store.prepared import StorableMessage
from chatkeeper.store.search import ConversationMeta, SearchIndex, document

_COLUMNS = (
    "id, external_id, department_id, customer_id, service_type_id, "
    "started_at, ended_at, message_count, state"
)


# What a batch changes in a conversation row, in the order the statements below bind it.
_STATE = (
    "department_id",
    "customer_id",
    "service_type_id",
    "started_at",
    "ended_at",
    "message_count",
)


@dataclass(slots=True)
class ConversationState:
    """One conversation as this batch leaves it."""

    id: int
    meta: ConversationMeta
    started_at: int
    ended_at: int
    count: int
    new: bool
    indexed_meta: ConversationMeta | None = None  # set when earlier messages need re-indexing
    agents: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class BatchParties:
    """Ids the batch's records resolve to (see ``chatkeeper.store.writer``)."""

    platforms: dict[str, int]
    departments: dict[str, int]
    services: dict[str, int]
    customers: dict[tuple[int, str], int]
    tags_now: dict[int, tuple[int, ...]]  # customer -> tag ids after this batch
    tags_before: dict[int, tuple[int, ...]]  # customer -> tag ids before this batch


class Conversations:
    """Resolves and saves the conversations of one batch, on the batch's connection."""

    def __init__(
        self,
        connection: Connection,
        index: SearchIndex,
        tags_of: Callable[[set[int]], dict[int, set[int]]],
        thaw: Callable[[list[int]], int],
        *,
        cold: ColdStore | None = None,
    ) -> None:
        self.connection = connection
        self.index = index
        self._tags_of = tags_of  # customer ids -> {customer: tag ids}
        self._thaw = thaw  # cold conversation ids -> how many messages came back
        self.cold = cold  # where cold conversations' messages are read to re-index them

    def resolve(
        self, records: Sequence[StorableMessage], parties: BatchParties
    ) -> dict[tuple[int, str], ConversationState]:
        """Every conversation the batch touches, created where new, thawed where cold."""
        grouped: dict[tuple[int, str], list[StorableMessage]] = {}
        for r in records:
            grouped.setdefault((parties.platforms[r.platform], r.conversation_id), []).append(r)
        stored = self._stored(list(grouped))
        self._thaw([row[0] for row in stored.values() if row[8] == "archived"])
        unseen = {row[3] for row in stored.values()} - set(parties.tags_now) - {None}
        for customer, tags in self._tags_of(unseen).items():
            parties.tags_now[customer] = parties.tags_before[customer] = tuple(sorted(tags))
        states: dict[tuple[int, str], ConversationState] = {}
        for key, batch in grouped.items():
            first = self._first_values(key[0], batch, parties)
            low = min(r.sent_at for r in batch)
            high = max(r.sent_at for r in batch)
            row = stored.get(key)
            if row is None:
                states[key] = ConversationState(
                    0, self._meta(key[0], first, parties.tags_now), low, high, len(batch), True
                )
                continue
            held: tuple[int | None, int | None, int | None] = (row[2], row[3], row[4])
            values = (
                held[0] if held[0] is not None else first[0],
                held[1] if held[1] is not None else first[1],
                held[2] if held[2] is not None else first[2],
            )
            state = ConversationState(
                row[0],
                self._meta(key[0], values, parties.tags_now),
                min(row[5], low),
                max(row[6], high),
                row[7] + len(batch),
                False,
            )
            before = self._meta(key[0], held, parties.tags_before)
            if state.meta != before:
                state.indexed_meta = before
            states[key] = state
        self._create([(key, s) for key, s in states.items() if s.new])
        return states

    @staticmethod
    def _first_values(
        platform_id: int, batch: list[StorableMessage], parties: BatchParties
    ) -> tuple[int | None, int | None, int | None]:
        department = customer = service = None
        for r in batch:
            if department is None and r.department:
                department = parties.departments[r.department]
            if customer is None and r.customer_id:
                customer = parties.customers[(platform_id, r.customer_id)]
            if service is None and r.service_type:
                service = parties.services[r.service_type]
        return department, customer, service

    @staticmethod
    def _meta(
        platform_id: int,
        values: tuple[int | None, int | None, int | None],
        tags: dict[int, tuple[int, ...]],
    ) -> ConversationMeta:
        department, customer, service = values
        tag_ids = tags.get(customer, ()) if customer is not None else ()
        return ConversationMeta(platform_id, department, customer, service, tag_ids)

    def _stored(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], tuple[Any, ...]]:
        by_platform: dict[int, list[str]] = {}
        for platform_id, external in keys:
            by_platform.setdefault(platform_id, []).append(external)
        out: dict[tuple[int, str], tuple[Any, ...]] = {}
        for platform_id, externals in by_platform.items():
            rows = select_in(
                self.connection,
                f"SELECT {_COLUMNS} FROM conversations "
                "WHERE platform_id = {p} AND external_id IN ({params})",
                externals,
                leading=(platform_id,),
            )
            for row in rows:
                out[(platform_id, row[1])] = row
        return out

    def _create(self, new: list[tuple[tuple[int, str], ConversationState]]) -> None:
        if not new:
            return
        now = int(time.time() * 1000)
        insert_many(
            self.connection,
            "conversations",
            ("platform_id", "external_id", *_STATE, "state", "created_at", "updated_at"),
            [
                (
                    key[0],
                    key[1],
                    s.meta.department_id,
                    s.meta.customer_id,
                    s.meta.service_type_id,
                    s.started_at,
                    s.ended_at,
                    s.count,
                    "active",
                    now,
                    now,
                )
                for key, s in new
            ],
        )
        found = self._stored([key for key, _ in new])
        for key, state in new:
            state.id = found[key][0]

    def retag_others(
        self, states: dict[tuple[int, str], ConversationState], parties: BatchParties
    ) -> None:
        """Re-index the conversations, outside this batch, of customers whose tags this batch
        changed: every message of a customer's conversations carries the customer's tags."""
        changed = [
            c for c, tags in parties.tags_now.items() if tags != parties.tags_before.get(c, ())
        ]
        if not changed:
            return
        inside = {s.id for s in states.values()}
        rows = [
            row
            for row in select_in(
                self.connection,
                "SELECT id, platform_id, department_id, customer_id, service_type_id"
                " FROM conversations WHERE state NOT IN ('recycle_bin', 'purged')"
                " AND customer_id IN ({params})",
                sorted(changed),
            )
            if row[0] not in inside
        ]
        for conv, platform_id, department, customer, service in rows:
            values = (department, customer, service)
            old = self._meta(platform_id, values, parties.tags_before)
            new = self._meta(platform_id, values, parties.tags_now)
            if old == new:
                continue
            state = ConversationState(conv, new, 0, 0, 0, False, old)
            self._reindex(state, set())

    def save(self, states: dict[tuple[int, str], ConversationState], batch_ids: set[int]) -> None:
        """Write the batch's changes to stored conversations; link agents; re-index."""
        now = int(time.time() * 1000)
        mark = "?" if self.connection.dialect.paramstyle == "qmark" else "%s"
        updates = [
            (
                s.meta.department_id,
                s.meta.customer_id,
                s.meta.service_type_id,
                s.started_at,
                s.ended_at,
                s.count,
                now,
                s.id,
            )
            for s in states.values()
            if not s.new
        ]
        if updates:
            columns = (*_STATE, "updated_at")
            assignments = ", ".join(f"{c} = {mark}" for c in columns)
            self.connection.exec_driver_sql(
                f"UPDATE conversations SET {assignments} WHERE id = {mark}", updates
            )
        self._link_agents(states)
        for state in states.values():
            if state.indexed_meta is not None:
                self._reindex(state, batch_ids)

    def _link_agents(self, states: dict[tuple[int, str], ConversationState]) -> None:
        pairs = {(s.id, agent) for s in states.values() for agent in s.agents}
        if not pairs:
            return
        by_conversation: dict[int, set[int]] = {}
        for conversation, agent in pairs:
            by_conversation.setdefault(conversation, set()).add(agent)
        existing = set(
            select_in(
                self.connection,
                "SELECT conversation_id, participant_id FROM conversation_agents "
                "WHERE conversation_id IN ({params})",
                sorted(by_conversation),
            )
        )
        missing = sorted(pairs - existing)
        insert_many(
            self.connection, "conversation_agents", ("conversation_id", "participant_id"), missing
        )

    def _reindex(self, state: ConversationState, batch_ids: set[int]) -> None:
        """Re-index messages stored before this batch under the conversation's new values
        (a cold conversation's, which have no hot rows, read from its block)."""
        assert state.indexed_meta is not None
        rows = list(
            select_in(
                self.connection,
                "SELECT id, text, sender_role, agent_id FROM messages "
                "WHERE conversation_id IN ({params})",
                [state.id],
            )
        )
        if self.cold is not None and state.id in self.cold.cold_conversations([state.id]):
            rows = [*rows, *(
                (m["id"], m["text"], m["sender_role"], m["agent_id"])
                for m in self.cold.messages([state.id])
            )]  # fmt: skip
        old = [
            (id_, document(body, state.indexed_meta, role, agent, state.id))
            for id_, body, role, agent in rows
            if id_ not in batch_ids
        ]
        new = [
            (id_, document(body, state.meta, role, agent, state.id))
            for id_, body, role, agent in rows
            if id_ not in batch_ids
        ]
        self.index.remove(self.connection, old)
        self.index.add(self.connection, new)
