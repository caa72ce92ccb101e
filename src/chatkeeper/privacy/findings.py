"""What a recognizer reports: a typed span of personal data, with its score and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PiiType(StrEnum):
    """The kinds of personal data ChatKeeper recognises (names are part of the product's API)."""

    CN_ID_CARD = "CN_ID_CARD"
    CN_MOBILE = "CN_MOBILE"
    CN_LANDLINE = "CN_LANDLINE"
    BANK_CARD = "BANK_CARD"
    EMAIL = "EMAIL"
    CN_USCC = "CN_USCC"
    CN_PASSPORT = "CN_PASSPORT"
    CN_HK_MACAO_PERMIT = "CN_HK_MACAO_PERMIT"
    CN_TW_PERMIT = "CN_TW_PERMIT"
    CN_LICENSE_PLATE = "CN_LICENSE_PLATE"
    IP_ADDRESS = "IP_ADDRESS"
    QQ_NUMBER = "QQ_NUMBER"
    WECHAT_ID = "WECHAT_ID"
    CN_ADDRESS = "CN_ADDRESS"
    PERSON_NAME = "PERSON_NAME"


class Reason(StrEnum):
    """Why a span was judged personal data."""

    CHECKSUM = "checksum"  # shape right and the check digit / algorithm validates
    CONTEXT = "context"  # shape right and a context word says what it is
    PATTERN = "pattern"  # shape and structure alone (e-mail, IP, plate)
    GAZETTEER = "gazetteer"  # matched the shipped tables (addresses, surnames)
    KNOWN_VALUE = "known_value"  # a value already known for this conversation's customer
    LOW_CONFIDENCE = "low_confidence"  # shape right, check digit wrong, next to a context word


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of personal data in a text: ``text[start:end]`` (Python ``str`` offsets)."""

    type: PiiType
    start: int
    end: int
    score: float
    reason: Reason

    def value(self, text: str) -> str:
        """The span's text (never log it)."""
        return text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class KnownValues:
    """Values already known for the customer of a conversation, found wherever they appear."""

    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    others: dict[PiiType, tuple[str, ...]] = field(default_factory=dict)
