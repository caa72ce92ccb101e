"""The ingest pipeline: ordered steps that take parsed records into the archive.

Callers (the ingest service) use :func:`default_steps` and :func:`batches`; later capabilities
insert their steps into that list.
"""

from chatkeeper.ingest.pipeline import Batch, Item, Outcome, Step, batches, default_steps

__all__ = ["Batch", "Item", "Outcome", "Step", "batches", "default_steps"]
