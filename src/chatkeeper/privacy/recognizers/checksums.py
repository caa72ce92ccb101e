"""Check-digit algorithms of Chinese identifiers and payment cards, as pure functions.

Each function takes the value already cut to its exact length and in upper case; callers match
the shape first (a regex) and validate second, so a wrong shape never reaches these functions.
"""

from __future__ import annotations

from datetime import date

# GB 11643-1999: weights 2^(17-i) mod 11 for the 17 leading digits, check value
# (12 - sum mod 11) mod 11 written with X for 10. The table below is that mapping, indexed by
# sum mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Luhn: a doubled digit d contributes 2d, or 2d - 9 when that exceeds 9.
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)

# GB 32100-2015: 31 characters (no I, O, Z, S, V), weights 3^i mod 31, check = 31 - (sum mod 31).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {char: index for index, char in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: First two digits of a resident ID (and of a USCC's region code): provinces, plus 71 Taiwan,
#: 81 Hong Kong, 82 Macao (residence permits) and 83 (Taiwan residents' residence permits).
_PROVINCE_RANGES = ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71), (81, 83))
PROVINCE_CODES = frozenset(
    str(code) for low, high in _PROVINCE_RANGES for code in range(low, high + 1)
)


def id_card_check_char(first17: str) -> str:
    """The MOD 11-2 check character ('0'-'9' or 'X') for the 17 leading digits of an ID number."""
    total = 0
    for char, weight in zip(first17, _ID_WEIGHTS, strict=True):
        total += (ord(char) - 48) * weight
    return _ID_CHECK[total % 11]


def birth_date_ok(yyyymmdd: str, today: date | None = None) -> bool:
    """Whether ``yyyymmdd`` is a real calendar date from 1900 up to today."""
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
    if year < 1900:
        return False
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return born <= (today or date.today())


def luhn_ok(digits: str) -> bool:
    """Whether a string of ASCII digits passes the Luhn (mod 10) check of payment cards."""
    total = 0
    doubled = False
    for char in reversed(digits):
        value = ord(char) - 48
        total += _LUHN_DOUBLED[value] if doubled else value
        doubled = not doubled
    return total % 10 == 0


def uscc_check_char(first17: str) -> str | None:
    """The GB 32100 check character for 17 leading characters, or None if one is not allowed."""
    total = 0
    for char, weight in zip(first17, _USCC_WEIGHTS, strict=True):
        value = _USCC_VALUE.get(char)
        if value is None:
            return None
        total += value * weight
    return USCC_ALPHABET[(31 - total % 31) % 31]
