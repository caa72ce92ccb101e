"""Index tokens: folding, fixed-width character codes, bigram runs and the phrase form.

The central property: the phrase tokens of a query occur as a contiguous run of a text's
tokens exactly when the folded, whitespace-collapsed query is a substring of the folded,
whitespace-collapsed text. Every search backend relies on it; it is checked here with a
token-run matcher written in the test, independently of any backend.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatkeeper.search.tokens import (
    CHAR_WIDTH,
    FILTER_PREFIX,
    encode_char,
    filter_token,
    fold,
    phrase_tokens,
    text_tokens,
)

BASE36 = set(string.digits + string.ascii_lowercase)


def codes(text: str) -> list[str]:
    """The code of each character (no folding)."""
    return [encode_char(char) for char in text]


def collapse(text: str) -> str:
    """Folded text with whitespace runs made one space, as a linear scan compares it."""
    return " ".join(fold(text).split())


def run_occurs(text: list[str], query: list[str], last_is_prefix: bool) -> bool:
    """Whether ``query`` occurs as a contiguous run of ``text`` (the last token of the run
    may be a prefix match when ``last_is_prefix``), the way an index phrase query works."""
    if not query:
        return False
    *head, last = query
    width = len(query)
    for start in range(len(text) - width + 1):
        window = text[start : start + width]
        if window[:-1] != head:
            continue
        if window[-1] == last or (last_is_prefix and window[-1].startswith(last)):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# fold
# ---------------------------------------------------------------------------------------------

# text, folded
FOLD_ROWS = [
    ("ABC", "abc"),
    ("VIP客户", "vip客户"),
    ("ＡＢＣ", "abc"),  # full-width Latin
    ("ｖｉｐ", "vip"),
    ("１２３", "123"),  # full-width digits
    ("！＃＠～", "!#@~"),  # the ends of the full-width ASCII block, U+FF01 and U+FF5E
    ("，？：；", ",?:;"),  # full-width punctuation Chinese text uses
    ("\u3000", " "),  # ideographic space
    ("退款\u3000发票", "退款 发票"),
    ("İstanbul", "istanbul"),  # U+0130: the one character whose lower case is two
    ("ÄÖÜ", "äöü"),
    # Negative rows: characters that look wide or spacey but are not folded.
    ("退款", "退款"),
    ("。、「」", "。、「」"),  # CJK punctuation outside the full-width ASCII block
    ("｟｠", "｟｠"),  # U+FF5F, U+FF60: just past the block
    ("ｶﾀｶﾅ", "ｶﾀｶﾅ"),  # half-width katakana
    ("\u00a0", "\u00a0"),  # no-break space stays (split() treats it as whitespace anyway)
    ("\uff00", "\uff00"),  # just before the block
    ("", ""),
]


class TestFold:
    """GIVEN text WHEN folded THEN case and width differences disappear, one char for one."""

    @pytest.mark.parametrize(("text", "folded"), FOLD_ROWS)
    def test_fold(self, text: str, folded: str) -> None:
        """GIVEN the text WHEN folded THEN the result is as listed."""
        assert fold(text) == folded

    @given(st.text())
    @example("İİ")
    @example("ΑΣ ΒΣΓ")
    def test_length_is_preserved(self, text: str) -> None:
        """GIVEN any text WHEN folded THEN it has the same length (offsets stay valid)."""
        assert len(fold(text)) == len(text)

    @given(st.text())
    @example("ΑΣ")
    @example("ΟΔΟΣ ΟΔΟΣ")
    def test_fold_is_character_by_character(self, text: str) -> None:
        """GIVEN any text WHEN folded THEN each character folds on its own, whatever its
        neighbours: so a piece of a text, folded, is always a piece of the folded text (a
        search for a substring of a message finds it). Greek capital sigma is the case in
        point: str.lower() turns it into a final sigma at the end of a word only."""
        assert fold(text) == "".join(fold(char) for char in text)

    @given(st.text(), st.integers(0, 30), st.integers(0, 30))
    @example("ΑΣΒ", 0, 2)
    def test_a_folded_piece_is_in_the_folded_text(self, text: str, i: int, j: int) -> None:
        """GIVEN any text and any non-blank piece of it WHEN both are folded and collapsed
        THEN the piece is a substring of the text."""
        piece = text[i : i + j]
        if not fold(piece).split():
            return
        assert collapse(piece) in collapse(text)

    @given(st.text())
    def test_idempotent(self, text: str) -> None:
        """GIVEN any text WHEN folded twice THEN it is the same as folded once."""
        assert fold(fold(text)) == fold(text)

    @given(st.text(alphabet=st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E)))
    def test_full_width_ascii_folds_like_ascii(self, text: str) -> None:
        """GIVEN full-width ASCII WHEN folded THEN it equals its ASCII twin folded."""
        ascii_twin = "".join(chr(ord(char) - 0xFEE0) for char in text)
        assert fold(text) == ascii_twin.lower()


# ---------------------------------------------------------------------------------------------
# encode_char and filter_token
# ---------------------------------------------------------------------------------------------

# character, code
ENCODE_ROWS = [
    ("\x00", "0000"),
    ("a", "002p"),  # 97 = 2*36 + 25
    ("z", "003e"),
    ("退", "0sg0"),
    (chr(36**3 - 1), "0zzz"),
    (chr(36**3), "1000"),
    (chr(0x10FFFF), "nvnj"),  # the largest code point: still not a "z"
]


class TestEncodeChar:
    """GIVEN a character WHEN encoded THEN it is four base-36 digits of its code point."""

    @pytest.mark.parametrize(("char", "code"), ENCODE_ROWS)
    def test_encode(self, char: str, code: str) -> None:
        """GIVEN the character WHEN encoded THEN the code is as listed."""
        assert encode_char(char) == code

    @given(st.characters())
    @example(chr(0x10FFFF))
    @example("\x00")
    def test_fixed_width_and_reversible(self, char: str) -> None:
        """GIVEN any code point WHEN encoded THEN exactly four base-36 digits, decoding back,
        never starting with the filter prefix."""
        code = encode_char(char)
        assert len(code) == CHAR_WIDTH == 4
        assert set(code) <= BASE36
        assert int(code, 36) == ord(char)
        assert not code.startswith(FILTER_PREFIX)

    @given(st.characters(), st.characters())
    def test_order_is_code_point_order(self, a: str, b: str) -> None:
        """GIVEN two characters WHEN encoded THEN codes compare like the code points."""
        assert (encode_char(a) < encode_char(b)) == (a < b)


# kind, value, token
FILTER_ROWS = [
    ("d", 0, "zd0"),
    ("d", 35, "zd35"),
    ("d", 36, "zd36"),
    ("r", 1, "zr1"),
    ("t", "vip", "ztvip"),
    ("p", "webchat", "zpwebchat"),
]


class TestFilterToken:
    """GIVEN a filter value WHEN made a token THEN it starts with z, which no character
    token can start with."""

    @pytest.mark.parametrize(("kind", "value", "token"), FILTER_ROWS)
    def test_filter_token(self, kind: str, value: int | str, token: str) -> None:
        """GIVEN the kind and value WHEN made a token THEN it is as listed."""
        assert filter_token(kind, value) == token

    @given(st.sampled_from("pdactsr"), st.integers(min_value=0, max_value=2**63))
    def test_integer_values(self, kind: str, value: int) -> None:
        """GIVEN any id WHEN made a token THEN z + kind + the id in decimal."""
        token = filter_token(kind, value)
        assert token.startswith(FILTER_PREFIX + kind)
        assert token[2:].isdigit() and int(token[2:]) == value


# ---------------------------------------------------------------------------------------------
# text_tokens and phrase_tokens
# ---------------------------------------------------------------------------------------------


def bi(pair: str) -> str:
    """The bigram token of two characters."""
    return encode_char(pair[0]) + encode_char(pair[1])


def uni(char: str) -> str:
    """The unigram token of one character."""
    return encode_char(char)


# text, tokens
TEXT_ROWS = [
    ("申请退款", [bi("申请"), bi("请退"), bi("退款"), uni("款")]),
    ("退", [uni("退")]),
    ("退款 发票", [bi("退款"), uni("款"), bi("发票"), uni("票")]),
    ("  退款\n\t发票  ", [bi("退款"), uni("款"), bi("发票"), uni("票")]),
    ("退款\u3000发票", [bi("退款"), uni("款"), bi("发票"), uni("票")]),
    ("VIP", [bi("vi"), bi("ip"), uni("p")]),
    ("ＶＩＰ", [bi("vi"), bi("ip"), uni("p")]),
    ("a，b", [bi("a,"), bi(",b"), uni("b")]),
    # Negative rows: nothing to index.
    ("", []),
    ("   \n", []),
    ("\u3000", []),
]

# query, tokens, last is a prefix
PHRASE_ROWS = [
    ("退", [uni("退")], True),
    ("退款", [bi("退款")], False),
    ("申请退款", [bi("申请"), bi("请退"), bi("退款")], False),
    ("退款 的", [bi("退款"), uni("款"), uni("的")], True),
    ("退款 发票", [bi("退款"), uni("款"), bi("发票")], False),
    ("退 款", [uni("退"), uni("款")], True),
    ("  退款  ", [bi("退款")], False),
    ("ＶＩＰ", [bi("vi"), bi("ip")], False),
    # Negative rows: a blank query has no tokens (and the caller must refuse it).
    ("", [], False),
    ("  ", [], False),
    ("\u3000", [], False),
]


class TestTokens:
    """GIVEN text or a query WHEN tokenised THEN bigrams of each run, as documented."""

    @pytest.mark.parametrize(("text", "tokens"), TEXT_ROWS)
    def test_text_tokens(self, text: str, tokens: list[str]) -> None:
        """GIVEN the text WHEN tokenised THEN each run gives its bigrams and last unigram."""
        assert text_tokens(text) == tokens

    @pytest.mark.parametrize(("query", "tokens", "prefix"), PHRASE_ROWS)
    def test_phrase_tokens(self, query: str, tokens: list[str], prefix: bool) -> None:
        """GIVEN the query WHEN made a phrase THEN its tokens and prefix flag are as listed."""
        assert phrase_tokens(query) == (tokens, prefix)

    @given(st.text())
    def test_no_character_token_starts_with_z(self, text: str) -> None:
        """GIVEN any text WHEN tokenised THEN no token can be mistaken for a filter token,
        and each token is one or two character codes."""
        for token in text_tokens(text):
            assert not token.startswith(FILTER_PREFIX)
            assert len(token) in (CHAR_WIDTH, 2 * CHAR_WIDTH)
            assert set(token) <= BASE36

    @given(st.text())
    def test_one_token_per_non_space_character(self, text: str) -> None:
        """GIVEN any text WHEN tokenised THEN there is one token per non-space character
        (a bigram starting at it, or the run's final unigram)."""
        assert len(text_tokens(text)) == sum(len(run) for run in fold(text).split())


#: A small alphabet, so that queries drawn from it often occur in texts drawn from it.
ALPHABET = "退款发票 的aAＡ1 \n\u3000"
small_texts = st.text(alphabet=ALPHABET, max_size=14)
small_queries = st.text(alphabet=ALPHABET, min_size=1, max_size=5)


class TestPhraseIsExact:
    """GIVEN any text and any non-blank query WHEN the query's phrase tokens are looked for as
    a contiguous run of the text's tokens THEN they are found exactly when the folded query is
    a substring of the folded text: the bigram index has no false hits and no misses."""

    @settings(max_examples=3000)
    @given(small_texts, small_queries)
    @example("申请退款", "退")
    @example("申请退款", "退款")
    @example("退款 的", "款 的")
    @example("退款 的", "退 的")
    @example("a 退款的", "a 款的")
    @example("aaa", "aa")
    @example("ａ Ａ", "A\u3000a")
    def test_token_run_iff_substring(self, text: str, query: str) -> None:
        """GIVEN text and query WHEN compared both ways THEN the answers agree."""
        if not fold(query).split():
            return
        tokens, prefix = phrase_tokens(query)
        by_tokens = run_occurs(text_tokens(text), tokens, prefix)
        by_scan = collapse(query) in collapse(text)
        assert by_tokens == by_scan

    @settings(max_examples=500)
    @given(small_texts, st.integers(0, 14), st.integers(1, 5))
    def test_every_piece_of_a_text_is_found(self, text: str, start: int, length: int) -> None:
        """GIVEN a non-blank piece cut from a text WHEN its phrase is looked for THEN it is
        found (queries drawn from the text itself, so every example is a hit)."""
        piece = text[start : start + length]
        if not fold(piece).split():
            return
        tokens, prefix = phrase_tokens(piece)
        assert run_occurs(text_tokens(text), tokens, prefix)
