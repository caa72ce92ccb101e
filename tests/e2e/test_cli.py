"""The ``chatkeeper`` command line, end to end, on SQLite in a temporary data folder.

Each test drives ``chatkeeper.cli.app.app`` through Typer's ``CliRunner`` exactly as a user
would type the command, and reads what a user (``--json``: a machine) would read back. Each
command runs signed in as the user whose role may run it (``signin.RUNS_AS``): ingest as admin,
search / show / stats as legal1.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import Result

from chatkeeper.formats.canonical import CanonicalJsonlFormat, normalise_canonical
from tests.factories import record, write_csv, write_jsonl

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
WECOM_SAMPLE = SAMPLES / "wecom-sample.jsonl"
SECRET_TEXT = "我的身份证号是110101199003078515"
REPORT_KEYS = {"ingested", "duplicates", "rejected", "skipped", "rejects_file"}
HIT_KEYS = {"conversation_id", "message_id", "sent_at", "sender_role", "snippet"}

Invoke = Callable[..., Result]

# --- the data set ----------------------------------------------------------------------------

#: Conversation-level values, the same on every record of a conversation.
CONVERSATIONS: dict[str, dict[str, Any]] = {
    "conv-a": {"customer_id": "cust-a", "customer_tags": ["vip"], "department": "售后服务部",
               "service_type": "after_sales", "agent_id": "a001", "agent_name": "陈静"},
    "conv-b": {"customer_id": "cust-b", "customer_tags": ["投诉"], "department": "投诉处理部",
               "service_type": "complaint", "agent_id": "a002", "agent_name": "刘强"},
    "conv-c": {"customer_id": "cust-c", "customer_tags": None, "department": "售前咨询部",
               "service_type": "consultation", "agent_id": "a003", "agent_name": "周敏"},
}  # fmt: skip
SENDERS = {
    "customer": lambda conv: (CONVERSATIONS[conv]["customer_id"], "王小明"),
    "agent": lambda conv: (CONVERSATIONS[conv]["agent_id"], CONVERSATIONS[conv]["agent_name"]),
    "bot": lambda conv: ("bot-1", "小E"),
}


def message(conv: str, message_id: str, sent_at: str, role: str, text: str) -> dict[str, Any]:
    """A canonical record of conversation ``conv``."""
    sender_id, sender_name = SENDERS[role](conv)
    return record(
        conversation_id=conv,
        message_id=message_id,
        sent_at=sent_at,
        sender_role=role,
        sender_id=sender_id,
        sender_name=sender_name,
        text=text,
        **CONVERSATIONS[conv],
    )


DATASET = [
    message("conv-a", "a1", "2025-03-01T10:00:00+08:00", "customer", "我要申请退款，订单号123"),
    message("conv-a", "a2", "2025-03-01T10:05:00+08:00", "agent", "您好，退款已经提交"),
    message("conv-a", "a3", "2025-03-01T10:06:00+08:00", "customer", "好的谢谢"),
    message("conv-b", "b1", "2025-03-02T09:00:00+08:00", "customer", "退款一直没到账，我要投诉"),
    message("conv-b", "b2", "2025-03-03T23:59:59+08:00", "agent", "发票已经开好了"),
    message("conv-c", "c1", "2025-03-04T00:00:00+08:00", "customer", "退款和发票能一起处理吗"),
    message("conv-c", "c2", "2025-03-04T00:00:30+08:00", "bot", "您好，请问有什么可以帮您"),
]
REFUND = {"a1", "a2", "b1", "c1"}  # the messages containing 退款


# --- fixtures --------------------------------------------------------------------------------


# ``data_dir``, ``cli`` (which signs in as the user each command needs: ingest as admin,
# search / show / stats as legal1, ...) and ``staffed`` are in conftest.py.


@pytest.fixture
def initialised(staffed: Path) -> Path:
    """An initialised, empty data folder, with admin and the users of ``signin.STAFF``."""
    return staffed


@pytest.fixture
def loaded(cli: Invoke, initialised: Path, tmp_path: Path) -> Path:
    """The data set ingested, its lines shuffled (time order must not depend on file order)."""
    records = list(DATASET)
    random.Random(7).shuffle(records)
    path = write_jsonl(tmp_path / "dataset.jsonl", records)
    assert ingest_json(cli, path)["ingested"] == len(DATASET)
    return initialised


def as_json(result: Result) -> Any:
    """The JSON document a command printed on standard output."""
    return orjson.loads(result.stdout)


def ingest_json(cli: Invoke, *args: str | Path) -> dict[str, Any]:
    """Run ``ingest ... --json``, require success, return its report."""
    result = cli("ingest", *args, "--json")
    assert result.exit_code == 0, result.output
    report = as_json(result)
    assert set(report) == REPORT_KEYS
    return report


def search_json(cli: Invoke, *args: str) -> dict[str, Any]:
    """Run ``search ... --json``, require success, return the result."""
    result = cli("search", *args, "--json")
    assert result.exit_code == 0, result.output
    return as_json(result)


def hit_ids(result: dict[str, Any]) -> set[str]:
    """The message ids of a search result's hits."""
    return {hit["message_id"] for hit in result["hits"]}


def says(output: str, expected: str) -> bool:
    """Whether ``output`` holds ``expected``, ignoring all whitespace: the console wraps long
    lines (see TestErrorOutput), which is not what these tests are about."""
    return "".join(expected.split()) in "".join(output.split())


# --- init and the uninitialised folder ------------------------------------------------------


class TestInit:
    """GIVEN a new data folder WHEN ``init`` runs THEN the folder and schema exist."""

    def test_init_json(self, cli: Invoke, data_dir: Path) -> None:
        """GIVEN no folder (and CHATKEEPER_ADMIN_PASSWORD set) WHEN init --json THEN ok, the
        folder, sqlite, the admin user created (no generated password); the database exists."""
        result = cli("init", "--json")
        assert result.exit_code == 0, result.output
        assert as_json(result) == {
            "ok": True,
            "data_dir": str(data_dir),
            "database": "sqlite",
            "admin": "admin",
        }
        assert (data_dir / "chatkeeper.db").is_file()

    def test_init_human(self, cli: Invoke, data_dir: Path) -> None:
        """GIVEN no folder WHEN init THEN it says it initialised the folder."""
        result = cli("init")
        assert result.exit_code == 0, result.output
        assert "Initialised" in result.stdout

    def test_init_again_keeps_the_data(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN an archive with messages WHEN init runs again THEN nothing is lost."""
        assert cli("init", "--json").exit_code == 0
        assert as_json(cli("stats", "--json"))["messages"] == len(DATASET)


UNINITIALISED_COMMANDS = [
    ("stats",),
    ("search", "退款"),
    ("show", "conv-a"),
    ("ingest", str(WECOM_SAMPLE)),
]


class TestUninitialised:
    """GIVEN a data folder that was never initialised WHEN any other command runs THEN it
    exits 69 and tells the user to run ``chatkeeper init``."""

    @pytest.mark.parametrize("args", UNINITIALISED_COMMANDS, ids=lambda a: a[0])
    def test_json(self, cli: Invoke, data_dir: Path, args: tuple[str, ...]) -> None:
        """GIVEN no folder WHEN the command runs with --json THEN exit 69, the error envelope
        with code not_initialised, and no folder was created."""
        result = cli(*args, "--json")
        assert result.exit_code == 69
        body = as_json(result)
        assert body["ok"] is False
        assert body["error"]["code"] == "not_initialised"
        assert "chatkeeper init" in body["error"]["message"]
        assert not data_dir.exists()

    @pytest.mark.parametrize("args", UNINITIALISED_COMMANDS, ids=lambda a: a[0])
    def test_human(self, cli: Invoke, args: tuple[str, ...]) -> None:
        """GIVEN no folder WHEN the command runs THEN exit 69 and standard error says to run
        chatkeeper init; standard output stays empty."""
        result = cli(*args)
        assert result.exit_code == 69
        assert says(result.stderr, "chatkeeper init")
        assert result.stdout == ""

    def test_folder_without_database(self, cli: Invoke, data_dir: Path) -> None:
        """GIVEN a folder that exists but holds no database WHEN stats runs THEN exit 69."""
        data_dir.mkdir()
        result = cli("stats", "--json")
        assert result.exit_code == 69
        assert as_json(result)["error"]["code"] == "not_initialised"

    def test_empty_database_file(self, cli: Invoke, data_dir: Path) -> None:
        """GIVEN an empty chatkeeper.db WHEN stats runs THEN exit 69, run chatkeeper init."""
        data_dir.mkdir()
        (data_dir / "chatkeeper.db").write_bytes(b"")
        result = cli("stats", "--json")
        assert result.exit_code == 69
        assert "chatkeeper init" in as_json(result)["error"]["message"]


class TestErrorOutput:
    """GIVEN an error WHEN printed for a human THEN the message is printed as it is: not
    wrapped in the middle of a command, not read as Rich markup."""

    def test_suggested_command_is_on_one_line(self, cli: Invoke, data_dir: Path) -> None:
        """GIVEN a long data folder path WHEN stats fails THEN the suggested command is on
        one line, so it can be copied (stderr is not a terminal: nothing should wrap)."""
        result = cli("stats")
        assert result.exit_code == 69
        assert f"chatkeeper init --data-dir {data_dir}" in result.stderr

    @pytest.mark.parametrize("name", ["chats[backup].jsonl", "chats[/old].jsonl"])
    def test_file_names_with_brackets(
        self, cli: Invoke, initialised: Path, tmp_path: Path, name: str
    ) -> None:
        """GIVEN a missing file whose name has square brackets WHEN ingest fails THEN the
        error names the file exactly and exits 65 (the name is not taken as markup)."""
        missing = tmp_path / name
        result = cli("ingest", missing)
        assert result.exit_code == 65
        assert says(result.stderr, name)


# --- ingest ------------------------------------------------------------------------------------


class TestIngestJsonl:
    """GIVEN canonical JSON Lines WHEN ingested THEN the report counts every record."""

    def test_report_has_exactly_the_documented_keys(
        self, cli: Invoke, initialised: Path, tmp_path: Path
    ) -> None:
        """GIVEN a good file WHEN ingest --json THEN exactly ingested / duplicates / rejected
        / skipped / rejects_file, with every record ingested and no rejects file."""
        path = write_jsonl(tmp_path / "a.jsonl", DATASET)
        result = cli("ingest", path, "--json")
        assert result.exit_code == 0, result.output
        assert as_json(result) == {
            "ingested": len(DATASET),
            "duplicates": 0,
            "rejected": 0,
            "skipped": 0,
            "rejects_file": None,
        }

    def test_reingest_adds_nothing(self, cli: Invoke, loaded: Path, tmp_path: Path) -> None:
        """GIVEN an ingested file WHEN ingested again THEN ingested 0, all duplicates, and
        the archive holds the same number of messages."""
        path = write_jsonl(tmp_path / "again.jsonl", DATASET)
        report = ingest_json(cli, path)
        assert (report["ingested"], report["duplicates"]) == (0, len(DATASET))
        assert as_json(cli("stats", "--json"))["messages"] == len(DATASET)

    def test_several_files_and_duplicates_within_a_file(
        self, cli: Invoke, initialised: Path, tmp_path: Path
    ) -> None:
        """GIVEN two files, the second repeating a record of the first and one of its own
        WHEN ingested in one call THEN each record lands once."""
        first = write_jsonl(tmp_path / "1.jsonl", DATASET[:3])
        second = write_jsonl(tmp_path / "2.jsonl", [DATASET[0], DATASET[3], DATASET[3]])
        report = ingest_json(cli, first, second)
        assert (report["ingested"], report["duplicates"]) == (4, 2)

    def test_human_output(self, cli: Invoke, initialised: Path, tmp_path: Path) -> None:
        """GIVEN a file with a bad line WHEN ingest (no --json) THEN the counts and the
        rejects file are printed."""
        path = write_jsonl(tmp_path / "a.jsonl", [DATASET[0], "not json"])
        result = cli("ingest", path)
        assert result.exit_code == 0, result.output
        assert says(result.stdout, "ingested 1")
        assert says(result.stdout, "rejected 1")
        assert says(result.stdout, "rejected records are listed in")


BAD_LINES: list[tuple[dict[str, Any] | str, str | None, str]] = [
    ("{not json", None, "not valid JSON"),
    (record(message_id="bad-role", sender_role="boss", text=SECRET_TEXT), "sender_role",
     "customer, agent, bot, system"),
    (record(message_id="no-text", text=None), "text", "required"),
    (record(message_id="naive", sent_at="2025-03-01T10:00:00", text=SECRET_TEXT), "sent_at",
     "UTC offset"),
    (record(message_id="old", sent_at="1970-01-02T00:00:00+08:00", text=SECRET_TEXT), "sent_at",
     "1990"),
    ("[1, 2]", None, "JSON object"),
]  # fmt: skip


class TestIngestRejects:
    """GIVEN a file with bad records WHEN ingested THEN the good ones land, the bad ones are
    counted and listed in a rejects file by file, line and field, without their content."""

    @pytest.fixture
    def bad_file(self, tmp_path: Path) -> Path:
        """Good records on lines 1, 3, 5, ...; a bad one on every even line."""
        lines: list[dict[str, Any] | str] = []
        for good, (bad, _, _) in zip(DATASET, BAD_LINES, strict=False):
            lines += [good, bad]
        return write_jsonl(tmp_path / "mixed.jsonl", lines)

    def test_counts(self, cli: Invoke, initialised: Path, bad_file: Path) -> None:
        """GIVEN the mixed file WHEN ingested THEN 6 ingested, 6 rejected, and a rejects
        file in the data folder."""
        report = ingest_json(cli, bad_file)
        assert (report["ingested"], report["rejected"]) == (len(BAD_LINES), len(BAD_LINES))
        assert (report["duplicates"], report["skipped"]) == (0, 0)
        rejects = Path(report["rejects_file"])
        assert rejects.is_file()
        assert rejects.parent == initialised / "rejects"

    def test_rejects_file_names_file_line_field(
        self, cli: Invoke, initialised: Path, bad_file: Path
    ) -> None:
        """GIVEN the mixed file WHEN ingested THEN the rejects file has one JSON object per
        bad record naming the source file, its line, the field and the error."""
        report = ingest_json(cli, bad_file)
        entries = [orjson.loads(line) for line in Path(report["rejects_file"]).read_bytes()
                   .splitlines()]  # fmt: skip
        assert [(e["file"], e["line"], e["field"]) for e in entries] == [
            (str(bad_file), 2 * n, field) for n, (_, field, _) in enumerate(BAD_LINES, start=1)
        ]
        for entry, (_, _, reason) in zip(entries, BAD_LINES, strict=True):
            assert set(entry) == {"file", "line", "field", "error"}
            assert reason in entry["error"]

    def test_rejects_hold_no_content(self, cli: Invoke, initialised: Path, bad_file: Path) -> None:
        """GIVEN bad records holding personal data WHEN ingested THEN neither the rejects
        file, the summary beside it nor the command's output contains it."""
        result = cli("ingest", bad_file, "--json")
        rejects = Path(as_json(result)["rejects_file"])
        assert SECRET_TEXT not in rejects.read_text(encoding="utf-8")
        for path in rejects.parent.iterdir():
            assert SECRET_TEXT not in path.read_text(encoding="utf-8")
        assert SECRET_TEXT not in result.output

    def test_good_records_are_searchable(
        self, cli: Invoke, initialised: Path, bad_file: Path
    ) -> None:
        """GIVEN the mixed file WHEN ingested THEN the good records can be found, the bad
        ones cannot."""
        ingest_json(cli, bad_file)
        assert hit_ids(search_json(cli, "退款")) == REFUND  # a1, a2, b1, c1 are good lines
        assert search_json(cli, "110101199003078515")["total"] == 0


class TestIngestWecom:
    """GIVEN the WeCom sample WHEN ingested with --format wecom THEN every message, recall and
    consent record is ingested and the switch record is skipped."""

    def test_counts(self, cli: Invoke, initialised: Path) -> None:
        """GIVEN 18 lines, one a switch WHEN ingested THEN 17 ingested, 1 skipped."""
        lines = WECOM_SAMPLE.read_text(encoding="utf-8").splitlines()
        report = ingest_json(cli, WECOM_SAMPLE, "--format", "wecom")
        assert report == {
            "ingested": len(lines) - 1,
            "duplicates": 0,
            "rejected": 0,
            "skipped": 1,
            "rejects_file": None,
        }

    def test_short_option_and_reingest(self, cli: Invoke, initialised: Path) -> None:
        """GIVEN the sample ingested WHEN ingested again with -f wecom THEN all duplicates,
        the switch record skipped again."""
        ingest_json(cli, WECOM_SAMPLE, "--format", "wecom")
        report = ingest_json(cli, WECOM_SAMPLE, "-f", "wecom")
        assert (report["ingested"], report["duplicates"], report["skipped"]) == (0, 17, 1)

    def test_wecom_records_as_jsonl_are_rejected(self, cli: Invoke, initialised: Path) -> None:
        """GIVEN the WeCom sample WHEN ingested as canonical jsonl (the default) THEN every
        line is rejected (no platform field), none is guessed at."""
        report = ingest_json(cli, WECOM_SAMPLE)
        assert (report["ingested"], report["rejected"]) == (0, 18)


CSV_COLUMNS = ["platform", "conversation_id", "message_id", "sent_at", "sender_role",
               "sender_id", "text", "department", "customer_id", "customer_tags",
               "service_type"]  # fmt: skip


class TestIngestCsv:
    """GIVEN canonical CSV WHEN ingested with --format csv THEN it lands like JSON Lines."""

    def test_csv(self, cli: Invoke, initialised: Path, tmp_path: Path) -> None:
        """GIVEN the data set as CSV (one text spanning lines) WHEN ingested THEN every row
        is ingested and searchable, tags and departments included."""
        rows = [dict(r) for r in DATASET]
        rows[0]["text"] = "我要申请退款\n订单号123"
        path = write_csv(tmp_path / "a.csv", rows, CSV_COLUMNS)
        report = ingest_json(cli, path, "--format", "csv")
        assert (report["ingested"], report["rejected"]) == (len(DATASET), 0)
        assert hit_ids(search_json(cli, "退款", "--tag", "vip")) == {"a1", "a2"}
        assert hit_ids(search_json(cli, '"退款 订单号"')) == {"a1"}
        again = ingest_json(cli, path, "--format", "csv")
        assert (again["ingested"], again["duplicates"]) == (0, len(DATASET))

    def test_bad_csv_row_is_rejected_at_its_line(
        self, cli: Invoke, initialised: Path, tmp_path: Path
    ) -> None:
        """GIVEN a CSV whose third row has a bad role WHEN ingested THEN that row is rejected
        at line 4 (the header is line 1), the others land."""
        rows = [dict(r) for r in DATASET[:3]]
        rows[2]["sender_role"] = "boss"
        path = write_csv(tmp_path / "a.csv", rows, CSV_COLUMNS)
        report = ingest_json(cli, path, "--format", "csv")
        assert (report["ingested"], report["rejected"]) == (2, 1)
        entry = orjson.loads(Path(report["rejects_file"]).read_bytes().splitlines()[0])
        assert (entry["file"], entry["line"], entry["field"]) == (str(path), 4, "sender_role")

    def test_csv_without_a_required_column(
        self, cli: Invoke, initialised: Path, tmp_path: Path
    ) -> None:
        """GIVEN a CSV lacking the sent_at column WHEN ingested THEN a non-zero exit whose
        error names the file, line 1 and the column."""
        columns = [c for c in CSV_COLUMNS if c != "sent_at"]
        path = write_csv(tmp_path / "a.csv", DATASET, columns)
        result = cli("ingest", path, "--format", "csv", "--json")
        assert result.exit_code != 0
        error = as_json(result)["error"]
        assert str(path) in error["message"]
        assert "line 1" in error["message"] and "sent_at" in error["message"]


class TestIngestErrors:
    """GIVEN an ingest that cannot start WHEN run THEN a non-zero exit and a message saying
    why; nothing is ingested."""

    def test_unknown_format(self, cli: Invoke, initialised: Path, tmp_path: Path) -> None:
        """GIVEN --format xml WHEN ingest THEN non-zero exit, the message lists the formats."""
        path = write_jsonl(tmp_path / "a.jsonl", DATASET)
        result = cli("ingest", path, "--format", "xml")
        assert result.exit_code != 0
        assert says(result.stderr, "csv, jsonl, wecom")
        assert "xml" in result.stderr

    def test_unknown_format_json(self, cli: Invoke, initialised: Path, tmp_path: Path) -> None:
        """GIVEN --format xml --json WHEN ingest THEN the error envelope, code config_invalid."""
        path = write_jsonl(tmp_path / "a.jsonl", DATASET)
        result = cli("ingest", path, "--format", "xml", "--json")
        assert result.exit_code != 0
        body = as_json(result)
        assert body["ok"] is False
        assert body["error"]["code"] == "config_invalid"
        assert "csv, jsonl, wecom" in body["error"]["message"]

    def test_missing_file(self, cli: Invoke, initialised: Path, tmp_path: Path) -> None:
        """GIVEN a file that does not exist WHEN ingest THEN non-zero exit naming the file."""
        missing = tmp_path / "nope.jsonl"
        result = cli("ingest", missing)
        assert result.exit_code != 0
        assert says(result.stderr, str(missing))

    def test_missing_second_file_ingests_nothing(
        self, cli: Invoke, initialised: Path, tmp_path: Path
    ) -> None:
        """GIVEN a good file and a missing one WHEN ingested together --json THEN a non-zero
        exit naming the missing file and nothing from the good file is ingested."""
        good = write_jsonl(tmp_path / "a.jsonl", DATASET)
        missing = tmp_path / "nope.jsonl"
        result = cli("ingest", good, missing, "--json")
        assert result.exit_code != 0
        body = as_json(result)
        assert body["error"]["code"] == "ingest_failed"
        assert body["error"]["details"] == {"file": str(missing)}
        assert as_json(cli("stats", "--json"))["messages"] == 0


# --- search ------------------------------------------------------------------------------------


# arguments after the query, expected message ids
FILTER_ROWS = [
    (["退款"], REFUND),
    (["退"], REFUND),
    (["退款", "--department", "售后服务部"], {"a1", "a2"}),
    (["退款", "--department", "售后服务部", "--department", "投诉处理部"], {"a1", "a2", "b1"}),
    (["退款", "--role", "agent"], {"a2"}),
    (["退款", "--role", "customer"], {"a1", "b1", "c1"}),
    (["退款", "--role", "customer", "--role", "agent"], REFUND),
    (["退款", "--tag", "vip"], {"a1", "a2"}),
    (["退款", "--tag", "投诉"], {"b1"}),
    (["退款", "--service-type", "complaint"], {"b1"}),
    (["退款", "--agent", "a002"], {"b1"}),
    (["退款", "--customer", "cust-c"], {"c1"}),
    (["退款", "--platform", "webchat"], REFUND),
    (["退款", "--from", "2025-03-02"], {"b1", "c1"}),
    (["退款", "--to", "2025-03-01"], {"a1", "a2"}),
    (["退款", "--from", "2025-03-01T10:05:00+08:00"], {"a2", "b1", "c1"}),
    (["发票", "--to", "2025-03-03"], {"b2"}),  # 23:59:59 is still that day
    (["发票", "--from", "2025-03-04"], {"c1"}),  # 00:00:00 is already that day
    (["发票", "--from", "2025-03-03", "--to", "2025-03-03"], {"b2"}),
    (["退款", "--department", "售后服务部", "--role", "customer", "--tag", "vip"], {"a1"}),
    (["退款 NOT 投诉"], {"a1", "a2", "c1"}),
    (["退款 -投诉"], {"a1", "a2", "c1"}),
    (["退款 OR 发票"], REFUND | {"b2"}),
    (["(退款 OR 发票) 处理"], {"c1"}),
    (['"申请退款"'], {"a1"}),
    # Negative rows: filters that match nothing.
    (["退款", "--department", "无此部门"], set()),
    (["退款", "--platform", "wecom"], set()),
    (["退款", "--tag", "企业"], set()),
    (["退款", "--role", "bot"], set()),
    (["退款", "--from", "2025-03-05"], set()),
    (["退款", "--to", "2025-02-28"], set()),
    (["退货"], set()),
]


class TestSearch:
    """GIVEN the data set WHEN searched THEN exactly the matching messages, with filters."""

    def test_json_shape(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN 退款 WHEN search --json THEN {total, hits} with exactly the five hit keys,
        times in +08:00, the match marked in the snippet."""
        result = search_json(cli, "退款")
        assert set(result) == {"total", "hits"}
        assert result["total"] == len(REFUND)
        for hit in result["hits"]:
            assert set(hit) == HIT_KEYS
            assert hit["sent_at"].endswith("+08:00")
            assert "«退款»" in hit["snippet"]
        a1 = next(hit for hit in result["hits"] if hit["message_id"] == "a1")
        assert a1 == {
            "conversation_id": "conv-a",
            "message_id": "a1",
            "sent_at": "2025-03-01T10:00:00+08:00",
            "sender_role": "customer",
            "snippet": "我要申请«退款»，订单号123",
        }

    def test_newest_first_by_default(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN 退款 WHEN searched THEN hits come newest first."""
        hits = search_json(cli, "退款")["hits"]
        assert [hit["message_id"] for hit in hits] == ["c1", "b1", "a2", "a1"]

    @pytest.mark.parametrize(("args", "expected"), FILTER_ROWS)
    def test_filters(self, cli: Invoke, loaded: Path, args: list[str], expected: set[str]) -> None:
        """GIVEN the query and filters WHEN searched THEN the hits and total are exact."""
        result = search_json(cli, *args)
        assert hit_ids(result) == expected
        assert result["total"] == len(expected)

    def test_paging(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN 4 hits WHEN paged 2 at a time THEN pages are disjoint, in order, each with
        the full total; past the end is empty."""
        first = search_json(cli, "退款", "--limit", "2")
        second = search_json(cli, "退款", "--limit", "2", "--offset", "2")
        beyond = search_json(cli, "退款", "--limit", "2", "--offset", "4")
        assert [r["total"] for r in (first, second, beyond)] == [4, 4, 4]
        assert [h["message_id"] for h in first["hits"]] == ["c1", "b1"]
        assert [h["message_id"] for h in second["hits"]] == ["a2", "a1"]
        assert beyond["hits"] == []

    def test_limit_zero_counts_only(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN --limit 0 WHEN searched THEN the total and no hits."""
        assert search_json(cli, "退款", "--limit", "0") == {"total": 4, "hits": []}

    def test_sort_relevance(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN --sort relevance WHEN searched THEN the same hits and total (order aside)."""
        result = search_json(cli, "退款", "--sort", "relevance")
        assert (hit_ids(result), result["total"]) == (REFUND, 4)
        page = search_json(cli, "退款", "--sort", "relevance", "--limit", "3", "--offset", "1")
        assert len(page["hits"]) == 3 and page["total"] == 4

    def test_human_output(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN 退款 WHEN searched without --json THEN the total and the conversations."""
        result = cli("search", "退款")
        assert result.exit_code == 0, result.output
        assert says(result.stdout, "4 messages match")
        assert "conv-a" in result.stdout and "conv-c" in result.stdout


BAD_QUERIES = [
    ("退款 OR", None),
    ("(退款", 1),
    ('"退款', 1),
    ("退款)", 3),
    ("NOT 退款", None),
    ("退款 OR NOT 发票", None),
    ("AND", 1),
]

BAD_OPTIONS = [
    (["--role", "boss"], "sender_role"),
    (["--sort", "newest"], "order"),
    (["--from", "yesterday"], "from"),
    (["--to", "2025-02-30"], "to"),
    (["--limit", "-1"], "limit"),
    (["--limit", "1001"], "limit"),
    (["--offset", "-1"], "offset"),
]


class TestSearchErrors:
    """GIVEN a bad query or option WHEN searched THEN exit 64 with code query_invalid."""

    @pytest.mark.parametrize(("query", "position"), BAD_QUERIES)
    def test_bad_query_json(
        self, cli: Invoke, loaded: Path, query: str, position: int | None
    ) -> None:
        """GIVEN the bad query WHEN search --json THEN exit 64 and the error envelope naming
        the position where one applies."""
        result = cli("search", query, "--json")
        assert result.exit_code == 64
        body = as_json(result)
        assert body["ok"] is False
        assert set(body["error"]) == {"code", "message", "details"}
        assert body["error"]["code"] == "query_invalid"
        if position is not None:
            assert body["error"]["details"]["position"] == position
            assert f"position {position}" in body["error"]["message"]

    def test_bad_query_human(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN an unclosed parenthesis WHEN searched THEN exit 64 and the message on
        standard error."""
        result = cli("search", "(退款")
        assert result.exit_code == 64
        assert says(result.stderr, "never closed")
        assert result.stdout == ""

    @pytest.mark.parametrize(("args", "field"), BAD_OPTIONS)
    def test_bad_option(self, cli: Invoke, loaded: Path, args: list[str], field: str) -> None:
        """GIVEN an invalid option value WHEN searched THEN exit 64, query_invalid naming the
        option."""
        result = cli("search", "退款", *args, "--json")
        assert result.exit_code == 64
        error = as_json(result)["error"]
        assert error["code"] == "query_invalid"
        assert error["details"]["field"] == field


# --- show and stats ----------------------------------------------------------------------------


class TestShow:
    """GIVEN an ingested conversation WHEN shown THEN its details and every record, in time
    order, recall and consent records included."""

    def test_canonical_conversation(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN conv-a ingested out of order WHEN show --json THEN its details and its three
        messages in time order."""
        result = cli("show", "conv-a", "--json")
        assert result.exit_code == 0, result.output
        body = as_json(result)
        assert set(body) == {"conversation", "messages"}
        conversation = body["conversation"]
        assert conversation["conversation_id"] == "conv-a"
        assert conversation["platform"] == "webchat"
        assert conversation["department"] == "售后服务部"
        assert conversation["service_type"] == "after_sales"
        assert conversation["customer_id"] == "cust-a"
        assert conversation["message_count"] == 3
        assert conversation["started_at"] == "2025-03-01T10:00:00+08:00"
        assert conversation["ended_at"] == "2025-03-01T10:06:00+08:00"
        messages = body["messages"]
        assert [m["message_id"] for m in messages] == ["a1", "a2", "a3"]
        assert [m["sender_role"] for m in messages] == ["customer", "agent", "customer"]
        assert messages[1]["sender_name"] == "陈静"
        assert messages[0]["text"] == "我要申请退款，订单号123"
        assert not any(m["recalled"] for m in messages)

    def test_wecom_recall_and_consent(self, cli: Invoke, initialised: Path) -> None:
        """GIVEN the WeCom sample WHEN its 1:1 chat is shown THEN messages are in time order,
        9804 is marked recalled, the recall and the consent are there as such."""
        ingest_json(cli, WECOM_SAMPLE, "--format", "wecom")
        result = cli("show", "single:chenjing:wmQ2bX7aEXAMPLEcust01", "--json")
        assert result.exit_code == 0, result.output
        messages = as_json(result)["messages"]
        times = [m["sent_at"] for m in messages]
        assert times == sorted(times)
        by_id = {m["message_id"][:4]: m for m in messages}
        assert by_id["9804"]["recalled"] is True
        assert [key for key, m in by_id.items() if m["recalled"]] == ["9804"]
        assert by_id["9805"]["kind"] == "recall"
        assert by_id["9807"]["kind"] == "consent"
        assert by_id["9803"]["payload"]["sdkfileid"].startswith("CtYB")

    def test_human_transcript(self, cli: Invoke, initialised: Path) -> None:
        """GIVEN the WeCom sample WHEN shown without --json THEN the texts are printed and the
        recalled one is marked."""
        ingest_json(cli, WECOM_SAMPLE, "--format", "wecom")
        result = cli("show", "single:chenjing:wmQ2bX7aEXAMPLEcust01")
        assert result.exit_code == 0, result.output
        assert "一直没发货" in result.stdout
        assert "(recalled)" in result.stdout

    def test_unknown_conversation(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN an id nobody ingested WHEN shown THEN exit 4, code not_found."""
        result = cli("show", "conv-zzz", "--json")
        assert result.exit_code == 4
        body = as_json(result)
        assert (body["ok"], body["error"]["code"]) == (False, "not_found")
        human = cli("show", "conv-zzz")
        assert human.exit_code == 4
        assert says(human.stderr, "conv-zzz")


class TestStats:
    """GIVEN an archive WHEN stats runs THEN exact counts by platform, service type,
    department and day (Asia/Shanghai days)."""

    def test_counts(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN the data set WHEN stats --json THEN the totals and breakdowns are exact."""
        result = cli("stats", "--json")
        assert result.exit_code == 0, result.output
        stats = as_json(result)
        assert (stats["conversations"], stats["messages"]) == (3, 7)
        assert stats["by_platform"] == [{"value": "webchat", "conversations": 3, "messages": 7}]
        departments = {row["value"]: (row["conversations"], row["messages"])
                       for row in stats["by_department"]}  # fmt: skip
        assert departments == {"售后服务部": (1, 3), "投诉处理部": (1, 2), "售前咨询部": (1, 2)}
        services = {row["value"]: row["messages"] for row in stats["by_service_type"]}
        assert services == {"after_sales": 3, "complaint": 2, "consultation": 2}
        assert stats["by_day"] == [
            {"day": "2025-03-01", "messages": 3},
            {"day": "2025-03-02", "messages": 1},
            {"day": "2025-03-03", "messages": 1},
            {"day": "2025-03-04", "messages": 2},
        ]

    def test_empty_archive(self, cli: Invoke, initialised: Path) -> None:
        """GIVEN a new archive WHEN stats --json THEN zeros and empty lists."""
        stats = as_json(cli("stats", "--json"))
        assert (stats["conversations"], stats["messages"]) == (0, 0)
        assert stats["by_platform"] == stats["by_day"] == []

    def test_human_output(self, cli: Invoke, loaded: Path) -> None:
        """GIVEN the data set WHEN stats THEN the totals are printed."""
        result = cli("stats")
        assert result.exit_code == 0, result.output
        assert says(result.stdout, "3 conversations, 7 messages")


# --- demo --------------------------------------------------------------------------------------


class TestDemo:
    """GIVEN ``demo --out FILE`` WHEN run THEN a synthetic canonical data set is written."""

    @pytest.fixture(autouse=True)
    def generator(self) -> None:
        """Skip while chatkeeper.demo.write_jsonl is not importable yet."""
        demo = pytest.importorskip("chatkeeper.demo")
        if not hasattr(demo, "write_jsonl"):
            pytest.skip("chatkeeper.demo.write_jsonl is not there yet")

    def test_writes_the_requested_number_of_lines(self, cli: Invoke, tmp_path: Path) -> None:
        """GIVEN --messages 200 --out FILE --json WHEN demo runs THEN 200 lines, each a valid
        canonical record, and the JSON summary says so."""
        out = tmp_path / "demo.jsonl"
        result = cli("demo", "--messages", "200", "--out", out, "--json", data=False)
        assert result.exit_code == 0, result.output
        assert as_json(result) == {"written": 200, "file": str(out)}
        lines = out.read_bytes().splitlines()
        assert len(lines) == 200
        for raw in CanonicalJsonlFormat().parse(out):
            assert raw.error is None and raw.data is not None
            normalise_canonical(raw.data)

    def test_same_seed_same_data(self, cli: Invoke, tmp_path: Path) -> None:
        """GIVEN two runs with the same seed WHEN compared THEN the files are identical."""
        one, two = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
        for path in (one, two):
            args = ("demo", "--messages", "50", "--seed", "3", "--out", path, "--json")
            assert cli(*args, data=False).exit_code == 0
        assert one.read_bytes() == two.read_bytes()

    def test_data_set_ingests_cleanly(self, cli: Invoke, initialised: Path, tmp_path: Path) -> None:
        """GIVEN a written demo data set WHEN ingested THEN all 200 records land."""
        out = tmp_path / "demo.jsonl"
        assert cli("demo", "--messages", "200", "--out", out, "--json", data=False).exit_code == 0
        report = ingest_json(cli, out)
        assert (report["ingested"], report["rejected"]) == (200, 0)
