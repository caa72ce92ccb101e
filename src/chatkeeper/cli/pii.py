"""``chatkeeper pii scan``: find personal data in text read from standard input."""

from __future__ import annotations

import sys

import typer

from chatkeeper.cli.common import Json, print_json
from chatkeeper.services.privacy import scan

pii_app = typer.Typer(help="Personal-data detection.", no_args_is_help=True)


@pii_app.command("scan")
def scan_command(as_json: Json = False) -> None:
    """Read one text per line from standard input; print one JSON object of spans per line."""
    lines = (line.rstrip("\r\n") for line in sys.stdin)
    for result in scan(lines):
        print_json(result)
