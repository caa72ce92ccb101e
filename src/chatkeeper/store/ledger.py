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
    inclusion_path,
    inclusion_plan,
    sign_checkpoint,
)
from chatkeeper.ledger.ranges import NodeId
from chatkeeper.store.bulk import insert_many, select_in

MESSAGES_LOG, AUDIT_LOG = 1, 2
_POINTS = 400  # node look-ups per statement: 800 bound parameters, under every backend's limit
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
    """The ``NodeStore`` port on a connection, for one log.

    Proofs read their nodes in one round trip, through the driver directly (``fetch``), and keep
    the upper levels they read in memory for the life of this object: a complete subtree never
    changes, and the levels at and above ``CACHE_MIN_LEVEL`` are few (at most two per 256
    leaves) but shared by many proofs, so a bulk job (an evidence export, a run of proofs) reads
    them from the database once. The cache lives only as long as the store, which is made per
    transaction: it never outlives a rollback, and never serves what another transaction wrote.
    """

    CACHE_MIN_LEVEL = 8
    CACHE_MAX_NODES = 1 << 16  # 32-byte hashes: a few MB at most

    def __init__(self, connection: Connection, log_id: int) -> None:
        self.connection = connection
        self.log_id = int(log_id)
        self._mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self._upper: dict[NodeId, bytes] = {}
        self._statements: dict[int, str] = {}
        self.queried = 0
        """How many nodes were read from the database by ``fetch`` (the rest came from memory)."""

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
            [(self.log_id, *n) for n in nodes],  # a Node is (level, index, hash)
        )

    def fetch(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        """Many nodes in one query (a proof's nodes: see ``inclusion_node_ids``); nodes that are
        not stored are absent from the result.

        This is the hot path of proof generation, written for it: the three drivers return the
        columns as ``int`` and ``bytes`` already, so rows go into the result unconverted.
        """
        wanted = list(ids)
        upper = self._upper
        if upper:
            found = {node: upper[node] for node in wanted if node in upper}
            missing = [node for node in wanted if node not in found]
        else:
            found, missing = {}, wanted
        if not missing:
            return found
        self.queried += len(missing)
        cursor = self.connection.connection.cursor()
        try:
            for start in range(0, len(missing), _POINTS):  # a proof has ≤ 128: one statement
                part = missing[start : start + _POINTS]
                cursor.execute(self._statement(len(part)), [v for node in part for v in node])
                for level, idx, value in cursor.fetchall():
                    found[level, idx] = value
        finally:
            cursor.close()
        if len(upper) < self.CACHE_MAX_NODES:
            floor = self.CACHE_MIN_LEVEL
            upper.update({node: value for node, value in found.items() if node[0] >= floor})
        return found

    def _statement(self, count: int) -> str:
        """One primary-key point look-up per node, in one round trip: an ``OR`` of pairs or a
        row-value ``IN`` makes SQLite scan the table, a ``UNION ALL`` of points never does. The
        text depends only on the count, so the driver's statement cache keeps it prepared."""
        statement = self._statements.get(count)
        if statement is None:
            m = self._mark
            point = (
                f"SELECT level, idx, hash FROM ledger_nodes "
                f"WHERE log_id = {self.log_id} AND level = {m} AND idx = {m}"
            )
            statement = self._statements[count] = " UNION ALL ".join([point] * count)
        return statement

    def inclusion_proof(self, index: int, size: int, algorithm: HashAlgorithm) -> list[bytes]:
        """A leaf's inclusion proof with every node it needs read in one query (or from memory)."""
        plan = inclusion_plan(index, size)
        return inclusion_path(plan, self.fetch(plan.node_ids()), algorithm)

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
