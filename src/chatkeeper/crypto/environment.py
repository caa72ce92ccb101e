"""A KEK read from an environment variable holding standard base64 (containers, CI, systemd).

Format in docs/crypto.md ("Environment KEK"). The KEK id carries a check value of the key, so that
putting a new key into the same variable gives a new id, and keys wrapped under the old one are
refused as "wrapped under KEK …" instead of failing authentication without a reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping

from chatkeeper.crypto.errors import CryptoError, KekUnavailable
from chatkeeper.crypto.kek import SymmetricKek
from chatkeeper.crypto.suites import DEFAULT_SUITE

DEFAULT_VARIABLE = "CHATKEEPER_KEK"
_CHECK_LABEL = b"chatkeeper kek check"


def check_value(material: bytes) -> str:
    """8 hex digits identifying ``material``: HMAC-SHA-256 keyed by it, over a fixed label.

    A keyed one-way function of the KEK: it tells two keys apart and reveals nothing usable about
    either (32 bits of a PRF output; an attacker learns no more than by guessing the key).
    """
    return hmac.new(material, _CHECK_LABEL, hashlib.sha256).hexdigest()[:8]


class EnvironmentKek(SymmetricKek):
    """A KEK whose base64 material is in the environment variable ``var``.

    ``environ`` defaults to ``os.environ``; pass a mapping to read from elsewhere (tests, a
    secrets file already parsed). The value is never included in an error message.
    """

    __slots__ = ("_var",)

    def __init__(
        self,
        var: str = DEFAULT_VARIABLE,
        *,
        suite: str = DEFAULT_SUITE,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._var = var
        value = (os.environ if environ is None else environ).get(var)
        if not value:
            raise KekUnavailable(f"environment variable {var} is not set", variable=var)
        try:
            material = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KekUnavailable(
                f"environment variable {var} is not standard base64", variable=var
            ) from None
        try:
            super().__init__(f"env:{var}:{check_value(material)}", suite, material)
        except CryptoError as exc:
            raise KekUnavailable(
                f"environment variable {var}: {exc.message}", variable=var
            ) from exc

    @property
    def var(self) -> str:
        """The environment variable the KEK was read from."""
        return self._var
