"""``chatkeeper scheduler``: run the daily lifecycle job at its scheduled time, in the
foreground (for systemd or another service manager to keep alive)."""

from __future__ import annotations

from chatkeeper.cli.common import DataDir, console, err_console, opened
from chatkeeper.services.scheduler import run_scheduler


def scheduler(data_dir: DataDir = None) -> None:
    """Run the lifecycle job at `lifecycle.schedule` (default 22:00 Asia/Shanghai), forever."""

    def report(event: str, details: dict[str, object] | None) -> None:
        if event == "waiting":
            console.print(f"next run at {(details or {}).get('next_run')}", highlight=False)
        elif event == "ran":
            d = details or {}
            console.print(
                f"ran: {d.get('archived')} to cold (planned), {d.get('to_recycle_bin')} to the"
                f" recycle bin, {d.get('purged')} purged, {d.get('held')} held",
                highlight=False,
            )
        else:
            err_console.print(f"[bold red]run failed[/]: {(details or {}).get('message')}")

    with opened(data_dir, False) as ctx:
        run_scheduler(ctx, report=report)
