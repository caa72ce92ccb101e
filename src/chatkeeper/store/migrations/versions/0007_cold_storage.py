"""cold storage: dictionaries, segments, blocks, cold message ids; message foreign keys dropped

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

See ``chatkeeper.store.tables`` (cold storage) and docs/lifecycle.md ("Hot and cold"). A cold
message leaves ``messages``, so the foreign keys from the vault, risk marks, recalls and
consents to ``messages.id`` go: the message id stays the message's identity in either place.
No data moves in this revision; the daily job moves conversations.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
_BLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
_MESSAGE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# (table, foreign key) pairs that pointed at messages.id.
_MESSAGE_KEYS = (
    ("consent_records", "fk_consent_records_message_id_messages"),
    ("recall_events", "fk_recall_events_message_id_messages"),
    ("pii_vault", "fk_pii_vault_message_id_messages"),
    ("message_risks", "fk_message_risks_message_id_messages"),
)


def upgrade() -> None:
    for table, key in _MESSAGE_KEYS:
        # SQLite cannot drop a constraint: batch mode copies the table without it.
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(key, type_="foreignkey")
    op.create_table(
        "cold_dictionaries",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", _BLOB, nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cold_dictionaries")),
        **_MYSQL,
    )
    op.create_table(
        "cold_segments",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("dictionary_id", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cold_segments")),
        **_MYSQL,
    )
    op.create_table(
        "cold_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.String(length=128), nullable=False),
        sa.Column("byte_offset", sa.BigInteger(), nullable=False),
        sa.Column("byte_length", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("first_message_id", sa.BigInteger(), nullable=False),
        sa.Column("last_message_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_cold_blocks_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["cold_segments.id"],
            name=op.f("fk_cold_blocks_segment_id_cold_segments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cold_blocks")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_cold_blocks_conversation_id"), "cold_blocks", ["conversation_id"])
    op.create_index(op.f("ix_cold_blocks_segment_id"), "cold_blocks", ["segment_id"])
    op.create_table(
        "cold_messages",
        sa.Column("id", _MESSAGE_ID, autoincrement=False, nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("ext_hash", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cold_messages")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_cold_messages_ext_hash"), "cold_messages", ["ext_hash"])


def downgrade() -> None:
    for table in ("cold_messages", "cold_blocks", "cold_segments", "cold_dictionaries"):
        op.drop_table(table)
    for table, key in _MESSAGE_KEYS:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(key, "messages", ["message_id"], ["id"])
