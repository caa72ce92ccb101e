"""A conversation's class, combined from its messages' classes as they arrive in batches.

The rule (docs/classification.md): of all the rules that set a service type on any message,
the one with the highest priority wins, ties going to the one that arrived first. The source's
own service type (the platform's queue or the record's ``service_type``) wins over it unless
that winning rule has ``override_source``. Tags accumulate.

:func:`combine` folds one message's class into the conversation's class so far. Its result
does not depend on the order messages arrive in, with two exceptions: two *different* rules of
equal priority (the first to arrive wins), and two different source service types for one
conversation (the first one seen is kept).

Everything a later batch needs is in :class:`ConversationClass`, six plain values that the
store keeps as columns, so a batch can resume from what the previous one stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from chatkeeper.classify.rules import MessageClass

SOURCE = "source"


@dataclass(frozen=True, slots=True)
class ConversationClass:
    """A conversation's class so far.

    ``service_type`` is the decided type and ``rule`` who decided it: a rule's name,
    ``"source"`` for the source's own value, or None when nothing has yet. ``priority`` and
    ``override_source`` describe the highest-priority rule seen so far (0 and False when none),
    even when the source's value is shown instead; ``source_service_type`` is the source's own
    value (the first one seen). ``tags`` is the sorted union of every message's rule tags.
    """

    service_type: str | None = None
    rule: str | None = None
    priority: int = 0
    tags: tuple[str, ...] = ()
    override_source: bool = False
    source_service_type: str | None = None


def combine(
    current: ConversationClass | None, new: MessageClass, source_service_type: str | None
) -> ConversationClass:
    """The conversation's class once a message of class ``new`` is added to ``current``.

    ``current`` is None for a conversation's first message; ``source_service_type`` is the
    service type the source gave this message or its conversation (None when it gave none).
    """
    current = current or ConversationClass()
    source = current.source_service_type or source_service_type or None
    tags = current.tags
    if new.tags and not set(new.tags) <= set(tags):
        tags = tuple(sorted({*tags, *new.tags}))
    if new.service_type is None or new.priority <= current.priority:
        # The highest rule is unchanged; only a source value arriving now can change the winner.
        if source is not None and current.rule != SOURCE and not current.override_source:
            return ConversationClass(source, SOURCE, current.priority, tags, False, source)
        return replace(current, tags=tags, source_service_type=source)
    if source is not None and not new.override_source:
        return ConversationClass(source, SOURCE, new.priority, tags, False, source)
    return ConversationClass(
        new.service_type, new.rule, new.priority, tags, new.override_source, source
    )
