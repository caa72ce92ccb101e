"""Ingest behaviour on every backend: nothing lost, nothing doubled, bad records named."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from chatkeeper.config import IngestConfig
from chatkeeper.domain import Actor
from chatkeeper.errors import IngestError
from chatkeeper.ingest.pipeline import Batch
from chatkeeper.services import Context
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.ingest import ingest_files, pipeline_steps
from chatkeeper.services.search import SearchRequest, search
from chatkeeper.store import tables
from tests.conftest import SAMPLES
from tests.factories import record, write_csv, write_jsonl

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission


def _count(ctx: Context, table) -> int:
    with ctx.archive.reader() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


class TestIdempotence:
    def test_reingesting_the_same_file_adds_nothing(self, ctx, tmp_path):
        """GIVEN a file ingested once WHEN it is ingested again THEN 0 are added."""
        path = write_jsonl(
            tmp_path / "a.jsonl", [record(conversation_id=f"c{i % 7}") for i in range(120)]
        )
        first = ingest_files(ctx, ACTOR, [path], "jsonl")
        again = ingest_files(ctx, ACTOR, [path], "jsonl")
        assert (first.ingested, first.duplicates) == (120, 0)
        assert (again.ingested, again.duplicates) == (0, 120)
        assert _count(ctx, tables.messages) == 120
        assert _count(ctx, tables.conversations) == 7

    def test_a_duplicate_inside_one_file_is_stored_once(self, ctx, tmp_path):
        one = record()
        path = write_jsonl(tmp_path / "a.jsonl", [one, one, record()])
        report = ingest_files(ctx, ACTOR, [path], "jsonl")
        assert (report.ingested, report.duplicates) == (2, 1)

    def test_the_same_message_id_on_two_platforms_is_two_messages(self, ctx, tmp_path):
        path = write_jsonl(
            tmp_path / "a.jsonl",
            [record(message_id="x1", platform="wecom"), record(message_id="x1", platform="sobot")],
        )
        assert ingest_files(ctx, ACTOR, [path], "jsonl").ingested == 2


class TestBadRecords:
    def test_bad_lines_are_rejected_by_line_and_field_and_the_rest_lands(self, ctx, tmp_path):
        """GIVEN a file with good and bad lines WHEN ingested THEN every good one lands and
        the rejects file names each bad one's line and field, without its content."""
        lines = [
            record(text="第一条"),
            "{not json",
            record(sender_role="robot", text="秘密内容13812345678"),
            record(sent_at="2025-03-01 10:00:00", text="没有时区"),
            record(text=None),
            "[1, 2]",
            record(text="最后一条"),
        ]
        path = write_jsonl(tmp_path / "mixed.jsonl", lines)
        report = ingest_files(ctx, ACTOR, [path], "jsonl")
        assert (report.ingested, report.rejected) == (2, 5)
        assert report.rejects_file is not None
        raw = Path(report.rejects_file).read_text(encoding="utf-8")
        rejects = [orjson.loads(line) for line in raw.splitlines()]
        assert [(r["line"], r["field"]) for r in rejects] == [
            (2, None),
            (3, "sender_role"),
            (4, "sent_at"),
            (5, "text"),
            (6, None),
        ]
        assert all(r["file"] == str(path) for r in rejects)
        assert "13812345678" not in raw and "秘密" not in raw
        summary = Path(report.rejects_file.replace(".rejects.jsonl", ".summary.json"))
        assert orjson.loads(summary.read_bytes())["rejected"] == 5

    def test_a_clean_file_writes_no_rejects_file(self, ctx, tmp_path):
        path = write_jsonl(tmp_path / "ok.jsonl", [record()])
        assert ingest_files(ctx, ACTOR, [path], "jsonl").rejects_file is None


class TestInterruptedRun:
    def test_a_crash_mid_file_keeps_the_committed_batches_and_a_rerun_completes(
        self, ctx, tmp_path
    ):
        """GIVEN a run that dies in its third batch WHEN the file is ingested again THEN
        the first two batches were kept and the re-run adds exactly the rest."""
        ctx.settings = ctx.settings.model_copy(update={"ingest": IngestConfig(batch_size=10)})
        path = write_jsonl(
            tmp_path / "big.jsonl", [record(conversation_id=f"c{i // 9}") for i in range(45)]
        )
        calls = {"n": 0}

        class Crash:
            name, transactional = "crash", True

            def __call__(self, batch: Batch) -> None:
                calls["n"] += 1
                if calls["n"] == 3:
                    raise RuntimeError("power cut")

        steps = [*pipeline_steps(ctx), Crash()]
        with pytest.raises(RuntimeError):
            ingest_files(ctx, ACTOR, [path], "jsonl", steps=steps)
        assert _count(ctx, tables.messages) == 20
        report = ingest_files(ctx, ACTOR, [path], "jsonl")
        assert (report.ingested, report.duplicates) == (25, 20)
        assert _count(ctx, tables.messages) == 45
        with ctx.archive.reader() as conn:
            runs = conn.execute(select(tables.ingest_runs.c.status)).scalars().all()
        assert runs == ["failed", "completed"]


class TestFormats:
    def test_csv_with_the_same_columns(self, ctx, tmp_path):
        columns = [
            "platform",
            "conversation_id",
            "message_id",
            "sent_at",
            "sender_role",
            "text",
            "department",
            "customer_id",
            "customer_tags",
            "service_type",
        ]
        rows = [record(text="发票怎么开", customer_tags=["vip", "企业"]), record(text="好的")]
        path = write_csv(tmp_path / "a.csv", rows, columns)
        report = ingest_files(ctx, ACTOR, [path], "csv")
        assert report.ingested == 2
        hits = search(ctx, ACTOR, SearchRequest("发票", customer_tags=("企业",)))
        assert hits.total == 1

    def test_wecom_sample_recall_consent_and_switch(self, ctx):
        """GIVEN the WeCom sample WHEN ingested THEN the switch is skipped, the recall is
        kept and marks its target, consent is recorded, chat records are searchable."""
        report = ingest_files(ctx, ACTOR, [SAMPLES / "wecom-sample.jsonl"], "wecom")
        assert (report.ingested, report.skipped, report.rejected) == (17, 1, 0)
        transcript = show_conversation(ctx, ACTOR, "single:chenjing:wmQ2bX7aEXAMPLEcust01")
        by_id = {m["message_id"]: m for m in transcript.messages}
        assert by_id["9804_1735689780000_external"]["recalled"] is True
        assert by_id["9805_1735689790000_external"]["kind"] == "recall"
        assert _count(ctx, tables.consent_records) == 2
        assert search(ctx, ACTOR, SearchRequest("三天内一定发货")).total == 1
        assert search(ctx, ACTOR, SearchRequest("补发的说明")).total == 1

    def test_a_recall_that_arrives_before_its_message_still_marks_it(self, ctx, tmp_path):
        lines = [
            orjson.loads(x) for x in (SAMPLES / "wecom-sample.jsonl").read_bytes().splitlines()
        ]
        recall = next(x for x in lines if x["msgtype"] == "revoke")
        target = next(x for x in lines if x["msgid"] == recall["revoke"]["pre_msgid"])
        first = write_jsonl(tmp_path / "1.jsonl", [recall])
        second = write_jsonl(tmp_path / "2.jsonl", [target])
        ingest_files(ctx, ACTOR, [first], "wecom")
        ingest_files(ctx, ACTOR, [second], "wecom")
        transcript = show_conversation(ctx, ACTOR, "single:chenjing:wmQ2bX7aEXAMPLEcust01")
        assert [m["recalled"] for m in transcript.messages if m["kind"] == "message"] == [True]


class TestLateFilterValues:
    def test_a_department_named_later_reindexes_earlier_messages(self, ctx, tmp_path):
        """GIVEN a conversation first seen without a department WHEN a later file names it
        THEN a department filter finds the earlier messages too."""
        early = write_jsonl(
            tmp_path / "1.jsonl",
            [record(conversation_id="late", department=None, customer_tags=[], text="退款进度")],
        )
        later = write_jsonl(
            tmp_path / "2.jsonl",
            [
                record(
                    conversation_id="late",
                    department="投诉处理部",
                    customer_tags=["高风险"],
                    text="退款还没到",
                )
            ],
        )
        ingest_files(ctx, ACTOR, [early], "jsonl")
        ingest_files(ctx, ACTOR, [later], "jsonl")
        assert search(ctx, ACTOR, SearchRequest("退款", departments=("投诉处理部",))).total == 2
        assert search(ctx, ACTOR, SearchRequest("退款", customer_tags=("高风险",))).total == 2
        assert search(ctx, ACTOR, SearchRequest("退款")).total == 2


class TestReaderProcess:
    """The parse-and-prepare worker process gives the same results as parsing in-process."""

    @pytest.fixture(params=[1, 3], ids=["one-reader", "three-readers"])
    def with_worker(self, ctx, request):
        ingest = IngestConfig(batch_size=7, workers=request.param, worker_min_bytes=0)
        ctx.settings = ctx.settings.model_copy(update={"ingest": ingest})
        return ctx

    def test_a_file_through_the_worker_lands_whole_and_exactly_once(self, with_worker, tmp_path):
        lines = [record(conversation_id=f"w{i // 5}") for i in range(40)]
        lines.insert(13, "{broken")
        path = write_jsonl(tmp_path / "w.jsonl", lines)
        first = ingest_files(with_worker, ACTOR, [path], "jsonl")
        again = ingest_files(with_worker, ACTOR, [path], "jsonl")
        assert (first.ingested, first.rejected) == (40, 1)
        assert (again.ingested, again.duplicates) == (0, 40)
        assert search(with_worker, ACTOR, SearchRequest("退款")).total == 40
        assert len(show_conversation(with_worker, ACTOR, "w3").messages) == 5

    def test_an_error_in_the_worker_reaches_the_caller(self, with_worker, tmp_path):
        path = tmp_path / "bad.csv"
        path.write_text("platform,text\nx,y\n", encoding="utf-8")
        with pytest.raises(IngestError, match="lacks the required column"):
            ingest_files(with_worker, ACTOR, [path], "csv")


class TestCheckpointCadence:
    def test_a_slow_batch_is_stored_in_parts_each_with_a_checkpoint(
        self, ctx, tmp_path, monkeypatch
    ):
        """GIVEN storing is measured to take long per record WHEN batches of 500 records are
        ingested THEN after the first (measured) batch each commits in parts of MIN_PART
        records, each ending with a signed checkpoint, and every record lands exactly once."""
        import chatkeeper.services.ingest as service
        from chatkeeper.config import IngestConfig

        monkeypatch.setattr(service, "PART_SECONDS", 0.0)  # every part as small as allowed
        monkeypatch.setattr(service, "MIN_PART", 250)
        ctx.settings = ctx.settings.model_copy(update={"ingest": IngestConfig(batch_size=500)})
        records = [record(conversation_id=f"c{i % 7}") for i in range(1500)]
        report = ingest_files(ctx, ACTOR, [write_jsonl(tmp_path / "p.jsonl", records)], "jsonl")
        assert report.ingested == 1500
        with ctx.archive.reader() as conn:
            sizes = [r[0] for r in conn.exec_driver_sql(
                "SELECT size FROM ledger_checkpoints WHERE log_id = 1 ORDER BY size")]  # fmt: skip
            stored = conn.exec_driver_sql("SELECT count(*) FROM messages").scalar()
        assert stored == 1500
        assert sizes == [500, 750, 1000, 1250, 1500]


class TestCustomerTagsAcrossConversations:
    def test_a_new_tag_reaches_the_customers_other_conversations(self, ctx, tmp_path):
        """GIVEN a customer's conversation A stored WHEN a later file gives the customer a new
        tag on conversation B THEN a search filtered by the new tag finds A's messages too."""
        first = [record(conversation_id="A", message_id="a1", customer_tags=["vip"])]
        later = [record(conversation_id="B", message_id="b1", customer_tags=["vip", "repeat"])]
        ingest_files(ctx, ACTOR, [write_jsonl(tmp_path / "1.jsonl", first)], "jsonl")
        ingest_files(ctx, ACTOR, [write_jsonl(tmp_path / "2.jsonl", later)], "jsonl")
        found = search(ctx, ACTOR, SearchRequest("退款", customer_tags=("repeat",)))
        assert {h.message_id for h in found.hits} == {"a1", "b1"}


class TestClosedConversations:
    def test_records_for_a_binned_or_purged_conversation_are_rejected(self, ctx, tmp_path):
        """GIVEN a conversation moved to the recycle bin WHEN a file brings a new record for
        it THEN that record is rejected naming the conversation, and the rest lands."""
        from chatkeeper.services.recycle import move_to_bin

        seed = write_jsonl(tmp_path / "1.jsonl", [record(conversation_id="gone")])
        ingest_files(ctx, ACTOR, [seed], "jsonl")
        with ctx.archive.reader() as conn:
            pk = conn.exec_driver_sql(
                "SELECT id FROM conversations WHERE external_id = 'gone'").scalar()  # fmt: skip
        move_to_bin(ctx, ACTOR, [pk], "到期")
        report = ingest_files(ctx, ACTOR, [write_jsonl(tmp_path / "2.jsonl", [
            record(conversation_id="gone", message_id="late-1"),
            record(conversation_id="other", message_id="fine-1"),
        ])], "jsonl")  # fmt: skip
        assert (report.ingested, report.rejected) == (1, 1)
        rejects = Path(report.rejects_file).read_text(encoding="utf-8")
        assert "'gone' is in the recycle bin" in rejects and "conversation_id" in rejects
