"""Legal holds: make, list, show and release them; which conversations they cover.

A hold stores its criteria (customer ids, conversation ids, departments, a service-date range,
a search query) and covers every conversation that matches any of them when asked, so it
covers conversations ingested after it was made; the query is evaluated by the real full-text
index. Releasing a hold is a key operation (``hold.release``). The audit log names the hold by
its number and the kinds of criteria it uses, never the customer ids or the query text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from chatkeeper.domain import Actor
from chatkeeper.errors import NotFound
from chatkeeper.governance import GovernanceError
from chatkeeper.lifecycle import LegalHold
from chatkeeper.lifecycle.errors import LegalHoldActive
from chatkeeper.search import parse
from chatkeeper.services.authz import authorize, authorized
from chatkeeper.services.context import Context
from chatkeeper.services.search import format_time
from chatkeeper.store import lifecycle as rows

#: The kinds of criteria, in the order they are shown.
KINDS = ("customers", "conversations", "departments", "service_dates", "query")


def _names(values: Iterable[str]) -> list[str]:
    return sorted({v.strip() for v in values if v and v.strip()})


def _ms(moment: datetime, name: str) -> int:
    if moment.tzinfo is None:
        raise GovernanceError(f"--{name} needs a UTC offset", field=name)
    return int(moment.timestamp() * 1000)


def hold_criteria(
    *,
    customers: Sequence[str] = (),
    conversations: Sequence[str] = (),
    departments: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    query: str | None = None,
) -> dict[str, Any]:
    """The criteria as stored, checked by the lifecycle core (a hold without criteria, or with
    a range that ends before it starts, is refused) and the query by the search parser."""
    if (since is None) != (until is None):
        raise GovernanceError("a service-date range needs both --from and --to", field="from")
    dates = None if since is None or until is None else (since, until)
    query = query.strip() if query and query.strip() else None
    criteria: dict[str, Any] = {
        "customers": _names(customers),
        "conversations": _names(conversations),
        "departments": _names(departments),
        "service_dates": None if dates is None else [_ms(dates[0], "from"), _ms(dates[1], "to")],
        "query": query,
    }
    if not any(criteria.values()):
        raise GovernanceError(
            "a legal hold needs criteria: --customer, --conversation, --department,"
            " --from with --to, or --query",
            field="criteria",
        )
    if dates is not None and not dates[0] < dates[1]:
        raise GovernanceError("--from must be before --to", field="from")
    LegalHold("new", frozenset(criteria["customers"]), frozenset(criteria["conversations"]),
              frozenset(criteria["departments"]), dates, query)  # fmt: skip
    if query is not None:
        parse(query)
    return criteria


def _kinds(criteria: Mapping[str, Any]) -> list[str]:
    return [kind for kind in KINDS if criteria.get(kind)]


def _covered(ctx: Context, connection: Any, criteria: Mapping[str, Any],
             within: Sequence[int] | None = None) -> set[int]:  # fmt: skip
    node = parse(criteria["query"]) if criteria.get("query") else None
    return rows.covered(connection, ctx.archive.search_index, criteria, node, within)


def _public(ctx: Context, hold: Mapping[str, Any], covered: int | None = None) -> dict[str, Any]:
    offset = ctx.settings.display.utc_offset_minutes
    criteria = orjson.loads(hold["criteria"])
    out: dict[str, Any] = {
        "id": hold["id"], "name": hold["name"],
        "state": "released" if hold["released_at"] is not None else "active",
        "reason": hold["reason"], "criteria": _kinds(criteria),
        "created_at": format_time(hold["created_at"], offset), "created_by": hold["created_by"],
        "released_at": None, "released_by": hold["released_by"],
        "release_reason": hold["release_reason"],
        "release_approval_request": hold["release_approval_id"],
    }  # fmt: skip
    if hold["released_at"] is not None:
        out["released_at"] = format_time(hold["released_at"], offset)
    if covered is not None:
        out["covered"] = covered
    return out


def create_hold(
    ctx: Context,
    actor: Actor,
    name: str,
    reason: str,
    *,
    customers: Sequence[str] = (),
    conversations: Sequence[str] = (),
    departments: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    query: str | None = None,
) -> dict[str, Any]:
    """Put a legal hold on every conversation, present and future, matching any criterion
    (``since``/``until``: a half-open service-date range ``[since, until)``)."""
    authorize(ctx, actor, "hold.create")
    name = name.strip()
    if not name or len(name) > 200:
        raise GovernanceError("a hold needs a name of 1-200 characters", field="name")
    if not reason.strip():
        raise GovernanceError("a legal hold needs a reason", field="reason")
    criteria = hold_criteria(customers=customers, conversations=conversations,
                             departments=departments, since=since, until=until,
                             query=query)  # fmt: skip
    with ctx.archive.writer() as writer:
        conn = writer.connection
        if rows.hold_named(conn, name) is not None:
            raise GovernanceError(f"a hold named '{name}' exists already", field="name")
        hold_id = rows.insert_hold(
            conn, name=name, reason=reason, created_by=actor.name, created_at=ctx.now_ms(),
            criteria=orjson.dumps(criteria, option=orjson.OPT_SORT_KEYS).decode(),
        )  # fmt: skip
        covered = len(_covered(ctx, conn, criteria))
        writer.audit(actor, "hold.created", target_kind="hold", target_id=str(hold_id),
                     reason=reason,
                     details={"criteria": _kinds(criteria), "covered": covered})  # fmt: skip
        hold = rows.hold_row(conn, hold_id)
    assert hold is not None
    return _public(ctx, hold, covered)


def list_holds(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """Every hold, active and released, with how many conversations each covers now."""
    authorize(ctx, actor, "hold.list")
    with ctx.archive.writer() as writer:
        holds = rows.hold_rows(writer.connection)
        out = [
            _public(ctx, h, len(_covered(ctx, writer.connection, orjson.loads(h["criteria"]))))
            for h in holds
        ]
        writer.audit(actor, "hold.listed", details={"holds": len(out)})
    return out


def _hold(connection: Any, hold_id: int) -> dict[str, Any]:
    hold = rows.hold_row(connection, hold_id)
    if hold is None:
        raise NotFound(f"there is no legal hold {hold_id}", hold=hold_id)
    return hold


def show_hold(ctx: Context, actor: Actor, hold_id: int) -> dict[str, Any]:
    """One hold: its criteria in full, the conversations it covers now, and counts (in all,
    per criterion, per department)."""
    authorize(ctx, actor, "hold.list")
    offset = ctx.settings.display.utc_offset_minutes
    with ctx.archive.writer() as writer:
        conn = writer.connection
        hold = _hold(conn, hold_id)
        criteria = orjson.loads(hold["criteria"])
        pks = sorted(_covered(ctx, conn, criteria))
        per_kind = {
            kind: len(_covered(ctx, conn, {kind: criteria[kind]})) for kind in _kinds(criteria)
        }
        covered = [
            {"conversation_id": r["external_id"], "platform": r["platform"],
             "department": r["department"], "service_type": r["service_type"],
             "service_date": format_time(r["ended_at"], offset)[:10]}
            for r in rows.conversation_rows(conn, pks)
        ]  # fmt: skip
        writer.audit(actor, "hold.viewed", target_kind="hold", target_id=str(hold_id),
                     details={"covered": len(pks)})  # fmt: skip
    dates = criteria.get("service_dates")
    by_department = Counter(c["department"] or "-" for c in covered)
    return {
        **_public(ctx, hold, len(pks)),
        "customers": criteria["customers"], "conversation_ids": criteria["conversations"],
        "departments": criteria["departments"], "query": criteria["query"],
        "from": None if not dates else format_time(dates[0], offset),
        "to": None if not dates else format_time(dates[1], offset),
        "counts": {"total": len(pks), "by_criterion": per_kind,
                   "by_department": dict(sorted(by_department.items()))},
        "conversations": covered,
    }  # fmt: skip


def release_hold(
    ctx: Context, actor: Actor, hold_id: int, reason: str, approval: int | None = None
) -> dict[str, Any]:
    """End a hold (a key operation: another legal user approves it first); the
    conversations it covered take their lifecycle steps again, unless another hold covers
    them."""
    if not reason.strip():
        raise GovernanceError("releasing a hold needs a reason", field="reason")

    def live(_: object) -> None:
        with ctx.archive.reader() as connection:
            if _hold(connection, hold_id)["released_at"] is not None:
                raise GovernanceError(f"legal hold {hold_id} is released already")

    with (
        authorized(ctx, actor, "hold.release", {"hold": hold_id}, approval, reason=reason,
                   check=live) as permit,
        ctx.archive.writer() as writer,
    ):  # fmt: skip
        released = rows.release_hold(
            writer.connection, hold_id, released_at=ctx.now_ms(), released_by=actor.name,
            release_reason=reason, release_approval_id=permit.approval_id,
        )  # fmt: skip
        if not released:
            raise GovernanceError(f"legal hold {hold_id} is released already")
        writer.audit(actor, "hold.released", target_kind="hold", target_id=str(hold_id),
                     reason=reason, approval_id=permit.approval_id)  # fmt: skip
        hold = _hold(writer.connection, hold_id)
    return _public(ctx, hold)


def held_conversations(ctx: Context, hold_ids: Sequence[int] | None = None) -> dict[int, set[int]]:
    """For the lifecycle service (which authorises and audits its own run): each active
    hold's id (all of them, or those of ``hold_ids``) and the conversation ids it covers."""
    with ctx.archive.reader() as connection:
        holds = rows.hold_rows(connection, live_only=True)
        return {
            h["id"]: _covered(ctx, connection, orjson.loads(h["criteria"]))
            for h in holds
            if hold_ids is None or h["id"] in hold_ids
        }


def holds_for(ctx: Context, conversation_pks: Sequence[int]) -> dict[int, tuple[int, ...]]:
    """For other services (which authorise and audit their own calls): the active holds
    covering each of these conversations (by conversation id; those no hold covers are
    left out). The lifecycle planner takes them as ``ConversationFacts.hold_ids``."""
    found: dict[int, list[int]] = {}
    pks = sorted(set(conversation_pks))
    if not pks:
        return {}
    with ctx.archive.reader() as connection:
        for hold in rows.hold_rows(connection, live_only=True):
            for pk in _covered(ctx, connection, orjson.loads(hold["criteria"]), pks):
                found.setdefault(pk, []).append(hold["id"])
    return {pk: tuple(sorted(ids)) for pk, ids in sorted(found.items())}


def ensure_not_held(ctx: Context, conversation_pk: int, label: str) -> None:
    """``LegalHoldActive`` (naming the holds) if any active hold covers the conversation: for
    a service about to delete or move one by hand."""
    held = holds_for(ctx, [conversation_pk]).get(conversation_pk)
    if held:
        raise LegalHoldActive(label, tuple(str(h) for h in held))
