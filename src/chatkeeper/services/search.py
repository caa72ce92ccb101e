"""Search: a query and filters in, one page of highlighted hits and the exact total out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from chatkeeper.domain import Actor, SenderRole
from chatkeeper.errors import SearchError
from chatkeeper.search import filter_token, fold, parse, terms
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.store import ids
from chatkeeper.store.search import ROLE_CODES, IndexQuery

SNIPPET_CHARS = 80
MARK_OPEN, MARK_CLOSE = "«", "»"


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A search: query text, filters (lists mean "any of"), order and page."""

    query: str
    since: datetime | None = None
    until: datetime | None = None
    platforms: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    customer_tags: tuple[str, ...] = ()
    service_types: tuple[str, ...] = ()
    sender_roles: tuple[str, ...] = ()
    order: str = "time"
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching message."""

    conversation_id: str
    message_id: str
    platform: str
    sent_at: str
    sender_role: str
    snippet: str


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The exact total and the requested page."""

    total: int
    hits: list[Hit] = field(default_factory=list)
    limit: int = 0
    offset: int = 0

    def as_dict(self) -> dict[str, object]:
        """The ``--json`` shape."""
        return {
            "total": self.total,
            "hits": [
                {
                    "conversation_id": h.conversation_id,
                    "message_id": h.message_id,
                    "sent_at": h.sent_at,
                    "sender_role": h.sender_role,
                    "snippet": h.snippet,
                }
                for h in self.hits
            ],
        }


def _ms(moment: datetime, name: str) -> int:
    if moment.tzinfo is None:
        raise SearchError(f"'{name}' needs a UTC offset", field=name)
    return int(moment.timestamp() * 1000)


def format_time(ms: int, offset_minutes: int) -> str:
    """ISO 8601 with the offset the message was sent in."""
    zone = timezone(timedelta(minutes=offset_minutes))
    moment = datetime.fromtimestamp(ms / 1000, tz=zone)
    return moment.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")


def snippet(text: str | None, needles: list[str], width: int = SNIPPET_CHARS) -> str:
    """A window of the text around the first match, every match marked «like this»."""
    if not text:
        return ""
    flat = " ".join(text.split())
    folded = fold(flat)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        start = folded.find(needle)
        while needle and start != -1:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    first = merged[0][0] if merged else 0
    left = max(0, min(first - width // 4, len(flat) - width))
    right = min(len(flat), left + width)
    out = ["…" if left else ""]
    cursor = left
    for start, end in merged:
        if end <= left or start >= right:
            continue
        start, end = max(start, left), min(end, right)
        out.append(flat[cursor:start] + MARK_OPEN + flat[start:end] + MARK_CLOSE)
        cursor = end
    out.append(flat[cursor:right] + ("…" if right < len(flat) else ""))
    return "".join(out)


def _filter_values(request: SearchRequest) -> list[tuple[str, object]]:
    return [
        ("platform", request.platforms), ("department", request.departments),
        ("agent", request.agents), ("customer", request.customers),
        ("customer_tag", request.customer_tags), ("service_type", request.service_types),
        ("sender_role", request.sender_roles), ("since", request.since), ("until", request.until),
    ]  # fmt: skip


def hit(row: dict[str, object], snippet_text: str) -> Hit:
    """A hit from a row of ``SqlArchive.messages_by_id``."""
    return Hit(
        conversation_id=str(row["conversation_id"]),
        message_id=str(row["message_id"]),
        platform=str(row["platform"]),
        sent_at=format_time(int(row["sent_at"]), int(row["utc_offset"])),  # type: ignore[call-overload]
        sender_role=str(row["sender_role"]),
        snippet=snippet_text,
    )


def search(ctx: Context, actor: Actor, request: SearchRequest) -> SearchResult:
    """Run a search; ``QuerySyntaxError`` for a bad query, ``SearchError`` for bad filters."""
    permit = authorize(ctx, actor, "conversations.search")
    node = parse(request.query)
    limit = request.limit if request.limit is not None else ctx.settings.search.default_limit
    if not 0 <= limit <= ctx.settings.search.max_limit:
        raise SearchError(
            f"limit must be between 0 and {ctx.settings.search.max_limit}", field="limit"
        )
    if request.offset < 0:
        raise SearchError("offset must not be negative", field="offset")
    if request.order not in ("time", "relevance"):
        raise SearchError("order must be 'time' or 'relevance'", field="order")
    for role in request.sender_roles:
        if role not in ROLE_CODES:
            valid = ", ".join(r.value for r in SenderRole)
            raise SearchError(f"sender role '{role}' is not one of {valid}", field="sender_role")
    low, high = ids.id_range(
        _ms(request.since, "since") if request.since else None,
        _ms(request.until, "until") if request.until else None,
    )
    archive = ctx.archive
    with archive.reader() as connection:
        groups: list[tuple[str, ...]] = []
        for kind, letter, values in (
            ("platform", "p", request.platforms),
            ("department", "d", request.departments),
            ("agent", "a", request.agents),
            ("customer", "c", request.customers),
            ("customer_tag", "t", request.customer_tags),
            ("service_type", "s", request.service_types),
        ):
            if values:
                found = archive.filter_ids(connection, kind, list(values))
                if not found:
                    return SearchResult(0, [], limit, request.offset)
                groups.append(tuple(filter_token(letter, value) for value in found))
        if request.sender_roles:
            groups.append(tuple(filter_token("r", ROLE_CODES[r]) for r in request.sender_roles))
        scope = permit.filter_group()
        if scope is not None:
            if not scope:
                return SearchResult(0, [], limit, request.offset)
            groups.append(scope)
        result = archive.search_index(
            connection,
            IndexQuery(node, tuple(groups), low, high, request.order, limit, request.offset),
        )
        rows = archive.messages_by_id(connection, result.ids)
    # Recorded without the query or filter values: they may be personal data themselves.
    used = sorted(name for name, value in _filter_values(request) if value)
    details: dict[str, object] = {"total": result.total, "filters": used}
    if permit.grants:
        details["grants"] = sorted(permit.grants)
    with archive.writer() as writer:
        writer.audit(actor, "messages.searched", details=details)
    needles = terms(node)
    hits = [
        hit(row, snippet(row["text"], needles))
        for row in (rows[i] for i in result.ids if i in rows)
    ]
    return SearchResult(result.total, hits, limit, request.offset)
