"""The tamper-evident ledger: an append-only Merkle log with signed checkpoints and proofs.

This package owns the formats (docs/ledger.md): the message and audit-event leaves, RFC 6962 /
RFC 9162 hashing (SHA-256 by default, SM3 selectable), the complete-subtree storage layout, C2SP
signed-note checkpoints with Ed25519, and the JSON proof files a third party checks offline. It is
pure: it reads and writes tree nodes only through the ``NodeStore`` port.

It leaves to callers: the transaction (nodes are written in the same one as the rows they commit
to), the log's size and descriptor, where the content salt is kept (encrypted under the
conversation's data key, so that a purge makes the leaf reveal nothing), when to sign a
checkpoint, where the signing key lives, and when to publish one to an external anchor (the
anchor plug-ins themselves are here: ``anchor.py``, ``rfc3161.py`` with ``timestamp.py``; so is
``standalone.py``, the self-contained evidence-bundle verifier).

Typical use::

    log = MerkleLog(store, SHA256, size=committed_size)
    leaf = MessageLeaf.commit(conversation_id=..., message_id=..., sent_at=..., sender_role=...,
                              key_id=..., ciphertext=blob, content=original, salt=salt)
    index = log.append_many([leaf.leaf_hash()])
    note = sign_checkpoint(Checkpoint.of(origin, log.size, log.root(), log.algorithm), key)
    checkpoint = verify_checkpoint(note, key.verifier.public_key, origin)
    verify_inclusion(leaf.leaf_hash(), index, log.size, log.inclusion_proof(index), log.root())
"""

from chatkeeper.ledger.checkpoint import (
    Checkpoint,
    parse_checkpoint,
    peek_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from chatkeeper.ledger.errors import LedgerError, ProofInvalid
from chatkeeper.ledger.evidence import ConsistencyEvidence, InclusionEvidence, LogDescriptor
from chatkeeper.ledger.hashing import HASH_ALGORITHMS, SHA256, HashAlgorithm, hash_algorithm
from chatkeeper.ledger.leaves import (
    AuditLeaf,
    MessageLeaf,
    content_commitment,
    decode_leaf,
    details_digest,
    new_salt,
)
from chatkeeper.ledger.log import MerkleLog
from chatkeeper.ledger.merkle import (
    CompactRange,
    Node,
    consistency_proof,
    inclusion_path,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from chatkeeper.ledger.note import (
    SigningKey,
    VerifierKey,
    generate_signing_key,
    key_id,
    parse_note,
    parse_signing_key,
    parse_verifier_key,
    sign_note,
    verify_note,
)
from chatkeeper.ledger.ranges import (
    InclusionPlan,
    consistency_node_ids,
    inclusion_node_ids,
    inclusion_plan,
)
from chatkeeper.ledger.store import MemoryNodeStore, NodeStore

__all__ = [
    "HASH_ALGORITHMS",
    "SHA256",
    "AuditLeaf",
    "Checkpoint",
    "CompactRange",
    "ConsistencyEvidence",
    "HashAlgorithm",
    "InclusionEvidence",
    "InclusionPlan",
    "LedgerError",
    "LogDescriptor",
    "MemoryNodeStore",
    "MerkleLog",
    "MessageLeaf",
    "Node",
    "NodeStore",
    "ProofInvalid",
    "SigningKey",
    "VerifierKey",
    "consistency_node_ids",
    "consistency_proof",
    "content_commitment",
    "decode_leaf",
    "details_digest",
    "generate_signing_key",
    "hash_algorithm",
    "inclusion_node_ids",
    "inclusion_path",
    "inclusion_plan",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "new_salt",
    "node_hash",
    "parse_checkpoint",
    "parse_note",
    "parse_signing_key",
    "parse_verifier_key",
    "peek_checkpoint",
    "root",
    "sign_checkpoint",
    "sign_note",
    "tree_root",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_note",
]
