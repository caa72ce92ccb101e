"""Makers for synthetic personal data with valid check digits, and the checks themselves.

Everything here is made up, but shaped like the real thing so that detectors and maskers meet
what they will meet in production: resident ID numbers carry a correct GB 11643 MOD 11-2 check
character and a real birth date, bank cards pass the Luhn check and start with real issuer
prefixes (BINs), mobile numbers use allocated 1[3-9]x segments. Bank cards are 16 or 19 digits
long, never 18, so that a card can never be mistaken for a resident ID number.
"""

from __future__ import annotations

from datetime import date
from random import Random

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

#: Allocated mobile segments (China Mobile, Unicom, Telecom, Broadnet), as three-digit prefixes.
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "145",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "172",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "196",
    "197",
    "198",
    "199",
]

#: Issuer prefix and card length: debit cards are 19 digits, credit cards 16.
CARD_BINS = (
    ("622202", 19),  # ICBC debit
    ("621700", 19),  # CCB debit
    ("622848", 19),  # ABC debit
    ("621483", 16),  # CMB debit
    ("436742", 16),  # CCB credit
    ("625966", 16),  # credit (UnionPay)
    ("622588", 16),  # CMB credit
    ("621226", 19),  # ICBC debit
)

_EARLIEST_BIRTH = date(1958, 1, 1).toordinal()
_LATEST_BIRTH = date(2006, 12, 31).toordinal()


def id_card_check_char(first17: str) -> str:
    """The GB 11643-1999 MOD 11-2 check character ('0'-'9' or 'X') for 17 leading digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("a resident ID number has 17 digits before its check character")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits passes the Luhn (mod 10) check used by bank cards."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that, appended to ``partial``, makes the whole number Luhn-valid."""
    total = 0
    for position, char in enumerate(reversed(partial)):
        value = int(char)
        if position % 2 == 0:  # these digits are doubled once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str(-total % 10)


def random_birth_date(rng: Random) -> date:
    """A real calendar date for someone aged roughly 20 to 68."""
    return date.fromordinal(rng.randrange(_EARLIEST_BIRTH, _LATEST_BIRTH + 1))


def make_id_card(rng: Random, area_code: str, birth: date, male: bool) -> str:
    """An 18-character resident ID number: area, birth date, sequence (odd for men), check."""
    sequence = rng.randrange(0, 100) * 10 + rng.randrange(0, 10, 2) + (1 if male else 0)
    first17 = f"{area_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_card_check_char(first17)


def make_mobile(rng: Random) -> str:
    """An 11-digit mobile number in an allocated segment."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(0, 100_000_000):08d}"


def format_mobile(number: str, rng: Random) -> str:
    """The number as people type it: plain, grouped 3-4-4 by spaces or dashes, or with +86."""
    roll = rng.random()
    if roll < 0.62:
        return number
    if roll < 0.77:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if roll < 0.88:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if roll < 0.96:
        return f"+86 {number}"
    return f"+86-{number[:3]}-{number[3:7]}-{number[7:]}"


def make_landline(rng: Random, area_code: str) -> str:
    """A fixed-line number with its area code: 010-xxxxxxxx, 0755-xxxxxxxx, ..."""
    local = f"{rng.randrange(2, 9)}{rng.randrange(0, 10_000_000):07d}"
    return f"{area_code}-{local}"


def make_bank_card(rng: Random) -> str:
    """A Luhn-valid bank card number of 16 or 19 digits with a real issuer prefix."""
    prefix, length = rng.choice(CARD_BINS)
    digits = length - len(prefix) - 1
    partial = f"{prefix}{rng.randrange(10**digits):0{digits}d}"
    return partial + luhn_check_digit(partial)


def format_card(card: str, rng: Random) -> str:
    """The card as people type it: mostly plain, sometimes in groups of four."""
    if rng.random() < 0.7:
        return card
    return " ".join(card[i : i + 4] for i in range(0, len(card), 4))


def make_plate(rng: Random, prefix: str) -> str:
    """A licence plate: 京A12345, or new-energy 沪AD12345 (eight characters)."""
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O on plates
    if rng.random() < 0.3:
        kind = rng.choice("DF")
        return f"{prefix}{kind}{rng.randrange(0, 100_000):05d}"
    tail = "".join(
        rng.choice(letters) if i == 0 and rng.random() < 0.4 else str(rng.randrange(10))
        for i in range(5)
    )
    return prefix + tail


def make_hex(rng: Random, length: int) -> str:
    """Lower-case hexadecimal of ``length`` characters (checksums, file ids)."""
    return f"{rng.getrandbits(length * 4):0{length}x}"
