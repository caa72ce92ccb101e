"""The search query language: terms, "quoted phrases", AND / OR / NOT, parentheses.

Grammar (keywords are upper case; a lower-case ``and`` is an ordinary term)::

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          # juxtaposition means AND
    unary   := ("NOT" | "-") unary | primary
    primary := "(" query ")" | '"' phrase '"' | term

A term or phrase matches a message whose text contains it (after folding case and width;
whitespace inside a phrase matches any whitespace). :func:`matches` is that definition as code:
the linear scan the index is tested against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatkeeper.errors import QuerySyntaxError
from chatkeeper.search.tokens import fold


@dataclass(frozen=True, slots=True)
class Term:
    """A string the text must contain (a plain term, or a quoted phrase)."""

    text: str

    @property
    def folded(self) -> str:
        """The term as compared against folded text, whitespace runs made one space."""
        return " ".join(fold(self.text).split())


@dataclass(frozen=True, slots=True)
class And:
    """Every child matches."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one child matches."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The child does not match."""

    child: Node


Node = Term | And | Or | Not

_TOKEN = re.compile(
    r'\s*(?:(?P<minus>-(?=[("]))|(?P<paren>[()])|"(?P<phrase>[^"]*)(?P<close>"?)'
    r'|(?P<word>[^\s()"]+))'
)
MAX_DEPTH = 64
_KEYWORDS = {"AND", "OR", "NOT"}


def _lex(query: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            break
        start = len(query[: match.end()]) - len(match.group(0).lstrip())
        if match.group("minus"):
            tokens.append(("op", "NOT", start))
        elif match.group("paren"):
            tokens.append(("paren", match.group("paren"), start))
        elif match.group("phrase") is not None:
            if not match.group("close"):
                raise QuerySyntaxError(
                    f"unclosed quote at position {start + 1}", position=start + 1
                )
            tokens.append(("phrase", match.group("phrase"), start))
        else:
            word = match.group("word")
            if word in _KEYWORDS:
                tokens.append(("op", word, start))
            elif word.startswith("-") and len(word) > 1:
                tokens.append(("op", "NOT", start))
                tokens.append(("term", word[1:], start + 1))
            else:
                tokens.append(("term", word, start))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = _lex(query)
        self.index = 0
        self.depth = 0

    def deeper(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(
                f"the query nests more than {MAX_DEPTH} levels deep at position {position + 1}",
                position=position + 1,
            )

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise QuerySyntaxError("the query is empty")
        node = self.parse_or()
        extra = self.peek()
        if extra is not None:
            raise QuerySyntaxError(
                f"unexpected '{extra[1]}' at position {extra[2] + 1}", position=extra[2] + 1
            )
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while (token := self.peek()) is not None and token[:2] == ("op", "OR"):
            self.take()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while (token := self.peek()) is not None and token[:2] not in (
            ("op", "OR"),
            ("paren", ")"),
        ):
            if token[:2] == ("op", "AND"):
                self.take()
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("the query ends where a term was expected")
        if token[:2] == ("op", "NOT"):
            self.take()
            self.deeper(token[2])
            node = Not(self.parse_unary())
            self.depth -= 1
            return node
        return self.parse_primary()

    def parse_primary(self) -> Node:
        kind, value, position = self.take()
        if kind == "paren" and value == "(":
            self.deeper(position)
            node = self.parse_or()
            self.depth -= 1
            closing = self.peek()
            if closing is None or closing[:2] != ("paren", ")"):
                raise QuerySyntaxError(
                    f"the '(' at position {position + 1} is never closed", position=position + 1
                )
            self.take()
            return node
        if kind in ("term", "phrase") and value.strip():
            return Term(value)
        what = "an empty phrase" if kind == "phrase" else f"'{value}'"
        raise QuerySyntaxError(
            f"expected a term at position {position + 1}, found {what}", position=position + 1
        )


def parse(query: str) -> Node:
    """Parse a query; ``QuerySyntaxError`` names the position or the construct at fault."""
    node = _Parser(query).parse()
    if not is_bounded(node):
        raise QuerySyntaxError(
            "NOT can only exclude from terms it is combined with by AND "
            "(for example: 退款 NOT 发票)"
        )
    return node


def is_bounded(node: Node) -> bool:
    """Whether the query's matches are found from its terms (no bare or OR-ed NOT).

    Every index can answer such a query; a query that matches "everything except ..." is
    refused as a whole rather than answered slowly or differently on some backend.
    """
    if isinstance(node, Term):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, Or):
        return all(is_bounded(child) for child in node.children)
    return any(is_bounded(child) for child in node.children) and all(
        is_bounded(child) or (isinstance(child, Not) and is_bounded(child.child))
        for child in node.children
    )


def matches(node: Node, folded_text: str) -> bool:
    """Whether a message whose folded, whitespace-collapsed text is given matches the query.

    Callers pass ``" ".join(fold(text).split())``.
    """
    if isinstance(node, Term):
        return node.folded in folded_text
    if isinstance(node, And):
        return all(matches(child, folded_text) for child in node.children)
    if isinstance(node, Or):
        return any(matches(child, folded_text) for child in node.children)
    return not matches(node.child, folded_text)


def terms(node: Node) -> list[str]:
    """The positive terms of a query, for highlighting."""
    if isinstance(node, Term):
        return [node.folded]
    if isinstance(node, Not):
        return []
    out: list[str] = []
    for child in node.children:
        out.extend(terms(child))
    return out
