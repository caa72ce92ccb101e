"""``chatkeeper keys rotate``: a new key-encryption key; data keys rewrapped, data untouched."""

from __future__ import annotations

import typer

from chatkeeper.cli.common import Approval, DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.keys import rotate_kek

keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)


@keys_app.command("rotate")
def rotate(approval: Approval = None, data_dir: DataDir = None, as_json: Json = False) -> None:
    """Replace the key-encryption key and rewrap every data key under the new one."""
    with opened(data_dir, as_json) as ctx:
        result = rotate_kek(ctx, actor(), approval)
    if as_json:
        print_json(result)
    else:
        console.print(
            f"rewrapped {result['rewrapped']} data keys under {result['kek_id']}; "
            f"the previous key-encryption key {result['previous_kek_id']} was destroyed"
        )
