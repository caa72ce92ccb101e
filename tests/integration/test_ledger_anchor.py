"""Anchoring through the service on every backend: a file drop and a real local RFC 3161 TSA;
``ledger verify`` re-checks every stored receipt, and names one that no longer fits."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatkeeper.config import LedgerConfig
from chatkeeper.domain import Actor
from chatkeeper.ledger.errors import AnchorUnavailable
from chatkeeper.services import Context
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.ledger import anchor_checkpoints, verify_ledger
from tests.factories import record, write_jsonl
from tests.integration.test_ledger_rfc3161 import LocalTsa

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission


@pytest.fixture
def loaded(ctx: Context, tmp_path: Path) -> Context:
    lines = [record(conversation_id="a", text=f"第{i}条 订单 2025{i:04d}") for i in range(6)]
    ingest_files(ctx, ACTOR, [write_jsonl(tmp_path / "a.jsonl", lines)], "jsonl")
    return ctx


@pytest.fixture
def tsa() -> Iterator[LocalTsa]:
    with LocalTsa() as server:
        yield server


def _configure(ctx: Context, setting: str) -> None:
    ctx.settings = ctx.settings.model_copy(update={"ledger": LedgerConfig(anchor=setting)})


def _sql(ctx: Context, sql: str, params: tuple = ()) -> None:
    with ctx.archive.writer() as writer:
        mark = "?" if ctx.archive.dialect == "sqlite" else "%s"
        writer.connection.exec_driver_sql(sql.replace("?", mark), params)


def _anchors(ctx: Context) -> list[tuple]:
    with ctx.archive.reader() as conn:
        return conn.exec_driver_sql(
            "SELECT log_id, size, anchor, receipt FROM ledger_anchors ORDER BY log_id, size"
        ).all()


class TestTimeStampAuthority:
    """GIVEN ``ledger.anchor = rfc3161:URL`` WHEN the checkpoints are anchored THEN each log's
    newest checkpoint is stamped, its token kept, and ``ledger verify`` re-checks it."""

    def test_tokens_are_stored_and_verify(self, loaded, tsa):
        _configure(loaded, f"rfc3161:{tsa.url}")
        published = anchor_checkpoints(loaded, ACTOR)
        assert [(p["log"], p["size"]) for p in published] == [("messages", 6), ("audit", 1)]
        rows = _anchors(loaded)
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (1, 6, f"rfc3161:{tsa.url}"),
            (2, 1, f"rfc3161:{tsa.url}"),
        ]
        assert all(base64.b64decode(r[3], validate=True) for r in rows)
        report = verify_ledger(loaded, ACTOR)
        assert report.intact, report.findings
        assert report.anchors == 2

    def test_an_altered_receipt_is_named(self, loaded, tsa):
        _configure(loaded, f"rfc3161:{tsa.url}")
        anchor_checkpoints(loaded, ACTOR)
        token = bytearray(base64.b64decode(_anchors(loaded)[0][3]))
        token[-1] ^= 0x01
        _sql(loaded, "UPDATE ledger_anchors SET receipt = ? WHERE log_id = 1",
             (base64.b64encode(bytes(token)).decode(),))  # fmt: skip
        findings = verify_ledger(loaded, ACTOR).findings
        assert [(f.kind, f.target) for f in findings] == [
            ("anchor_invalid", "messages anchor 6 (rfc3161)")
        ]
        assert "does not verify" in findings[0].detail

    def test_a_receipt_moved_to_another_checkpoint_is_named(self, loaded, tsa, tmp_path):
        """GIVEN the messages log's token WHEN it is presented for another checkpoint THEN the
        imprint gives it away."""
        _configure(loaded, f"rfc3161:{tsa.url}")
        anchor_checkpoints(loaded, ACTOR)
        more = [record(conversation_id="b", text="后来的消息")]
        ingest_files(loaded, ACTOR, [write_jsonl(tmp_path / "b.jsonl", more)], "jsonl")
        _sql(loaded, "UPDATE ledger_anchors SET size = 7 WHERE log_id = 1")
        kinds = [(f.kind, f.detail) for f in verify_ledger(loaded, ACTOR).findings]
        assert len(kinds) == 1 and kinds[0][0] == "anchor_invalid"
        assert "another message imprint" in kinds[0][1]

    def test_an_unreachable_authority_is_named_and_audited(self, loaded, tsa):
        _configure(loaded, "rfc3161:http://127.0.0.1:9/tsr#timeout=2")
        with pytest.raises(AnchorUnavailable, match=r"http://127\.0\.0\.1:9/tsr"):
            anchor_checkpoints(loaded, ACTOR)
        assert _anchors(loaded) == []
        with loaded.archive.reader() as conn:
            action, result = conn.exec_driver_sql(
                "SELECT action, result FROM audit_events ORDER BY id DESC"
            ).first()
        assert (action, result) == ("ledger.anchored", "failed")
        assert verify_ledger(loaded, ACTOR).intact


class TestFileDrop:
    """GIVEN ``ledger.anchor = file:FOLDER`` WHEN a dropped file is edited or lost THEN
    ``ledger verify`` names the anchor."""

    def test_an_edited_drop_is_named(self, loaded, tmp_path):
        _configure(loaded, f"file:{tmp_path / 'notary'}")
        anchor_checkpoints(loaded, ACTOR)
        assert verify_ledger(loaded, ACTOR).anchors == 2
        dropped = next((tmp_path / "notary").glob("messages-*-6.checkpoint"))
        dropped.write_text(dropped.read_text().replace("\n6\n", "\n5\n"), encoding="utf-8")
        findings = verify_ledger(loaded, ACTOR).findings
        assert [(f.kind, f.target) for f in findings] == [
            ("anchor_invalid", "messages anchor 6 (file)")
        ]
        assert "differs from the checkpoint" in findings[0].detail
