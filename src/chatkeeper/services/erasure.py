"""Erasure of a person (PIPL art. 47): delete everything of one customer that no legal hold
and no statutory floor keeps, and say, per conversation, what was deleted and what was kept
and why.

Deletable conversations are purged by crypto-shredding (``services.purge``: one signed
deletion certificate for the request). When nothing of the customer is kept, the customer's
own data keys — those of their personal values in the vault — are destroyed too, and their
name is removed from the customer and participant records. A key operation: it runs under an
approval (``person.erase``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatkeeper.domain import Actor
from chatkeeper.errors import NotFound
from chatkeeper.lifecycle import Resolver
from chatkeeper.services.authz import authorized
from chatkeeper.services.context import Context
from chatkeeper.services.holds import holds_for
from chatkeeper.services.purge import purge
from chatkeeper.services.retention import _stored_policy, facts, floors, zone
from chatkeeper.store import lifecycle as lifecycle_rows
from chatkeeper.store.purge import destroy_keys


def _customer(ctx: Context, customer: str, platform: str | None) -> list[tuple[int, str, str]]:
    """``(customer pk, platform code, external id)`` of every matching customer record."""
    mark = "?" if ctx.archive.dialect == "sqlite" else "%s"
    sql = (
        "SELECT cu.id, p.code, cu.external_id FROM customers cu JOIN platforms p"
        f" ON p.id = cu.platform_id WHERE cu.external_id = {mark}"
    )
    params: tuple[Any, ...] = (customer,)
    if platform:
        sql += f" AND p.code = {mark}"
        params += (platform,)
    with ctx.archive.reader() as connection:
        found = [(int(r[0]), str(r[1]), str(r[2])) for r in connection.exec_driver_sql(sql, params)]
    if not found:
        raise NotFound(f"no customer with id '{customer}'", customer=customer)
    return found


def erase_person(
    ctx: Context,
    actor: Actor,
    customer: str,
    reason: str,
    platform: str | None = None,
    approval: int | None = None,
) -> dict[str, Any]:
    """Erase one customer (platform id; on one platform with ``platform``); the report."""
    from chatkeeper.governance import GovernanceError

    if not reason.strip():
        raise GovernanceError("an erasure needs a reason", field="reason")
    params = {"customer": customer, "platform": platform}

    def exists(_: object) -> None:
        _customer(ctx, customer, platform)

    with authorized(
        ctx, actor, "person.erase", params, approval, reason=reason, check=exists
    ) as permit:
        return _erase(ctx, actor, customer, platform, reason, permit.approval_id)


def _erase(ctx: Context, actor: Actor, customer: str, platform: str | None, reason: str,
           approval_id: int | None) -> dict[str, Any]:  # fmt: skip
    records = _customer(ctx, customer, platform)
    pks = [pk for pk, _, _ in records]
    now = ctx.now_ms()
    moment = datetime.fromtimestamp(now / 1000, UTC)
    with ctx.archive.writer() as writer:
        policy = _stored_policy(writer.connection, now)
    resolver = Resolver(policy, floors(), zone())
    mark = "?" if ctx.archive.dialect == "sqlite" else "%s"
    with ctx.archive.reader() as connection:
        conversation_pks = [
            int(r[0]) for r in connection.exec_driver_sql(
                "SELECT id FROM conversations WHERE customer_id IN"
                f" ({', '.join([mark] * len(pks))})", tuple(pks))
        ]  # fmt: skip
        rows = list(lifecycle_rows.conversation_rows(connection, conversation_pks))
    held = holds_for(ctx, conversation_pks)
    report: list[dict[str, Any]] = []
    deletable: list[int] = []
    for row in rows:
        entry = {"conversation_id": row["external_id"], "platform": row["platform"]}
        floor, floor_until = resolver.binding_floor(facts(row))
        if row["state"] == "purged":
            report.append({**entry, "outcome": "already_deleted", "why": "purged earlier"})
        elif held.get(row["id"]):
            holds = ", ".join(str(h) for h in held[row["id"]])
            report.append({**entry, "outcome": "kept", "why": f"legal hold {holds}"})
        elif floor is not None and floor_until is not None and floor_until > moment:
            why = f"{floor.citation} until {floor_until.date().isoformat()}"
            report.append({**entry, "outcome": "kept", "why": why})
        else:
            deletable.append(int(row["id"]))
            report.append({**entry, "outcome": "deleted", "why": "erasure requested"})
    certificate = None
    if deletable:
        shredder = Actor(actor.name, frozenset({"system"}), actor.source, actor.address)
        certificate = purge(ctx, shredder, deletable, reason=f"erasure of a person: {reason}")
    kept = sum(1 for r in report if r["outcome"] == "kept")
    destroyed = 0
    with ctx.archive.writer() as writer:
        conn = writer.connection
        if not kept:
            refs = [f"{code}:{external}" for _, code, external in records]
            keys = [
                str(r[0]) for r in conn.exec_driver_sql(
                    "SELECT key_id FROM data_keys WHERE owner_kind = 'customer' AND"
                    f" destroyed_at IS NULL AND owner_ref IN ({', '.join([mark] * len(refs))})",
                    tuple(refs))
            ]  # fmt: skip
            destroy_keys(conn, keys, now)
            destroyed = len(keys)
            holders = ", ".join([mark] * len(pks))
            conn.exec_driver_sql(f"DELETE FROM pii_vault WHERE customer_id IN ({holders})",
                                 tuple(pks))  # fmt: skip
            conn.exec_driver_sql(f"UPDATE customers SET name = NULL WHERE id IN ({holders})",
                                 tuple(pks))  # fmt: skip
            conn.exec_driver_sql(
                f"UPDATE participants SET name = NULL WHERE customer_id IN ({holders})", tuple(pks)
            )
        details = {
            "deleted": len(deletable),
            "kept": kept,
            "customer_keys": destroyed,
            "certificate": certificate["id"] if certificate else None,
        }
        writer.audit(actor, "person.erased", target_kind="customer",
                     target_id=",".join(str(pk) for pk in pks), reason=reason,
                     approval_id=approval_id, details=details)  # fmt: skip
    return {
        "deleted": len(deletable),
        "kept": kept,
        "customer_keys_destroyed": destroyed,
        "certificate": certificate["id"] if certificate else None,
        "conversations": report,
    }
