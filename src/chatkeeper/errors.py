"""Every error ChatKeeper raises on purpose.

The tree::

    ChatKeeperError                 root; code, http_status, exit_code
    ├── ConfigError                 a setting is missing or invalid (names the key)
    ├── StoreError                  the database or data folder
    │   ├── NotInitialised          no schema yet: run ``chatkeeper init``
    │   └── NotFound                a conversation or message does not exist
    ├── CryptoError                 (chatkeeper.crypto.errors) a ciphertext, key or key file
    ├── LedgerError                 (chatkeeper.ledger.errors) a proof, leaf, node or checkpoint
    ├── KeyDestroyed / KeyUnavailable  (chatkeeper.store.keys) a data key or the KEK
    ├── GovernanceError / AuthenticationFailed / PermissionDenied / ApprovalRequired /
    │   ApprovalInvalid  (chatkeeper.governance.errors) who may do what
    ├── IngestError                 a source file cannot be read at all
    │   └── RecordError             one record is bad (names file, line, field)
    └── SearchError
        └── QuerySyntaxError        the query cannot be parsed (names the position)

Messages never contain personal data: they name files, lines, fields and ids, not values.
Each code is a stable string so that the CLI, the API and the web console can translate it.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable machine-readable error codes."""

    INTERNAL = "internal"
    CONFIG_INVALID = "config_invalid"
    STORE_UNAVAILABLE = "store_unavailable"
    NOT_INITIALISED = "not_initialised"
    NOT_FOUND = "not_found"
    INGEST_FAILED = "ingest_failed"
    RECORD_INVALID = "record_invalid"
    QUERY_INVALID = "query_invalid"
    KEY_DESTROYED = "key_destroyed"
    KEY_UNAVAILABLE = "key_unavailable"
    CRYPTO_FAILED = "crypto_failed"
    CIPHERTEXT_MALFORMED = "ciphertext_malformed"
    CIPHERTEXT_KEY_MISMATCH = "ciphertext_key_mismatch"
    DECRYPTION_FAILED = "decryption_failed"
    KEY_UNWRAP_FAILED = "key_unwrap_failed"
    SUITE_UNKNOWN = "suite_unknown"
    KEY_INVALID = "key_invalid"
    KEY_FILE_INVALID = "key_file_invalid"
    KEY_FILE_INSECURE = "key_file_insecure"
    KEK_UNAVAILABLE = "kek_unavailable"
    LEDGER_FAILED = "ledger_failed"
    HASH_ALGORITHM_UNKNOWN = "hash_algorithm_unknown"
    HASH_ALGORITHM_UNAVAILABLE = "hash_algorithm_unavailable"
    LEDGER_RANGE_INVALID = "ledger_range_invalid"
    LEDGER_NODE_MISSING = "ledger_node_missing"
    LEDGER_NODE_CONFLICT = "ledger_node_conflict"
    PROOF_INVALID = "proof_invalid"
    LEAF_MALFORMED = "leaf_malformed"
    EVIDENCE_MALFORMED = "evidence_malformed"
    NOTE_KEY_INVALID = "note_key_invalid"
    CHECKPOINT_MALFORMED = "checkpoint_malformed"
    CHECKPOINT_UNSIGNED = "checkpoint_unsigned"
    CHECKPOINT_SIGNATURE_INVALID = "checkpoint_signature_invalid"
    CHECKPOINT_ORIGIN_MISMATCH = "checkpoint_origin_mismatch"
    GOVERNANCE_INVALID = "governance_invalid"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    APPROVAL_REQUIRED = "approval_required"
    APPROVAL_INVALID = "approval_invalid"
    SELF_APPROVAL = "self_approval"
    RETENTION_BELOW_FLOOR = "retention_below_floor"
    LEGAL_HOLD_ACTIVE = "legal_hold_active"


class ChatKeeperError(Exception):
    """Root of every error the project raises on purpose."""

    code: ErrorCode = ErrorCode.INTERNAL
    http_status = 500
    exit_code = 1

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, object]:
        """The error as the JSON envelope's ``error`` object."""
        return {"code": str(self.code), "message": self.message, "details": self.details}


class ConfigError(ChatKeeperError):
    """A setting is missing or invalid; the message names the key and the valid values."""

    code, http_status, exit_code = ErrorCode.CONFIG_INVALID, 500, 78


class StoreError(ChatKeeperError):
    """The database or the data folder cannot be used."""

    code, http_status, exit_code = ErrorCode.STORE_UNAVAILABLE, 503, 69


class NotInitialised(StoreError):
    """The database has no ChatKeeper schema yet."""

    code, http_status, exit_code = ErrorCode.NOT_INITIALISED, 503, 69


class NotFound(StoreError):
    """The conversation or message asked for does not exist."""

    code, http_status, exit_code = ErrorCode.NOT_FOUND, 404, 4


class IngestError(ChatKeeperError):
    """A source file cannot be read at all (missing, unreadable, wrong format)."""

    code, http_status, exit_code = ErrorCode.INGEST_FAILED, 400, 65


class RecordError(IngestError):
    """One source record is invalid: names the file, the line and the field."""

    code, http_status, exit_code = ErrorCode.RECORD_INVALID, 400, 65

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        where = f"field '{field}': " if field else ""
        super().__init__(f"{where}{reason}", field=field)
        self.field = field
        self.reason = reason


class SearchError(ChatKeeperError):
    """Search failed."""

    code, http_status, exit_code = ErrorCode.QUERY_INVALID, 400, 64


class QuerySyntaxError(SearchError):
    """The search query cannot be parsed."""

    code, http_status, exit_code = ErrorCode.QUERY_INVALID, 400, 64
