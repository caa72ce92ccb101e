"""Password and API-token hashing: Argon2id for passwords, SHA-256 for random tokens.

A token is 32 random bytes (so a fast hash is enough: nothing to guess); a password is chosen
by a person (so it gets a slow, memory-hard hash).
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from chatkeeper.governance.errors import GovernanceError

_HASHER = PasswordHasher()  # Argon2id, RFC 9106 low-memory profile defaults
MIN_PASSWORD = 8
TOKEN_PREFIX = "ckt_"


def check_new_password(password: str, source: str = "password") -> None:
    """Refuse a password too short to set, naming where it came from."""
    if len(password) < MIN_PASSWORD:
        raise GovernanceError(
            f"{source} is too short: a password needs at least {MIN_PASSWORD} characters",
            field=source,
        )


def hash_password(password: str) -> str:
    """The Argon2id hash of a password (which must be at least 8 characters)."""
    check_new_password(password)
    return _HASHER.hash(password)


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A generated password (for the first admin when none is given)."""
    return secrets.token_urlsafe(18)


def new_token() -> tuple[str, bytes]:
    """A new API token and the hash to store."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> bytes:
    """What is stored of a token."""
    return hashlib.sha256(token.encode()).digest()
