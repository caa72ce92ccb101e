"""Reading the audit log: list events with filters, export them as CSV or JSON."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from chatkeeper.domain import Actor
from chatkeeper.errors import SearchError, StoreError
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.search import format_time

COLUMNS = (
    "ledger_index", "at", "actor", "roles", "action", "target_kind", "target_id", "source",
    "address", "reason", "result", "details", "approval_id",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which events to list (all given conditions must hold)."""

    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def list_events(ctx: Context, actor: Actor, query: AuditFilter) -> list[dict[str, Any]]:
    """Events, newest first, as dictionaries (times in ISO 8601); the listing is audited."""
    authorize(ctx, actor, "audit.list")
    rows = _events(ctx, query)
    with ctx.archive.writer() as writer:
        writer.audit(actor, "audit.listed", details={"events": len(rows)})
    return rows


def _events(ctx: Context, query: AuditFilter) -> list[dict[str, Any]]:
    if not 1 <= query.limit <= 100_000:
        raise SearchError("limit must be between 1 and 100000", field="limit")
    mark = "?" if ctx.archive.dialect == "sqlite" else "%s"
    where: list[str] = ["1 = 1"]
    params: list[object] = []
    if query.action:
        where.append(f"action = {mark}")
        params.append(query.action)
    if query.actor:
        where.append(f"actor = {mark}")
        params.append(query.actor)
    if query.since:
        where.append(f"at >= {mark}")
        params.append(int(query.since.timestamp() * 1000))
    if query.until:
        where.append(f"at < {mark}")
        params.append(int(query.until.timestamp() * 1000))
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM audit_events WHERE {' AND '.join(where)} "
        f"ORDER BY id DESC LIMIT {int(query.limit)}"
    )
    offset = ctx.settings.display.utc_offset_minutes
    with ctx.archive.reader() as conn:
        rows = [
            dict(zip(COLUMNS, row, strict=True)) for row in conn.exec_driver_sql(sql, tuple(params))
        ]
    for row in rows:
        row["at"] = format_time(int(row["at"]), offset)
        row["details"] = orjson.loads(row["details"]) if row["details"] else None
    return rows


def export_events(ctx: Context, actor: Actor, query: AuditFilter, path: Path, fmt: str) -> int:
    """Write events to a CSV or JSON file; the export is itself an audited event."""
    authorize(ctx, actor, "audit.export")
    if fmt not in ("csv", "json"):
        raise SearchError("the export format must be csv or json", field="format")
    rows = _events(ctx, query)
    try:
        if fmt == "json":
            path.write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2))
        else:
            with path.open("w", encoding="utf-8-sig", newline="") as handle:
                table = csv.DictWriter(handle, fieldnames=COLUMNS)
                table.writeheader()
                for row in rows:
                    table.writerow({**row, "details": orjson.dumps(row["details"]).decode()
                                     if row["details"] else ""})  # fmt: skip
    except OSError as exc:
        raise StoreError(f"{path}: cannot write the export ({exc.strerror})") from exc
    with ctx.archive.writer() as writer:
        writer.audit(actor, "audit.exported", details={"events": len(rows), "format": fmt})
    return len(rows)
