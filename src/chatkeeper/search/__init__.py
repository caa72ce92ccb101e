"""Chinese full-text search: the query language and the bigram tokenisation every index uses.

The backends that store and query the index live in ``chatkeeper.store.search``; this package
knows no SQL.
"""

from chatkeeper.search.query import And, Node, Not, Or, Term, is_bounded, matches, parse, terms
from chatkeeper.search.tokens import filter_token, fold, phrase_tokens, text_tokens

__all__ = [
    "And",
    "Node",
    "Not",
    "Or",
    "Term",
    "filter_token",
    "fold",
    "is_bounded",
    "matches",
    "parse",
    "phrase_tokens",
    "terms",
    "text_tokens",
]
