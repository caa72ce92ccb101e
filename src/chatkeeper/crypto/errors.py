"""The errors ``chatkeeper.crypto`` raises.

The tree::

    CryptoError             crypto_failed
    ├── CiphertextMalformed ciphertext_malformed: not our format, unknown version/suite, truncated
    ├── KeyMismatch         ciphertext_key_mismatch: needs another data key, suite or KEK
    ├── DecryptionFailed    decryption_failed: a tag did not verify (tampered, wrong key/context)
    ├── UnwrapFailed        key_unwrap_failed: a wrapped key did not authenticate, or KMS refused
    ├── UnknownSuite        suite_unknown: names the valid suites
    ├── InvalidKey          key_invalid: wrong length for the suite, or an invalid id
    ├── KeyFileError        key_file_invalid: missing, unreadable or malformed key file
    │   └── KeyFileInsecure key_file_insecure: group/others have access to the key file
    └── KekUnavailable      kek_unavailable: environment variable missing, KMS not registered

Messages name key ids, suites, files and environment variables; never key material, plaintext or
the caller's context bytes.
"""

from __future__ import annotations

from chatkeeper.errors import ChatKeeperError, ErrorCode


class CryptoError(ChatKeeperError):
    """Base of every encryption and key-management error."""

    code, http_status, exit_code = ErrorCode.CRYPTO_FAILED, 500, 70


class CiphertextMalformed(CryptoError):
    """A ciphertext blob or wrapped key is not in ChatKeeper's format (or is truncated)."""

    code, http_status, exit_code = ErrorCode.CIPHERTEXT_MALFORMED, 500, 65


class KeyMismatch(CryptoError):
    """The blob needs another data key or suite, or the wrapped key another KEK, than supplied."""

    code, http_status, exit_code = ErrorCode.CIPHERTEXT_KEY_MISMATCH, 500, 65


class DecryptionFailed(CryptoError):
    """Authentication failed: the ciphertext, its header or its context is not what was sealed."""

    code, http_status, exit_code = ErrorCode.DECRYPTION_FAILED, 500, 65


class UnwrapFailed(CryptoError):
    """A wrapped data key did not authenticate under the KEK, or the KMS refused to unwrap it."""

    code, http_status, exit_code = ErrorCode.KEY_UNWRAP_FAILED, 500, 65


class UnknownSuite(CryptoError):
    """A suite name or id is not one ChatKeeper knows; the message names the valid ones."""

    code, http_status, exit_code = ErrorCode.SUITE_UNKNOWN, 500, 78


class InvalidKey(CryptoError):
    """Key material has the wrong length for its suite, or a key id is not a valid id."""

    code, http_status, exit_code = ErrorCode.KEY_INVALID, 500, 78


class KeyFileError(CryptoError):
    """A KEK key file is missing, unreadable or not in the ``chatkeeper-kek`` format."""

    code, http_status, exit_code = ErrorCode.KEY_FILE_INVALID, 500, 78


class KeyFileInsecure(KeyFileError):
    """A KEK key file grants access to group or others; it must be mode 0600."""

    code, http_status, exit_code = ErrorCode.KEY_FILE_INSECURE, 500, 78


class KekUnavailable(CryptoError):
    """The KEK cannot be obtained: environment variable missing or invalid, KMS not registered."""

    code, http_status, exit_code = ErrorCode.KEK_UNAVAILABLE, 503, 69
