"""The ledger's storage: nodes in ``ledger_nodes``, each log's committed size in ``ledger_logs``.

Appending happens on the connection, and inside the transaction, that stores the rows the
leaves commit to: a message is stored if and only if its leaf is. The committed size moves by a
compare-and-swap on the size the appender started from, so two writers can never fork a log —
the second one's transaction fails and is retried as a whole.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from chatkeeper.errors import ChatKeeperError, ErrorCode
from chatkeeper.ledger import (
    Checkpoint,
    HashAlgorithm,
    MerkleLog,
    MessageLeaf,
    Node,
    SigningKey,
    hash_algorithm,
    inclusion_node_ids,
    inclusion_proof,
    sign_checkpoint,
)
from chatkeeper.store.bulk import insert_many, select_in

MESSAGES_LOG, AUDIT_LOG = 1, 2
LOG_NAMES = {MESSAGES_LOG: "messages", AUDIT_LOG: "audit"}


@dataclass(frozen=True, slots=True)
class LedgerSigner:
    """The deployment's checkpoint-signing key and the name its logs go by."""

    key: SigningKey
    deployment: str

    def origin(self, log_id: int) -> str:
        """A log's origin line: unique to this deployment and log."""
        return f"chatkeeper.{self.deployment}/{LOG_NAMES[log_id]}"


def message_leaf(
    *,
    platform: str,
    conversation_id: str,
    message_id: str,
    sent_at_ms: int,
    sender_role: str,
    key_id: str,
    ciphertext: bytes,
    text: str | None,
    salt: bytes,
) -> MessageLeaf:
    """A stored message's leaf: the one definition sealing and verification both use.

    Ids are platform-qualified (they are unique only per platform); the content committed to is
    the original text.
    """
    return MessageLeaf.commit(
        conversation_id=f"{platform}:{conversation_id}",
        message_id=f"{platform}:{message_id}",
        sent_at=datetime.fromtimestamp(sent_at_ms / 1000, UTC),
        sender_role=sender_role,
        key_id=key_id,
        ciphertext=ciphertext,
        content=(text or "").encode(),
        salt=salt,
    )


class LedgerConflict(ChatKeeperError):
    """Another writer moved the log first; the transaction is rolled back and can be retried."""

    code, http_status, exit_code = ErrorCode.LEDGER_NODE_CONFLICT, 409, 75


class SqlNodeStore:
    """The ``NodeStore`` port on a connection, for one log."""

    def __init__(self, connection: Connection, log_id: int) -> None:
        self.connection = connection
        self.log_id = log_id
        self._mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"

    def get(self, level: int, index: int) -> bytes:
        """A stored node; ``KeyError`` if there is none (the ledger reports it as missing)."""
        m = self._mark
        row = self.connection.exec_driver_sql(
            f"SELECT hash FROM ledger_nodes WHERE log_id = {m} AND level = {m} AND idx = {m}",
            (self.log_id, level, index),
        ).first()
        if row is None:
            raise KeyError((level, index))
        return bytes(row[0])

    def put_many(self, nodes: Iterable[Node]) -> None:
        """Store new nodes (the primary key refuses a second value for a node)."""
        insert_many(
            self.connection,
            "ledger_nodes",
            ("log_id", "level", "idx", "hash"),
            [(self.log_id, n.level, n.index, n.hash) for n in nodes],
        )

    def fetch(self, ids: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Many nodes in one query (a proof's nodes: see ``inclusion_node_ids``)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        m = self._mark
        # One point look-up per node, by primary key, in one round trip (an OR of pairs would
        # make some planners scan).
        point = (
            f"SELECT level, idx, hash FROM ledger_nodes "
            f"WHERE log_id = {m} AND level = {m} AND idx = {m}"
        )
        rows = self.connection.exec_driver_sql(
            " UNION ALL ".join([point] * len(wanted)),
            tuple(value for node in wanted for value in (self.log_id, *node)),
        )
        return {(int(level), int(idx)): bytes(h) for level, idx, h in rows}

    def inclusion_proof(self, index: int, size: int, algorithm: HashAlgorithm) -> list[bytes]:
        """A leaf's inclusion proof with every node it needs read in one query."""
        nodes = self.fetch(inclusion_node_ids(index, size))

        def get(level: int, idx: int) -> bytes:
            return nodes[(level, idx)] if (level, idx) in nodes else self.get(level, idx)

        return inclusion_proof(index, size, get, algorithm)

    def leaf_hashes(self, indexes: list[int]) -> dict[int, bytes]:
        """Level-0 nodes by index."""
        rows = select_in(
            self.connection,
            "SELECT idx, hash FROM ledger_nodes WHERE log_id = {p} AND level = 0 "
            "AND idx IN ({params})",
            indexes,
            (self.log_id,),
        )
        return {int(i): bytes(h) for i, h in rows}


class LedgerWriter:
    """Appends to one log inside the caller's transaction, and signs checkpoints."""

    def __init__(
        self,
        connection: Connection,
        log_id: int,
        origin: str,
        algorithm: str = "sha256",
    ) -> None:
        self.connection = connection
        self.log_id = log_id
        self.store = SqlNodeStore(connection, log_id)
        self.size, self.algorithm = self._state(origin, algorithm)
        self.origin = origin

    def _state(self, origin: str, algorithm: str) -> tuple[int, HashAlgorithm]:
        m = self.store._mark
        row = self.connection.exec_driver_sql(
            f"SELECT size, algorithm FROM ledger_logs WHERE log_id = {m}", (self.log_id,)
        ).first()
        if row is not None:
            return int(row[0]), hash_algorithm(str(row[1]))
        alg = hash_algorithm(algorithm)
        insert_many(
            self.connection,
            "ledger_logs",
            ("log_id", "origin", "algorithm", "size", "root"),
            [(self.log_id, origin, alg.name, 0, alg.digest(b""))],
        )
        return 0, alg

    def append(self, leaf_hashes: list[bytes]) -> int:
        """Append; return the first new index. Fails with ``LedgerConflict`` on a race."""
        if not leaf_hashes:
            return self.size
        log = MerkleLog(self.store, self.algorithm, self.size)
        first = log.append_many(leaf_hashes)
        m = self.store._mark
        result = self.connection.exec_driver_sql(
            f"UPDATE ledger_logs SET size = {m}, root = {m} WHERE log_id = {m} AND size = {m}",
            (log.size, log.root(), self.log_id, self.size),
        )
        if result.rowcount != 1:
            raise LedgerConflict(f"the {LOG_NAMES[self.log_id]} log moved while appending")
        self.size = log.size
        self._root = log.root()
        return first

    def checkpoint(self, key: SigningKey) -> str:
        """Sign and store the checkpoint of the current size; returns the note."""
        root = MerkleLog(self.store, self.algorithm, self.size).root()
        note = sign_checkpoint(Checkpoint.of(self.origin, self.size, root, self.algorithm), key)
        existing = list(
            select_in(
                self.connection,
                "SELECT size FROM ledger_checkpoints WHERE log_id = {p} AND size IN ({params})",
                [self.size],
                (self.log_id,),
            )
        )
        if not existing:
            insert_many(
                self.connection,
                "ledger_checkpoints",
                ("log_id", "size", "root", "note", "created_at"),
                [(self.log_id, self.size, root, note, int(time.time() * 1000))],
            )
        return note
