"""The canonical exchange format: parsing JSON Lines and CSV files, and normalising records.

The adapters' contract is a file path, so the parsing tests write small files under
``tmp_path`` (or a temporary folder inside Hypothesis tests); normalisation reads no files.
Every rejected record must name the field at fault and never echo the record's values.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatkeeper.domain import CanonicalMessage, RecordKind, SenderRole
from chatkeeper.errors import IngestError, RecordError
from chatkeeper.formats import get_format
from chatkeeper.formats.base import RawRecord
from chatkeeper.formats.canonical import (
    FIELDS,
    REQUIRED,
    CanonicalCsvFormat,
    CanonicalJsonlFormat,
    normalise_canonical,
)

#: Personal data that must never appear in an error message.
SECRET_TEXT = "我的身份证号是110101199003078515"
SECRET = "机密"

VALID: dict[str, Any] = {
    "platform": "webchat",
    "conversation_id": "conv-1",
    "message_id": "msg-1",
    "sent_at": "2025-03-01T10:11:12+08:00",
    "sender_role": "customer",
    "text": SECRET_TEXT,
}
HEADER = ["platform", "conversation_id", "message_id", "sent_at", "sender_role", "text"]
BOM = b"\xef\xbb\xbf"


def valid(**changes: Any) -> dict[str, Any]:
    """The minimal valid record with ``changes`` applied (``None`` removes a field)."""
    data = dict(VALID)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def rejected(data: dict[str, Any]) -> RecordError:
    """The error normalising ``data`` raises (the test fails if it is accepted)."""
    with pytest.raises(RecordError) as info:
        normalise_canonical(data)
    return info.value


def parse_jsonl(path: Path, content: bytes) -> list[RawRecord]:
    """Write ``content`` to ``path`` and parse it as canonical JSON Lines."""
    path.write_bytes(content)
    return list(CanonicalJsonlFormat().parse(path))


def parse_csv(path: Path, content: bytes) -> list[RawRecord]:
    """Write ``content`` to ``path`` and parse it as canonical CSV."""
    path.write_bytes(content)
    return list(CanonicalCsvFormat().parse(path))


def csv_line(row: list[str]) -> bytes:
    """One CSV row as csv.writer writes it (CRLF, RFC 4180 quoting)."""
    out = io.StringIO(newline="")
    csv.writer(out).writerow(row)
    return out.getvalue().encode()


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    """A CSV file: the header row, then ``rows``."""
    return csv_line(header) + b"".join(csv_line(row) for row in rows)


def csv_row(n: int, text: str = "你好") -> list[str]:
    """A valid CSV row for message ``m<n>``."""
    return ["webchat", "c1", f"m{n}", "2025-03-01T10:00:00+08:00", "customer", text]


def lines_and_errors(records: list[RawRecord]) -> list[tuple[int, bool]]:
    """Each record's line and whether it is an error record."""
    return [(r.line, r.error is not None) for r in records]


# ---------------------------------------------------------------------------------------------
# JSON Lines parsing
# ---------------------------------------------------------------------------------------------


class TestJsonlLines:
    """GIVEN a JSON Lines file WHEN parsed THEN each record carries the line it is on."""

    def test_records_carry_their_line_numbers_and_blank_lines_are_skipped(
        self, tmp_path: Path
    ) -> None:
        """GIVEN records between empty, whitespace-only and CRLF blank lines WHEN parsed THEN
        only the records are yielded, each with its 1-based physical line number."""
        content = b'{"n": 1}\n\n{"n": 2}\r\n   \n\t\r\n{"n": 3}\n\n'
        records = parse_jsonl(tmp_path / "a.jsonl", content)
        assert [(r.line, r.data, r.error) for r in records] == [
            (1, {"n": 1}, None),
            (3, {"n": 2}, None),
            (6, {"n": 3}, None),
        ]

    def test_last_line_without_newline(self, tmp_path: Path) -> None:
        """GIVEN a file whose last line has no line break WHEN parsed THEN it is read."""
        records = parse_jsonl(tmp_path / "a.jsonl", b'{"n": 1}\n{"n": 2}')
        assert [(r.line, r.data) for r in records] == [(1, {"n": 1}), (2, {"n": 2})]

    def test_empty_file(self, tmp_path: Path) -> None:
        """GIVEN an empty file WHEN parsed THEN nothing is yielded."""
        assert parse_jsonl(tmp_path / "a.jsonl", b"") == []

    def test_bom_on_the_first_line_is_ignored(self, tmp_path: Path) -> None:
        """GIVEN a UTF-8 BOM before the first record WHEN parsed THEN the record is read."""
        records = parse_jsonl(tmp_path / "a.jsonl", BOM + b'{"n": 1}\n{"n": 2}\n')
        assert [(r.line, r.data, r.error) for r in records] == [
            (1, {"n": 1}, None),
            (2, {"n": 2}, None),
        ]

    def test_bom_followed_by_a_blank_first_line_is_a_blank_line(self, tmp_path: Path) -> None:
        """GIVEN a file that starts with a BOM and then a blank line WHEN parsed THEN that line
        is blank (ignored) like any other blank line, not an invalid record."""
        records = parse_jsonl(tmp_path / "a.jsonl", BOM + b"\n" + b'{"n": 2}\n')
        assert [(r.line, r.data, r.error) for r in records] == [(2, {"n": 2}, None)]

    def test_a_bom_on_a_later_line_is_not_stripped(self, tmp_path: Path) -> None:
        """GIVEN a BOM at the start of line 2 (a concatenated file) WHEN parsed THEN that line
        is an error record, the others are read."""
        records = parse_jsonl(tmp_path / "a.jsonl", b'{"n": 1}\n' + BOM + b'{"n": 2}\n')
        assert lines_and_errors(records) == [(1, False), (2, True)]

    def test_missing_file_names_the_file(self, tmp_path: Path) -> None:
        """GIVEN a path that does not exist WHEN parsed THEN IngestError names the file."""
        path = tmp_path / "nope.jsonl"
        with pytest.raises(IngestError) as info:
            list(CanonicalJsonlFormat().parse(path))
        assert str(path) in str(info.value)
        assert info.value.details["file"] == str(path)


# content of the bad line, what the error says
BAD_JSONL_LINES = [
    (b"not json", "not valid JSON"),
    (b'{"text": "' + SECRET.encode() + b'"', "not valid JSON"),
    (b'{"text": ' + SECRET.encode() + b"}", "not valid JSON"),
    (b"{'single': 'quotes'}", "not valid JSON"),
    (b'{"text": "\xff\xfe"}', "not valid JSON"),  # invalid UTF-8
    (b'{"text": "\xe6\x9c"}', "not valid JSON"),  # truncated UTF-8 sequence
    (b"[1, 2, 3]", "is not a JSON object"),
    (b'"' + SECRET.encode() + b'"', "is not a JSON object"),
    (b"42", "is not a JSON object"),
    (b"null", "is not a JSON object"),
    (b"true", "is not a JSON object"),
]


class TestJsonlBadLines:
    """GIVEN a line that is not a JSON object WHEN parsed THEN it is an error record with its
    line number, and the lines around it are still read."""

    @pytest.mark.parametrize(("line", "reason"), BAD_JSONL_LINES)
    def test_bad_line_is_an_error_record(self, tmp_path: Path, line: bytes, reason: str) -> None:
        """GIVEN a bad line between two good ones WHEN parsed THEN the bad one is an error
        record on line 2 with no data and no field, naming the problem but not the content."""
        records = parse_jsonl(tmp_path / "a.jsonl", b'{"n": 1}\n' + line + b'\n{"n": 3}\n')
        assert lines_and_errors(records) == [(1, False), (2, True), (3, False)]
        bad = records[1]
        assert bad.data is None
        assert isinstance(bad.error, RecordError)
        assert bad.error.field is None
        assert reason in str(bad.error)
        assert SECRET not in str(bad.error)
        assert records[2].data == {"n": 3}


json_objects = st.dictionaries(
    st.text(max_size=5), st.one_of(st.none(), st.integers(-10, 10), st.text(max_size=8))
)
jsonl_lines = st.one_of(
    json_objects.map(lambda obj: ("object", orjson.dumps(obj))),
    st.sampled_from([b"", b"  ", b"\t", b"\r"]).map(lambda raw: ("blank", raw)),
    st.text(max_size=10)
    .filter(lambda t: "\n" not in t and "\r" not in t and t.strip() != "")
    .map(lambda t: ("other", t.encode())),
)


class TestJsonlProperties:
    """GIVEN any mix of object, blank and other lines WHEN parsed THEN one record comes per
    non-blank line, in order, with its number; objects round-trip, anything else is an error."""

    @settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(jsonl_lines, max_size=12))
    def test_one_record_per_non_blank_line(self, lines: list[tuple[str, bytes]]) -> None:
        """GIVEN generated lines WHEN parsed THEN records match the lines one to one."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "p.jsonl"
            records = parse_jsonl(path, b"\n".join(raw for _, raw in lines) + b"\n")
        expected: list[tuple[int, object]] = []
        for number, (kind, raw) in enumerate(lines, start=1):
            if kind == "blank" or not raw.strip():
                continue
            if number == 1:
                raw = raw.removeprefix(BOM)
                if not raw.strip():
                    continue  # a BOM and then nothing is a blank line
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:
                value = None
            expected.append((number, value if isinstance(value, dict) else None))
        assert [(r.line, r.data) for r in records] == expected
        for r in records:
            assert (r.data is None) == (r.error is not None)


# ---------------------------------------------------------------------------------------------
# CSV parsing
# ---------------------------------------------------------------------------------------------


class TestCsvLines:
    """GIVEN a canonical CSV file WHEN parsed THEN each row carries the line it starts on."""

    def test_rows_become_dicts_with_their_lines(self, tmp_path: Path) -> None:
        """GIVEN a header and two rows WHEN parsed THEN rows 2 and 3 are dicts by header."""
        records = parse_csv(tmp_path / "a.csv", csv_bytes([csv_row(1), csv_row(2, "发票")]))
        assert [(r.line, r.error) for r in records] == [(2, None), (3, None)]
        assert records[0].data == dict(zip(HEADER, csv_row(1), strict=True))
        assert records[1].data is not None and records[1].data["text"] == "发票"

    def test_quoted_multi_line_field_reports_the_line_the_row_starts_on(
        self, tmp_path: Path
    ) -> None:
        """GIVEN a row whose quoted text spans three lines WHEN parsed THEN it is on line 2,
        its text keeps the line breaks, and the next row is on line 5."""
        rows = [csv_row(1, "第一行\n第二行\n第三行"), csv_row(2, 'say "hi", ok'), csv_row(3)]
        records = parse_csv(tmp_path / "a.csv", csv_bytes(rows))
        assert [r.line for r in records] == [2, 5, 6]
        assert records[0].data is not None
        assert records[0].data["text"] == "第一行\n第二行\n第三行"
        assert records[1].data is not None and records[1].data["text"] == 'say "hi", ok'

    def test_blank_rows_are_skipped_but_counted(self, tmp_path: Path) -> None:
        """GIVEN an empty line and a row of empty cells WHEN parsed THEN both are skipped and
        the following rows keep their physical line numbers."""
        content = csv_bytes([csv_row(1)]) + b"\r\n" + csv_line([""] * 6) + csv_line(csv_row(2))
        assert content.count(b"\n") == 5
        records = parse_csv(tmp_path / "a.csv", content)
        assert [(r.line, r.error) for r in records] == [(2, None), (5, None)]

    def test_empty_cells_mean_no_value(self, tmp_path: Path) -> None:
        """GIVEN a row with empty cells WHEN parsed THEN those keys are absent, not ''."""
        header = [*HEADER, "department", "customer_tags"]
        row = [*csv_row(1), "", " "]
        records = parse_csv(tmp_path / "a.csv", csv_bytes([row], header))
        assert records[0].data is not None
        assert "department" not in records[0].data
        assert records[0].data["customer_tags"] == " "

    def test_bom_and_header_whitespace(self, tmp_path: Path) -> None:
        """GIVEN a BOM and header names padded with spaces WHEN parsed THEN the header is
        recognised and the row is read."""
        header = [" platform", "conversation_id ", *HEADER[2:]]
        records = parse_csv(tmp_path / "a.csv", BOM + csv_bytes([csv_row(1)], header))
        assert records[0].error is None
        assert records[0].data is not None and records[0].data["platform"] == "webchat"

    def test_columns_in_any_order_and_unknown_columns_are_kept(self, tmp_path: Path) -> None:
        """GIVEN columns in another order plus an unknown one WHEN parsed and normalised THEN
        every value lands under its name and the unknown one is kept in raw."""
        header = ["text", "channel", *reversed(HEADER[:5])]
        row = ["你好", "app", "customer", "2025-03-01T10:00:00+08:00", "m1", "c1", "webchat"]
        records = parse_csv(tmp_path / "a.csv", csv_bytes([row], header))
        assert records[0].data is not None
        message = CanonicalCsvFormat().normalise(records[0].data)
        assert isinstance(message, CanonicalMessage)
        assert (message.message_id, message.text) == ("m1", "你好")
        assert orjson.loads(message.raw or "") == {"channel": "app"}

    def test_header_only_and_empty_files(self, tmp_path: Path) -> None:
        """GIVEN a file with only a header, and an empty file WHEN parsed THEN no records."""
        assert parse_csv(tmp_path / "a.csv", csv_bytes([])) == []
        assert parse_csv(tmp_path / "b.csv", b"") == []

    def test_missing_file_names_the_file(self, tmp_path: Path) -> None:
        """GIVEN a path that does not exist WHEN parsed THEN IngestError names the file."""
        path = tmp_path / "nope.csv"
        with pytest.raises(IngestError) as info:
            list(CanonicalCsvFormat().parse(path))
        assert str(path) in str(info.value)


# cells of the bad row, what the error says
WRONG_COLUMN_ROWS = [
    (csv_row(2)[:5], "has 5 columns, the header has 6"),
    ([*csv_row(2), "extra"], "has 7 columns, the header has 6"),
    (["only-one"], "has 1 columns, the header has 6"),
    ([*csv_row(2, SECRET), SECRET], "has 7 columns, the header has 6"),
]


class TestCsvBadRows:
    """GIVEN a row that cannot be a record WHEN parsed THEN it is an error record at its
    line, and the rows after it are still read."""

    @pytest.mark.parametrize(("row", "reason"), WRONG_COLUMN_ROWS)
    def test_wrong_column_count(self, tmp_path: Path, row: list[str], reason: str) -> None:
        """GIVEN a row with the wrong number of cells WHEN parsed THEN it is an error record
        naming the counts (not the cells) and the next row is read."""
        records = parse_csv(tmp_path / "a.csv", csv_bytes([csv_row(1), row, csv_row(3)]))
        assert lines_and_errors(records) == [(2, False), (3, True), (4, False)]
        assert records[1].data is None
        assert records[1].error is not None and reason in str(records[1].error)
        assert SECRET not in str(records[1].error)

    def test_wrong_column_count_on_a_multi_line_row(self, tmp_path: Path) -> None:
        """GIVEN a bad row whose quoted cell spans lines WHEN parsed THEN the error is on the
        line the row starts on."""
        rows = [csv_row(1, "a\nb"), ["x\ny\nz", "1"], csv_row(3)]
        records = parse_csv(tmp_path / "a.csv", csv_bytes(rows))
        assert lines_and_errors(records) == [(2, False), (4, True), (7, False)]

    @pytest.mark.parametrize("column", REQUIRED)
    def test_missing_required_column(self, tmp_path: Path, column: str) -> None:
        """GIVEN a header without a required column WHEN parsed THEN IngestError names the
        file, line 1 and the column, before any row is yielded."""
        header = [name for name in HEADER if name != column]
        path = tmp_path / "a.csv"
        path.write_bytes(csv_bytes([["x"] * len(header)], header))
        with pytest.raises(IngestError) as info:
            list(CanonicalCsvFormat().parse(path))
        message = str(info.value)
        assert str(path) in message
        assert "line 1" in message
        assert column in message
        assert info.value.details["file"] == str(path)
        assert not isinstance(info.value, RecordError)

    def test_missing_columns_are_all_named(self, tmp_path: Path) -> None:
        """GIVEN a header lacking two required columns WHEN parsed THEN both are named."""
        path = tmp_path / "a.csv"
        path.write_bytes(csv_bytes([], ["platform", "conversation_id", "message_id", "text"]))
        with pytest.raises(IngestError, match="sent_at, sender_role"):
            list(CanonicalCsvFormat().parse(path))

    def test_invalid_utf8_in_the_header(self, tmp_path: Path) -> None:
        """GIVEN a header that is not UTF-8 WHEN parsed THEN IngestError names the file and
        line 1 (and carries the file like every other file-level error)."""
        path = tmp_path / "a.csv"
        path.write_bytes(b"platform,conversation_id,message_id,sent_at,sender_role,t\xffxt\r\n")
        with pytest.raises(IngestError) as info:
            list(CanonicalCsvFormat().parse(path))
        assert str(path) in str(info.value)
        assert "line 1" in str(info.value)
        assert info.value.details.get("file") == str(path)

    @pytest.mark.parametrize("good_before", [2, 600], ids=["small-file", "past-first-chunk"])
    def test_invalid_utf8_in_a_row_is_reported_on_its_line(
        self, tmp_path: Path, good_before: int
    ) -> None:
        """GIVEN good rows, then a row with a byte that is not UTF-8 WHEN parsed THEN every
        good row before it is yielded and the error is on the bad row's own line (the file is
        not refused as a whole, and the line is not that of an earlier row)."""
        good = csv_bytes([csv_row(n) for n in range(good_before)])
        bad = b"webchat,c1,bad,2025-03-01T10:00:00+08:00,customer,\xff\xfe\r\n"
        records = parse_csv(tmp_path / "a.csv", good + bad)
        bad_line = good_before + 2
        assert [r.line for r in records if r.error is None] == list(range(2, bad_line))
        errors = [r for r in records if r.error is not None]
        assert [r.line for r in errors] == [bad_line]
        assert "UTF-8" in str(errors[0].error)

    def test_rows_after_invalid_utf8_are_not_lost(self, tmp_path: Path) -> None:
        """GIVEN a bad (non-UTF-8) row followed by good rows WHEN parsed THEN the good rows
        after it are still yielded: "every good record of the same file is still ingested"
        (docs/formats.md), and a row is never dropped without being reported."""
        head = csv_bytes([csv_row(1), csv_row(2)])
        bad = b"webchat,c1,bad,2025-03-01T10:00:00+08:00,customer,\xff\r\n"
        tail = csv_line(csv_row(3)) + csv_line(csv_row(4))
        records = parse_csv(tmp_path / "a.csv", head + bad + tail)
        assert lines_and_errors(records) == [(2, False), (3, False), (4, True), (5, False),
                                             (6, False)]  # fmt: skip


csv_cells = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\x00"),
    max_size=12,
)


class TestCsvProperties:
    """GIVEN rows of arbitrary cell text (commas, quotes, line breaks) written by csv.writer
    WHEN parsed THEN every non-blank row comes back with the line it starts on."""

    @settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.lists(csv_cells, min_size=6, max_size=6), max_size=8))
    def test_rows_round_trip_with_start_lines(self, rows: list[list[str]]) -> None:
        """GIVEN generated rows WHEN parsed THEN data and line numbers are as written."""
        content = csv_bytes(rows)
        expected = []
        offset = len(csv_line(HEADER))
        for row in rows:
            line = content[:offset].count(b"\n") + 1
            offset += len(csv_line(row))
            if any(cell.strip() for cell in row):
                data = {k: v for k, v in zip(HEADER, row, strict=True) if v != ""}
                expected.append((line, data))
        with tempfile.TemporaryDirectory() as folder:
            records = parse_csv(Path(folder) / "p.csv", content)
        assert [(r.line, r.data) for r in records] == expected


class TestRegistry:
    """GIVEN the format registry WHEN asked for jsonl or csv THEN the canonical adapters,
    both normalising with normalise_canonical."""

    @pytest.mark.parametrize(
        ("name", "adapter"), [("jsonl", CanonicalJsonlFormat), ("csv", CanonicalCsvFormat)]
    )
    def test_registered(self, name: str, adapter: type) -> None:
        """GIVEN the name WHEN looked up THEN the adapter, normalising canonically."""
        fmt = get_format(name)
        assert isinstance(fmt, adapter)
        assert fmt.name == name
        assert fmt.normalise(valid()) == normalise_canonical(valid())


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------


class TestRequiredFields:
    """GIVEN a record lacking a required field WHEN normalised THEN RecordError names it."""

    @pytest.mark.parametrize("name", REQUIRED)
    @pytest.mark.parametrize("value", [None, "", "   "], ids=["absent", "empty", "blank"])
    def test_missing_required_field(self, name: str, value: str | None) -> None:
        """GIVEN the field absent, empty or blank WHEN normalised THEN its name is the error's
        field and the message starts with it."""
        data = valid()
        if value is None:
            del data[name]
        else:
            data[name] = value
        error = rejected(data)
        assert error.field == name
        assert str(error).startswith(f"field '{name}': ")
        assert SECRET_TEXT not in str(error)

    @pytest.mark.parametrize("name", ["platform", "conversation_id", "message_id", "sender_role"])
    def test_missing_id_like_field_says_required(self, name: str) -> None:
        """GIVEN an absent string field WHEN normalised THEN the reason is 'is required'."""
        assert rejected(valid(**{name: None})).reason == "is required"

    def test_minimal_record(self) -> None:
        """GIVEN only the required fields and a text WHEN normalised THEN defaults fill in."""
        message = normalise_canonical(valid())
        assert message == CanonicalMessage(
            platform="webchat",
            conversation_id="conv-1",
            message_id="msg-1",
            sent_at=datetime(2025, 3, 1, 2, 11, 12, tzinfo=UTC),
            sender_role=SenderRole.CUSTOMER,
            text=SECRET_TEXT,
        )
        assert message.sent_at.utcoffset() == timedelta(hours=8)
        assert (message.kind, message.msgtype, message.raw, message.payload) == (
            RecordKind.MESSAGE,
            "text",
            None,
            None,
        )


# changes to the valid record, attribute, expected value
ACCEPTED_ROWS = [
    ({"platform": "WebChat"}, "platform", "webchat"),
    ({"platform": " wecom "}, "platform", "wecom"),
    ({"platform": "a"}, "platform", "a"),
    ({"platform": "p" * 32}, "platform", "p" * 32),
    ({"platform": "web_chat.v2-cn"}, "platform", "web_chat.v2-cn"),
    ({"platform": "9chat"}, "platform", "9chat"),
    ({"sender_role": "AGENT"}, "sender_role", SenderRole.AGENT),
    ({"sender_role": " bot "}, "sender_role", SenderRole.BOT),
    ({"sender_role": "system"}, "sender_role", SenderRole.SYSTEM),
    ({"sent_at": "2025-03-01T02:11:12Z"}, "sent_at", datetime(2025, 3, 1, 2, 11, 12, tzinfo=UTC)),
    ({"sent_at": "2025-03-01T02:11:12+00:00"}, "sent_at",
     datetime(2025, 3, 1, 2, 11, 12, tzinfo=UTC)),
    ({"sent_at": "2025-03-01T10:11:12.345+08:00"}, "sent_at",
     datetime(2025, 3, 1, 2, 11, 12, 345000, tzinfo=UTC)),
    ({"sent_at": " 2025-03-01T10:11:12+08:00 "}, "sent_at",
     datetime(2025, 3, 1, 2, 11, 12, tzinfo=UTC)),
    ({"message_id": 12345}, "message_id", "12345"),
    ({"message_id": "m" * 128}, "message_id", "m" * 128),
    ({"conversation_id": " c-1 "}, "conversation_id", "c-1"),
    ({"sender_name": "王" * 200}, "sender_name", "王" * 200),
    ({"text": "  你好  "}, "text", "  你好  "),  # kept exactly as sent
    ({"msgtype": "IMAGE", "text": None}, "msgtype", "image"),
    ({"msgtype": "image", "text": None}, "text", None),
    ({"msgtype": "image", "text": ""}, "text", None),
    ({"msgtype": "brand_new"}, "kind", RecordKind.MESSAGE),
    ({"customer_tags": ["vip", " 投诉 ", "vip", ""]}, "customer_tags", ("vip", "投诉")),
    ({"customer_tags": "vip|企业"}, "customer_tags", ("vip", "企业")),
    ({"customer_tags": "a| b |a|"}, "customer_tags", ("a", "b")),
    ({"customer_tags": ""}, "customer_tags", ()),
    ({"customer_tags": []}, "customer_tags", ()),
    ({"customer_tags": ["t" * 64]}, "customer_tags", ("t" * 64,)),
    ({"service_type": "After_Sales"}, "service_type", "after_sales"),
    ({"service_type": "  "}, "service_type", None),
    ({"department": "售后服务部"}, "department", "售后服务部"),
    ({"payload": {"sdkfileid": "f1", "size": 3}}, "payload", {"sdkfileid": "f1", "size": 3}),
    ({"payload": '{"sdkfileid": "f1"}'}, "payload", {"sdkfileid": "f1"}),
    ({"payload": ""}, "payload", None),
    ({"msgtype": "revoke", "text": None, "ref_message_id": "msg-0"}, "kind", RecordKind.RECALL),
    ({"msgtype": "revoke", "text": None, "ref_message_id": "msg-0"}, "ref_message_id", "msg-0"),
    ({"msgtype": "agree", "text": None}, "kind", RecordKind.CONSENT),
    ({"msgtype": "agree", "text": None}, "consent", "agree"),
    ({"msgtype": "DISAGREE", "text": None}, "consent", "disagree"),
    ({"msgtype": "disagree", "text": None}, "kind", RecordKind.CONSENT),
    # Negative rows: things that look special but are not.
    ({"msgtype": "file", "text": None}, "consent", None),
    ({"msgtype": "recall", "text": None}, "kind", RecordKind.MESSAGE),
    ({"ref_message_id": "msg-0"}, "kind", RecordKind.MESSAGE),
]  # fmt: skip


class TestAcceptedValues:
    """GIVEN a valid variation of a field WHEN normalised THEN it is cleaned as documented."""

    @pytest.mark.parametrize(("changes", "attribute", "expected"), ACCEPTED_ROWS)
    def test_field_value(self, changes: dict[str, Any], attribute: str, expected: object) -> None:
        """GIVEN the change WHEN normalised THEN the attribute has the expected value."""
        assert getattr(normalise_canonical(valid(**changes)), attribute) == expected

    def test_unknown_fields_are_kept_in_raw(self) -> None:
        """GIVEN fields the format does not know WHEN normalised THEN raw is exactly those
        fields as a JSON object, and known fields are not repeated there."""
        extras = {"channel": "app", "score": 5, "nested": {"a": [1, "二"]}, "flag": None}
        message = normalise_canonical(valid(department="售后部") | extras)
        assert orjson.loads(message.raw or "") == extras

    def test_no_unknown_fields_no_raw(self) -> None:
        """GIVEN only known fields WHEN normalised THEN raw is None."""
        full = valid(sender_id="s", msgtype="text", department="d", customer_tags=["v"])
        assert normalise_canonical(full).raw is None


# changes to the valid record, the field the error names, part of the reason
REJECTED_ROWS = [
    ({"platform": "web chat"}, "platform", "a-z"),
    ({"platform": "微信"}, "platform", "a-z"),
    ({"platform": "p" * 33}, "platform", "1-32"),
    ({"platform": "-web"}, "platform", "a-z"),
    ({"platform": "_web"}, "platform", "a-z"),
    ({"platform": "web/chat"}, "platform", "a-z"),
    ({"platform": True}, "platform", "must be a string"),
    ({"platform": ["webchat"]}, "platform", "must be a string"),
    ({"sender_role": "boss"}, "sender_role", "customer, agent, bot, system"),
    ({"sender_role": "customers"}, "sender_role", "customer, agent, bot, system"),
    ({"sender_role": "客户"}, "sender_role", "customer, agent, bot, system"),
    ({"sender_role": 1}, "sender_role", "customer, agent, bot, system"),
    ({"sent_at": "2025-03-01T10:11:12"}, "sent_at", "no UTC offset"),
    ({"sent_at": "2025-03-01"}, "sent_at", "no UTC offset"),
    ({"sent_at": "2025-03-01 10:11:12"}, "sent_at", "no UTC offset"),
    ({"sent_at": "yesterday 10:00"}, "sent_at", "not an ISO 8601 time"),
    ({"sent_at": "2025-13-01T10:11:12+08:00"}, "sent_at", "not an ISO 8601 time"),
    ({"sent_at": "2025/03/01 10:11:12+08:00"}, "sent_at", "not an ISO 8601 time"),
    ({"sent_at": "01-03-2025T10:11:12+08:00"}, "sent_at", "not an ISO 8601 time"),
    ({"sent_at": 1740795072}, "sent_at", "ISO 8601 string"),
    ({"sent_at": 1740795072.5}, "sent_at", "ISO 8601 string"),
    ({"text": None}, "text", "required for a text message"),
    ({"text": ""}, "text", "required for a text message"),
    ({"text": " \n\t"}, "text", "required for a text message"),
    ({"msgtype": "TEXT", "text": None}, "text", "required for a text message"),
    ({"text": 12345}, "text", "must be a string"),
    ({"text": ["你好"]}, "text", "must be a string"),
    ({"text": "长" * 100_001}, "text", "longer than 100000"),
    ({"msgtype": "revoke", "text": None}, "ref_message_id", "revoke"),
    ({"msgtype": "Revoke", "text": None, "ref_message_id": "  "}, "ref_message_id", "revoke"),
    ({"conversation_id": "c" * 129}, "conversation_id", "longer than 128"),
    ({"message_id": "m" * 129}, "message_id", "longer than 128"),
    ({"message_id": 10**128}, "message_id", "longer than 128"),  # 129 digits
    ({"sender_id": "s" * 129}, "sender_id", "longer than 128"),
    ({"agent_id": "a" * 129}, "agent_id", "longer than 128"),
    ({"customer_id": "u" * 129}, "customer_id", "longer than 128"),
    ({"msgtype": "revoke", "text": None, "ref_message_id": "r" * 129}, "ref_message_id",
     "longer than 128"),
    ({"sender_name": "王" * 201}, "sender_name", "longer than 200"),
    ({"department": "部" * 201}, "department", "longer than 200"),
    ({"agent_name": "陈" * 201}, "agent_name", "longer than 200"),
    ({"msgtype": "t" * 33}, "msgtype", "longer than 32"),
    ({"service_type": "s" * 65}, "service_type", "longer than 64"),
    ({"message_id": 1.5}, "message_id", "must be a string, not float"),
    ({"message_id": False}, "message_id", "must be a string, not bool"),
    ({"conversation_id": {"id": "c"}}, "conversation_id", "must be a string, not dict"),
    ({"sender_id": ["s"]}, "sender_id", "must be a string, not list"),
    ({"customer_tags": 5}, "customer_tags", "list of strings"),
    ({"customer_tags": {"vip": True}}, "customer_tags", "list of strings"),
    ({"customer_tags": ["vip", 3]}, "customer_tags", "list of strings"),
    ({"customer_tags": ["t" * 65]}, "customer_tags", "longer than 64"),
    ({"customer_tags": "ok|" + "t" * 65}, "customer_tags", "longer than 64"),
    ({"payload": "not json " + SECRET}, "payload", "not valid JSON"),
    ({"payload": "[1, 2]"}, "payload", "JSON object"),
    ({"payload": [1, 2]}, "payload", "JSON object"),
    ({"payload": 5}, "payload", "JSON object"),
]  # fmt: skip


class TestRejectedValues:
    """GIVEN an invalid field WHEN normalised THEN RecordError names the field and the rule,
    and never contains the record's values (they may be personal data)."""

    @pytest.mark.parametrize(("changes", "field", "reason"), REJECTED_ROWS)
    def test_field_is_named_and_values_are_not_echoed(
        self, changes: dict[str, Any], field: str, reason: str
    ) -> None:
        """GIVEN the bad change WHEN normalised THEN error.field is the field, the reason
        explains the rule, and neither the text nor the bad value is in the message."""
        error = rejected(valid(**changes))
        assert error.field == field
        assert reason in str(error)
        message = str(error)
        assert SECRET_TEXT not in message
        value = changes.get(field)
        if isinstance(value, str) and len(value.strip()) >= 2:
            assert value.strip() not in message

    def test_error_message_names_only_field_and_rule(self) -> None:
        """GIVEN a bad sender role WHEN normalised THEN the message is exactly field + rule."""
        error = rejected(valid(sender_role="boss"))
        assert str(error) == "field 'sender_role': must be one of customer, agent, bot, system"
        assert error.details == {"field": "sender_role"}


# --- Hypothesis: arbitrary records --------------------------------------------------------------

#: Text that sometimes carries the secret marker, to prove errors never echo values.
texts = st.one_of(
    st.text(max_size=12),
    st.builds(lambda a, b: a + SECRET + b, st.text(max_size=4), st.text(max_size=4)),
)
#: JSON values as a JSON Lines or CSV file can produce them (64-bit integers, finite floats).
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
PLAUSIBLE: dict[str, list[object]] = {
    "platform": ["webchat", "WeCom", "web chat", "", "p" * 33],
    "conversation_id": ["c1", 42, "c" * 129, "  "],
    "message_id": ["m1", 7, "m" * 128, "m" * 129],
    "sent_at": ["2025-03-01T10:00:00+08:00", "2025-03-01T10:00:00Z", "2025-03-01T10:00:00"],
    "sender_role": ["customer", "Agent", "bot", "system", "boss"],
    "text": ["你好", " ", ""],
    "msgtype": ["text", "image", "revoke", "agree", "disagree", "TEXT"],
    "ref_message_id": ["m0", ""],
    "customer_tags": [["vip"], "a|b", "", ["x" * 65], [1]],
    "payload": ['{"a": 1}', "{", {"a": 1}, "[1]"],
}


def field_values(name: str) -> st.SearchStrategy[object]:
    """Values for one field: plausible ones (to get past earlier checks) or anything."""
    plausible = PLAUSIBLE.get(name)
    if plausible is None:
        return json_values
    return st.one_of(st.sampled_from(plausible), json_values)


records = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries({}, optional={name: field_values(name) for name in FIELDS}),
    st.dictionaries(texts, json_values, max_size=3),
)


class TestNormaliseProperties:
    """GIVEN any record a file could hold WHEN normalised THEN the result is a valid canonical
    message or a RecordError naming a known field; never another exception."""

    @settings(max_examples=500)
    @given(records)
    def test_message_or_record_error(self, data: dict[str, Any]) -> None:
        """GIVEN an arbitrary dict WHEN normalised THEN CanonicalMessage or RecordError."""
        try:
            message = normalise_canonical(data)
        except RecordError as error:
            assert error.field is None or error.field in FIELDS
            assert SECRET not in str(error)
            return
        assert isinstance(message, CanonicalMessage)
        assert 1 <= len(message.platform) <= 32 and message.platform == message.platform.lower()
        for value in (message.conversation_id, message.message_id, message.ref_message_id):
            assert value is None or 1 <= len(value) <= 128
        assert message.sent_at.utcoffset() is not None
        assert message.sender_role in SenderRole
        if message.msgtype == "text":
            assert message.text is not None and message.text.strip()
        if message.kind is RecordKind.RECALL:
            assert message.ref_message_id
        extras = {key: value for key, value in data.items() if key not in FIELDS}
        assert (orjson.loads(message.raw) if message.raw else {}) == orjson.loads(
            orjson.dumps(extras)
        )

    @given(st.dictionaries(texts, json_values, max_size=6))
    def test_records_without_required_fields_are_rejected(self, data: dict[str, Any]) -> None:
        """GIVEN a dict without any known field WHEN normalised THEN a RecordError."""
        data = {key: value for key, value in data.items() if key not in FIELDS}
        with pytest.raises(RecordError):
            normalise_canonical(data)
