"""The classification step: service-type rules and the risk lexicon, on the original text.

It runs before the privacy step masks the text (a rule or a lexicon term may need what the
masking hides, such as "12315"), and records only the outcome: the rule that matched, its
service type, priority and tags (tags go onto the record's customer tags), and the lexicon
terms matched, which are lexicon entries, never chat text.
"""

from __future__ import annotations

from chatkeeper.classify import Lexicon, Rules
from chatkeeper.domain import RecordKind
from chatkeeper.ingest.pipeline import Batch


class ClassifyStep:
    """Classify each pending record and mark its risk (pure: runs in reader processes)."""

    name, transactional = "classify", False

    def __init__(self, rules: Rules, lexicon: Lexicon) -> None:
        self.rules = rules
        self.lexicon = lexicon

    def __call__(self, batch: Batch) -> None:
        """Set ``item.klass`` and ``item.risk``; add rule tags to the customer tags."""
        for item in batch.pending():
            record = item.record
            if record is None:
                continue
            klass = self.rules.classify(record)
            if klass.service_type is not None or klass.tags:
                item.klass = klass
            if klass.tags and record.customer_id:
                tags = tuple(sorted({*record.customer_tags, *klass.tags}))
                if tags != record.customer_tags:
                    item.record = record._replace(customer_tags=tags)
            if record.kind is RecordKind.MESSAGE and record.text:
                match = self.lexicon.match(record.text)
                if match.count:
                    item.risk = match
