"""ledger: the Merkle logs' nodes, state and signed checkpoints

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

See ``chatkeeper.store.tables`` (ledger section) and docs/ledger.md.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_MYSQL: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("ledger_index", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("ledger_index", sa.BigInteger(), nullable=True))
    op.create_table(
        "ledger_logs",
        sa.Column("log_id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("log_id", name=op.f("pk_ledger_logs")),
        **_MYSQL,
    )
    op.create_table(
        "ledger_nodes",
        sa.Column("log_id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "level", "idx", name=op.f("pk_ledger_nodes")),
        sqlite_with_rowid=False,  # the key is the row: no second copy of it as a rowid table
        **_MYSQL,
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("log_id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "size", name=op.f("pk_ledger_checkpoints")),
        **_MYSQL,
    )

    op.create_table(
        "ledger_anchors",
        sa.Column("log_id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("anchor", sa.String(length=200), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("anchored_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "size", "anchor", name=op.f("pk_ledger_anchors")),
        **_MYSQL,
    )


def downgrade() -> None:
    op.drop_table("ledger_anchors")
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_nodes")
    op.drop_table("ledger_logs")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("ledger_index")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("ledger_index")
