"""Every application-service operation writes an audit event (names every one of them).

GIVEN an archive with data WHEN each service operation runs THEN the audit log gains an event
with that operation's action, attributed to the actor.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.services import Context
from chatkeeper.services.audit import AuditFilter, export_events, list_events
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.evidence import export_evidence
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.keys import rotate_kek
from chatkeeper.services.ledger import anchor_checkpoints, verify_ledger
from chatkeeper.services.privacy import find_by_value, take_offline, unmask_message, unmask_value
from chatkeeper.services.search import SearchRequest, search
from chatkeeper.services.stats import archive_stats
from tests.factories import record, write_jsonl

ACTOR = Actor("auditor-7", frozenset({"auditor"}))
TEXT = "手机13812345678，请退款"


@pytest.fixture
def loaded(sqlite_ctx: Context, tmp_path: Path) -> Context:
    path = write_jsonl(
        tmp_path / "a.jsonl", [record(message_id="a1", conversation_id="ac", text=TEXT)]
    )
    ingest_files(sqlite_ctx, ACTOR, [path], "jsonl")
    return sqlite_ctx


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
    (
        "ingest.completed",
        lambda c, t: ingest_files(
            c, ACTOR, [write_jsonl(t / "b.jsonl", [record(text="好的")])], "jsonl"
        ),
    ),
]


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
    assert (action, "auditor-7", "auditor") in [tuple(row) for row in rows[before:]]


def test_the_list_names_every_service_operation() -> None:
    """A new service function must be added here (and audited) to keep this list complete."""
    import chatkeeper.services.audit as a
    import chatkeeper.services.conversations as c
    import chatkeeper.services.evidence as ev
    import chatkeeper.services.ingest as i
    import chatkeeper.services.keys as k
    import chatkeeper.services.ledger as led
    import chatkeeper.services.privacy as p
    import chatkeeper.services.search as s
    import chatkeeper.services.stats as st

    public = {
        f"{m.__name__}.{name}"
        for m in (a, c, ev, i, k, led, p, s, st)
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
    }
    assert len(public) >= 12  # the introspection found the operations
    assert public <= covered, sorted(public - covered)
