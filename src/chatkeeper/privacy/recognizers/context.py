"""Context cues and the score scale that every recognizer shares.

A recognizer first matches a shape, then validates it (check digit, table), then looks around
it for words that say what it is (``手机``, ``卡号``) or what it is not (``订单号``). The score it
gives a finding comes from the constants below, so that overlapping findings of different
recognizers compare fairly in :func:`chatkeeper.privacy.analyzer.resolve_overlaps`.

Score scale (documented in ``docs/privacy-recognizers.md``): 1.0 known value; >= 0.9 validated by a
check digit or by shape plus context; 0.7-0.85 shape or gazetteer alone; below
:data:`REPORT_THRESHOLD` findings that are kept for masking but are not counted as detections
(bad check digit next to a context word, or valid values that the context says are something else).
"""

from __future__ import annotations

import re

from chatkeeper.privacy.findings import Reason

#: Findings at or above this score count as detections (benchmark, default reports); below it they
#: are reported for masking only.
REPORT_THRESHOLD = 0.5

KNOWN_VALUE = 1.0
CHECKSUM_CONTEXT = 0.98
CHECKSUM = 0.93
CONTEXT_STRONG = 0.92
CONTEXT = 0.9
PATTERN_CONTEXT = 0.85
PATTERN = 0.8
WEAK = 0.7
#: Valid shape and check digit, but the words right before say it is an order or tracking number.
CONTRADICTED = 0.4
#: Shape right, check digit wrong, next to a context word: still personal data (a mistyped ID).
LOW_CONFIDENCE = 0.3

# Chinese text has no word boundaries and Python's \d and \b are Unicode-aware, so every pattern
# uses ASCII classes and explicit look-arounds. A value must not continue an ASCII token, nor be
# one group of a longer run of digit groups ("6222 0212 3456 7890 123" contains "0212 3456 7890").
NOT_AFTER_ALNUM = r"(?<![0-9A-Za-z])(?<![0-9][ \-])"
NOT_BEFORE_ALNUM = r"(?![0-9A-Za-z])(?![ \-][0-9])"

#: Ten digits, possibly grouped: the cheapest test that a text may hold a phone, ID or card number.
LONG_DIGITS_GATE = re.compile(r"[0-9](?:[ \-)]?[0-9]){9}")

# Order, tracking and product numbers: words that, right before a number, say it is not personal.
_ORDER_CUE = re.compile(
    r"(?:订单|单号|运单|快递|物流|交易|流水|编号|编码|条码|工单|批次|序列|发票代码|票号|型号|SN|sn|No\.?)"
    r"(?:号码|号|编号|ID|id)?[ \t]{0,2}[:#]?[ \t]{0,2}(?:是|为)?[ \t]{0,2}$"
)


def cue_before(cue: re.Pattern[str], folded: str, start: int, window: int = 12) -> bool:
    """Whether ``cue`` occurs within ``window`` characters before ``start``."""
    return cue.search(folded, max(0, start - window), start) is not None


def cue_near(
    cue: re.Pattern[str], folded: str, start: int, end: int, before: int = 12, after: int = 6
) -> bool:
    """Whether ``cue`` occurs shortly before ``start`` or shortly after ``end``."""
    if cue.search(folded, max(0, start - before), start) is not None:
        return True
    return cue.search(folded, end, end + after) is not None


def order_number_before(folded: str, start: int) -> bool:
    """Whether the words right before ``start`` name an order, tracking or product number."""
    return _ORDER_CUE.search(folded, max(0, start - 10), start) is not None


def phone_score(cue: re.Pattern[str], folded: str, start: int, end: int) -> tuple[float, Reason]:
    """The score of a well-formed phone number: contradicted right after an order-number
    label, raised by a cue word near it, the pattern's own score otherwise."""
    if order_number_before(folded, start):
        return CONTRADICTED, Reason.PATTERN
    if cue_near(cue, folded, start, end):
        return CONTEXT, Reason.CONTEXT
    return PATTERN, Reason.PATTERN
