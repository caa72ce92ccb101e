"""One written form per personal-data value: full-width folding, canonical values, written forms.

Three jobs, all pure functions:

- :func:`fold` turns full-width characters (``０-９``, ``Ａ-Ｚ``, ``＠``, ``（``, the ideographic
  space, ...) into their ASCII twins **one character for one character**, so an offset found in the
  folded text is the same offset in the original text. Recognizers match on the folded text and
  report spans in the original.
- :func:`canonical_value` gives the one form a value is stored and looked up under (the input of
  the vault's blind index): ``+86 138-0013-8000`` and ``13800138000`` must hash the same.
- :func:`written_forms` lists the usual ways people type the same value, for tests that prove no
  plaintext survives masking in any of its forms.
"""

from __future__ import annotations

import ipaddress
import re

from chatkeeper.privacy.findings import PiiType

# Full-width ASCII variants U+FF01..U+FF5E map to U+0021..U+007E at a fixed distance; the
# ideographic space U+3000 maps to a plain space. Every mapping is one code point to one code point,
# which is what keeps offsets valid.
_FOLD_TABLE: dict[int, int] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD_TABLE[0x3000] = 0x20
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")

_NON_DIGITS = re.compile(r"[^0-9]")
_SEPARATORS = re.compile(r"[\s\-·•・.]+")
_WHITESPACE = re.compile(r"\s+")
_COUNTRY_PREFIX = re.compile(r"^(?:\+86|0086|\(\+86\)|\(86\))[\s-]*")

# Types whose values are case-insensitive codes: canonical form is upper case.
_UPPER_CASE_TYPES = frozenset(
    {
        PiiType.CN_ID_CARD,
        PiiType.CN_USCC,
        PiiType.CN_PASSPORT,
        PiiType.CN_HK_MACAO_PERMIT,
        PiiType.CN_TW_PERMIT,
        PiiType.CN_LICENSE_PLATE,
    }
)


def fold(text: str) -> str:
    """``text`` with full-width characters replaced by ASCII ones; same length, same offsets."""
    # translate() walks every character; most chat lines have no full-width character at all, and
    # one regex search is several times cheaper than the walk.
    if _FULL_WIDTH.search(text) is None:
        return text
    return text.translate(_FOLD_TABLE)


def digits_only(value: str) -> str:
    """The ASCII digits of ``value`` in order (after folding full-width digits)."""
    return _NON_DIGITS.sub("", fold(value))


def canonical_value(type: PiiType, value: str) -> str:
    """The single canonical written form of ``value`` for exact look-up (blind index).

    Mobile numbers lose their +86/0086 prefix and separators (11 digits); landlines become the
    area code followed by the local number; cards and QQ numbers keep digits only; ID numbers and
    other codes are upper-cased without separators; e-mail is lower-cased; IP addresses take their
    compressed standard form; names and addresses are folded with whitespace removed.
    """
    folded = fold(value).strip()
    if type is PiiType.CN_MOBILE:
        return _canonical_mobile(folded)
    if type is PiiType.CN_LANDLINE:
        return _canonical_landline(folded)
    if type in (PiiType.BANK_CARD, PiiType.QQ_NUMBER):
        return digits_only(folded)
    if type is PiiType.EMAIL:
        return folded.lower()
    if type is PiiType.IP_ADDRESS:
        try:
            return ipaddress.ip_address(folded).compressed
        except ValueError:
            return folded.lower()
    if type in _UPPER_CASE_TYPES:
        return _SEPARATORS.sub("", folded).upper()
    # WeChat IDs, names and addresses: keep case, drop whitespace only.
    return _WHITESPACE.sub("", folded)


def _canonical_mobile(folded: str) -> str:
    """11 digits: the country prefix and every separator removed."""
    digits = digits_only(_COUNTRY_PREFIX.sub("", folded))
    # A prefix written without a plus sign ("8613800138000", "008613800138000") is still a prefix.
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    if len(digits) == 15 and digits.startswith("0086"):
        return digits[4:]
    return digits


def _canonical_landline(folded: str) -> str:
    """Area code (with its leading 0) followed by the local number, digits only."""
    if _COUNTRY_PREFIX.match(folded):
        # International form drops the trunk 0: +86 10 12345678 is 010-12345678.
        return "0" + digits_only(_COUNTRY_PREFIX.sub("", folded)).lstrip("0")
    return digits_only(folded)


def written_forms(type: PiiType, value: str) -> list[str]:
    """Common ways the same value is written, canonical form first, without duplicates."""
    canonical = canonical_value(type, value)
    forms = [canonical]
    if type is PiiType.CN_MOBILE and len(canonical) == 11:
        a, b, c = canonical[:3], canonical[3:7], canonical[7:]
        forms += [
            f"{a} {b} {c}",
            f"{a}-{b}-{c}",
            f"+86{canonical}",
            f"+86 {canonical}",
            f"+86-{a}-{b}-{c}",
            f"0086 {canonical}",
            f"(+86){canonical}",
        ]
    elif type is PiiType.BANK_CARD:
        groups = [canonical[i : i + 4] for i in range(0, len(canonical), 4)]
        forms += [" ".join(groups), "-".join(groups)]
    elif type is PiiType.CN_ID_CARD and len(canonical) == 18:
        forms += [
            canonical.lower(),
            f"{canonical[:6]} {canonical[6:14]} {canonical[14:]}",
            f"{canonical[:6]} {canonical[6:14]} {canonical[14:].lower()}",
        ]
    elif type is PiiType.CN_LANDLINE and len(canonical) >= 10:
        cut = 3 if canonical[1] in "12" else 4
        area, local = canonical[:cut], canonical[cut:]
        forms += [f"{area}-{local}", f"{area} {local}", f"({area}){local}"]
    elif type is PiiType.CN_LICENSE_PLATE and len(canonical) >= 7:
        head, tail = canonical[:2], canonical[2:]
        forms += [f"{head} {tail}", f"{head}·{tail}"]
    elif type is PiiType.EMAIL:
        forms.append(fold(value).strip())
    return list(dict.fromkeys(form for form in forms if form))
