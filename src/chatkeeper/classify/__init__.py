"""Classification: service-type rules and the risk lexicon.

Pure: no SQL, no network, no I/O beyond reading the lexicon and rule files.

This package owns the risk lexicon (:class:`Lexicon`: terms with a category and a
:class:`RiskLevel`, matched in one Aho-Corasick pass over NFKC-normalised, case-folded text),
the classification rules (:class:`Rules`: a message's service type and the customer tags it
adds), :func:`combine`, which decides a conversation's class from its messages' classes as they
arrive in batches, and the file formats of both (docs/classification.md), with their shipped
defaults in ``classify/data/``.

It leaves to callers: where the configuration comes from (``Lexicon.from_mapping`` and
``Rules.from_mapping`` take the settings' table, ``from_toml`` a file), which records to
classify, storing each conversation's :class:`ConversationClass` between batches, and what a
risk level leads to (review, alerts).

Typical use::

    lexicon, rules = Lexicon.default(), Rules.default()
    risk = lexicon.match(message.text)     # RiskMatch(level, categories, terms, count)
    current = combine(current, rules.classify(message), message.service_type)
"""

from chatkeeper.classify.conversation import ConversationClass, combine
from chatkeeper.classify.errors import ClassifyError
from chatkeeper.classify.lexicon import Lexicon, RiskLevel, RiskMatch
from chatkeeper.classify.rules import MessageClass, Rules

__all__ = [
    "ClassifyError",
    "ConversationClass",
    "Lexicon",
    "MessageClass",
    "RiskLevel",
    "RiskMatch",
    "Rules",
    "combine",
]
