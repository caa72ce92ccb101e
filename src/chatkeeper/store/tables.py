"""The relational schema, as SQLAlchemy Core tables (the same on SQLite, PostgreSQL, MySQL).

Times are integers: milliseconds since the Unix epoch, UTC (plus the sender's UTC offset in
minutes where the source gave one), because every backend compares and indexes integers the
same way. Message ids are time-ordered (see ``chatkeeper.store.ids``) so that a date range is an
id range in the message table and in every search index.

The full-text index tables are not here: each backend creates its own in the migration.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.mysql import LONGBLOB, LONGTEXT

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Identifiers from platforms compare byte for byte (MySQL's default collation would fold case).
_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
# On SQLite only "INTEGER PRIMARY KEY" makes the column the rowid itself (no second index).
MESSAGE_ID = BigInteger().with_variant(Integer(), "sqlite")
ID = 128
NAME = 200

platforms = Table(
    "platforms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    **_MYSQL,
)

departments = Table(
    "departments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(NAME), nullable=False, unique=True),
    **_MYSQL,
)

service_types = Table(
    "service_types",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("label_zh", String(NAME)),
    Column("label_en", String(NAME)),
    **_MYSQL,
)

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    **_MYSQL,
)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform_id", Integer, ForeignKey("platforms.id"), nullable=False),
    Column("external_id", String(ID), nullable=False),
    Column("name", String(NAME)),
    UniqueConstraint("platform_id", "external_id"),
    **_MYSQL,
)

customer_tags = Table(
    "customer_tags",
    metadata,
    Column("customer_id", Integer, ForeignKey("customers.id"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tags.id"), primary_key=True),
    **_MYSQL,
)

participants = Table(
    "participants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform_id", Integer, ForeignKey("platforms.id"), nullable=False),
    Column("external_id", String(ID), nullable=False),
    Column("role", String(16), nullable=False),
    Column("name", String(NAME)),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    UniqueConstraint("platform_id", "external_id", "role"),
    **_MYSQL,
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("platform_id", Integer, ForeignKey("platforms.id"), nullable=False),
    Column("external_id", String(ID), nullable=False),
    Column("department_id", Integer, ForeignKey("departments.id")),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("service_type_id", Integer, ForeignKey("service_types.id")),
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=False),
    Column("message_count", Integer, nullable=False, default=0),
    Column("state", String(16), nullable=False, default="active"),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("platform_id", "external_id"),
    Index(None, "department_id", "ended_at"),
    Index(None, "customer_id"),
    **_MYSQL,
)

conversation_agents = Table(
    "conversation_agents",
    metadata,
    Column("conversation_id", Integer, ForeignKey("conversations.id"), primary_key=True),
    Column("participant_id", Integer, ForeignKey("participants.id"), primary_key=True),
    **_MYSQL,
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("format", String(32), nullable=False),
    Column("files", Text, nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("status", String(16), nullable=False),
    Column("ingested", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("rejects_file", Text),
    Column("actor", String(NAME), nullable=False),
    **_MYSQL,
)

# One row per stored source record: said messages, recall events and consent records alike.
# ``id`` is time-ordered and assigned by ChatKeeper, never by the database.
messages = Table(
    "messages",
    metadata,
    Column("id", MESSAGE_ID, primary_key=True, autoincrement=False),
    Column("conversation_id", Integer, ForeignKey("conversations.id"), nullable=False),
    Column("platform_id", SmallInteger, nullable=False),
    Column("external_id", String(ID), nullable=False),
    Column("sent_at", BigInteger, nullable=False),
    Column("utc_offset", SmallInteger, nullable=False),
    Column("sender_role", String(8), nullable=False),
    Column("sender_id", Integer),
    Column("agent_id", Integer),
    Column("msgtype", String(32), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("text", Text),
    Column("recalled_at", BigInteger),
    Column("payload", Text),
    Column("raw", Text),
    Column("ingest_run_id", Integer),
    # The original text, raw record and payload, encrypted under the conversation's data key;
    # ``text`` above holds the masked form only (migration 0002).
    Column("ciphertext", LargeBinary),
    Column("key_id", String(64)),
    # The message's leaf in ledger log 1 (migration 0003).
    Column("ledger_index", BigInteger),
    UniqueConstraint("platform_id", "external_id"),
    Index(None, "conversation_id", "id"),
    **_MYSQL,
)

consent_records = Table(
    "consent_records",
    metadata,
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("conversation_id", Integer, ForeignKey("conversations.id"), nullable=False),
    Column("participant_id", Integer, ForeignKey("participants.id")),
    Column("decision", String(16), nullable=False),
    Column("decided_at", BigInteger, nullable=False),
    **_MYSQL,
)

# A recall names the message it withdraws by the platform's id; the target may arrive before or
# after the recall (in another file, or out of order), so the link is kept by external id.
recall_events = Table(
    "recall_events",
    metadata,
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("platform_id", SmallInteger, nullable=False),
    Column("target_external_id", String(ID), nullable=False),
    Index(None, "platform_id", "target_external_id"),
    **_MYSQL,
)

# -- privacy and keys (migration 0002) ---------------------------------------------------

# Data keys, each wrapped by the key-encryption key (KEK) named in ``kek_id``. The unit of
# deletion owns a key: a conversation (retention, purge) or a customer (erasure of a person).
# Destroying a key clears ``wrapped`` and sets ``destroyed_at``: every ciphertext under it, in
# every copy and backup, is unreadable from then on (crypto-shredding).
data_keys = Table(
    "data_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("owner_kind", String(16), nullable=False),
    Column("owner_ref", String(2 * ID + 40), nullable=False),
    Column("suite", String(40), nullable=False),
    Column("kek_id", String(64), nullable=False),
    Column("wrapped", LargeBinary),
    Column("created_at", BigInteger, nullable=False),
    Column("destroyed_at", BigInteger),
    Index(None, "owner_kind", "owner_ref"),
    **_MYSQL,
)

# Each detected personal value, encrypted apart from the message (PIPL art. 28-29, 51; GB/T
# 35273 §6.2), with a keyed HMAC "blind index" of its canonical form for exact look-up.
pii_vault = Table(
    "pii_vault",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("message_id", BigInteger),
    Column("conversation_id", Integer, ForeignKey("conversations.id")),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("pii_type", String(32), nullable=False),
    Column("span_start", Integer),
    Column("span_end", Integer),
    Column("key_id", String(64), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("blind_index", LargeBinary(16), nullable=False),
    Index(None, "blind_index"),
    Index(None, "message_id"),
    **_MYSQL,
)

# Who did what to what, when, from where, with what result (the ledger issue makes it
# tamper-evident); never chat text or personal data.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(NAME), nullable=False),
    Column("roles", String(NAME), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_kind", String(32)),
    Column("target_id", String(2 * ID)),
    Column("source", String(16), nullable=False),
    Column("address", String(64)),
    Column("reason", Text),
    Column("result", String(16), nullable=False),
    Column("details", Text),
    # The event's leaf in ledger log 2 (migration 0003).
    Column("ledger_index", BigInteger),
    # The approval request the operation ran under (migration 0004).
    Column("approval_id", Integer),
    Index(None, "at"),
    **_MYSQL,
)

# -- the ledger (migration 0003) -----------------------------------------------------------

# One row per log (1: messages, 2: audit events): its hash algorithm and committed size and root.
# The size only moves forward, by a compare-and-swap on the old size, so two writers can never
# fork the log.
ledger_logs = Table(
    "ledger_logs",
    metadata,
    Column("log_id", SmallInteger, primary_key=True, autoincrement=False),
    Column("origin", String(NAME), nullable=False),
    Column("algorithm", String(16), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    **_MYSQL,
)

# The hash of every complete subtree, keyed (level, index); level 0 holds the leaf hashes.
ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("log_id", SmallInteger, primary_key=True, autoincrement=False),
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    sqlite_with_rowid=False,
    **_MYSQL,
)

# Checkpoints published to an external anchor, with the anchor's receipt.
ledger_anchors = Table(
    "ledger_anchors",
    metadata,
    Column("log_id", SmallInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("anchor", String(NAME), primary_key=True),
    Column("receipt", Text, nullable=False),
    Column("anchored_at", BigInteger, nullable=False),
    **_MYSQL,
)

# Signed checkpoints (C2SP signed notes), one per committed size that was signed.
ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("log_id", SmallInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    **_MYSQL,
)

# -- governance (migration 0004) ------------------------------------------------------------

# One role per user; departments and linked platform agent ids scope what the role reaches.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(NAME), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(NAME), nullable=False),
    Column("disabled_at", BigInteger),
    **_MYSQL,
)

user_departments = Table(
    "user_departments",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("department_id", Integer, ForeignKey("departments.id"), primary_key=True),
    **_MYSQL,
)

# The platform agent ids a user answers as (any platform): an agent's "own" conversations.
user_agents = Table(
    "user_agents",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("agent_ref", String(ID), primary_key=True),
    **_MYSQL,
)

# API tokens: only the SHA-256 of each (random, 256-bit) token is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("revoked_at", BigInteger),
    **_MYSQL,
)

# A request to run one key operation with fixed parameters (their fingerprint is what is
# approved); it runs once, by its requester, before it expires.
approval_requests = Table(
    "approval_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("operation", String(64), nullable=False),
    Column("params", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("requester", String(NAME), nullable=False),
    Column("reason", Text),
    Column("state", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("executed_at", BigInteger),
    Index(None, "state", "created_at"),
    **_MYSQL,
)

approval_decisions = Table(
    "approval_decisions",
    metadata,
    Column("request_id", Integer, ForeignKey("approval_requests.id"), primary_key=True),
    Column("decider", String(NAME), primary_key=True),
    Column("decision", String(16), nullable=False),
    Column("comment", Text),
    Column("decided_at", BigInteger, nullable=False),
    **_MYSQL,
)

# A time-boxed widening of one user's scope: a department, or named conversations of it.
access_grants = Table(
    "access_grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("department_id", Integer, ForeignKey("departments.id"), nullable=False),
    Column("request_id", Integer, ForeignKey("approval_requests.id"), nullable=False),
    Column("whole_department", SmallInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
    Column("revoked_by", String(NAME)),
    Index(None, "user_id", "expires_at"),
    **_MYSQL,
)

access_grant_conversations = Table(
    "access_grant_conversations",
    metadata,
    Column("grant_id", Integer, ForeignKey("access_grants.id"), primary_key=True),
    Column("conversation_id", Integer, ForeignKey("conversations.id"), primary_key=True),
    **_MYSQL,
)

# The risk lexicon's marks: one row per message with a match (levels 1-3; terms are lexicon
# entries, never chat text).
message_risks = Table(
    "message_risks",
    metadata,
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("conversation_id", Integer, ForeignKey("conversations.id"), nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("categories", String(NAME), nullable=False),
    Column("terms", Text, nullable=False),
    Index(None, "conversation_id"),
    **_MYSQL,
)

conversation_class = Table(
    "conversation_class",
    metadata,
    Column("conversation_id", Integer, ForeignKey("conversations.id"), primary_key=True),
    # chatkeeper.classify.ConversationClass, so that a later batch resumes from it
    Column("service_type", String(64)),
    Column("rule", String(NAME)),
    Column("priority", Integer, nullable=False),
    Column("tags", Text),
    Column("override_source", SmallInteger, nullable=False),
    Column("source_service_type", String(64)),
    Column("risk_level", SmallInteger, nullable=False),
    Column("risk_terms", Text),
    Column("classified_at", BigInteger, nullable=False),
    Index(None, "risk_level"),
    **_MYSQL,
)

# Three-level review of a risky conversation: agent -> supervisor -> legal.
review_items = Table(
    "review_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", Integer, ForeignKey("conversations.id"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("risk_level", SmallInteger, nullable=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger),
    Column("outcome", String(16)),
    UniqueConstraint("conversation_id"),
    Index(None, "state", "due_at"),
    **_MYSQL,
)

review_steps = Table(
    "review_steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("review_items.id"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("actor", String(NAME), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("comment", Text),
    Column("at", BigInteger, nullable=False),
    Index(None, "item_id"),
    **_MYSQL,
)

# -- lifecycle: retention policy versions, each conversation's deadline, legal holds ----------

# Every stored version of the retention policy (version 1 = the shipped defaults, stored when a
# later version or a deadline first needs it); ``rules`` is JSON, ``content_hash`` what an
# approval of the change approved.
retention_policies = Table(
    "retention_policies",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("rules", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(NAME), nullable=False),
    Column("approval_id", Integer),
    Column("reason", Text),
    **_MYSQL,
)

# The deadline last computed for a conversation: NULL = kept permanently (or no rule matched:
# ``rule`` is then NULL too); ``floor`` is the citation of the floor that raised it, if any.
conversation_retention = Table(
    "conversation_retention",
    metadata,
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("deadline", BigInteger),
    Column("rule", String(NAME)),
    Column("policy_version", Integer, nullable=False),
    Column("floor", Text),
    Column("computed_at", BigInteger, nullable=False),
    Index(None, "deadline"),
    **_MYSQL,
)

# A legal hold: its criteria (JSON: customers, conversations, departments, service-date range,
# query) are evaluated when asked, so it covers conversations ingested after it was created.
legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(NAME), nullable=False, unique=True),
    Column("reason", Text, nullable=False),
    Column("criteria", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(NAME), nullable=False),
    Column("released_at", BigInteger),
    Column("released_by", String(NAME)),
    Column("release_reason", Text),
    Column("release_approval_id", Integer),
    **_MYSQL,
)

# -- recycle bin and purge (migration 0006) ---------------------------------------------------

# A conversation in the recycle bin (its state is then ``recycle_bin``): when it went in, who put
# it there and why, and the state a restore returns it to. The row goes on restore or purge.
recycle_bin = Table(
    "recycle_bin",
    metadata,
    Column(
        "conversation_id",
        Integer,
        ForeignKey("conversations.id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("binned_at", BigInteger, nullable=False),
    Column("binned_by", String(NAME), nullable=False),
    Column("reason", Text),
    Column("previous_state", String(16), nullable=False),
    Column("run_id", Integer),
    Index(None, "binned_at"),
    **_MYSQL,
)

# A certificate lists every conversation and leaf range it covers: beyond MySQL's 64 KiB TEXT.
_LONG_TEXT = Text().with_variant(LONGTEXT(), "mysql", "mariadb")

# One purge run's deletion certificate: ``document`` is the canonical JSON that was signed
# (docs/lifecycle.md "Deletion certificates"), ``digest`` its SHA-256 (hex, also in the
# ``conversation.purged`` audit event), ``signature`` the Ed25519 signature (base64) by the
# checkpoint-signing key ``key_id``; ``html`` the readable page.
deletion_certificates = Table(
    "deletion_certificates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Column("actor", String(NAME), nullable=False),
    Column("run_id", Integer),
    Column("conversations", Integer, nullable=False),
    Column("messages", BigInteger, nullable=False),
    Column("document", _LONG_TEXT, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("signature", String(NAME), nullable=False),
    Column("key_id", String(NAME), nullable=False),
    Column("html", _LONG_TEXT, nullable=False),
    **_MYSQL,
)

# The ledger leaves whose messages were purged, for look-up; ``ledger verify`` trusts a row only
# if a valid, audited certificate lists the same index.
purged_leaves = Table(
    "purged_leaves",
    metadata,
    Column("log_id", SmallInteger, primary_key=True, autoincrement=False),
    Column("ledger_index", BigInteger, primary_key=True, autoincrement=False),
    Column("certificate_id", Integer, ForeignKey("deletion_certificates.id"), nullable=False),
    **_MYSQL,
)

# -- cold storage (migration 0007) -----------------------------------------------------------
#
# A conversation in cold storage has no rows in ``messages``: its records are one *block* in a
# segment file of the blob store (``chatkeeper.lifecycle.segments``), compressed with the
# segment's dictionary and sealed under the conversation's data key. Rows that name a message by
# id (vault entries, risk marks, recalls, consents; migration 0007 dropped their foreign keys to
# ``messages``) and its index entries stay where they are; the ids do not change.

# The zstd dictionaries segments are compressed with (trained on masked records only).
cold_dictionaries = Table(
    "cold_dictionaries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary().with_variant(LONGBLOB(), "mysql", "mariadb"), nullable=False),
    Column("samples", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    **_MYSQL,
)

# Every segment file the blob store holds for this archive.
cold_segments = Table(
    "cold_segments",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("dictionary_id", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("blocks", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    **_MYSQL,
)

# One conversation's block in a segment: where it is, its SHA-256, the message ids it holds.
# ``state`` is ``live``, or ``thawed`` once the conversation went back to the hot tables (the
# block is dead but stays in its file until a purge of the conversation rewrites the segment).
cold_blocks = Table(
    "cold_blocks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", Integer, ForeignKey("conversations.id"), nullable=False),
    Column("segment_id", String(ID), ForeignKey("cold_segments.id"), nullable=False),
    Column("byte_offset", BigInteger, nullable=False),
    Column("byte_length", BigInteger, nullable=False),
    Column("records", Integer, nullable=False),
    Column("sha256", LargeBinary(32), nullable=False),
    Column("first_message_id", BigInteger, nullable=False),
    Column("last_message_id", BigInteger, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("state", String(8), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "conversation_id"),
    Index(None, "segment_id"),
    **_MYSQL,
)

# Each cold message's block, and a 31-bit hash of ``(platform id, external id)`` for look-ups
# by the platform's message id (duplicates at ingest, ``unmask``): the whole per-message cost
# of a cold message in the database.
cold_messages = Table(
    "cold_messages",
    metadata,
    Column("id", MESSAGE_ID, primary_key=True, autoincrement=False),
    Column("block_id", Integer, nullable=False),
    Column("ext_hash", BigInteger, nullable=False),
    Index(None, "ext_hash"),
    **_MYSQL,
)
