"""Nothing in plaintext: no personal value of an ingested conversation is stored readable.

GIVEN generated conversations full of ID numbers, mobiles, bank cards, e-mails and names
WHEN they are ingested (with a bad line, so a rejects file exists too)
THEN no value, in any of its written forms, occurs in any byte of any file under the data
     folder (database, WAL, index, key files, rejects) — nor, on PostgreSQL and MariaDB, in any
     row of any table.
"""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from chatkeeper.demo import generate_records
from chatkeeper.demo.pii import CARD_BINS
from chatkeeper.domain import Actor
from chatkeeper.privacy.findings import PiiType
from chatkeeper.privacy.normalise import written_forms
from chatkeeper.services.ingest import ingest_files
from tests.factories import write_jsonl

ACTOR = Actor("tests", frozenset({"system"}))  # a job of the system: every permission
# The generator's own card prefixes: a Luhn-valid number without one is an order or
# transaction number (one in ten of them passes Luhn by chance), which is not personal data.
BINS = tuple(prefix for prefix, _ in CARD_BINS)
ID_CARD = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])")
CARD = re.compile(r"(?<![0-9])(?:62|4|5)[0-9]{14,18}(?![0-9])")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _known_values(records: list[dict]) -> dict[PiiType, set[str]]:
    values: dict[PiiType, set[str]] = {kind: set() for kind in PiiType}
    for record in records:
        text = record.get("text") or ""
        values[PiiType.CN_ID_CARD].update(ID_CARD.findall(text))
        values[PiiType.CN_MOBILE].update(re.sub(r"[ -]", "", m) for m in MOBILE.findall(text))
        values[PiiType.BANK_CARD].update(
            c for c in CARD.findall(text) if _luhn(c) and c.startswith(BINS)
        )
        values[PiiType.EMAIL].update(EMAIL.findall(text))
        if record["sender_role"] == "customer" and record.get("sender_name"):
            values[PiiType.PERSON_NAME].add(record["sender_name"])
    return values


def _needles(values: dict[PiiType, set[str]]) -> set[bytes]:
    needles: set[bytes] = set()
    for kind, found in values.items():
        for value in found:
            for form in written_forms(kind, value):
                if len(form) >= 3:
                    needles.add(form.encode())
    return needles


def test_no_personal_value_is_stored_in_plaintext(ctx, data_dir: Path, tmp_path: Path):
    records = list(generate_records(1500, seed=7))
    values = _known_values(records)
    assert all(values[k] for k in (PiiType.CN_ID_CARD, PiiType.CN_MOBILE, PiiType.BANK_CARD))
    path = write_jsonl(tmp_path / "chats.jsonl", [*records, '{"broken": '])
    report = ingest_files(ctx, ACTOR, [path], "jsonl")
    assert report.ingested == len(records) and report.rejected == 1
    needles = _needles(values)
    ctx.close()  # let SQLite checkpoint; the WAL and every other file are searched all the same
    for file in [p for p in data_dir.rglob("*") if p.is_file()]:
        content = file.read_bytes()
        leaked = sorted(n.decode() for n in needles if n in content)
        assert not leaked, f"{file.name} holds {len(leaked)} personal values in plaintext"
    if ctx.archive.dialect != "sqlite":
        engine = ctx.archive.engine
        with engine.connect() as connection:
            for table in sa.inspect(engine).get_table_names():
                for row in connection.exec_driver_sql(f"SELECT * FROM {table}"):
                    content = "\x00".join(
                        bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                        for v in row
                    ).encode("utf-8", "surrogatepass")
                    leaked = [n for n in needles if n in content]
                    assert not leaked, f"table {table} holds personal values in plaintext"
