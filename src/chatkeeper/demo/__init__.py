"""Synthetic, deterministic demo data: realistic Chinese customer-service conversations.

This package owns the making of fake but realistic canonical records (e-commerce, finance and
telecom; consultation, after-sales, complaint, transaction and legal-dispute conversations) with
personal data that has valid check digits. It leaves ingesting, storing and detecting them to
the rest of ChatKeeper; it imports nothing of the project but :mod:`chatkeeper.domain`.
"""

from chatkeeper.demo.generator import (
    INDUSTRIES,
    SERVICE_TYPES,
    generate_records,
    id_card_check_char,
    luhn_ok,
    write_jsonl,
)

__all__ = [
    "INDUSTRIES",
    "SERVICE_TYPES",
    "generate_records",
    "id_card_check_char",
    "luhn_ok",
    "write_jsonl",
]
