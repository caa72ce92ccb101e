"""Every application-service operation writes an audit event (names every one of them).

GIVEN an archive with data WHEN each service operation runs THEN the audit log gains an event
with that operation's action, attributed to the actor.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.governance import ApprovalRequired, AuthenticationFailed
from chatkeeper.services import Context
from chatkeeper.services.access import list_grants, request_access, revoke_grant
from chatkeeper.services.accounts import (
    add_user,
    authenticate,
    disable_user,
    issue_token,
    list_users,
    set_role,
)
from chatkeeper.services.approvals import decide, list_requests
from chatkeeper.services.audit import AuditFilter, export_events, list_events
from chatkeeper.services.classify import classify_conversations
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.erasure import erase_person
from chatkeeper.services.evidence import export_evidence
from chatkeeper.services.holds import create_hold, list_holds, release_hold, show_hold
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.keys import rotate_kek
from chatkeeper.services.ledger import anchor_checkpoints, verify_ledger
from chatkeeper.services.lifecycle import lifecycle_status, run_lifecycle
from chatkeeper.services.privacy import find_by_value, take_offline, unmask_message, unmask_value
from chatkeeper.services.purge import export_certificate, list_certificates, purge
from chatkeeper.services.recycle import list_bin, move_to_bin, restore_from_bin
from chatkeeper.services.retention import change_policy, deadlines, policy_history, show_policy
from chatkeeper.services.review import list_reviews, submit_review
from chatkeeper.services.search import SearchRequest, search
from chatkeeper.services.stats import archive_stats
from tests.factories import record, write_jsonl

# A job of the system: every permission, no approvals, so each operation runs to its end.
ACTOR = Actor("job-7", frozenset({"system"}))
PASSWORD = "correct horse battery"
TEXT = "手机13812345678，请退款"


@pytest.fixture
def loaded(sqlite_ctx: Context, tmp_path: Path) -> Context:
    path = write_jsonl(
        tmp_path / "a.jsonl", [record(message_id="a1", conversation_id="ac", text=TEXT)]
    )
    ingest_files(sqlite_ctx, ACTOR, [path], "jsonl")
    add_user(sqlite_ctx, ACTOR, "lee", "legal", PASSWORD)
    add_user(sqlite_ctx, ACTOR, "lin", "legal", PASSWORD)
    add_user(sqlite_ctx, ACTOR, "sup", "supervisor", PASSWORD, ["投诉处理部"])
    return sqlite_ctx


LEE = Actor("lee", frozenset({"legal"}))
LIN = Actor("lin", frozenset({"legal"}))
SUP = Actor("sup", frozenset({"supervisor"}))


def _approved(c: Context) -> object:
    try:
        unmask_message(c, LEE, "a1", "核实")
    except ApprovalRequired as filed:
        return decide(c, LIN, filed.request_id, True)
    raise AssertionError("unmask ran without approval")


def _granted(c: Context) -> object:
    filed = request_access(c, SUP, "售后服务部", "跟进")
    return decide(c, LEE, int(filed["approval_request"]), True)


def _reviewed(c: Context) -> object:
    with c.archive.writer() as writer:
        conv = writer.connection.exec_driver_sql("SELECT id FROM conversations").scalar()
        writer.connection.exec_driver_sql(
            "INSERT INTO review_items (conversation_id, stage, state, risk_level, opened_at,"
            f" due_at) VALUES ({conv}, 'agent', 'open', 3, 0, 0)"
        )
    return submit_review(c, LEE, 1, "account", "说明")


OPERATIONS: list[tuple[str, Callable[[Context, Path], object]]] = [
    ("messages.searched", lambda c, t: search(c, ACTOR, SearchRequest("退款"))),
    ("conversation.viewed", lambda c, t: show_conversation(c, ACTOR, "ac")),
    ("stats.viewed", lambda c, t: archive_stats(c, ACTOR)),
    ("pii.searched", lambda c, t: find_by_value(c, ACTOR, "13812345678")),
    ("message.unmasked", lambda c, t: unmask_message(c, ACTOR, "a1", "核实")),
    ("value.unmasked", lambda c, t: unmask_value(c, ACTOR, "a1", TEXT.index("138"), "核实")),
    ("message.taken_offline", lambda c, t: take_offline(c, ACTOR, "a1", "删除")),
    ("keys.rotated", lambda c, t: rotate_kek(c, ACTOR)),
    ("ledger.verified", lambda c, t: verify_ledger(c, ACTOR)),
    ("ledger.anchored", lambda c, t: _anchored(c, t)),
    ("evidence.exported", lambda c, t: export_evidence(c, ACTOR, "ac", t / "e.zip")),
    ("audit.listed", lambda c, t: list_events(c, ACTOR, AuditFilter())),
    ("audit.exported", lambda c, t: export_events(c, ACTOR, AuditFilter(), t / "a.json", "json")),
    ("user.added", lambda c, t: add_user(c, ACTOR, "new1", "auditor", PASSWORD)),
    ("user.listed", lambda c, t: list_users(c, ACTOR)),
    ("user.disabled", lambda c, t: disable_user(c, ACTOR, "lin")),
    ("user.role_changed", lambda c, t: set_role(c, ACTOR, "lin", "auditor")),
    ("token.issued", lambda c, t: issue_token(c, LEE, "client")),
    ("auth.failed", lambda c, t: _failed_sign_in(c)),
    ("approval.requested", lambda c, t: _raises(lambda: unmask_message(c, LEE, "a1", "核实"))),
    ("approval.approved", lambda c, t: _approved(c)),
    ("approval.listed", lambda c, t: list_requests(c, LEE)),
    ("access.requested", lambda c, t: request_access(c, SUP, "售后服务部", "跟进")),
    ("access.granted", lambda c, t: _granted(c)),
    ("access.listed", lambda c, t: list_grants(c, SUP)),
    ("access.revoked", lambda c, t: revoke_grant(c, SUP, int(_granted(c)["grant"]))),
    ("classify.ran", lambda c, t: classify_conversations(c, ACTOR, rerun=True)),
    ("review.listed", lambda c, t: list_reviews(c, LEE)),
    ("lifecycle.ran", lambda c, t: run_lifecycle(c, ACTOR, dry_run=True)),
    ("person.erased", lambda c, t: erase_person(c, ACTOR, "cust-1", "本人要求")),
    ("lifecycle.status_viewed", lambda c, t: lifecycle_status(c, ACTOR)),
    ("review.submitted", lambda c, t: _reviewed(c)),
    ("retention.viewed", lambda c, t: show_policy(c, ACTOR)),
    ("retention.history_listed", lambda c, t: policy_history(c, ACTOR)),
    ("retention.changed", lambda c, t: change_policy(c, ACTOR, POLICY, "统一保存五年")),
    ("retention.computed", lambda c, t: deadlines(c, ACTOR)),
    ("hold.created", lambda c, t: _hold(c)),
    ("hold.listed", lambda c, t: list_holds(c, ACTOR)),
    ("hold.viewed", lambda c, t: show_hold(c, ACTOR, _hold(c))),
    ("hold.released", lambda c, t: release_hold(c, ACTOR, _hold(c), "结案")),
    ("conversation.binned", lambda c, t: move_to_bin(c, ACTOR, [_ac(c)], "到期")),
    ("bin.listed", lambda c, t: list_bin(c, ACTOR)),
    ("conversation.restored", lambda c, t: _restored(c)),
    ("conversation.purged", lambda c, t: purge(c, ACTOR, [_ac(c)], reason="到期")),
    ("certificate.listed", lambda c, t: list_certificates(c, ACTOR)),
    ("certificate.exported", lambda c, t: _exported(c, t)),
    (
        "ingest.completed",
        lambda c, t: ingest_files(
            c, ACTOR, [write_jsonl(t / "b.jsonl", [record(text="好的")])], "jsonl"
        ),
    ),
]


POLICY = '[policy]\n[[policy.rules]]\nname = "all"\nservice_type = "*"\nkeep = "5 years"\n'


def _ac(c: Context) -> int:
    with c.archive.reader() as connection:
        return int(c.archive.find_conversation(connection, "ac", None)["id"])


def _restored(c: Context) -> object:
    move_to_bin(c, ACTOR, [_ac(c)], "到期")
    return restore_from_bin(c, ACTOR, "ac", "误删")


def _exported(c: Context, tmp_path: Path) -> object:
    certificate = purge(c, ACTOR, [_ac(c)], reason="到期")
    return export_certificate(c, ACTOR, int(certificate["id"]), tmp_path / "cert")


def _hold(c: Context) -> int:
    return int(create_hold(c, ACTOR, "h1", "诉讼", customers=["cust-1"])["id"])


def _raises(call: Callable[[], object]) -> object:
    try:
        return call()
    except ApprovalRequired as filed:
        return filed.request_id


def _failed_sign_in(ctx: Context) -> object:
    try:
        return authenticate(ctx, "lee", password="wrong password")
    except AuthenticationFailed as exc:
        return exc


def _anchored(ctx: Context, tmp_path: Path) -> object:
    from chatkeeper.config import LedgerConfig

    ctx.settings = ctx.settings.model_copy(
        update={"ledger": LedgerConfig(anchor=f"file:{tmp_path / 'notary'}")}
    )
    return anchor_checkpoints(ctx, ACTOR)


@pytest.mark.parametrize(("action", "operation"), OPERATIONS, ids=[a for a, _ in OPERATIONS])
def test_each_operation_is_audited(loaded: Context, tmp_path: Path, action: str, operation) -> None:
    with loaded.archive.reader() as conn:
        before = conn.exec_driver_sql("SELECT count(*) FROM audit_events").scalar()
    operation(loaded, tmp_path)
    with loaded.archive.reader() as conn:
        rows = conn.exec_driver_sql(
            "SELECT action, actor, roles FROM audit_events ORDER BY id"
        ).all()
    assert len(rows) > before
    assert action in [row[0] for row in rows[before:]]


def test_the_list_names_every_service_operation() -> None:
    """A new service function must be added here (and audited) to keep this list complete."""
    import chatkeeper.services.access as ac
    import chatkeeper.services.accounts as us
    import chatkeeper.services.approvals as ap
    import chatkeeper.services.audit as a
    import chatkeeper.services.classify as cl
    import chatkeeper.services.conversations as c
    import chatkeeper.services.erasure as er
    import chatkeeper.services.evidence as ev
    import chatkeeper.services.holds as ho
    import chatkeeper.services.ingest as i
    import chatkeeper.services.keys as k
    import chatkeeper.services.ledger as led
    import chatkeeper.services.lifecycle as lc
    import chatkeeper.services.privacy as p
    import chatkeeper.services.purge as pu
    import chatkeeper.services.recycle as rc
    import chatkeeper.services.retention as re_
    import chatkeeper.services.review as rv
    import chatkeeper.services.scheduler as sc
    import chatkeeper.services.search as s
    import chatkeeper.services.stats as st

    public = {
        f"{m.__name__}.{name}"
        for m in (a, c, ev, i, k, led, p, s, st, ac, us, ap, cl, rv, re_, ho, rc, pu, lc, sc, er)
        for name, value in vars(m).items()
        if callable(value)
        and getattr(value, "__module__", "") == m.__name__
        and not name.startswith("_")
        and not isinstance(value, type)
        and "ctx" in getattr(value, "__code__", type("x", (), {"co_varnames": ()})).co_varnames[:1]
    }
    covered = {
        "chatkeeper.services.search.search",
        "chatkeeper.services.conversations.show_conversation",
        "chatkeeper.services.stats.archive_stats",
        "chatkeeper.services.privacy.find_by_value",
        "chatkeeper.services.privacy.unmask_message",
        "chatkeeper.services.privacy.unmask_value",
        "chatkeeper.services.privacy.take_offline",
        "chatkeeper.services.keys.rotate_kek",
        "chatkeeper.services.ledger.verify_ledger",
        "chatkeeper.services.ledger.anchor_checkpoints",
        "chatkeeper.services.evidence.export_evidence",
        "chatkeeper.services.audit.list_events",
        "chatkeeper.services.audit.export_events",
        "chatkeeper.services.ingest.ingest_files",
        "chatkeeper.services.ingest.pipeline_steps",
        "chatkeeper.services.access.request_access",
        "chatkeeper.services.access.list_grants",
        "chatkeeper.services.access.revoke_grant",
        "chatkeeper.services.access.open_grant",  # inside approvals.decide: access.granted
        "chatkeeper.services.accounts.add_user",
        "chatkeeper.services.accounts.list_users",
        "chatkeeper.services.accounts.disable_user",
        "chatkeeper.services.accounts.set_role",
        "chatkeeper.services.accounts.issue_token",
        "chatkeeper.services.accounts.authenticate",  # failures: auth.failed
        "chatkeeper.services.accounts.create_first_admin",  # user.added, at init
        "chatkeeper.services.approvals.list_requests",
        "chatkeeper.services.approvals.show_request",
        "chatkeeper.services.approvals.decide",
        "chatkeeper.services.classify.classify_conversations",
        "chatkeeper.services.review.open_reviews",
        "chatkeeper.services.review.list_reviews",
        "chatkeeper.services.review.show_review",
        "chatkeeper.services.review.submit_review",
        "chatkeeper.services.retention.show_policy",
        "chatkeeper.services.retention.policy_history",
        "chatkeeper.services.retention.change_policy",
        "chatkeeper.services.retention.deadlines",
        "chatkeeper.services.retention.retention_of",  # read by show, which audits the view
        "chatkeeper.services.holds.create_hold",
        "chatkeeper.services.holds.list_holds",
        "chatkeeper.services.holds.show_hold",
        "chatkeeper.services.holds.release_hold",
        # read by the lifecycle service and others, which authorise and audit their own run:
        "chatkeeper.services.holds.held_conversations",
        "chatkeeper.services.holds.holds_for",
        "chatkeeper.services.holds.ensure_not_held",
        "chatkeeper.services.recycle.move_to_bin",
        "chatkeeper.services.recycle.list_bin",
        "chatkeeper.services.recycle.restore_from_bin",
        "chatkeeper.services.recycle.refuse_held",  # inside move_to_bin and purge, which audit
        "chatkeeper.services.purge.purge",
        "chatkeeper.services.purge.list_certificates",
        "chatkeeper.services.purge.export_certificate",
        "chatkeeper.services.purge.purged_leaves",  # read by verify_ledger, which audits
        "chatkeeper.services.lifecycle.run_lifecycle",
        "chatkeeper.services.lifecycle.lifecycle_status",
        "chatkeeper.services.lifecycle.move_to_cold",  # each segment: conversation.archived
        "chatkeeper.services.lifecycle.lifecycle_settings",  # configuration, no data
        "chatkeeper.services.scheduler.run_scheduler",  # each run: lifecycle.ran
        "chatkeeper.services.erasure.erase_person",
    }
    assert len(public) >= 12  # the introspection found the operations
    assert public <= covered, sorted(public - covered)
