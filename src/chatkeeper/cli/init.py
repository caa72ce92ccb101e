"""``chatkeeper init``: create (or migrate) the data folder and the database, and the first
administrator."""

from __future__ import annotations

import os

from chatkeeper.cli.common import DataDir, Json, console, guarded, opened, print_json
from chatkeeper.governance.passwords import check_new_password
from chatkeeper.services.accounts import create_first_admin


def init(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Create the data folder and the database schema, or bring them up to date.

    The first run also creates the user ``admin``, with the password in
    CHATKEEPER_ADMIN_PASSWORD, or a generated one printed once.
    """
    password = os.environ.get("CHATKEEPER_ADMIN_PASSWORD") or None
    if password is not None:  # refused before anything is created
        guarded(as_json, lambda: check_new_password(password, "CHATKEEPER_ADMIN_PASSWORD"))
    with opened(data_dir, as_json, create=True) as ctx:
        url = ctx.settings.effective_database_url
        backend = ctx.archive.dialect
        admin = create_first_admin(ctx, password)
        if as_json:
            out: dict[str, object] = {
                "ok": True,
                "data_dir": str(ctx.data_dir),
                "database": backend,
            }
            if admin is not None:
                out["admin"] = admin.name
                if admin.generated_password:
                    out["admin_password"] = admin.generated_password
            print_json(out)
            return
        console.print(f"Initialised [bold]{ctx.data_dir}[/] ({backend}: {url.split('@')[-1]})")
        if admin is not None and admin.generated_password:
            console.print(
                f"created user [bold]admin[/] with password [bold]{admin.generated_password}[/]"
                " (shown only this once: keep it safe)",
                highlight=False,
            )
        elif admin is not None:
            console.print("created user [bold]admin[/] (password from CHATKEEPER_ADMIN_PASSWORD)")
