"""The errors ``chatkeeper.ledger`` raises.

The tree::

    LedgerError                   ledger_failed
    ├── HashAlgorithmUnknown      hash_algorithm_unknown: names the valid algorithms
    ├── HashAlgorithmUnavailable  hash_algorithm_unavailable: known, but not in this OpenSSL
    ├── TreeRangeError            ledger_range_invalid: index or sizes outside the tree, bad length
    ├── NodeMissing               ledger_node_missing: the store lacks a node a proof needs
    ├── NodeConflict              ledger_node_conflict: a write would change a stored node
    ├── ProofInvalid              proof_invalid: a proof does not verify (says why)
    ├── LeafMalformed             leaf_malformed: leaf fields out of range, or bytes not a leaf
    ├── EvidenceMalformed         evidence_malformed: a proof file is not in the format
    ├── NoteKeyInvalid            note_key_invalid: a signing or verifier key string is malformed
    ├── AnchorError               ledger_failed: publishing to an external anchor failed
    │   ├── AnchorUnavailable     ledger_failed: the anchor cannot be reached (names the URL/path)
    │   └── AnchorRefused         ledger_failed: the anchor answered, but refused the checkpoint
    ├── AnchorReceiptInvalid      proof_invalid: a receipt does not attest the checkpoint (says why)
    └── CheckpointError           (base of the signed-note and checkpoint failures)
        ├── CheckpointMalformed   checkpoint_malformed: names the line
        ├── CheckpointUnsigned    checkpoint_unsigned: no signature by the expected key
        ├── SignatureInvalid      checkpoint_signature_invalid: the expected key's signature fails
        └── OriginMismatch        checkpoint_origin_mismatch: a checkpoint of another log

Each code is a member of ``chatkeeper.errors.ErrorCode``. The anchor errors reuse the ledger's
base code and ``proof_invalid`` until ``ErrorCode`` gains codes of their own.
Messages name sizes, indexes, key names and line numbers; never leaf contents.
"""

from __future__ import annotations

from chatkeeper.errors import ChatKeeperError, ErrorCode


class LedgerError(ChatKeeperError):
    """Base of every ledger error."""

    code, http_status, exit_code = ErrorCode.LEDGER_FAILED, 500, 70


class HashAlgorithmUnknown(LedgerError):
    """A hash algorithm name is not one the ledger knows; the message names the valid ones."""

    code, http_status, exit_code = ErrorCode.HASH_ALGORITHM_UNKNOWN, 500, 78


class HashAlgorithmUnavailable(LedgerError):
    """The hash algorithm is known, but this Python's OpenSSL does not offer it."""

    code, http_status, exit_code = ErrorCode.HASH_ALGORITHM_UNAVAILABLE, 500, 69


class TreeRangeError(LedgerError):
    """A proof was asked for an index or sizes outside the tree, or a hash has the wrong length."""

    code, http_status, exit_code = ErrorCode.LEDGER_RANGE_INVALID, 400, 64


class NodeMissing(LedgerError):
    """The node store lacks a node that a proof or the frontier needs."""

    code, http_status, exit_code = ErrorCode.LEDGER_NODE_MISSING, 500, 65


class NodeConflict(LedgerError):
    """A write would change a node that is already stored; stored nodes never change."""

    code, http_status, exit_code = ErrorCode.LEDGER_NODE_CONFLICT, 500, 65


class ProofInvalid(LedgerError):
    """An inclusion or consistency proof does not verify; the message says why."""

    code, http_status, exit_code = ErrorCode.PROOF_INVALID, 422, 65


class LeafMalformed(LedgerError):
    """Leaf fields are out of range for the format, or bytes are not a leaf in the format."""

    code, http_status, exit_code = ErrorCode.LEAF_MALFORMED, 400, 65


class EvidenceMalformed(LedgerError):
    """An evidence (proof) file is not in the documented JSON format."""

    code, http_status, exit_code = ErrorCode.EVIDENCE_MALFORMED, 400, 65


class NoteKeyInvalid(LedgerError):
    """A signing or verifier key string is malformed, or its key ID does not match the key."""

    code, http_status, exit_code = ErrorCode.NOTE_KEY_INVALID, 500, 78


class AnchorError(LedgerError):
    """Publishing a checkpoint to an external anchor failed."""

    code, http_status, exit_code = ErrorCode.LEDGER_FAILED, 502, 69


class AnchorUnavailable(AnchorError):
    """The anchor cannot be reached, or answered with a transport error; the message names it."""


class AnchorRefused(AnchorError):
    """The anchor answered and refused to record the checkpoint (e.g. a TSA's ``rejection``)."""


class AnchorReceiptInvalid(LedgerError):
    """A receipt does not attest the checkpoint: wrong imprint, nonce or signature (says which)."""

    code, http_status, exit_code = ErrorCode.PROOF_INVALID, 422, 65


class CheckpointError(LedgerError):
    """Base of the signed-note and checkpoint failures."""

    code, http_status, exit_code = ErrorCode.CHECKPOINT_MALFORMED, 422, 65


class CheckpointMalformed(CheckpointError):
    """A signed note or checkpoint is not in the C2SP format; the message names the line."""

    code, http_status, exit_code = ErrorCode.CHECKPOINT_MALFORMED, 422, 65


class CheckpointUnsigned(CheckpointError):
    """The note carries no signature by the expected key (another key signed it, or none)."""

    code, http_status, exit_code = ErrorCode.CHECKPOINT_UNSIGNED, 422, 65


class SignatureInvalid(CheckpointError):
    """The expected key's signature does not verify: the signed text or signature was altered."""

    code, http_status, exit_code = ErrorCode.CHECKPOINT_SIGNATURE_INVALID, 422, 65


class OriginMismatch(CheckpointError):
    """A correctly signed checkpoint belongs to another log than the one expected."""

    code, http_status, exit_code = ErrorCode.CHECKPOINT_ORIGIN_MISMATCH, 422, 65
