"""``chatkeeper classify``: classify stored conversations (again)."""

from __future__ import annotations

from typing import Annotated

import typer

from chatkeeper.cli.common import DataDir, Json, actor, console, opened, print_json
from chatkeeper.services.classify import classify_conversations


def classify(
    rerun: Annotated[
        bool, typer.Option("--rerun", help="Classify every conversation again, not only new ones.")
    ] = False,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Set service types, customer tags and risk levels by the configured rules and lexicon."""
    with opened(data_dir, as_json) as ctx:
        result = classify_conversations(ctx, actor(), rerun=rerun)
    if as_json:
        print_json(result)
    else:
        console.print(
            f"classified {result['conversations']} conversations: {result['retyped']} changed"
            f" service type, {result['with_risk']} with risk terms,"
            f" {result['reviews_opened']} new review items"
        )
