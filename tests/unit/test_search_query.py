"""The search query language: precedence, grouping, phrases, errors, and the scan semantics.

Grammar (``chatkeeper.search.query``)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          # juxtaposition means AND
    unary   := ("NOT" | "-") unary | primary
    primary := "(" query ")" | '"' phrase '"' | term
"""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatkeeper.errors import QuerySyntaxError, SearchError
from chatkeeper.search.query import And, Node, Not, Or, Term, is_bounded, matches, parse, terms
from chatkeeper.search.tokens import fold


def T(text: str) -> Term:
    """A term node."""
    return Term(text)


def collapse(text: str) -> str:
    """What callers pass to :func:`matches`."""
    return " ".join(fold(text).split())


# query, tree
PARSE_ROWS = [
    ("退款", T("退款")),
    ("  退款  ", T("退款")),
    ("退款 发票", And((T("退款"), T("发票")))),
    ("退款 AND 发票", And((T("退款"), T("发票")))),
    ("a b c", And((T("a"), T("b"), T("c")))),
    ("a OR b", Or((T("a"), T("b")))),
    ("a OR b OR c", Or((T("a"), T("b"), T("c")))),
    # OR binds more loosely than AND, written or implied.
    ("a b OR c", Or((And((T("a"), T("b"))), T("c")))),
    ("a OR b c", Or((T("a"), And((T("b"), T("c")))))),
    ("a AND b OR c AND d", Or((And((T("a"), T("b"))), And((T("c"), T("d")))))),
    ("a OR b AND c OR d", Or((T("a"), And((T("b"), T("c"))), T("d")))),
    # Parentheses.
    ("(a OR b) c", And((Or((T("a"), T("b"))), T("c")))),
    ("a (b OR c)", And((T("a"), Or((T("b"), T("c")))))),
    ("((a))", T("a")),
    ("(a OR (b c)) d", And((Or((T("a"), And((T("b"), T("c"))))), T("d")))),
    ("a(b)", And((T("a"), T("b")))),
    # NOT and -term.
    ("a NOT b", And((T("a"), Not(T("b"))))),
    ("a AND NOT b", And((T("a"), Not(T("b"))))),
    ("a -b", And((T("a"), Not(T("b"))))),
    ("-a b", And((Not(T("a")), T("b")))),
    ("a -b -c", And((T("a"), Not(T("b")), Not(T("c"))))),
    ("a --b", And((T("a"), Not(T("-b"))))),
    ("a NOT (b OR c)", And((T("a"), Not(Or((T("b"), T("c"))))))),
    ("(a NOT b) OR c", Or((And((T("a"), Not(T("b")))), T("c")))),
    ("(NOT a) b", And((Not(T("a")), T("b")))),
    # A lone "-" or one inside a word is an ordinary term.
    ("-", T("-")),
    ("a-b", T("a-b")),
    ("400-800-1234", T("400-800-1234")),
    # Quoted phrases: one term, keywords inside are words.
    ('"申请 退款"', T("申请 退款")),
    ('"a OR b"', T("a OR b")),
    ('"NOT"', T("NOT")),
    ('"(a)"', T("(a)")),
    ('"退款" 发票', And((T("退款"), T("发票")))),
    ('a"b"', And((T("a"), T("b")))),
    # Keywords are upper case only.
    ("a and b", And((T("a"), T("and"), T("b")))),
    ("a or b", And((T("a"), T("or"), T("b")))),
    ("a Or b", And((T("a"), T("Or"), T("b")))),
    ("not a", And((T("not"), T("a")))),
    ("ANDROID", T("ANDROID")),
    ("ORDER NOTE", And((T("ORDER"), T("NOTE")))),
    # Any whitespace separates.
    ("a\tOR\nb", Or((T("a"), T("b")))),
    ("退款\u3000发票", And((T("退款"), T("发票")))),
]


class TestParse:
    """GIVEN a query WHEN parsed THEN the tree follows the grammar and its precedence."""

    @pytest.mark.parametrize(("query", "tree"), PARSE_ROWS)
    def test_parse(self, query: str, tree: Node) -> None:
        """GIVEN the query WHEN parsed THEN the tree is as listed."""
        assert parse(query) == tree

    @pytest.mark.parametrize(
        ("query", "tree"),
        [
            ("a -(b OR c)", And((T("a"), Not(Or((T("b"), T("c"))))))),
            ('a -"b c"', And((T("a"), Not(T("b c"))))),
            ('-"申请 退款" 发票', And((Not(T("申请 退款")), T("发票")))),
        ],
    )
    def test_minus_before_a_group_or_phrase_is_not(self, query: str, tree: Node) -> None:
        """GIVEN '-' written directly before '(' or a quote WHEN parsed THEN it negates what
        follows, as the grammar's unary rule says; it is not a term of its own."""
        assert parse(query) == tree


# query, what the message says, 1-based position (None: no single position applies)
ERROR_ROWS = [
    ("", "empty", None),
    ("   ", "empty", None),
    ("\u3000\n", "empty", None),
    ('"退款', "unclosed quote", 1),
    ('退款 "申请', "unclosed quote", 4),
    ('a "b" "c', "unclosed quote", 7),
    ("(a", "never closed", 1),
    ("a (b OR c", "never closed", 3),
    ("((a)", "never closed", 1),
    ("a)", "unexpected ')'", 2),
    ("(a) b)", "unexpected ')'", 6),
    (")", "expected a term", 1),
    ("()", "expected a term", 2),
    ("a ()", "expected a term", 4),
    ('""', "empty phrase", 1),
    ('a " "', "empty phrase", 3),
    ("AND a", "expected a term", 1),
    ("OR a", "expected a term", 1),
    ("a OR OR b", "expected a term", 6),
    ("a AND OR b", "expected a term", 7),
    ("a AND", "ends where a term was expected", None),
    ("a OR", "ends where a term was expected", None),
    ("a (b OR)", "expected a term", 8),
    ("NOT", "ends where a term was expected", None),
    ("a NOT", "ends where a term was expected", None),
    # NOT must be combined by AND with something positive.
    ("NOT a", "NOT can only exclude", None),
    ("-a", "NOT can only exclude", None),
    ("a OR NOT b", "NOT can only exclude", None),
    ("a OR -b", "NOT can only exclude", None),
    ("NOT a NOT b", "NOT can only exclude", None),
    ("(NOT a) OR b", "NOT can only exclude", None),
    ("a NOT NOT b", "NOT can only exclude", None),
]


class TestErrors:
    """GIVEN a query that cannot be parsed WHEN parsed THEN QuerySyntaxError says what is
    wrong and, where one applies, at which (1-based) position."""

    @pytest.mark.parametrize(("query", "says", "position"), ERROR_ROWS)
    def test_error(self, query: str, says: str, position: int | None) -> None:
        """GIVEN the query WHEN parsed THEN the error says so, naming the position."""
        with pytest.raises(QuerySyntaxError) as info:
            parse(query)
        error = info.value
        assert says in str(error)
        if position is not None:
            assert f"position {position}" in str(error)
            assert error.details["position"] == position

    def test_error_is_a_search_error_with_its_code(self) -> None:
        """GIVEN a bad query WHEN parsed THEN the error is a SearchError, code query_invalid,
        exit code 64, and its dict form is the JSON envelope's error object."""
        with pytest.raises(SearchError) as info:
            parse("(a")
        error = info.value
        assert isinstance(error, QuerySyntaxError)
        assert (str(error.code), error.exit_code, error.http_status) == ("query_invalid", 64, 400)
        assert error.to_dict() == {
            "code": "query_invalid",
            "message": "the '(' at position 1 is never closed",
            "details": {"position": 1},
        }

    @pytest.mark.parametrize(
        "query",
        [
            "(" * 300 + "a" + ")" * 300,
            "a " + "NOT " * 2000 + "b",
            "(" * 5000,
            "a " + "(b " * 3000,
        ],
        ids=["300-parens", "2000-NOTs", "5000-open-parens", "3000-open-groups"],
    )
    def test_deep_nesting_is_a_syntax_error_or_parses(self, query: str) -> None:
        """GIVEN a deeply nested query (any API caller can send one) WHEN parsed THEN it
        parses or raises QuerySyntaxError; it never blows the stack (RecursionError would be
        an internal error, a 500 in the API)."""
        with contextlib.suppress(QuerySyntaxError):
            parse(query)


# query, text, matches
MATCH_ROWS = [
    ("退款", "我要申请退款", True),
    ("退", "我要申请退款", True),
    ("退款", "退货", False),
    ("退款 订单", "订单的退款", True),
    ("退款 订单", "只是退款", False),
    ("退款 OR 发票", "开发票", True),
    ("退款 OR 发票", "投诉", False),
    ("退款 NOT 发票", "退款", True),
    ("退款 NOT 发票", "退款和发票", False),
    ("退款 -发票", "退款和发票", False),
    ("(退款 OR 退货) 快递", "退货的快递", True),
    ("(退款 OR 退货) 快递", "退货", False),
    ('"申请 退款"', "申请    退款", True),
    ('"申请 退款"', "申请\n退款", True),
    ('"申请 退款"', "申请退款", False),
    ('"申请退款"', "申请 退款", False),
    ("vip", "VIP客户", True),
    ("ＶＩＰ", "vip客户", True),
    ("VIP", "ｖｉｐ客户", True),
    ("a", "ABC", True),
    ("and", "brand", True),
    ('"a OR b"', "a OR b", True),
    ('"a OR b"', "a", False),
    ("400-800", "电话400-800-1234", True),
    ("-", "a-b", True),
]


class TestMatches:
    """GIVEN a query and a message WHEN matched by the linear scan THEN the answer follows
    substring containment after folding, with AND / OR / NOT as boolean logic."""

    @pytest.mark.parametrize(("query", "text", "expected"), MATCH_ROWS)
    def test_matches(self, query: str, text: str, expected: bool) -> None:
        """GIVEN the query and text WHEN matched THEN the result is as listed."""
        assert matches(parse(query), collapse(text)) is expected


# query, positive terms (folded)
TERMS_ROWS = [
    ("退款", ["退款"]),
    ("退款 NOT 发票", ["退款"]),
    ("(退款 OR 退货) -快递", ["退款", "退货"]),
    ('"申请   退款" ＶＩＰ', ["申请 退款", "vip"]),
    ("A NOT (b OR c)", ["a"]),
]


class TestTerms:
    """GIVEN a query WHEN its terms are listed for highlighting THEN only positive ones,
    folded and whitespace-collapsed, in query order."""

    @pytest.mark.parametrize(("query", "expected"), TERMS_ROWS)
    def test_terms(self, query: str, expected: list[str]) -> None:
        """GIVEN the query WHEN its terms are listed THEN they are as listed."""
        assert terms(parse(query)) == expected


# node, bounded
BOUNDED_ROWS = [
    (T("a"), True),
    (And((T("a"), Not(T("b")))), True),
    (Or((T("a"), And((T("b"), Not(T("c")))))), True),
    (And((Or((T("a"), T("b"))), Not(Or((T("c"), T("d")))))), True),
    (And((T("a"), Not(And((T("b"), Not(T("c"))))))), True),  # a minus (b minus c)
    # Negative rows: a NOT alone, OR-ed, doubled, or with nothing positive beside it.
    (Not(T("a")), False),
    (Or((T("a"), Not(T("b")))), False),
    (And((Not(T("a")), Not(T("b")))), False),
    (And((T("a"), Not(Not(T("b"))))), False),
]


class TestIsBounded:
    """GIVEN a query tree WHEN checked THEN it is bounded only if its matches can be found
    from its positive terms."""

    @pytest.mark.parametrize(("node", "bounded"), BOUNDED_ROWS)
    def test_is_bounded(self, node: Node, bounded: bool) -> None:
        """GIVEN the tree WHEN checked THEN the answer is as listed."""
        assert is_bounded(node) is bounded


# --- Hypothesis -------------------------------------------------------------------------------

QUERY_PIECES = ["退款", "发票", "a", "A", "AND", "OR", "NOT", "and", "-", "-b", "(", ")", '"',
                " ", "  ", "\u3000", "\n"]  # fmt: skip


class TestParseProperties:
    """GIVEN any string WHEN parsed THEN a bounded tree with positive terms comes out, or a
    QuerySyntaxError; never any other exception."""

    @settings(max_examples=1000)
    @given(st.text())
    @example("")
    @example('"')
    @example("a OR NOT b")
    def test_arbitrary_text(self, query: str) -> None:
        """GIVEN arbitrary Unicode WHEN parsed THEN a tree or QuerySyntaxError."""
        self.check(query)

    @settings(max_examples=2000)
    @given(st.lists(st.sampled_from(QUERY_PIECES), max_size=14).map("".join))
    def test_query_like_text(self, query: str) -> None:
        """GIVEN strings made of terms, keywords, parentheses and quotes WHEN parsed THEN a
        tree or QuerySyntaxError."""
        self.check(query)

    @staticmethod
    def check(query: str) -> None:
        try:
            node = parse(query)
        except QuerySyntaxError as error:
            position = error.details.get("position")
            if position is not None:
                assert isinstance(position, int) and 1 <= position <= len(query)
                assert re.search(rf"\bposition {position}\b", str(error))
            return
        assert is_bounded(node)
        assert terms(node)
        assert all(term.strip() for term in terms(node))


WORDS = ["退款", "发票", "订单", "vip"]
trees = st.recursive(
    st.sampled_from(WORDS).map(T),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda c: And(tuple(c))),
        st.lists(inner, min_size=2, max_size=3).map(lambda c: Or(tuple(c))),
        st.tuples(inner, inner).map(lambda pair: And((pair[0], Not(pair[1])))),
    ),
    max_leaves=6,
)


def render(node: Node) -> str:
    """A query string for a tree, fully parenthesised."""
    if isinstance(node, Term):
        return f'"{node.text}"'
    if isinstance(node, Not):
        return f"NOT {render(node.child)}"
    glue = " AND " if isinstance(node, And) else " OR "
    return "(" + glue.join(render(child) for child in node.children) + ")"


def evaluate(node: Node, text: str) -> bool:
    """The meaning of a tree, written independently of :func:`matches`."""
    if isinstance(node, Term):
        return collapse(node.text) in text
    if isinstance(node, Not):
        return not evaluate(node.child, text)
    results = [evaluate(child, text) for child in node.children]
    return all(results) if isinstance(node, And) else any(results)


class TestRoundTrip:
    """GIVEN a query tree WHEN written as a string, parsed back and matched THEN it means
    the same as the tree on every text."""

    @settings(max_examples=300)
    @given(trees, st.lists(st.sampled_from([*WORDS, "VIP", "的", " "]), max_size=6))
    def test_render_parse_match(self, tree: Node, words: list[str]) -> None:
        """GIVEN a tree and a text WHEN rendered and parsed THEN matches() agrees."""
        text = collapse("".join(words))
        assert matches(parse(render(tree)), text) == evaluate(tree, text)
