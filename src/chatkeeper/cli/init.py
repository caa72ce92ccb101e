"""``chatkeeper init``: create (or migrate) the data folder and the database."""

from __future__ import annotations

from chatkeeper.cli.common import DataDir, Json, console, opened, print_json


def init(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Create the data folder and the database schema, or bring them up to date."""
    with opened(data_dir, as_json, create=True) as ctx:
        url = ctx.settings.effective_database_url
        backend = ctx.archive.dialect
        if as_json:
            print_json({"ok": True, "data_dir": str(ctx.data_dir), "database": backend})
        else:
            console.print(f"Initialised [bold]{ctx.data_dir}[/] ({backend}: {url.split('@')[-1]})")
