"""Retention: the versioned policy, the statutory floors, and each conversation's deadline.

The rules are the pure ``chatkeeper.lifecycle`` core's (most specific rule wins, longest on a
tie, never below a floor); this service stores the policy's versions and the deadlines it
computes. The shipped defaults (``default_policy()``) are version 1 until a change is stored;
version 1 is written to the database, frozen, the first time a change or a deadline needs it.
A change is a key operation (``retention.change``): the approval approves the rules' content
hash, so what runs is what was approved, and a policy below a floor is refused before any
request is filed.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy.engine import Connection

from chatkeeper.domain import Actor
from chatkeeper.governance import GovernanceError
from chatkeeper.lifecycle import (
    NO_RULE,
    ConversationFacts,
    Floor,
    Resolver,
    RetentionPolicy,
    RetentionRule,
    State,
    check_floors,
    default_floors,
    default_policy,
    default_settings,
    parse_duration,
    parse_retention,
)
from chatkeeper.lifecycle.errors import LifecycleConfigError
from chatkeeper.services.authz import authorize, authorized
from chatkeeper.services.context import Context
from chatkeeper.services.search import format_time
from chatkeeper.store import lifecycle as rows

SHIPPED = "chatkeeper"  # who "created" version 1: the shipped defaults
_BATCH = 2_000  # deadlines written per statement group


def floors() -> tuple[Floor, ...]:
    """The statutory floors in force (the shipped table; docs/lifecycle.md "Floors")."""
    return default_floors()


def zone() -> ZoneInfo:
    """The calendar of month arithmetic (the lifecycle time zone, Asia/Shanghai)."""
    return ZoneInfo(default_settings().timezone)


def rules_json(policy: RetentionPolicy) -> list[dict[str, Any]]:
    """A policy's rules as stored and shown (order kept: it breaks the last ties)."""
    return [
        {"name": r.name, "service_type": r.service_type, "keep": str(r.keep),
         "department": r.department, "platform": r.platform, "tag": r.tag}
        for r in policy.rules
    ]  # fmt: skip


def content_hash(rules: Sequence[Mapping[str, Any]]) -> str:
    """The hex SHA-256 of the rules in canonical JSON: what an approval of a change approves."""
    return hashlib.sha256(orjson.dumps(list(rules), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _policy(version: int, stored: str) -> RetentionPolicy:
    return RetentionPolicy(
        version,
        tuple(
            RetentionRule(
                name=r["name"],
                service_type=r["service_type"],
                keep=parse_duration(r["keep"], field=f"policy version {version}: {r['name']}"),
                department=r.get("department"),
                platform=r.get("platform"),
                tag=r.get("tag"),
            )
            for r in orjson.loads(stored)
        ),
    )


def _shipped() -> RetentionPolicy:
    return RetentionPolicy(1, default_policy().rules)


def _current(connection: Connection) -> tuple[RetentionPolicy, dict[str, Any] | None]:
    row = rows.latest_policy_row(connection)
    if row is None:
        return _shipped(), None
    return _policy(row["version"], row["rules"]), row


def _stored_policy(connection: Connection, now: int) -> RetentionPolicy:
    """The current policy, storing version 1 (the shipped defaults) first if nothing is."""
    policy, row = _current(connection)
    if row is None:
        rules = rules_json(policy)
        rows.insert_policy(
            connection, version=1, rules=orjson.dumps(rules).decode(),
            content_hash=content_hash(rules), created_at=now, created_by=SHIPPED,
            approval_id=None, reason="shipped defaults",
        )  # fmt: skip
    return policy


def parse_policy(document: str, version: int, *, source: str = "policy") -> RetentionPolicy:
    """A policy file's ``[policy]`` table as version ``version`` (a ``version`` in the file
    must be that number). Floors and lifecycle settings are configuration, not policy: a
    file that holds them is refused. Errors name ``source`` and the key."""
    try:
        data = tomllib.loads(document)
    except tomllib.TOMLDecodeError as exc:
        raise LifecycleConfigError(f"{source}: not valid TOML ({exc})") from exc
    extra = sorted(set(data) - {"policy"})
    if extra:
        raise LifecycleConfigError(
            f"{source}: {extra[0]}: a policy file holds only [policy] and its [[policy.rules]];"
            " the floors and lifecycle settings are configuration (`retention show` lists them)",
            field=extra[0],
        )
    table = data.get("policy")
    if not isinstance(table, dict):
        raise LifecycleConfigError(f"{source}: policy: missing; write a [policy] table")
    given = table.get("version")
    if given is not None and given != version:
        raise LifecycleConfigError(
            f"{source}: policy.version: is {given!r}, but this change makes version {version};"
            f" leave it out or write {version}",
            field="policy.version",
        )
    return parse_retention({"policy": {**table, "version": version}}, source=source).policy


def _version_public(ctx: Context, row: Mapping[str, Any] | None) -> dict[str, Any]:
    if row is None:  # nothing stored: the shipped defaults
        rules = rules_json(_shipped())
        return {"version": 1, "stored": False, "created_at": None, "created_by": SHIPPED,
                "approval_request": None, "reason": "shipped defaults",
                "content_hash": content_hash(rules), "rules": rules}  # fmt: skip
    offset = ctx.settings.display.utc_offset_minutes
    return {
        "version": row["version"], "stored": True,
        "created_at": format_time(row["created_at"], offset), "created_by": row["created_by"],
        "approval_request": row["approval_id"], "reason": row["reason"],
        "content_hash": row["content_hash"], "rules": orjson.loads(row["rules"]),
    }  # fmt: skip


def floor_public(floor: Floor) -> dict[str, Any]:
    """One floor as shown."""
    return {
        "law": floor.law, "law_zh": floor.law_zh, "article": floor.article,
        "records": floor.scope.records, "service_types": sorted(floor.scope.service_types),
        "platforms": sorted(floor.scope.platforms), "minimum": str(floor.minimum),
    }  # fmt: skip


def show_policy(ctx: Context, actor: Actor) -> dict[str, Any]:
    """The policy in force (version, rules, who set it and why) and the floors table."""
    authorize(ctx, actor, "retention.show")
    with ctx.archive.writer() as writer:
        current = _version_public(ctx, rows.latest_policy_row(writer.connection))
        writer.audit(actor, "retention.viewed", target_kind="retention_policy",
                     target_id=str(current["version"]))  # fmt: skip
    return {**current, "timezone": default_settings().timezone,
            "floors": [floor_public(f) for f in floors()]}  # fmt: skip


def policy_history(ctx: Context, actor: Actor) -> list[dict[str, Any]]:
    """Every version of the policy, oldest first (only version 1 while nothing is stored)."""
    authorize(ctx, actor, "retention.show")
    with ctx.archive.writer() as writer:
        stored = rows.policy_rows(writer.connection)
        versions = [_version_public(ctx, r) for r in stored] or [_version_public(ctx, None)]
        writer.audit(actor, "retention.history_listed", details={"versions": len(versions)})
    return versions


def change_policy(
    ctx: Context,
    actor: Actor,
    document: str,
    reason: str,
    approval: int | None = None,
    *,
    source: str = "policy",
) -> dict[str, Any]:
    """Store a new version of the policy from a policy file's text (a key operation).

    Refused, with nothing stored and no request filed, when a rule is below a floor
    (``RetentionBelowFloor`` naming the law and article) or the rules are those in force.
    """
    if not reason.strip():
        raise GovernanceError("a policy change needs a reason", field="reason")
    with ctx.archive.reader() as connection:
        current, _ = _current(connection)
    policy = parse_policy(document, current.version + 1, source=source)
    rules = rules_json(policy)
    digest = content_hash(rules)

    def acceptable(_: object) -> None:
        check_floors(policy, floors())
        with ctx.archive.reader() as connection:
            now_in_force, _ = _current(connection)
        if content_hash(rules_json(now_in_force)) == digest:
            raise GovernanceError(
                f"these are the rules of version {now_in_force.version} already: nothing to change"
            )

    with (
        authorized(ctx, actor, "retention.change", {"policy": digest}, approval, reason=reason,
                   check=acceptable) as permit,
        ctx.archive.writer() as writer,
    ):  # fmt: skip
        now = ctx.now_ms()
        version = _stored_policy(writer.connection, now).version + 1
        rows.insert_policy(
            writer.connection, version=version, rules=orjson.dumps(rules).decode(),
            content_hash=digest, created_at=now, created_by=actor.name,
            approval_id=permit.approval_id, reason=reason,
        )  # fmt: skip
        writer.audit(actor, "retention.changed", target_kind="retention_policy",
                     target_id=str(version), reason=reason,
                     details={"version": version, "rules": len(rules), "content_hash": digest},
                     approval_id=permit.approval_id)  # fmt: skip
    return {"version": version, "content_hash": digest, "rules": rules,
            "approval_request": permit.approval_id}  # fmt: skip


def _moment(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def facts(row: Mapping[str, Any]) -> ConversationFacts:
    """The lifecycle facts of a row of ``store.lifecycle.conversation_rows``."""
    try:
        state = State(row["state"])
    except ValueError:
        state = State.ACTIVE
    return ConversationFacts(
        id=str(row["id"]), service_type=row["service_type"], ended_at=_moment(row["ended_at"]),  # type: ignore[arg-type]
        state=state, department=row["department"], platform=row["platform"],
        customer=row["customer"], tags=row["tags"], started_at=_moment(row["started_at"]),
    )  # fmt: skip


def deadlines(
    ctx: Context, actor: Actor, conversations: Sequence[str] | None = None
) -> dict[str, Any]:
    """Compute and record the retention deadline of the named conversations (platform ids),
    or of every one: the deadline, the rule and the policy version that set it, and the floor
    that raised it. Totals per rule (``-``: no rule matched)."""
    authorize(ctx, actor, "retention.compute")
    now = ctx.now_ms()
    totals: Counter[str] = Counter()
    with ctx.archive.writer() as writer:
        conn = writer.connection
        policy = _stored_policy(conn, now)
        pks = None
        if conversations is not None:
            pks = [ctx.archive.find_conversation(conn, ref, None)["id"] for ref in conversations]
        resolver = Resolver(policy, floors(), zone())
        batch: list[tuple[Any, ...]] = []
        for row in rows.conversation_rows(conn, pks):
            found = resolver.resolve(facts(row))
            deadline = None if found.deadline is None else int(found.deadline.timestamp() * 1000)
            floor = found.floor.citation if found.floor else None
            batch.append((row["id"], deadline, found.rule, policy.version, floor, now))
            totals[found.rule or NO_RULE] += 1
            if len(batch) >= _BATCH:
                rows.save_retention(conn, batch)
                batch = []
        rows.save_retention(conn, batch)
        count = sum(totals.values())
        writer.audit(actor, "retention.computed", target_kind="retention_policy",
                     target_id=str(policy.version),
                     details={"conversations": count, "rules": dict(totals)})  # fmt: skip
    return {"policy_version": policy.version, "conversations": count, "rules": dict(totals)}


def retention_of(ctx: Context, conversation_pk: int) -> dict[str, Any] | None:
    """The recorded retention of one conversation, for a caller that has authorised and
    audits the read (``show``): ``None`` if never computed. ``deadline`` is ``None`` when the
    conversation is kept permanently (``permanent``) or no rule matched (``rule`` ``None``)."""
    with ctx.archive.reader() as connection:
        row = rows.retention_row(connection, conversation_pk)
    if row is None:
        return None
    offset = ctx.settings.display.utc_offset_minutes
    deadline = row["deadline"]
    return {
        "deadline": None if deadline is None else format_time(deadline, offset),
        "permanent": deadline is None and row["rule"] is not None,
        "rule": row["rule"],
        "policy_version": row["policy_version"],
        "floor": row["floor"],
        "computed_at": format_time(row["computed_at"], offset),
    }
