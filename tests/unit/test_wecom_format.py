"""WeCom 会话内容存档 adapter: every kind of msgaudit record, and every way one can be bad.

The sample records are a copy of ``/work/shared/samples/wecom-sample.jsonl`` (unit tests read
no files), keyed by their ``msgid``.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatkeeper.domain import CanonicalMessage, RecordKind, SenderRole
from chatkeeper.errors import RecordError
from chatkeeper.formats import get_format
from chatkeeper.formats.base import Skip
from chatkeeper.formats.wecom import WecomFormat, normalise_wecom, role_of

SAMPLE_JSONL = r"""
{"msgid": "9801_1735689600000_external", "action": "send", "from": "wmQ2bX7aEXAMPLEcust01", "tolist": ["chenjing"], "roomid": "", "msgtime": 1735689600000, "msgtype": "text", "text": {"content": "你好，我上周买的空气净化器一直没发货"}}
{"msgid": "9802_1735689660000_external", "action": "send", "from": "chenjing", "tolist": ["wmQ2bX7aEXAMPLEcust01"], "roomid": "", "msgtime": 1735689660000, "msgtype": "text", "text": {"content": "您好，麻烦提供一下订单号，我帮您查询"}}
{"msgid": "9803_1735689720000_external", "action": "send", "from": "wmQ2bX7aEXAMPLEcust01", "tolist": ["chenjing"], "roomid": "", "msgtime": 1735689720000, "msgtype": "image", "image": {"md5sum": "0cc175b9c0f1b6a831c399e269772661", "filesize": 48213, "sdkfileid": "CtYBMzA2OTAyMDEwMjA0MjNhZGRjMDQwMmI4ZjQ1"}}
{"msgid": "9804_1735689780000_external", "action": "send", "from": "wmQ2bX7aEXAMPLEcust01", "tolist": ["chenjing"], "roomid": "", "msgtime": 1735689780000, "msgtype": "text", "text": {"content": "我的手机是13912345678，收件人王小明"}}
{"msgid": "9805_1735689790000_external", "action": "recall", "from": "wmQ2bX7aEXAMPLEcust01", "tolist": ["chenjing"], "roomid": "", "msgtime": 1735689790000, "msgtype": "revoke", "revoke": {"pre_msgid": "9804_1735689780000_external"}}
{"msgid": "9806_1735689800000_external", "action": "send", "from": "chenjing", "tolist": ["wmQ2bX7aEXAMPLEcust01"], "roomid": "", "msgtime": 1735689800000, "msgtype": "file", "file": {"md5sum": "9e107d9d372bb6826bd81d3542a419d6", "filename": "退换货政策.pdf", "fileext": "pdf", "filesize": 32768, "sdkfileid": "CtYBMzA2OTAyMDEwMjA0MjNhZGRjMDQwMmI4ZjQ2"}}
{"msgid": "9807_1735689810000_external", "action": "send", "from": "wmQ2bX7aEXAMPLEcust01", "tolist": ["chenjing"], "roomid": "", "msgtime": 1735689810000, "msgtype": "agree", "agree": {"userid": "wmQ2bX7aEXAMPLEcust01", "agree_time": 1735689810000}}
{"msgid": "9808_1735689900000_external", "action": "send", "from": "wmQ2bX7aEXAMPLEcust01", "tolist": ["chenjing"], "roomid": "", "msgtime": 1735689900000, "msgtype": "voice", "voice": {"md5sum": "e4d909c290d0fb1ca068ffaddf22cbd0", "voice_size": 6212, "play_length": 9, "sdkfileid": "CtYBMzA2OTAyMDEwMjA0MjNhZGRjMDQwMmI4ZjQ3"}}
{"msgid": "9809_1735690000000_external", "action": "send", "from": "chenjing", "tolist": ["wmQ2bX7aEXAMPLEcust01", "liuqiang"], "roomid": "wrOgQhDgAAEXAMPLEroom1", "msgtime": 1735690000000, "msgtype": "text", "text": {"content": "已为您加急处理，物流单号稍后同步到群里"}}
{"msgid": "9810_1735690060000_external", "action": "send", "from": "liuqiang", "tolist": ["wmQ2bX7aEXAMPLEcust01", "chenjing"], "roomid": "wrOgQhDgAAEXAMPLEroom1", "msgtime": 1735690060000, "msgtype": "link", "link": {"title": "物流查询", "description": "点击查看物流详情", "link_url": "https://example.com/track", "image_url": "https://example.com/i.png"}}
{"msgid": "9811_1735690120000_external", "action": "send", "from": "wmQ2bX7aEXAMPLEcust01", "tolist": ["chenjing", "liuqiang"], "roomid": "wrOgQhDgAAEXAMPLEroom1", "msgtime": 1735690120000, "msgtype": "chatrecord", "chatrecord": {"title": "与客服的聊天记录", "item": [{"type": "ChatRecordText", "msgtime": 1735603200000, "content": "{\"content\": \"客服说三天内一定发货\"}", "from_chatroom": false}]}}
{"msgid": "9812_1735690180000_external", "action": "send", "from": "chenjing", "tolist": ["wmQ2bX7aEXAMPLEcust01", "liuqiang"], "roomid": "wrOgQhDgAAEXAMPLEroom1", "msgtime": 1735690180000, "msgtype": "mixed", "mixed": {"item": [{"type": "text", "content": "{\"content\": \"这是补发的说明\"}"}, {"type": "image", "content": "{\"md5sum\": \"a\", \"filesize\": 1024, \"sdkfileid\": \"CtYmixed1\"}"}]}}
{"msgid": "9813_1735690240000_external", "action": "send", "from": "wmQ2bX7aEXAMPLEcust01", "tolist": ["chenjing"], "roomid": "", "msgtime": 1735690240000, "msgtype": "location", "location": {"longitude": 116.397, "latitude": 39.909, "address": "北京市东城区", "title": "收货地址", "zoom": 15}}
{"msgid": "9814_1735690300000_external", "action": "send", "from": "wmQ2bX7aEXAMPLEcust02", "tolist": ["zhoumin"], "roomid": "", "msgtime": 1735690300000, "msgtype": "disagree", "disagree": {"userid": "wmQ2bX7aEXAMPLEcust02", "disagree_time": 1735690300000}}
{"msgid": "9815_1735690360000_external", "action": "send", "from": "zhoumin", "tolist": ["wmQ2bX7aEXAMPLEcust02"], "roomid": "", "msgtime": 1735690360000, "msgtype": "weapp", "weapp": {"title": "会员中心", "description": "查看积分", "username": "gh_example@app", "displayname": "示例商城"}}
{"msgid": "9816_1735690420000_external", "action": "send", "from": "zhoumin", "tolist": ["wmQ2bX7aEXAMPLEcust02"], "roomid": "", "msgtime": 1735690420000, "msgtype": "sphfeed", "sphfeed": {"feed_type": 4, "sph_name": "示例商城", "feed_desc": "新品发布"}}
{"msgid": "switch-9817", "action": "switch", "time": 1735690500000, "user": "zhoumin"}
{"msgid": "9818_1735690600000_external", "action": "send", "from": "wmQ2bX7aEXAMPLEcust02", "tolist": ["zhoumin"], "roomid": "", "msgtime": 1735690600000, "msgtype": "text", "text": {"content": "发票邮箱 buyer.li@example.cn ，抬头是个人"}}
"""  # noqa: E501

SAMPLE: dict[str, dict[str, Any]] = {
    record["msgid"]: record
    for record in (orjson.loads(line) for line in SAMPLE_JSONL.splitlines() if line.strip())
}

CUST1, CUST2 = "wmQ2bX7aEXAMPLEcust01", "wmQ2bX7aEXAMPLEcust02"
ROOM = "room:wrOgQhDgAAEXAMPLEroom1"
PAIR1 = f"single:chenjing:{CUST1}"
PAIR2 = f"single:{CUST2}:zhoumin"
CUSTOMER, AGENT = SenderRole.CUSTOMER, SenderRole.AGENT
MESSAGE, RECALL, CONSENT = RecordKind.MESSAGE, RecordKind.RECALL, RecordKind.CONSENT


def sample(msgid_prefix: str) -> dict[str, Any]:
    """A deep copy of the sample record whose msgid starts with ``msgid_prefix``."""
    (key,) = [key for key in SAMPLE if key.startswith(msgid_prefix)]
    return copy.deepcopy(SAMPLE[key])


def message(data: dict[str, Any]) -> CanonicalMessage:
    """Normalise ``data`` and insist that it is a message, not a skip."""
    result = normalise_wecom(data)
    assert isinstance(result, CanonicalMessage)
    return result


def record(msgtype: str, payload: object, /, **envelope: object) -> dict[str, Any]:
    """A 1:1 record from an agent to a customer, carrying ``payload`` under ``msgtype``."""
    data: dict[str, Any] = {
        "msgid": "m-1",
        "action": "send",
        "from": "chenjing",
        "tolist": [CUST1],
        "roomid": "",
        "msgtime": 1735689600000,
        "msgtype": msgtype,
        msgtype: payload,
    }
    data.update(envelope)
    return data


# msgid prefix, kind, msgtype, role, conversation, sender, customer, agent, text
SAMPLE_ROWS = [
    ("9801", MESSAGE, "text", CUSTOMER, PAIR1, CUST1, CUST1, "chenjing",
     "你好，我上周买的空气净化器一直没发货"),
    ("9802", MESSAGE, "text", AGENT, PAIR1, "chenjing", CUST1, "chenjing",
     "您好，麻烦提供一下订单号，我帮您查询"),
    ("9803", MESSAGE, "image", CUSTOMER, PAIR1, CUST1, CUST1, "chenjing", None),
    ("9804", MESSAGE, "text", CUSTOMER, PAIR1, CUST1, CUST1, "chenjing",
     "我的手机是13912345678，收件人王小明"),
    ("9805", RECALL, "revoke", CUSTOMER, PAIR1, CUST1, CUST1, "chenjing", None),
    ("9806", MESSAGE, "file", AGENT, PAIR1, "chenjing", CUST1, "chenjing", "退换货政策.pdf"),
    ("9807", CONSENT, "agree", CUSTOMER, PAIR1, CUST1, CUST1, "chenjing", None),
    ("9808", MESSAGE, "voice", CUSTOMER, PAIR1, CUST1, CUST1, "chenjing", None),
    ("9809", MESSAGE, "text", AGENT, ROOM, "chenjing", CUST1, "chenjing",
     "已为您加急处理，物流单号稍后同步到群里"),
    ("9810", MESSAGE, "link", AGENT, ROOM, "liuqiang", CUST1, "liuqiang",
     "物流查询\n点击查看物流详情"),
    ("9811", MESSAGE, "chatrecord", CUSTOMER, ROOM, CUST1, CUST1, "chenjing",
     "与客服的聊天记录\n客服说三天内一定发货"),
    ("9812", MESSAGE, "mixed", AGENT, ROOM, "chenjing", CUST1, "chenjing", "这是补发的说明"),
    ("9813", MESSAGE, "location", CUSTOMER, PAIR1, CUST1, CUST1, "chenjing",
     "收货地址 北京市东城区"),
    ("9814", CONSENT, "disagree", CUSTOMER, PAIR2, CUST2, CUST2, "zhoumin", None),
    ("9815", MESSAGE, "weapp", AGENT, PAIR2, "zhoumin", CUST2, "zhoumin",
     "会员中心\n查看积分\n示例商城"),
    ("9816", MESSAGE, "sphfeed", AGENT, PAIR2, "zhoumin", CUST2, "zhoumin",
     "新品发布\n示例商城"),
    ("9818", MESSAGE, "text", CUSTOMER, PAIR2, CUST2, CUST2, "zhoumin",
     "发票邮箱 buyer.li@example.cn ，抬头是个人"),
]  # fmt: skip


class TestSampleFile:
    """GIVEN each line of the WeCom sample WHEN normalised THEN it maps as documented."""

    @pytest.mark.parametrize(
        (
            "prefix",
            "kind",
            "msgtype",
            "role",
            "conversation",
            "sender",
            "customer",
            "agent",
            "text",
        ),
        SAMPLE_ROWS,
        ids=[row[0] for row in SAMPLE_ROWS],
    )
    def test_line_maps(
        self,
        prefix: str,
        kind: RecordKind,
        msgtype: str,
        role: SenderRole,
        conversation: str,
        sender: str,
        customer: str,
        agent: str,
        text: str | None,
    ) -> None:
        """GIVEN a sample line WHEN normalised THEN every canonical field is as documented."""
        data = sample(prefix)
        got = message(data)
        assert got.platform == "wecom"
        assert got.message_id == data["msgid"]
        assert (got.kind, got.msgtype, got.sender_role) == (kind, msgtype, role)
        assert (got.conversation_id, got.sender_id) == (conversation, sender)
        assert (got.customer_id, got.agent_id) == (customer, agent)
        assert got.text == text
        assert (got.department, got.sender_name, got.agent_name) == (None, None, None)
        assert (got.customer_tags, got.service_type) == ((), None)
        assert orjson.loads(got.raw or "") == data

    def test_every_line_is_covered(self) -> None:
        """GIVEN the table WHEN compared with the sample THEN only the switch line is missing."""
        covered = {row[0] for row in SAMPLE_ROWS}
        assert {key[:4] for key in SAMPLE} - covered == {"swit"}

    def test_switch_is_skipped(self) -> None:
        """GIVEN the switch record WHEN normalised THEN it is skipped with a reason."""
        assert normalise_wecom(sample("switch")) == Skip("wecom switch record (not a message)")

    def test_format_is_registered(self) -> None:
        """GIVEN the format registry WHEN asked for wecom THEN it is this adapter."""
        assert isinstance(get_format("wecom"), WecomFormat)
        assert isinstance(WecomFormat().normalise(sample("9801")), CanonicalMessage)


class TestTime:
    """GIVEN msgtime in milliseconds WHEN normalised THEN sent_at is exact, aware, +08:00."""

    def test_sent_at_is_china_time(self) -> None:
        """GIVEN 1735689600000 WHEN normalised THEN it is 2025-01-01 08:00 at +08:00."""
        sent_at = message(sample("9801")).sent_at
        assert sent_at.utcoffset() == timedelta(hours=8)
        assert sent_at == datetime(2025, 1, 1, tzinfo=UTC)
        assert sent_at.isoformat() == "2025-01-01T08:00:00+08:00"

    @pytest.mark.parametrize("millis", [1, 123, 999])
    def test_milliseconds_are_kept(self, millis: int) -> None:
        """GIVEN a msgtime with milliseconds WHEN normalised THEN no millisecond is lost."""
        sent_at = message(record("text", {"content": "x"}, msgtime=1735689600000 + millis)).sent_at
        assert sent_at.microsecond == millis * 1000


class TestParties:
    """GIVEN WeCom ids WHEN normalised THEN roles and conversations follow the id prefixes."""

    @pytest.mark.parametrize(
        ("user_id", "role"),
        [
            ("wmQ2bX7aEXAMPLE", SenderRole.CUSTOMER),
            ("woAbCdEXAMPLE", SenderRole.CUSTOMER),
            ("wbRobotEXAMPLE", SenderRole.BOT),
            ("chenjing", SenderRole.AGENT),
            ("zhang.san", SenderRole.AGENT),
            # Negative rows: only the exact lower-case prefixes mark external ids and bots.
            ("WMupper", SenderRole.AGENT),
            ("w", SenderRole.AGENT),
            ("mw123", SenderRole.AGENT),
        ],
    )
    def test_role_of(self, user_id: str, role: SenderRole) -> None:
        """GIVEN an id WHEN classified THEN its prefix decides the role."""
        assert role_of(user_id) is role

    def test_one_to_one_is_the_sorted_pair_either_way(self) -> None:
        """GIVEN both directions of a 1:1 chat WHEN normalised THEN they share a conversation."""
        there = message(record("text", {"content": "a"}))
        back = message(record("text", {"content": "b"}, **{"from": CUST1, "tolist": ["chenjing"]}))
        assert there.conversation_id == back.conversation_id == PAIR1

    def test_one_to_one_takes_the_first_other_party(self) -> None:
        """GIVEN a tolist that names the sender first WHEN normalised THEN the other is used."""
        data = record("text", {"content": "a"}, tolist=["chenjing", "", CUST1, "liuqiang"])
        assert message(data).conversation_id == PAIR1

    def test_room_wins_over_the_pair(self) -> None:
        """GIVEN a roomid WHEN normalised THEN the conversation is the room."""
        data = record("text", {"content": "a"}, roomid="wrRoom2", tolist=[])
        assert message(data).conversation_id == "room:wrRoom2"

    def test_bot_sender(self) -> None:
        """GIVEN a bot writing to a customer in a room WHEN normalised THEN the agent is the
        first corp user among the recipients."""
        data = record(
            "text", {"content": "a"}, roomid="wrR", tolist=[CUST2, "wbOther", "lihua"]
        ) | {"from": "wbRobot1"}
        got = message(data)
        assert (got.sender_role, got.sender_id) == (SenderRole.BOT, "wbRobot1")
        assert (got.customer_id, got.agent_id) == (CUST2, "lihua")

    def test_no_customer_or_agent(self) -> None:
        """GIVEN an internal chat WHEN normalised THEN there is no customer; between two bots,
        no agent either."""
        internal = message(record("text", {"content": "a"}, tolist=["lihua"]))
        assert (internal.customer_id, internal.agent_id) == (None, "chenjing")
        bots = message(record("text", {"content": "a"}, tolist=["wbB"]) | {"from": "wbA"})
        assert (bots.customer_id, bots.agent_id) == (None, None)


class TestEvents:
    """GIVEN recall and consent records WHEN normalised THEN they are events, not messages."""

    def test_recall_points_at_the_withdrawn_message(self) -> None:
        """GIVEN the sample recall WHEN normalised THEN it refers to the message it withdrew."""
        got = message(sample("9805"))
        assert got.ref_message_id == "9804_1735689780000_external"
        assert got.ref_message_id in SAMPLE
        assert (got.text, got.consent) == (None, None)

    def test_recall_by_action_alone(self) -> None:
        """GIVEN action recall with another msgtype WHEN normalised THEN it is still a recall."""
        data = record("text", None, action="recall", revoke={"pre_msgid": "m-0"})
        got = message(data)
        assert (got.kind, got.msgtype, got.ref_message_id) == (RECALL, "revoke", "m-0")

    @pytest.mark.parametrize("answer", ["agree", "disagree"])
    def test_consent_is_the_payload_user(self, answer: str) -> None:
        """GIVEN a consent whose from is the agent WHEN normalised THEN the customer named in
        the payload is the sender."""
        data = record(answer, {"userid": CUST2, f"{answer}_time": 1735689600000})
        got = message(data)
        assert (got.kind, got.consent, got.msgtype) == (CONSENT, answer, answer)
        assert (got.sender_role, got.sender_id, got.customer_id) == (CUSTOMER, CUST2, CUST2)
        assert got.agent_id == "chenjing"

    def test_consent_without_userid_is_from(self) -> None:
        """GIVEN a consent payload without userid WHEN normalised THEN from is the customer."""
        got = message(record("agree", {}, **{"from": CUST1, "tolist": ["chenjing"]}))
        assert (got.sender_id, got.customer_id, got.agent_id) == (CUST1, CUST1, "chenjing")


READABLE_ROWS = [
    ("link", {"title": "T", "description": "D", "link_url": "u"}, "T\nD"),
    ("location", {"title": "T", "address": "A", "latitude": 1.0}, "T A"),
    ("location", {"address": "A"}, "A"),
    ("weapp", {"title": "T", "description": "D", "displayname": "N", "username": "u"},
     "T\nD\nN"),
    ("sphfeed", {"feed_desc": "D", "sph_name": "N", "feed_type": 4}, "D\nN"),
    ("file", {"filename": "发票.pdf", "sdkfileid": "f"}, "发票.pdf"),
    ("card", {"corpname": "示例公司", "userid": "lihua"}, "示例公司"),
    ("docmsg", {"title": "退款流程", "doc_creator": "lihua"}, "退款流程"),
    ("todo", {"title": "T", "content": "C"}, "T\nC"),
    ("vote", {"votetitle": "V", "voteitem": ["一", "二", 3], "votetype": 101}, "V\n一\n二"),
    ("collect", {"title": "T", "details": [{"ques": "Q1"}, {"ques": "Q2"}, "x"]}, "T\nQ1\nQ2"),
    ("meeting", {"topic": "T", "address": "A", "remarks": "R", "meetingid": 1}, "T\nA\nR"),
    ("calendar", {"title": "T", "place": "P", "remarks": "R", "attendeename": ["a"]},
     "T\nP\nR"),
    ("redpacket", {"wish": "恭喜发财", "totalamount": 100}, "恭喜发财"),
    ("voip_doc_share", {"filename": "F", "sdkfileid": "s"}, "F"),
    # Negative rows: media, blanks and non-strings give no text.
    ("image", {"sdkfileid": "s", "md5sum": "m"}, None),
    ("voice", {"sdkfileid": "s"}, None),
    ("video", {"sdkfileid": "s"}, None),
    ("emotion", {"sdkfileid": "s", "type": 1}, None),
    ("link", {"title": " ", "description": 7}, None),
    ("collect", {"details": "not a list"}, None),
]  # fmt: skip


class TestSearchableText:
    """GIVEN content msgtypes WHEN normalised THEN text holds what a reader would search."""

    @pytest.mark.parametrize(("msgtype", "payload", "text"), READABLE_ROWS)
    def test_text_of(self, msgtype: str, payload: dict[str, Any], text: str | None) -> None:
        """GIVEN a payload WHEN normalised THEN the text is its readable fields, the payload
        is kept as given."""
        got = message(record(msgtype, payload))
        assert (got.text, got.payload) == (text, payload)

    @pytest.mark.parametrize(
        ("msgtype", "key", "payload", "text"),
        [
            ("docmsg", "doc", {"title": "T"}, "T"),
            ("external_redpacket", "redpacket", {"wish": "W"}, "W"),
            ("markdown", "info", {"content": "**M**"}, "**M**"),
            ("qydiskfile", "info", {"filename": "F"}, "F"),
            ("news", "info", {"item": [{"title": "A", "description": "B"}, {"title": "C"}]},
             "A\nB\nC"),
            # Fallback: the documented key is absent, the key named like the msgtype is used.
            ("docmsg", "docmsg", {"title": "T"}, "T"),
            ("meeting_voice_call", "meeting_voice_call", {"sdkfileid": "s"}, None),
        ],
    )  # fmt: skip
    def test_payload_keys(self, msgtype: str, key: str, payload: dict[str, Any], text: str) -> None:
        """GIVEN a msgtype whose payload key differs WHEN normalised THEN the payload is found."""
        data = record(msgtype, None) | {key: payload}
        got = message(data)
        assert (got.msgtype, got.text, got.payload) == (msgtype, text, payload)

    def test_chatrecord_items_are_read(self) -> None:
        """GIVEN a chat record of text, link, file, image and a nested record WHEN normalised
        THEN every readable line is in the text, in order, after the title."""
        nested = {
            "title": "内层",
            "item": [{"type": "ChatRecordText", "content": '{"content":"深"}'}],
        }
        items = [
            {"type": "ChatRecordText", "content": '{"content": "第一句"}'},
            {"type": "ChatRecordLink", "content": '{"title": "链接", "description": "说明"}'},
            {"type": "ChatRecordFile", "content": '{"filename": "a.pdf", "sdkfileid": "f1"}'},
            {"type": "ChatRecordImage", "content": '{"sdkfileid": "i1"}'},
            {"type": "chatrecord", "content": orjson.dumps(nested).decode()},
            {"type": "ChatRecordText", "content": "not json"},
            {"type": "ChatRecordText", "content": "[1]"},
            "not an item",
        ]
        got = message(record("chatrecord", {"title": "聊天记录", "item": items}))
        assert got.text == "聊天记录\n第一句\n链接\n说明\na.pdf\n内层\n深"

    def test_mixed_and_chatrecord_media_ids_are_decoded(self) -> None:
        """GIVEN media inside mixed and chat records WHEN normalised THEN their sdkfileid,
        md5sum and size are objects in the payload, ready for a media fetch."""
        mixed = message(sample("9812")).payload or {}
        image = mixed["item"][1]  # type: ignore[index]
        assert image["content"] == {"md5sum": "a", "filesize": 1024, "sdkfileid": "CtYmixed1"}
        bad = {"type": "image", "content": "not json"}
        kept = message(record("mixed", {"item": [bad]})).payload
        assert kept == {"item": [bad]}

    def test_media_ids_are_kept(self) -> None:
        """GIVEN image, voice and file records WHEN normalised THEN the payload is as given."""
        for prefix, key in (("9803", "image"), ("9806", "file"), ("9808", "voice")):
            data = sample(prefix)
            payload = message(data).payload or {}
            assert payload == data[key]
            assert {"sdkfileid", "md5sum"} <= payload.keys()

    def test_text_message_has_no_payload(self) -> None:
        """GIVEN a text message WHEN normalised THEN its words are the text, not a payload."""
        got = message(record("text", {"content": "  hello  "}))
        assert (got.text, got.payload) == ("  hello  ", None)


class TestUnknownMsgtype:
    """GIVEN a msgtype this adapter does not know WHEN normalised THEN it is kept, not lost."""

    @pytest.mark.parametrize("payload", [{"future": [1, 2], "sdkfileid": "s"}, None])
    def test_unknown_is_stored(self, payload: dict[str, Any] | None) -> None:
        """GIVEN msgtype brand_new WHEN normalised THEN it is a message with payload and raw."""
        data = record("brand_new", payload) | {"voiceid": "v1"}
        got = message(data)
        assert (got.kind, got.msgtype, got.text, got.payload) == (
            MESSAGE,
            "brand_new",
            None,
            payload,
        )
        assert orjson.loads(got.raw or "") == data


SECRET = "秘密13912345678"


def _without(name: str) -> dict[str, Any]:
    data = record("text", {"content": SECRET})
    del data[name]
    return data


BAD_RECORDS: list[tuple[str, dict[str, Any], str | None]] = [
    ("msgid missing", _without("msgid"), "msgid"),
    ("msgid empty", record("text", {"content": SECRET}, msgid=""), "msgid"),
    ("msgid a number", record("text", {"content": SECRET}, msgid=12), "msgid"),
    ("msgid too long", record("text", {"content": SECRET}, msgid="m" * 129), "msgid"),
    ("msgtime missing", _without("msgtime"), "msgtime"),
    ("msgtime a string", record("text", {"content": SECRET}, msgtime="1735689600000"), "msgtime"),
    ("msgtime a float", record("text", {"content": SECRET}, msgtime=1735689600000.5), "msgtime"),
    ("msgtime a bool", record("text", {"content": SECRET}, msgtime=True), "msgtime"),
    ("msgtime in seconds", record("text", {"content": SECRET}, msgtime=1735689600), "msgtime"),
    ("msgtime negative", record("text", {"content": SECRET}, msgtime=-1), "msgtime"),
    ("msgtime huge", record("text", {"content": SECRET}, msgtime=10**30), "msgtime"),
    ("from missing", _without("from"), "from"),
    ("from empty", record("text", {"content": SECRET}, **{"from": ""}), "from"),
    ("from a list", record("text", {"content": SECRET}, **{"from": ["a"]}), "from"),
    ("tolist a string", record("text", {"content": SECRET}, tolist=CUST1), "tolist"),
    ("tolist of numbers", record("text", {"content": SECRET}, tolist=[1]), "tolist"),
    ("1:1 without other party", record("text", {"content": SECRET}, tolist=[]), "tolist"),
    ("1:1 to self", record("text", {"content": SECRET}, tolist=["chenjing"]), "tolist"),
    ("1:1 tolist missing", _without("tolist"), "tolist"),
    ("roomid a number", record("text", {"content": SECRET}, roomid=5), "roomid"),
    ("action a number", record("text", {"content": SECRET}, action=1), "action"),
    ("msgtype missing", _without("msgtype"), "msgtype"),
    ("msgtype a number", record("text", {"content": SECRET}, msgtype=3), "msgtype"),
    ("text missing", record("text", None), "text.content"),
    ("text content empty", record("text", {"content": ""}), "text.content"),
    ("text content blank", record("text", {"content": " \n"}), "text.content"),
    ("text content a number", record("text", {"content": 13912345678}), "text.content"),
    ("text a string", record("text", SECRET), "text"),
    ("image a list", record("image", [SECRET]), "image"),
    ("unknown payload a string", record("brand_new", SECRET), "brand_new"),
    ("doc a string", record("docmsg", None, doc=SECRET), "doc"),
    ("revoke without pre_msgid", record("revoke", {}), "revoke.pre_msgid"),
    ("revoke missing", record("revoke", None), "revoke.pre_msgid"),
    ("recall pre_msgid a number", record("revoke", {"pre_msgid": 9}), "revoke.pre_msgid"),
    ("revoke a string", record("revoke", SECRET), "revoke"),
    ("agree userid a list", record("agree", {"userid": [SECRET]}), "agree.userid"),
    ("big integer", record("image", {"filesize": 2**70}), None),
    ("non-string key", record("image", {1: SECRET}), None),
]


class TestBadRecords:
    """GIVEN an invalid record WHEN normalised THEN RecordError names the field, not values."""

    @pytest.mark.parametrize(
        ("data", "field"),
        [row[1:] for row in BAD_RECORDS],
        ids=[row[0] for row in BAD_RECORDS],
    )
    def test_error_names_the_field(self, data: dict[str, Any], field: str | None) -> None:
        """GIVEN a bad record WHEN normalised THEN the error names the field and leaks nothing."""
        with pytest.raises(RecordError) as caught:
            normalise_wecom(data)
        assert caught.value.field == field
        for leak in (SECRET, "13912345678", CUST1, "chenjing"):
            assert leak not in str(caught.value)

    def test_switch_needs_nothing_else(self) -> None:
        """GIVEN a switch record without msgtime or from WHEN normalised THEN it is skipped."""
        assert isinstance(normalise_wecom({"action": "switch"}), Skip)


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# orjson only writes 64-bit integers; item contents are written with it, so stay inside.
JSON_WRITABLE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["msgid", "action", "from", "tolist", "roomid", "msgtime", "msgtype", "text", "revoke",
     "agree", "chatrecord", "mixed", "info", "doc", "news", "image"]
)  # fmt: skip


def _valid_or_record_error(data: dict[str, Any]) -> None:
    try:
        result = normalise_wecom(data)
    except RecordError:
        return
    assert isinstance(result, CanonicalMessage | Skip)


class TestNeverCrashes:
    """GIVEN arbitrary JSON-ish input WHEN normalised THEN it returns or raises RecordError."""

    @settings(max_examples=300)
    @given(st.dictionaries(FIELDS | st.text(max_size=6), JSON_VALUES, max_size=10))
    def test_arbitrary_dicts(self, data: dict[str, Any]) -> None:
        """GIVEN any dict WHEN normalised THEN only RecordError escapes."""
        _valid_or_record_error(data)

    @settings(max_examples=300)
    @given(
        st.sampled_from(sorted(SAMPLE)),
        st.dictionaries(FIELDS, JSON_VALUES, max_size=3),
        st.sampled_from(["text", "mixed", "chatrecord", "news", "vote", "revoke", "agree", "x"]),
    )
    def test_mutated_samples(self, msgid: str, changes: dict[str, Any], msgtype: str) -> None:
        """GIVEN a sample record with fields replaced WHEN normalised THEN only RecordError
        escapes."""
        data = copy.deepcopy(SAMPLE[msgid]) | {"msgtype": msgtype} | changes
        _valid_or_record_error(data)

    @settings(max_examples=200)
    @given(
        st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["text", "ChatRecordText", "chatrecord", "mixed", "?"])},
                optional={
                    "content": JSON_VALUES | JSON_WRITABLE.map(lambda v: orjson.dumps(v).decode())
                },
            ),
            max_size=4,
        )
    )
    def test_arbitrary_items(self, items: list[dict[str, Any]]) -> None:
        """GIVEN chat-record items of any shape WHEN normalised THEN only RecordError escapes."""
        _valid_or_record_error(record("chatrecord", {"title": "t", "item": items}))
        _valid_or_record_error(record("mixed", {"item": items}))
