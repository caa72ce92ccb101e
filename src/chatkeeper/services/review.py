"""The review queue: risky conversations go agent → supervisor → legal, each with a deadline.

A conversation whose risk level reaches ``governance.review_level`` gets one review item when
it is ingested (or classified again). Each step is recorded with its comment and audited;
items past their stage's deadline are listed as overdue.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert, select, update

from chatkeeper.classify import RiskLevel
from chatkeeper.domain import Actor
from chatkeeper.governance import GovernanceError, PermissionDenied
from chatkeeper.governance.review import decisions, move
from chatkeeper.services.authz import authorize
from chatkeeper.services.context import Context
from chatkeeper.services.search import format_time
from chatkeeper.store import tables as t

DAY = 86_400_000


def open_reviews(ctx: Context, actor: Actor) -> int:
    """Open a review item for every conversation at or above the review level without one."""
    level = int(RiskLevel.parse(ctx.settings.governance.review_level))
    days = ctx.settings.governance.review_days
    now = ctx.now_ms()
    cc, ri = t.conversation_class, t.review_items
    with ctx.archive.writer() as writer:
        conn = writer.connection
        rows = conn.execute(
            select(cc.c.conversation_id, cc.c.risk_level)
            .outerjoin(ri, ri.c.conversation_id == cc.c.conversation_id)
            .where(cc.c.risk_level >= level, ri.c.id.is_(None))
        ).all()
        if rows:
            conn.execute(insert(ri), [
                {"conversation_id": cid, "stage": "agent", "state": "open", "risk_level": lvl,
                 "opened_at": now, "due_at": now + days.get("agent", 2) * DAY}
                for cid, lvl in rows
            ])  # fmt: skip
            writer.audit(actor, "review.opened", details={"items": len(rows)})
    return len(rows)


def _query(ctx: Context) -> Any:
    ri, c, p, d = t.review_items, t.conversations, t.platforms, t.departments
    return (
        select(
            ri,
            c.c.external_id,
            c.c.department_id,
            p.c.code.label("platform"),
            d.c.name.label("department"),
        )
        .join(c, c.c.id == ri.c.conversation_id)
        .join(p, p.c.id == c.c.platform_id)
        .outerjoin(d, d.c.id == c.c.department_id)
    )


def _public(ctx: Context, row: Any, now: int) -> dict[str, Any]:
    offset = ctx.settings.display.utc_offset_minutes
    return {
        "id": row["id"],
        "conversation_id": row["external_id"],
        "platform": row["platform"],
        "department": row["department"],
        "risk_level": RiskLevel(row["risk_level"]).name.lower(),
        "stage": row["stage"],
        "state": row["state"],
        "outcome": row["outcome"],
        "due_at": format_time(row["due_at"], offset),
        "overdue": row["state"] == "open" and row["due_at"] < now,
        "decisions": list(decisions(row["stage"])) if row["state"] == "open" else [],
    }


def list_reviews(
    ctx: Context, actor: Actor, *, overdue: bool = False, include_closed: bool = False
) -> list[dict[str, Any]]:
    """Review items within the actor's reach (open ones, or all), overdue ones if asked."""
    permit = authorize(ctx, actor, "review.list")
    now = ctx.now_ms()
    query = _query(ctx).order_by(t.review_items.c.due_at)
    if not include_closed:
        query = query.where(t.review_items.c.state == "open")
    if overdue:
        query = query.where(t.review_items.c.due_at < now)
    with ctx.archive.writer() as writer:
        rows = [
            r
            for r in writer.connection.execute(query).mappings()
            if permit.covers(r["conversation_id"], r["department_id"])
        ]
        writer.audit(actor, "review.listed", details={"items": len(rows), "overdue": overdue})
    return [_public(ctx, r, now) for r in rows]


def _item(ctx: Context, connection: Any, actor: Actor, permit: Any, item_id: int) -> Any:
    row = connection.execute(_query(ctx).where(t.review_items.c.id == item_id)).mappings().first()
    if row is None:
        raise GovernanceError(f"there is no review item {item_id}", field="id")
    if not permit.covers(row["conversation_id"], row["department_id"]):
        raise PermissionDenied(f"review item {item_id} is outside what {actor.name} may reach")
    return row


def show_review(ctx: Context, actor: Actor, item_id: int) -> dict[str, Any]:
    """One item with its steps and the lexicon terms that raised it."""
    permit = authorize(ctx, actor, "review.list")
    offset = ctx.settings.display.utc_offset_minutes
    with ctx.archive.writer() as writer:
        conn = writer.connection
        row = _item(ctx, conn, actor, permit, item_id)
        steps = conn.execute(
            select(t.review_steps).where(t.review_steps.c.item_id == item_id)
            .order_by(t.review_steps.c.id)
        ).mappings().all()  # fmt: skip
        terms = conn.execute(
            select(t.conversation_class.c.risk_terms).where(
                t.conversation_class.c.conversation_id == row["conversation_id"]
            )
        ).scalar()
        writer.audit(actor, "review.viewed", target_kind="review", target_id=str(item_id))
    out = _public(ctx, row, ctx.now_ms())
    out["risk_terms"] = orjson.loads(terms) if terms else []
    out["steps"] = [
        {"stage": s["stage"], "actor": s["actor"], "decision": s["decision"],
         "comment": s["comment"], "at": format_time(s["at"], offset)}
        for s in steps
    ]  # fmt: skip
    return out


def submit_review(
    ctx: Context, actor: Actor, item_id: int, decision: str, comment: str
) -> dict[str, Any]:
    """Record the current stage's decision with its comment; move the item on or close it."""
    permit = authorize(ctx, actor, "review.submit")
    if not comment.strip():
        raise GovernanceError("a review step needs a comment", field="comment")
    now = ctx.now_ms()
    with ctx.archive.writer() as writer:
        conn = writer.connection
        row = _item(ctx, conn, actor, permit, item_id)
        if row["state"] != "open":
            raise GovernanceError(f"review item {item_id} is closed ({row['outcome']})")
        following, outcome = move(row["stage"], decision, actor.roles)
        conn.execute(insert(t.review_steps).values(
            item_id=item_id, stage=row["stage"], actor=actor.name, decision=decision,
            comment=comment, at=now,
        ))  # fmt: skip
        values: dict[str, Any]
        if following is None:
            values = {"state": "closed", "outcome": outcome, "closed_at": now}
        else:
            days = ctx.settings.governance.review_days.get(following, 3)
            values = {"stage": following, "due_at": now + days * DAY}
        conn.execute(update(t.review_items).where(t.review_items.c.id == item_id).values(**values))
        writer.audit(actor, "review.submitted", target_kind="review", target_id=str(item_id),
                     reason=comment, details={"stage": row["stage"], "decision": decision,
                                              "outcome": outcome})  # fmt: skip
    if outcome == "hold":  # legal decided the conversation must be kept: a legal hold on it
        from chatkeeper.services.holds import create_hold

        create_hold(ctx, actor, f"review-{item_id}", reason=comment,
                    conversations=[row["external_id"]])  # fmt: skip
    return show_review(ctx, actor, item_id)
