"""recycle bin and purge: bin entries, deletion certificates, purged ledger leaves

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

See ``chatkeeper.store.tables`` (recycle bin and purge) and docs/lifecycle.md ("The recycle bin
and purge"). No data moves: no conversation is in the bin before this revision.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
# A certificate lists every conversation and leaf range it covers: beyond MySQL's 64 KiB TEXT.
_LONG = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "recycle_bin",
        sa.Column("conversation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("binned_at", sa.BigInteger(), nullable=False),
        sa.Column("binned_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("previous_state", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_recycle_bin_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_recycle_bin")),
        **_MYSQL,
    )
    op.create_index(op.f("ix_recycle_bin_binned_at"), "recycle_bin", ["binned_at"])
    op.create_table(
        "deletion_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("conversations", sa.Integer(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("document", _LONG, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=200), nullable=False),
        sa.Column("html", _LONG, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_certificates")),
        **_MYSQL,
    )
    op.create_table(
        "purged_leaves",
        sa.Column("log_id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("ledger_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["deletion_certificates.id"],
            name=op.f("fk_purged_leaves_certificate_id_deletion_certificates"),
        ),
        sa.PrimaryKeyConstraint("log_id", "ledger_index", name=op.f("pk_purged_leaves")),
        **_MYSQL,
    )


def downgrade() -> None:
    for table in ("purged_leaves", "deletion_certificates", "recycle_bin"):
        op.drop_table(table)
