"""How text becomes index tokens: character bigrams that serve queries of any length.

Chinese has no spaces between words, and customer-service queries are often one or two
characters long (退, 退款). A word segmenter misses words it splits differently, and a trigram
index cannot serve two-character words. So every run of non-space characters is indexed as its
overlapping character bigrams, plus the run's last character on its own:

    "申请退款"  ->  申请 请退 退款 款

Then any query string has an exact index form:

* two characters or more: the phrase of its bigrams (adjacent positions);
* one character ``c``: the prefix query ``c*``, because every occurrence of ``c`` is the
  first character of exactly one token (a bigram, or a run's final unigram).

The index therefore returns exactly the messages whose folded text contains the folded query,
which the tests check against a linear scan.

Tokens are written in a fixed-width ASCII alphabet (four base-36 digits per code point) so that
every backend's plain tokenizer (FTS5 ``ascii``, PostgreSQL ``simple``, InnoDB's full-text
parser) keeps them whole, whatever the characters (punctuation, e-mail addresses, emoji). Filter
values (department, agent, ...) are indexed beside them as tokens that start with ``z``, which no
character token can start with (the largest code point, U+10FFFF, encodes as ``nvnj``).
"""

from __future__ import annotations

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
CHAR_WIDTH = 4
FILTER_PREFIX = "z"

# Folding is one character to one character, so offsets in the folded text are offsets in
# the original (the snippet highlighter relies on it): full-width ASCII to ASCII, the
# ideographic space to a space, then lower case (U+0130 is the one character whose lower
# case is two characters; it folds to a plain "i").
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
_FOLD[0x0130] = ord("i")
# Greek capital and final sigma fold to the medial form: lower() would choose between them by
# the neighbouring letters, and folding must not depend on context.
_FOLD[0x03A3] = _FOLD[0x03C2] = 0x03C3


def fold(text: str) -> str:
    """The form in which text is indexed and compared: case- and width-insensitive."""
    return text.translate(_FOLD).lower()


def encode_char(char: str) -> str:
    """Four base-36 digits for one code point."""
    code = ord(char)
    out = []
    for _ in range(CHAR_WIDTH):
        code, digit = divmod(code, 36)
        out.append(_DIGITS[digit])
    return "".join(reversed(out))


class _Codes(dict[int, str]):
    """Code point -> its four digits, filled on first use, for ``str.translate``.

    Translating a whole run at once encodes it in C; the bigrams are then slices of the
    encoded run, which is several times faster than encoding character by character.
    """

    def __missing__(self, code: int) -> str:
        value = self[code] = encode_char(chr(code))
        return value


_CODES = _Codes()
_W = CHAR_WIDTH


def _run_tokens(run: str, out: list[str]) -> None:
    encoded = run.translate(_CODES)
    last = len(encoded) - _W
    out.extend([encoded[i : i + 2 * _W] for i in range(0, last, _W)])
    out.append(encoded[last:])


def text_tokens(text: str) -> list[str]:
    """The index tokens of a text, in position order."""
    out: list[str] = []
    for run in fold(text).split():
        _run_tokens(run, out)
    return out


def phrase_tokens(query: str) -> tuple[list[str], bool]:
    """The tokens a text must hold, adjacent and in order, to contain ``query``.

    Returns the tokens and whether the last one is a prefix (a one-character last run). The
    last run's final unigram is left out: in the text that run may go on. Whitespace in the
    query matches any whitespace in the text.
    """
    runs = fold(query).split()
    if not runs:
        return [], False
    out: list[str] = []
    for run in runs[:-1]:
        _run_tokens(run, out)
    last = runs[-1]
    if len(last) == 1:
        out.append(encode_char(last))
        return out, True
    _run_tokens(last, out)
    out.pop()  # the last run's final unigram: in the text the run may go on
    return out, False


def filter_token(kind: str, value: int | str) -> str:
    """The index token for a filter value: ``z`` + one letter for the kind + the value."""
    return f"{FILTER_PREFIX}{kind}{value}"
