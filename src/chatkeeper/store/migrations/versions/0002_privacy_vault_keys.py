"""privacy: encrypted originals, the PII vault, data keys, audit events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Messages gain the encrypted original (``ciphertext``) and the id of the key it is under; the
``data_keys``, ``pii_vault`` and ``audit_events`` tables are created (see
``chatkeeper.store.tables`` for what each holds and why).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("ciphertext", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(length=64), nullable=True))
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_ref", sa.String(length=296), nullable=False),
        sa.Column("suite", sa.String(length=40), nullable=False),
        sa.Column("kek_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("destroyed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_data_keys")),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_data_keys_owner_kind_owner_ref"), "data_keys", ["owner_kind", "owner_ref"]
    )
    op.create_table(
        "pii_vault",
        sa.Column("id", _ROW_ID, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("pii_type", sa.String(length=32), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=True),
        sa.Column("span_end", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("blind_index", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_pii_vault_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_pii_vault_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_pii_vault_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pii_vault")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_pii_vault_blind_index"), "pii_vault", ["blind_index"])
    op.create_index(op.f("ix_pii_vault_message_id"), "pii_vault", ["message_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", _ROW_ID, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=256), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("pii_vault")
    op.drop_table("data_keys")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("key_id")
        batch.drop_column("ciphertext")
