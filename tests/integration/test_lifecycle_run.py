"""The daily lifecycle job, planned and acted, and the scheduler that runs it.

GIVEN / WHEN / THEN, with the context's clock moved by the tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.services import Context
from chatkeeper.services.holds import create_hold
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.lifecycle import lifecycle_status, run_lifecycle
from chatkeeper.services.scheduler import run_scheduler
from chatkeeper.services.search import SearchRequest, search
from tests.factories import record, write_jsonl

SYSTEM = Actor("job", frozenset({"system"}))
LEGAL = Actor("legal1", frozenset({"legal"}))
PASSWORD = "correct horse battery"


def _at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


CONVERSATIONS = {  # id: (service type, service date)
    "cons": ("consultation", "2025-01-10T10:00:00+08:00"),
    "held": ("consultation", "2025-01-10T10:00:00+08:00"),
    "comp": ("complaint", "2025-01-10T10:00:00+08:00"),
    "tx": ("transaction", "2025-01-10T10:00:00+08:00"),
    "dispute": ("legal_dispute", "2025-01-10T10:00:00+08:00"),
    "fresh": ("consultation", "2025-07-25T10:00:00+08:00"),
}


@pytest.fixture
def world(ctx: Context, tmp_path: Path) -> Context:
    from chatkeeper.services.accounts import add_user

    ctx.clock = lambda: _at("2025-08-01T00:00:00+08:00")
    records = [
        record(conversation_id=conv, message_id=f"{conv}-{i}", service_type=kind,
               sent_at=date, text="好的" if i else "您好")
        for conv, (kind, date) in CONVERSATIONS.items()
        for i in range(2)
    ]  # fmt: skip
    ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "l.jsonl", records)], "jsonl")
    add_user(ctx, SYSTEM, "legal1", "legal", PASSWORD)
    create_hold(ctx, LEGAL, "dispute-7", reason="诉讼", conversations=["held"])
    return ctx


class TestPlan:
    def test_dry_run_plans_exactly_what_the_policy_holds_and_floors_say(self, world) -> None:
        """GIVEN six conversations ended 2025-01-10 (one on 2025-07-25), one under a hold
        WHEN the job is planned as of 2025-08-01 THEN the expired consultation goes to the bin,
        the held one is held, the older ones go cold, the fresh one stays — and nothing moves."""
        plan = run_lifecycle(world, SYSTEM, dry_run=True)
        assert (plan["to_recycle_bin"], plan["held"], plan["archived"], plan["stayed"],
                plan["purged"]) == (1, 1, 3, 1, 0)  # fmt: skip
        assert plan["by_rule"]["consultation"]["to_recycle_bin"] == 1
        assert search(world, LEGAL, SearchRequest("您好")).total == 6

    def test_as_of_asks_what_would_happen_on_another_date(self, world) -> None:
        """GIVEN the same archive WHEN planned as of 2028-02-01 THEN complaint and transaction
        deadlines have passed too (1 year; 3 years), the dispute is kept for good."""
        later = datetime(2028, 2, 1, tzinfo=UTC)
        plan = run_lifecycle(world, SYSTEM, as_of=later, dry_run=True)
        assert plan["to_recycle_bin"] == 4  # cons, comp, tx, fresh
        assert plan["held"] == 1
        with pytest.raises(Exception, match="add --dry-run"):
            run_lifecycle(world, SYSTEM, as_of=later)

    def test_a_run_is_recorded_and_shown_in_the_status(self, world) -> None:
        run_lifecycle(world, SYSTEM, dry_run=True)
        status = lifecycle_status(world, SYSTEM)
        assert status["last_runs"][0]["result"] == "ok"
        assert status["schedule"] == "0 22 * * *" and status["never_run_by_scheduler"]


class TestScheduler:
    def test_it_sleeps_until_22_00_shanghai_runs_and_records_the_run(self, world) -> None:
        """GIVEN 2025-08-01 00:00 in Shanghai WHEN the scheduler runs once THEN it sleeps until
        22:00 that day, runs the job as the scheduler, and the status shows no missed run."""
        now = [_at("2025-08-01T00:00:00+08:00")]
        world.clock = lambda: now[0]

        def sleep(seconds: float) -> None:
            now[0] += seconds

        assert run_scheduler(world, sleep=sleep, runs=1) == 1
        assert now[0] == _at("2025-08-01T22:00:00+08:00")
        status = lifecycle_status(world, SYSTEM)
        assert status["last_runs"][0]["source"] == "scheduler"
        assert status["missed_runs"] == []
        now[0] = _at("2025-08-04T09:00:00+08:00")
        assert len(lifecycle_status(world, SYSTEM)["missed_runs"]) == 2  # 2nd and 3rd


class TestAct:
    def test_the_run_bins_then_purges_and_the_certificate_verifies(self, world) -> None:
        """GIVEN the archive as of 2025-08-01 WHEN the job runs THEN the expired consultation
        goes to the bin (out of search); WHEN it runs again 31 days later THEN it is purged
        with a deletion certificate that verifies, and the held one is still there."""
        from chatkeeper.services.purge import list_certificates

        first = run_lifecycle(world, SYSTEM)
        assert first["to_recycle_bin"] == 1 and first["purged"] == 0
        assert search(world, LEGAL, SearchRequest("您好")).total == 5
        world.clock = lambda: _at("2025-09-02T00:00:00+08:00")
        second = run_lifecycle(world, SYSTEM)
        assert second["purged"] == 1 and second["certificate"] is not None
        certificates = list_certificates(world, SYSTEM)
        assert [c["valid"] for c in certificates] == [True]
        assert certificates[0]["conversations"] == 1
        with world.archive.reader() as conn:
            states = dict(conn.exec_driver_sql(
                "SELECT external_id, state FROM conversations").all())  # fmt: skip
        assert states["cons"] == "purged" and states["held"] == "active"
