"""``chatkeeper search``: Chinese full-text search with filters."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from typing import Annotated

import typer
from rich.table import Table

from chatkeeper.cli.common import DataDir, Json, actor, console, guarded, opened, print_json
from chatkeeper.errors import SearchError
from chatkeeper.services.privacy import find_by_value
from chatkeeper.services.search import MARK_CLOSE, MARK_OPEN, SearchRequest, SearchResult, search

Many = Annotated[list[str] | None, typer.Option(show_default=False)]
SHANGHAI = timezone(timedelta(hours=8))


def _moment(value: str | None, name: str, *, end: bool = False) -> datetime | None:
    """A date (whole day, Asia/Shanghai) or an ISO time; ``--to`` 2025-01-31 includes that day."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).date()
            moment = datetime.combine(day, time(), tzinfo=SHANGHAI)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SearchError(
            f"--{name} must be a date (2025-01-31) or an ISO time (2025-01-31T08:00:00+08:00)",
            field=name,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def search_command(
    query: Annotated[
        str | None, typer.Argument(help='Terms, "phrases", AND / OR / NOT, ( ).')
    ] = None,
    pii: Annotated[
        str | None,
        typer.Option("--pii", help="Every message mentioning this personal value, any form."),
    ] = None,
    since: Annotated[str | None, typer.Option("--from", help="From this date or time.")] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Up to this date (inclusive) or time.")
    ] = None,
    platform: Many = None,
    department: Many = None,
    agent: Many = None,
    customer: Many = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Customer tag.")] = None,
    service_type: Many = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="Sender role.")] = None,
    sort: Annotated[str, typer.Option("--sort", help="time or relevance.")] = "time",
    limit: Annotated[int | None, typer.Option("--limit", help="Hits per page.")] = None,
    offset: Annotated[int, typer.Option("--offset", help="Hits to skip.")] = 0,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Find messages; the total is exact. Repeat a filter option to allow several values."""
    if pii is not None:
        with opened(data_dir, as_json) as ctx:
            found = find_by_value(ctx, actor(), pii, limit or 100)
        _print(found, as_json)
        return
    if query is None:
        guarded(as_json, _no_query)
    request = guarded(
        as_json,
        lambda: SearchRequest(
            query=query or "",
            since=_moment(since, "from"),
            until=_moment(until, "to", end=True),
            platforms=tuple(platform or ()),
            departments=tuple(department or ()),
            agents=tuple(agent or ()),
            customers=tuple(customer or ()),
            customer_tags=tuple(tag or ()),
            service_types=tuple(service_type or ()),
            sender_roles=tuple(role or ()),
            order=sort,
            limit=limit,
            offset=offset,
        ),
    )
    with opened(data_dir, as_json) as ctx:
        result = search(ctx, actor(), request)
    _print(result, as_json)


def _no_query() -> None:
    raise SearchError("give a QUERY, or --pii VALUE", field="query")


def _print(result: SearchResult, as_json: bool) -> None:
    if as_json:
        print_json(result.as_dict())
        return
    shown = f"{result.offset + 1}-{result.offset + len(result.hits)}" if result.hits else "none"
    console.print(f"[bold]{result.total}[/] messages match; showing {shown}")
    if not result.hits:
        return
    table = Table(show_lines=False)
    for column in ("time", "conversation", "role", "message"):
        table.add_column(column)
    for hit in result.hits:
        text = hit.snippet.replace("[", "\\[")
        text = text.replace(MARK_OPEN, "[bold yellow]").replace(MARK_CLOSE, "[/]")
        table.add_row(
            hit.sent_at[:19].replace("T", " "), hit.conversation_id, hit.sender_role, text
        )
    console.print(table)
