"""retention and holds: policy versions, each conversation's deadline, legal holds

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

See ``chatkeeper.store.tables`` (lifecycle section) and docs/lifecycle.md ("Retention and holds
in the archive"). No data moves: version 1 of the policy (the shipped defaults) is stored the
first time a change or a deadline needs it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_retention_policies")),
        **_MYSQL,
    )
    op.create_table(
        "conversation_retention",
        sa.Column("conversation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=True),
        sa.Column("rule", sa.String(length=200), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("floor", sa.Text(), nullable=True),
        sa.Column("computed_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_retention_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_retention")),
        **_MYSQL,
    )
    op.create_index(
        op.f("ix_conversation_retention_deadline"), "conversation_retention", ["deadline"]
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("released_at", sa.BigInteger(), nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.Column("release_approval_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
        sa.UniqueConstraint("name", name=op.f("uq_legal_holds_name")),
        **_MYSQL,
    )


def downgrade() -> None:
    for table in ("legal_holds", "conversation_retention", "retention_policies"):
        op.drop_table(table)
