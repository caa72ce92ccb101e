"""Personal data: recognizers for Chinese text, canonical forms, and masking operators.

Callers use :func:`~chatkeeper.privacy.analyzer.default_analyzer` to find personal data,
:func:`~chatkeeper.privacy.normalise.canonical_value` for the one written form of a value, and
:mod:`~chatkeeper.privacy.operators` to turn findings into masked text. Storage, keys and the
vault are left to the store and the ingest pipeline.
"""
