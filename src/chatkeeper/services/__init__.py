"""Application services: every use case the edges (CLI, API, web, scheduler) call.

Each call takes an :class:`~chatkeeper.domain.Actor`; the rules live here, never in an edge.
"""

from chatkeeper.services.context import Context, open_context

__all__ = ["Context", "open_context"]
