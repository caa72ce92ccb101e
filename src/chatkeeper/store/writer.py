"""Writing one batch of canonical messages inside one transaction.

:class:`ArchiveWriter` is what the ingest pipeline's dedup, store and index steps talk to. Every
method works on a whole batch with a fixed number of statements, and everything it writes
commits or rolls back together: a batch is either fully stored and indexed, or not at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.engine import Connection

from chatkeeper.domain import CanonicalMessage, RecordKind, SenderRole
from chatkeeper.store import ids, tables
from chatkeeper.store.bulk import insert_many, select_in
from chatkeeper.store.lookups import fill_missing_names, resolve_keys, resolve_names
from chatkeeper.store.search import ConversationMeta, SearchIndex, document

_CHUNK = 500
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
)


def _ms(record: CanonicalMessage) -> int:
    return int(record.sent_at.timestamp() * 1000)


def _offset_minutes(record: CanonicalMessage) -> int:
    offset = record.sent_at.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


@dataclass(slots=True)
class _Conversation:
    id: int
    meta: ConversationMeta
    started_at: int
    ended_at: int
    count: int
    new: bool
    indexed_meta: ConversationMeta | None = None  # what earlier messages were indexed under
    agents: set[int] = field(default_factory=set)


class ArchiveWriter:
    """Batch writes on one connection inside an open write transaction."""

    def __init__(self, connection: Connection, index: SearchIndex) -> None:
        self.connection = connection
        self.index = index
        self._indexed_tags: dict[int, tuple[int, ...]] = {}
        self._batch_ids: set[int] = set()

    # -- dedup ---------------------------------------------------------------------------

    def existing_keys(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which ``(platform, message id)`` keys are already stored."""
        by_platform: dict[str, list[str]] = {}
        for platform, message_id in keys:
            by_platform.setdefault(platform, []).append(message_id)
        codes = tables.platforms.c
        query = select(codes.code, codes.id).where(codes.code.in_(list(by_platform)))
        platform_ids: dict[str, int] = {code: id_ for code, id_ in self.connection.execute(query)}
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
        return found

    # -- store ---------------------------------------------------------------------------

    def store(self, records: Sequence[CanonicalMessage], run_id: int | None) -> list[int]:
        """Store new (already deduplicated) records; returns their ids, in order.

        Also indexes them, and re-indexes earlier messages of a conversation whose filter
        values this batch completed (a department or customer tag seen for the first time).
        """
        if not records:
            return []
        conn = self.connection
        platforms = resolve_names(conn, tables.platforms, "code", (r.platform for r in records))
        departments = resolve_names(
            conn, tables.departments, "name", (r.department for r in records if r.department)
        )
        services = resolve_names(
            conn, tables.service_types, "code", (r.service_type for r in records if r.service_type)
        )
        customers = self._customers(records, platforms)
        tag_ids = self._customer_tags(records, platforms, customers)
        people = self._participants(records, platforms, customers)
        conversations = self._conversations(
            records, platforms, departments, services, customers, tag_ids
        )
        message_ids = self._assign_ids(records, platforms)
        self._batch_ids = set(message_ids)
        rows: list[dict[str, Any]] = []
        index_rows = []
        for record, message_id in zip(records, message_ids, strict=True):
            platform_id = platforms[record.platform]
            conv = conversations[(platform_id, record.conversation_id)]
            sender = people.get((platform_id, record.sender_id or "", record.sender_role.value))
            agent = people.get((platform_id, record.agent_id or "", SenderRole.AGENT.value))
            if agent is None and record.sender_role is SenderRole.AGENT:
                agent = sender
            if agent is not None:
                conv.agents.add(agent)
            rows.append(
                {
                    "id": message_id,
                    "conversation_id": conv.id,
                    "platform_id": platform_id,
                    "external_id": record.message_id,
                    "sent_at": _ms(record),
                    "utc_offset": _offset_minutes(record),
                    "sender_role": record.sender_role.value,
                    "sender_id": sender,
                    "agent_id": agent,
                    "msgtype": record.msgtype,
                    "kind": record.kind.value,
                    "text": record.text,
                    "recalled_at": None,
                    "payload": orjson.dumps(record.payload).decode() if record.payload else None,
                    "raw": record.raw,
                    "ingest_run_id": run_id,
                }
            )
            index_rows.append(
                (message_id, document(record.text, conv.meta, record.sender_role.value, agent))
            )
        self._link_recalls(records, rows, platforms)
        # In id order: B-tree pages then fill left to right instead of splitting half-empty.
        ordered = sorted(rows, key=lambda row: row["id"])
        insert_many(
            conn,
            "messages",
            MESSAGE_COLUMNS,
            [tuple(r[c] for c in MESSAGE_COLUMNS) for r in ordered],
        )
        self._write_events(records, rows, platforms)
        self._save_conversations(conversations)
        self.index.add(conn, index_rows)
        return message_ids

    def _customers(
        self, records: Sequence[CanonicalMessage], platforms: dict[str, int]
    ) -> dict[tuple[int, str], int]:
        wanted: dict[tuple[object, ...], dict[str, object]] = {}
        names: dict[tuple[object, ...], str | None] = {}
        for r in records:
            if r.customer_id:
                key = (platforms[r.platform], r.customer_id)
                wanted.setdefault(key, {"platform_id": key[0], "external_id": key[1]})
                if r.sender_role is SenderRole.CUSTOMER and r.sender_id == r.customer_id:
                    names[key] = names.get(key) or r.sender_name
        found = resolve_keys(
            self.connection, tables.customers, ("platform_id", "external_id"), wanted
        )
        fill_missing_names(
            self.connection, tables.customers, {found[k]: v for k, v in names.items()}
        )
        return {(int(k[0]), str(k[1])): v for k, v in found.items()}  # type: ignore[call-overload]

    def _customer_tags(
        self,
        records: Sequence[CanonicalMessage],
        platforms: dict[str, int],
        customers: dict[tuple[int, str], int],
    ) -> dict[int, tuple[int, ...]]:
        """Every batch customer's tag ids after adding the tags this batch names."""
        named: dict[int, set[str]] = {}
        for r in records:
            if r.customer_id and r.customer_tags:
                named.setdefault(customers[(platforms[r.platform], r.customer_id)], set()).update(
                    r.customer_tags
                )
        tag_ids = resolve_names(
            self.connection, tables.tags, "name", (t for ts in named.values() for t in ts)
        )
        current = self._tags_of(set(customers.values()))
        # What earlier messages were indexed under, should this batch add a tag.
        self._indexed_tags = {customer: tuple(sorted(t)) for customer, t in current.items()}
        additions = []
        for customer, names in named.items():
            for name in names:
                if tag_ids[name] not in current.setdefault(customer, set()):
                    current[customer].add(tag_ids[name])
                    additions.append({"customer_id": customer, "tag_id": tag_ids[name]})
        if additions:
            self.connection.execute(tables.customer_tags.insert(), additions)
        return {customer: tuple(sorted(tags)) for customer, tags in current.items()}

    def _tags_of(self, customer_ids: set[int]) -> dict[int, set[int]]:
        ct = tables.customer_tags
        out: dict[int, set[int]] = {}
        ordered = sorted(customer_ids)
        for start in range(0, len(ordered), _CHUNK):
            query = select(ct.c.customer_id, ct.c.tag_id).where(
                ct.c.customer_id.in_(ordered[start : start + _CHUNK])
            )
            for customer, tag in self.connection.execute(query):
                out.setdefault(customer, set()).add(tag)
        return out

    def _participants(
        self,
        records: Sequence[CanonicalMessage],
        platforms: dict[str, int],
        customers: dict[tuple[int, str], int],
    ) -> dict[tuple[int, str, str], int]:
        wanted: dict[tuple[object, ...], dict[str, object]] = {}
        names: dict[tuple[object, ...], str | None] = {}

        def want(platform_id: int, external: str, role: str, name: str | None) -> None:
            key = (platform_id, external, role)
            customer = customers.get((platform_id, external)) if role == "customer" else None
            wanted.setdefault(
                key,
                {
                    "platform_id": platform_id,
                    "external_id": external,
                    "role": role,
                    "customer_id": customer,
                },
            )
            names[key] = names.get(key) or name

        for r in records:
            platform_id = platforms[r.platform]
            if r.sender_id:
                want(platform_id, r.sender_id, r.sender_role.value, r.sender_name)
            if r.agent_id:
                agent_name = r.agent_name
                if r.sender_role is SenderRole.AGENT and r.sender_id == r.agent_id:
                    agent_name = agent_name or r.sender_name
                want(platform_id, r.agent_id, SenderRole.AGENT.value, agent_name)
        found = resolve_keys(
            self.connection, tables.participants, ("platform_id", "external_id", "role"), wanted
        )
        fill_missing_names(
            self.connection, tables.participants, {found[k]: v for k, v in names.items()}
        )
        return {(int(k[0]), str(k[1]), str(k[2])): v for k, v in found.items()}  # type: ignore[call-overload]

    def _conversations(
        self,
        records: Sequence[CanonicalMessage],
        platforms: dict[str, int],
        departments: dict[str, int],
        services: dict[str, int],
        customers: dict[tuple[int, str], int],
        tag_ids: dict[int, tuple[int, ...]],
    ) -> dict[tuple[int, str], _Conversation]:
        c = tables.conversations
        seen: dict[tuple[int, str], list[CanonicalMessage]] = {}
        for r in records:
            seen.setdefault((platforms[r.platform], r.conversation_id), []).append(r)
        stored = self._stored_conversations(list(seen))
        unseen = {row["customer_id"] for row in stored.values()} - set(tag_ids) - {None}
        for customer, tags in self._tags_of(unseen).items():
            tag_ids[customer] = self._indexed_tags[customer] = tuple(sorted(tags))
        now = int(time.time() * 1000)
        result: dict[tuple[int, str], _Conversation] = {}
        new_rows = []
        for key, batch in seen.items():
            first = {
                "department_id": next(
                    (departments[r.department] for r in batch if r.department), None
                ),
                "customer_id": next(
                    (customers[(key[0], r.customer_id)] for r in batch if r.customer_id), None
                ),
                "service_type_id": next(
                    (services[r.service_type] for r in batch if r.service_type), None
                ),
            }
            times = [_ms(r) for r in batch]
            if key in stored:
                row = stored[key]
                values = {
                    name: row[name] if row[name] is not None else first[name] for name in first
                }
                old_meta = self._meta(key[0], row, tag_ids, old_tags=True)
                conv = _Conversation(
                    id=row["id"],
                    meta=self._meta(key[0], values, tag_ids),
                    started_at=min(row["started_at"], *times),
                    ended_at=max(row["ended_at"], *times),
                    count=row["message_count"] + len(batch),
                    new=False,
                )
                if conv.meta != old_meta:
                    conv.indexed_meta = old_meta
            else:
                new_rows.append(
                    {
                        "platform_id": key[0],
                        "external_id": key[1],
                        **first,
                        "started_at": min(times),
                        "ended_at": max(times),
                        "message_count": len(batch),
                        "state": "active",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                conv = _Conversation(
                    id=0,
                    meta=self._meta(key[0], first, tag_ids),
                    started_at=min(times),
                    ended_at=max(times),
                    count=len(batch),
                    new=True,
                )
            result[key] = conv
        if new_rows:
            self.connection.execute(c.insert(), new_rows)
            for key, row in self._stored_conversations([k for k in seen if result[k].new]).items():
                result[key].id = row["id"]
        return result

    def _stored_conversations(self, keys: list[tuple[int, str]]) -> dict[tuple[int, str], dict]:
        c = tables.conversations
        out: dict[tuple[int, str], dict] = {}
        for start in range(0, len(keys), _CHUNK):
            query = select(c).where(
                tuple_(c.c.platform_id, c.c.external_id).in_(keys[start : start + _CHUNK])
            )
            for row in self.connection.execute(query).mappings():
                out[(row["platform_id"], row["external_id"])] = dict(row)
        return out

    def _meta(
        self,
        platform_id: int,
        values: dict,
        tag_ids: dict[int, tuple[int, ...]],
        *,
        old_tags: bool = False,
    ) -> ConversationMeta:
        customer = values.get("customer_id")
        if customer is None:
            tags: tuple[int, ...] = ()
        elif old_tags:
            tags = self._indexed_tags.get(customer, ())
        else:
            tags = tag_ids.get(customer, ())
        return ConversationMeta(
            platform_id, values.get("department_id"), customer, values.get("service_type_id"), tags
        )

    def _assign_ids(
        self, records: Sequence[CanonicalMessage], platforms: dict[str, int]
    ) -> list[int]:
        """Time-ordered ids (see ``chatkeeper.store.ids``), unique against the table."""
        candidates = [ids.first_candidate(_ms(r), r.platform, r.message_id) for r in records]
        checked = set(candidates)
        taken = {
            row[0]
            for row in select_in(
                self.connection, "SELECT id FROM messages WHERE id IN ({params})", candidates
            )
        }
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
        m = tables.messages
        query = select(m.c.id).where(m.c.id == message_id)
        return self.connection.execute(query).first() is not None

    def _link_recalls(
        self,
        records: Sequence[CanonicalMessage],
        rows: list[dict[str, Any]],
        platforms: dict[str, int],
    ) -> None:
        """Mark the batch's messages that a recall (stored or in this batch) withdrew."""
        r = tables.recall_events
        m = tables.messages
        recalled: dict[tuple[int, str], int] = {}
        for record, row in zip(records, rows, strict=True):
            if record.kind is RecordKind.RECALL and record.ref_message_id:
                key = (platforms[record.platform], record.ref_message_id)
                recalled[key] = min(recalled.get(key, row["sent_at"]), row["sent_at"])
        keys = [(row["platform_id"], row["external_id"]) for row in rows]
        if not self._has_recalls({key[0] for key in keys}):
            keys = []
        for start in range(0, len(keys), _CHUNK):
            query = (
                select(r.c.platform_id, r.c.target_external_id, m.c.sent_at)
                .join(m, m.c.id == r.c.message_id)
                .where(
                    tuple_(r.c.platform_id, r.c.target_external_id).in_(
                        keys[start : start + _CHUNK]
                    )
                )
            )
            for platform_id, target, sent_at in self.connection.execute(query):
                key = (platform_id, target)
                recalled[key] = min(recalled.get(key, sent_at), sent_at)
        for row in rows:
            at = recalled.pop((row["platform_id"], row["external_id"]), None)
            if at is not None:
                row["recalled_at"] = at
        # What is left names messages stored by earlier batches (or not yet seen at all).
        for (platform_id, target), at in recalled.items():
            self.connection.execute(
                update(m)
                .where(
                    m.c.platform_id == platform_id,
                    m.c.external_id == target,
                    m.c.recalled_at.is_(None),
                )
                .values(recalled_at=at)
            )

    def _has_recalls(self, platform_ids: set[int]) -> bool:
        """Whether any recall is stored for these platforms (most sources send none)."""
        r = tables.recall_events
        query = select(r.c.message_id).where(r.c.platform_id.in_(sorted(platform_ids))).limit(1)
        return self.connection.execute(query).first() is not None

    def _write_events(
        self,
        records: Sequence[CanonicalMessage],
        rows: list[dict[str, Any]],
        platforms: dict[str, int],
    ) -> None:
        recalls, consents = [], []
        for record, row in zip(records, rows, strict=True):
            if record.kind is RecordKind.RECALL and record.ref_message_id:
                recalls.append(
                    {
                        "message_id": row["id"],
                        "platform_id": row["platform_id"],
                        "target_external_id": record.ref_message_id,
                    }
                )
            elif record.kind is RecordKind.CONSENT:
                consents.append(
                    {
                        "message_id": row["id"],
                        "conversation_id": row["conversation_id"],
                        "participant_id": row["sender_id"],
                        "decision": record.consent or record.msgtype,
                        "decided_at": row["sent_at"],
                    }
                )
        if recalls:
            self.connection.execute(tables.recall_events.insert(), recalls)
        if consents:
            self.connection.execute(tables.consent_records.insert(), consents)

    def _save_conversations(self, conversations: dict[tuple[int, str], _Conversation]) -> None:
        """Update the batch's stored conversations, link agents, re-index what changed."""
        c = tables.conversations
        now = int(time.time() * 1000)
        updates = [
            {
                "b_id": conv.id,
                "b_department": conv.meta.department_id,
                "b_customer": conv.meta.customer_id,
                "b_service": conv.meta.service_type_id,
                "b_started": conv.started_at,
                "b_ended": conv.ended_at,
                "b_count": conv.count,
                "b_now": now,
            }
            for conv in conversations.values()
            if not conv.new
        ]
        if updates:
            self.connection.execute(
                update(c)
                .where(c.c.id == bindparam("b_id"))
                .values(
                    department_id=bindparam("b_department"),
                    customer_id=bindparam("b_customer"),
                    service_type_id=bindparam("b_service"),
                    started_at=bindparam("b_started"),
                    ended_at=bindparam("b_ended"),
                    message_count=bindparam("b_count"),
                    updated_at=bindparam("b_now"),
                ),
                updates,
            )
        self._link_agents(conversations)
        for conv in conversations.values():
            if conv.indexed_meta is not None:
                self._reindex(conv)

    def _link_agents(self, conversations: dict[tuple[int, str], _Conversation]) -> None:
        ca = tables.conversation_agents
        pairs = {(conv.id, agent) for conv in conversations.values() for agent in conv.agents}
        if not pairs:
            return
        existing: set[tuple[int, int]] = set()
        ordered = sorted(pairs)
        for start in range(0, len(ordered), _CHUNK):
            query = select(ca.c.conversation_id, ca.c.participant_id).where(
                tuple_(ca.c.conversation_id, ca.c.participant_id).in_(
                    ordered[start : start + _CHUNK]
                )
            )
            existing.update((a, b) for a, b in self.connection.execute(query))
        missing = [
            {"conversation_id": a, "participant_id": b}
            for a, b in ordered
            if (a, b) not in existing
        ]
        if missing:
            self.connection.execute(ca.insert(), missing)

    def _reindex(self, conv: _Conversation) -> None:
        """Re-index the messages stored before this batch under the conversation's new values."""
        m = tables.messages
        assert conv.indexed_meta is not None
        query = select(m.c.id, m.c.text, m.c.sender_role, m.c.agent_id).where(
            m.c.conversation_id == conv.id
        )
        old, new = [], []
        for id_, body, role, agent in self.connection.execute(query):
            if id_ in self._batch_ids:
                continue
            old.append((id_, document(body, conv.indexed_meta, role, agent)))
            new.append((id_, document(body, conv.meta, role, agent)))
        self.index.remove(self.connection, old)
        self.index.add(self.connection, new)
