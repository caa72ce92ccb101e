"""A conversation in the recycle bin is out of every read, not only search and show."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.errors import NotFound
from chatkeeper.services import Context
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.privacy import find_by_value, unmask_message
from chatkeeper.services.recycle import move_to_bin
from tests.factories import record, write_jsonl

SYSTEM = Actor("job", frozenset({"system"}))


def test_a_binned_conversation_is_out_of_value_lookups_and_unmasking(
    ctx: Context, tmp_path: Path
) -> None:
    """GIVEN two conversations mentioning the same phone number WHEN one goes to the recycle
    bin THEN the blind-index look-up finds only the other, and unmasking the binned message is
    refused as not found."""
    records = [
        record(conversation_id="kept", message_id="k1", text="我的手机13812345678"),
        record(conversation_id="binned", message_id="b1", text="手机是13812345678"),
    ]
    ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "b.jsonl", records)], "jsonl")
    assert find_by_value(ctx, SYSTEM, "13812345678").total == 2
    with ctx.archive.reader() as conn:
        pk = conn.exec_driver_sql(
            "SELECT id FROM conversations WHERE external_id = 'binned'"
        ).scalar()
    move_to_bin(ctx, SYSTEM, [pk], "到期")
    found = find_by_value(ctx, SYSTEM, "13812345678")
    assert (found.total, [h.message_id for h in found.hits]) == (1, ["k1"])
    with pytest.raises(NotFound, match="in the recycle bin"):
        unmask_message(ctx, SYSTEM, "b1", "核实")
