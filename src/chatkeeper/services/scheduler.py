"""The scheduler: runs the daily lifecycle job at the configured cron time, in the foreground,
for a service manager (systemd, supervisord) to keep alive. The API server will embed it later.

A run that fails is recorded (``lifecycle.ran`` with result ``failed``) and the loop goes on to
the next scheduled time; a run that did not happen (the process was down) shows in
``lifecycle status``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from chatkeeper.domain import Actor, Source
from chatkeeper.errors import ChatKeeperError
from chatkeeper.lifecycle.schedule import next_after
from chatkeeper.services.context import Context
from chatkeeper.services.lifecycle import run_lifecycle

SCHEDULER = Actor("scheduler", frozenset({"system"}), Source.SCHEDULER)


def run_scheduler(
    ctx: Context,
    *,
    sleep: Callable[[float], None] = time.sleep,
    runs: int | None = None,
    report: Callable[[str, dict[str, object] | None], None] | None = None,
) -> int:
    """Sleep until each scheduled time and run the job; returns after ``runs`` runs (never,
    when ``None``). ``sleep`` and ``ctx.clock`` are injectable for tests."""
    config = ctx.settings.lifecycle
    done = 0
    while runs is None or done < runs:
        now = datetime.fromtimestamp(ctx.clock(), UTC)
        due = next_after(config.schedule, now, config.timezone)
        if report is not None:
            report("waiting", {"next_run": due.isoformat()})
        while (wait := due.timestamp() - ctx.clock()) > 0:
            sleep(min(wait, 60.0))
        try:
            summary = run_lifecycle(ctx, SCHEDULER, scheduled_for=due)
            if report is not None:
                report("ran", summary)
        except ChatKeeperError as exc:  # recorded by run_lifecycle; the schedule goes on
            if report is not None:
                report("failed", {"error": str(exc.code), "message": exc.message})
        done += 1
    return done
