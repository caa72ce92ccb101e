"""The ``chatkeeper`` command line: each command lives in its own module."""

from __future__ import annotations

import typer

from chatkeeper import __version__
from chatkeeper.cli.access import access_app
from chatkeeper.cli.approvals import approvals_app
from chatkeeper.cli.audit import audit_app
from chatkeeper.cli.bin import bin_app
from chatkeeper.cli.classify import classify
from chatkeeper.cli.common import SESSION
from chatkeeper.cli.demo import demo
from chatkeeper.cli.erase import erase
from chatkeeper.cli.evidence import evidence_app
from chatkeeper.cli.hold import hold_app
from chatkeeper.cli.ingest import ingest
from chatkeeper.cli.init import init
from chatkeeper.cli.keys import keys_app
from chatkeeper.cli.ledger import ledger_app
from chatkeeper.cli.lifecycle import lifecycle_app
from chatkeeper.cli.pii import pii_app
from chatkeeper.cli.retention import retention_app
from chatkeeper.cli.review import review_app
from chatkeeper.cli.scheduler import scheduler
from chatkeeper.cli.search import search_command
from chatkeeper.cli.show import show
from chatkeeper.cli.stats import stats
from chatkeeper.cli.unmask import offline, unmask
from chatkeeper.cli.users import user_app

app = typer.Typer(
    name="chatkeeper",
    help="ChatKeeper: the system of record for customer-service chat conversations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(init)
app.command()(ingest)
app.command("search")(search_command)
app.command()(show)
app.command()(stats)
app.command()(demo)
app.command()(unmask)
app.command()(offline)
app.add_typer(pii_app, name="pii")
app.add_typer(keys_app, name="keys")
app.add_typer(ledger_app, name="ledger")
app.add_typer(audit_app, name="audit")
app.add_typer(evidence_app, name="evidence")
app.add_typer(user_app, name="user")
app.add_typer(approvals_app, name="approvals")
app.add_typer(access_app, name="access")
app.add_typer(review_app, name="review")
app.add_typer(retention_app, name="retention")
app.add_typer(hold_app, name="hold")
app.add_typer(bin_app, name="bin")
app.add_typer(lifecycle_app, name="lifecycle")
app.command()(scheduler)
app.command()(erase)
app.command()(classify)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chatkeeper {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
    user: str | None = typer.Option(
        None,
        "--user",
        envvar="CHATKEEPER_USER",
        help="Act as this user (password: CHATKEEPER_PASSWORD or a prompt; or CHATKEEPER_TOKEN).",
    ),
) -> None:
    """ChatKeeper: the system of record for customer-service chat conversations."""
    SESSION.user = user


def main() -> None:
    """Entry point of the ``chatkeeper`` script."""
    app()
