"""The demo data generator: deterministic, exact, well-formed, varied, with valid personal data."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from chatkeeper.demo import (
    INDUSTRIES,
    SERVICE_TYPES,
    generate_records,
    id_card_check_char,
    luhn_ok,
    write_jsonl,
)
from chatkeeper.demo.generator import DEFAULT_START, INDUSTRY_DEPARTMENT
from chatkeeper.domain import SenderRole

REQUIRED = {
    "platform": str,
    "conversation_id": str,
    "message_id": str,
    "sent_at": str,
    "sender_role": str,
    "sender_id": str,
    "sender_name": str,
    "msgtype": str,
    "department": str,
    "agent_id": str,
    "agent_name": str,
    "customer_id": str,
    "customer_tags": list,
    "service_type": str,
}
CST = timedelta(hours=8)
ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])([1-9]\d{5})((?:19|20)\d{2})(\d{2})(\d{2})(\d{3})([0-9Xx])(?![0-9A-Za-z])"
)
BANK_CARD = re.compile(
    r"(?<![\d ])((?:622202|621700|622848|621483|436742|625966|622588|621226)\d{10,13}"
    r"|(?:6222|6217|6228|6214|4367|6259|6225|6212)(?: \d{4}){3}(?: \d{1,4})?)(?![\d])"
)
MOBILE = re.compile(r"(?<!\d)(?:\+86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![\d])")
ESCALATION = re.compile("12315|12378|12300|消费者协会|消协|律师|起诉|曝光|投诉")


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return list(generate_records(5000))


def conversations(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[record["conversation_id"]].append(record)
    return grouped


def texts(records: list[dict[str, Any]]) -> list[str]:
    return [record["text"] for record in records if "text" in record]


def spelling(mobile: str) -> str:
    if mobile.startswith("+86"):
        return "+86"
    if "-" in mobile:
        return "dashes"
    return "spaces" if " " in mobile else "plain"


class TestChecks:
    """The check-digit helpers the tests (and the generator) rely on."""

    @pytest.mark.parametrize(
        ("first17", "check"),
        [
            ("11010519491231002", "X"),  # the standard's own example
            ("44030519590225058", "X"),
            ("11010119900307803", "X"),
            ("31010419851202002", "2"),
        ],
    )
    def test_id_card_check_char(self, first17: str, check: str) -> None:
        assert id_card_check_char(first17) == check

    @pytest.mark.parametrize("bad", ["1101051949123100", "1101051949123100X", "abc"])
    def test_id_card_check_char_refuses_bad_input(self, bad: str) -> None:
        with pytest.raises(ValueError):
            id_card_check_char(bad)

    @pytest.mark.parametrize(
        ("digits", "ok"),
        [
            ("4111111111111111", True),
            ("79927398713", True),
            ("6222021234567890128", True),
            ("6222021234567890123", False),
            ("4111111111111112", False),
            ("", False),
            ("4111 1111", False),
        ],
    )
    def test_luhn_ok(self, digits: str, ok: bool) -> None:
        assert luhn_ok(digits) is ok


class TestDeterminism:
    def test_same_seed_gives_the_same_records(self) -> None:
        # GIVEN one seed, WHEN generating twice, THEN the records are equal
        assert list(generate_records(800, seed=42)) == list(generate_records(800, seed=42))

    def test_same_seed_gives_byte_identical_files(self, tmp_path: Path) -> None:
        first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
        write_jsonl(first, 1500, seed=7)
        write_jsonl(second, 1500, seed=7)
        assert first.read_bytes() == second.read_bytes()

    def test_different_seeds_give_different_records(self) -> None:
        a = texts(list(generate_records(300, seed=1)))
        b = texts(list(generate_records(300, seed=2)))
        assert a != b

    def test_default_seed_and_start_are_fixed(self) -> None:
        assert list(generate_records(50)) == list(generate_records(50, start=DEFAULT_START))


class TestCount:
    @pytest.mark.parametrize("count", [0, 1, 7, 1000])
    def test_exact_count(self, count: int) -> None:
        assert sum(1 for _ in generate_records(count)) == count

    @pytest.mark.parametrize("count", [0, 1, 7, 1000])
    def test_write_jsonl_writes_and_returns_the_count(self, tmp_path: Path, count: int) -> None:
        path = tmp_path / "demo.jsonl"
        assert write_jsonl(path, count) == count
        data = path.read_bytes()
        assert data.count(b"\n") == count
        assert "\\u" not in data.decode("utf-8")  # Chinese is written as UTF-8, not escaped

    def test_negative_count_is_refused(self) -> None:
        with pytest.raises(ValueError):
            generate_records(-1)

    def test_streams_without_building_the_data_set(self) -> None:
        # GIVEN a count far too large to hold, WHEN taking the first records, THEN they come
        first = list(islice(generate_records(10**12), 3))
        assert len(first) == 3


class TestRecordShape:
    def test_required_fields_and_types(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            for name, kind in REQUIRED.items():
                assert isinstance(record.get(name), kind), (name, record)
            assert all(isinstance(tag, str) for tag in record["customer_tags"])
            assert record["service_type"] in SERVICE_TYPES

    def test_sent_at_is_iso_with_china_offset(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            moment = datetime.fromisoformat(record["sent_at"])
            assert moment.utcoffset() == CST
            assert record["sent_at"].endswith("+08:00")
            assert moment.microsecond == 0

    def test_roles_are_valid(self, records: list[dict[str, Any]]) -> None:
        roles = {role.value for role in SenderRole}
        assert {record["sender_role"] for record in records} == roles

    def test_text_messages_have_text_and_attachments_a_payload(
        self, records: list[dict[str, Any]]
    ) -> None:
        types = Counter(record["msgtype"] for record in records)
        assert types["text"] > 0.95 * len(records)
        assert {"image", "file", "link"} <= set(types)
        for record in records:
            if record["msgtype"] == "text":
                assert record["text"].strip()
                assert "{" not in record["text"], record["text"]  # every slot was filled
            else:
                assert "text" not in record
                assert isinstance(record["payload"], dict) and record["payload"]

    def test_image_and_file_payloads_look_like_wecom_media(
        self, records: list[dict[str, Any]]
    ) -> None:
        for record in records:
            if record["msgtype"] in ("image", "file"):
                payload = record["payload"]
                assert re.fullmatch(r"[0-9a-f]{32}", payload["md5sum"])
                assert payload["sdkfileid"] and payload["filesize"] > 0

    def test_message_ids_are_unique(self, records: list[dict[str, Any]]) -> None:
        assert len({record["message_id"] for record in records}) == len(records)

    def test_each_conversation_is_in_time_order(self, records: list[dict[str, Any]]) -> None:
        for messages in conversations(records).values():
            times = [datetime.fromisoformat(m["sent_at"]) for m in messages]
            assert times == sorted(times)

    def test_conversation_fields_are_constant_within_it(
        self, records: list[dict[str, Any]]
    ) -> None:
        fixed = ("platform", "department", "agent_id", "customer_id", "service_type")
        for messages in conversations(records).values():
            for name in fixed:
                assert len({m[name] for m in messages}) == 1, name

    def test_conversations_have_six_to_thirty_messages(self, records: list[dict[str, Any]]) -> None:
        lengths = [len(m) for m in conversations(records).values()][:-1]  # last may be cut
        assert min(lengths) >= 6
        assert max(lengths) <= 30

    def test_times_fall_in_the_180_days_before_start(self) -> None:
        start = datetime(2025, 3, 1, 12, 0, tzinfo=timezone(CST))
        moments = [
            datetime.fromisoformat(r["sent_at"]) for r in generate_records(2000, start=start)
        ]
        assert min(moments) >= start - timedelta(days=181)
        assert max(moments) <= start + timedelta(days=1)

    def test_records_pass_the_canonical_validator(self, records: list[dict[str, Any]]) -> None:
        from chatkeeper.formats.canonical import normalise_canonical

        for record in records[:1500]:
            message = normalise_canonical(record)
            assert message.raw is None  # no field outside the canonical format


class TestPeople:
    def test_customers_are_stable_across_conversations(self, records: list[dict[str, Any]]) -> None:
        names: dict[str, set[str]] = defaultdict(set)
        tags: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for record in records:
            tags[record["customer_id"]].add(tuple(record["customer_tags"]))
            if record["sender_role"] == "customer":
                names[record["customer_id"]].add(record["sender_name"])
        assert all(len(found) == 1 for found in names.values())
        assert all(len(found) == 1 for found in tags.values())
        visits = Counter(m[0]["customer_id"] for m in conversations(records).values())
        assert any(count >= 3 for count in visits.values())  # some customers come back

    def test_agents_are_stable_and_belong_to_one_department(
        self, records: list[dict[str, Any]]
    ) -> None:
        seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for record in records:
            assert re.fullmatch(r"a\d{4}", record["agent_id"])
            seen[record["agent_id"]].add((record["agent_name"], record["department"]))
        assert all(len(found) == 1 for found in seen.values())


class TestPersonalData:
    def test_id_numbers_have_valid_check_chars_and_birth_dates(
        self, records: list[dict[str, Any]]
    ) -> None:
        found = 0
        for text in texts(records):
            for match in ID_CARD.finditer(text):
                _area, year, month, day, _sequence, check = match.groups()
                value = match.group(0).upper()
                assert id_card_check_char(value[:17]) == check.upper(), value
                assert date(int(year), int(month), int(day)) < date(2010, 1, 1)
                found += 1
        assert found >= 20

    def test_bank_cards_pass_luhn(self, records: list[dict[str, Any]]) -> None:
        found = 0
        for text in texts(records):
            for match in BANK_CARD.finditer(text):
                digits = match.group(1).replace(" ", "")
                assert len(digits) in (16, 19), digits
                assert luhn_ok(digits), digits
                found += 1
        assert found >= 20

    def test_mobile_numbers_appear_in_several_spellings(
        self, records: list[dict[str, Any]]
    ) -> None:
        spellings: Counter[str] = Counter()
        for text in texts(records):
            for match in MOBILE.finditer(text):
                spellings[spelling(match.group(0))] += 1
        assert {"+86", "dashes", "spaces", "plain"} <= set(spellings)

    def test_other_personal_data_appears(self, records: list[dict[str, Any]]) -> None:
        joined = "\n".join(texts(records))
        assert re.search(r"[\w.]+@(?:qq|163|126|sina|foxmail|outlook|139|gmail)\.com", joined)
        assert re.search(r"(?:0\d{2,3})-\d{8}", joined)  # landline
        assert re.search(r"[京沪粤浙苏川鄂陕鲁闽渝津豫湘辽][A-Z][DF]?[0-9A-Z]{5}", joined)  # plate
        assert re.search(r"(?:省|市).+区.+街道.+号", joined)  # street address


class TestContent:
    def test_all_service_types_and_industries_appear(self, records: list[dict[str, Any]]) -> None:
        assert {record["service_type"] for record in records} == set(SERVICE_TYPES)
        departments = {record["department"] for record in records}
        assert {INDUSTRY_DEPARTMENT[industry] for industry in INDUSTRIES} <= departments
        assert len({record["platform"] for record in records}) >= 4

    def test_many_distinct_sentences(self, records: list[dict[str, Any]]) -> None:
        assert len(set(texts(records))) > 2000

    def test_complaints_and_disputes_escalate_routine_chats_rarely(
        self, records: list[dict[str, Any]]
    ) -> None:
        rates: dict[str, list[bool]] = defaultdict(list)
        for messages in conversations(records).values():
            said = any(ESCALATION.search(m.get("text", "")) for m in messages)
            rates[messages[0]["service_type"]].append(said)
        share = {kind: sum(hits) / len(hits) for kind, hits in rates.items()}
        assert share["complaint"] > 0.5
        assert share["legal_dispute"] > 0.5
        assert share["consultation"] < 0.2
