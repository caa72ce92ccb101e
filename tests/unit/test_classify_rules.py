"""Classification rules (each condition kind, priority, override_source, configuration, errors)
and how a conversation's class combines across messages and batches."""

from __future__ import annotations

import itertools
import json
from dataclasses import astuple
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatkeeper.classify import ClassifyError, ConversationClass, MessageClass, Rules, combine
from chatkeeper.domain import CanonicalMessage, RecordKind, SenderRole
from chatkeeper.errors import ErrorCode

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "pii-sample-3000.jsonl"
DEFAULT = Rules.default()
T0 = datetime(2026, 5, 2, 10, 11, 12, tzinfo=UTC)


def msg(text: str | None = None, **fields: Any) -> CanonicalMessage:
    """A customer text message on WeCom unless ``fields`` say otherwise."""
    values: dict[str, Any] = {"sender_role": SenderRole.CUSTOMER, "text": text} | fields
    return CanonicalMessage("wecom", "c-1", "m-1", T0, **values)


def only(*rules: dict[str, Any]) -> Rules:
    """Exactly these rules, without the defaults."""
    return Rules.from_mapping({"replace_default": True, "rule": list(rules)})


def rule(**fields: Any) -> dict[str, Any]:
    return {"name": "r", "service_type": "complaint", "priority": 10} | fields


class TestConditions:
    """GIVEN a rule with one kind of condition WHEN a message is classified THEN it holds exactly
    when that condition does."""

    @pytest.mark.parametrize(
        ("conditions", "message", "holds"),
        [
            ({"keywords_any": ["投诉", "差评"]}, msg("给你差评"), True),
            ({"keywords_any": ["投诉", "差评"]}, msg("好评"), False),
            ({"keywords_any": ["VIP"]}, msg("我是ｖｉｐ"), True),  # folded like the lexicon
            ({"keywords_any": ["12315"]}, msg("138123156789"), False),  # ASCII word edges
            ({"keywords_any": ["12315"]}, msg("打12315"), True),
            ({"keywords_any": ["投诉"]}, msg(None), False),
            ({"keywords_all": ["退款", "没到账"]}, msg("退款还没到账"), True),
            ({"keywords_all": ["退款", "没到账"]}, msg("退款什么时候到"), False),
            ({"keywords_any": ["退"], "keywords_all": ["款"]}, msg("退款"), True),
            ({"keywords_any": ["退"], "keywords_all": ["款"]}, msg("退货"), False),
            ({"patterns": [r"订单\s*:\s*\d{6}"]}, msg("订单：１２３４５６"), True),  # folded
            ({"patterns": [r"^x", r"单号\d+"]}, msg("单号42"), True),  # any pattern
            ({"patterns": [r"订单\s*:\s*\d{6}"]}, msg("订单号呢"), False),
            ({"patterns": [r"vip"]}, msg("VIP客户"), True),  # patterns see folded text
            ({"platform": ["dingtalk", "wecom"]}, msg("x"), True),
            ({"platform": ["dingtalk"]}, msg("x"), False),
            ({"sender_role": ["customer"]}, msg("x"), True),
            ({"sender_role": ["agent", "bot"]}, msg("x"), False),
            ({"sender_role": ["agent"]}, msg("x", sender_role=SenderRole.AGENT), True),
            ({"msgtype": ["image", "file"]}, msg(None, msgtype="image"), True),
            ({"msgtype": ["image", "file"]}, msg("x"), False),
            ({"fields": {"department": "售后服务部"}}, msg("x", department="售后服务部"), True),
            ({"fields": {"department": ["售后", "投诉组"]}}, msg("x", department="投诉组"), True),
            ({"fields": {"department": "售后服务部"}}, msg("x", department="电商客服部"), False),
            ({"fields": {"department": "售后服务部"}}, msg("x"), False),  # absent
            (
                {"fields": {"agent_id": "a0123", "department": "售后"}},
                msg("x", agent_id="a0123"),
                False,
            ),
            ({"fields": {"kind": "recall"}}, msg(None, kind=RecordKind.RECALL), True),
            ({"payload": {"vip": True}}, msg("x", payload={"vip": True}), True),
            ({"payload": {"vip": True}}, msg("x", payload={"vip": 1}), False),  # not a bool
            ({"payload": {"level": 1}}, msg("x", payload={"level": True}), False),
            ({"payload": {"level": 1}}, msg("x", payload={"level": 1}), True),
            ({"payload": {"level": ["gold", "vip"]}}, msg("x", payload={"level": "vip"}), True),
            ({"payload": {"level": "vip"}}, msg("x", payload={"level": ["vip"]}), False),
            ({"payload": {"vip": True}}, msg("x", payload={"other": True}), False),
            ({"payload": {"vip": True}}, msg("x"), False),  # no payload
            ({"platform": ["wecom"], "keywords_any": ["投诉"]}, msg("投诉"), True),
            ({"platform": ["wecom"], "keywords_any": ["投诉"]}, msg("好的"), False),
            ({"platform": ["sobot"], "keywords_any": ["投诉"]}, msg("投诉"), False),
        ],
    )
    def test_condition(self, conditions: dict[str, Any], message: Any, holds: bool) -> None:
        result = only(rule(**conditions)).classify(message)
        expected = MessageClass("complaint", "r", 10, (), False) if holds else MessageClass()
        assert result == expected


class TestPriority:
    """GIVEN several rules that hold WHEN classified THEN the highest priority sets the type,
    the earlier rule wins a tie, and every rule's tags are added."""

    RULES = only(
        rule(name="low", service_type="consultation", priority=1, keywords_any=["请问"]),
        rule(name="high", service_type="legal_dispute", priority=40, keywords_any=["律师"]),
        rule(name="mid", service_type="after_sales", priority=20, keywords_any=["退款"]),
        rule(name="tie", service_type="transaction", priority=20, keywords_any=["退款"]),
        {"name": "tagger", "keywords_any": ["请问"], "tags": ["asked", "a"]},
        rule(name="flagged", priority=5, keywords_any=["律师"], tags=["legal_risk"]),
    )

    def test_highest_priority_wins_whatever_the_file_order(self) -> None:
        result = self.RULES.classify(msg("请问退款找律师吗"))
        assert (result.service_type, result.rule, result.priority) == ("legal_dispute", "high", 40)
        assert result.tags == ("a", "asked", "legal_risk")

    def test_tie_keeps_the_earlier_rule(self) -> None:
        assert self.RULES.classify(msg("退款")).rule == "mid"

    def test_tags_only(self) -> None:
        assert self.RULES.classify(msg("请问")) == MessageClass(
            "consultation", "low", 1, ("a", "asked"), False
        )
        tags_only = only({"name": "t", "payload": {"vip": True}, "tags": ["vip"]})
        assert tags_only.classify(msg("x", payload={"vip": True})) == MessageClass(tags=("vip",))

    def test_override_source_is_carried(self) -> None:
        rules = only(rule(override_source=True, keywords_any=["律师"]))
        assert rules.classify(msg("律师")).override_source is True
        assert only(rule(keywords_any=["律师"])).classify(msg("律师")).override_source is False


class TestDefaultRules:
    """GIVEN the shipped rules WHEN customers say typical things THEN the service type follows."""

    @pytest.mark.parametrize(
        ("text", "service_type", "tags"),
        [
            ("我要去法院起诉你们", "legal_dispute", ("legal_risk",)),
            ("已经发律师函了", "legal_dispute", ("legal_risk",)),
            ("质量太差了，我要投诉", "complaint", ()),
            ("我要打１２３１５", "complaint", ()),
            ("这是第二次投诉了", "complaint", ("repeat_complaint",)),
            ("退款什么时候到账", "after_sales", ()),
            ("怎么申请售后？", "after_sales", ()),  # beats the 怎么 of consultation
            ("上周买的洗衣机坏了", "after_sales", ()),
            ("可以开发票吗？", "transaction", ()),
            ("我昨天下的单，能不能改成顺丰", "transaction", ()),
            ("订单：２０２５０５０１１２３４５６７８ 到哪了", "transaction", ()),
            ("这个多少钱", "consultation", ()),
            ("在吗？", None, ()),
            ("好的，谢谢", None, ()),
        ],
    )
    def test_customer_messages(self, text: str, service_type: str | None, tags: tuple) -> None:
        result = DEFAULT.classify(msg(text))
        assert (result.service_type, result.tags) == (service_type, tags)

    def test_agent_phrases_do_not_classify(self) -> None:
        for text in ("请问还有其他问题吗？", "很抱歉让您不满意", "您的投诉已受理"):
            assert DEFAULT.classify(msg(text, sender_role=SenderRole.AGENT)) == MessageClass()

    def test_legal_and_complaint_override_the_source(self) -> None:
        overriding = {r.name for r in DEFAULT.rules if r.override_source}
        assert overriding == {"legal_dispute", "complaint"}

    def test_vip_tag_from_payload(self) -> None:
        assert DEFAULT.classify(msg(None, payload={"vip": True})).tags == ("vip",)

    def test_sample_messages(self) -> None:
        # GIVEN the sample's 3,000 messages as customer messages
        with SAMPLE.open(encoding="utf-8") as lines:
            texts = [json.loads(line)["text"] for line in lines]
        classes = {t: DEFAULT.classify(msg(t)).service_type for t in set(texts)}
        # THEN every complaint is a complaint, and the common requests land where expected
        assert {classes[t] for t in texts if "我要投诉" in t} == {"complaint"}
        assert {classes[t] for t in texts if t.endswith("怎么申请售后？")} == {"after_sales"}
        assert {classes[t] for t in texts if t.endswith("七天无理由退货吗？")} == {"after_sales"}
        assert {classes[t] for t in texts if t.endswith("可以开发票吗？")} == {"transaction"}
        assert {classes[t] for t in texts if t in ("在吗？", "收到，谢谢！")} == {None}
        assert {classes[t] for t in texts} >= {"complaint", "after_sales", "transaction"}
        assert "legal_dispute" not in classes.values()


class TestConfiguration:
    """GIVEN configuration WHEN it extends, replaces, disables or drops the defaults THEN the
    rules follow."""

    def test_empty_is_default(self) -> None:
        assert Rules.from_mapping({}).rules == DEFAULT.rules

    def test_extend(self) -> None:
        rules = Rules.from_mapping(
            {
                "rule": [
                    rule(
                        name="insurance",
                        service_type="claims",
                        priority=25,
                        fields={"department": "理赔部"},
                    )
                ]
            }
        )
        assert [r.name for r in rules.rules][-1] == "insurance"
        assert rules.classify(msg("退款", department="理赔部")).service_type == "claims"
        assert rules.classify(msg("退款")).service_type == "after_sales"

    def test_same_name_replaces_in_place(self) -> None:
        rules = Rules.from_mapping(
            {"rule": [rule(name="complaint", priority=50, keywords_any=["不满"])]}
        )
        assert [r.name for r in rules.rules] == [r.name for r in DEFAULT.rules]
        assert rules.classify(msg("很不满，退款")).rule == "complaint"
        assert rules.classify(msg("我要投诉")).service_type is None

    def test_disable(self) -> None:
        rules = Rules.from_mapping({"disable": ["consultation", "vip"]})
        assert len(rules) == len(DEFAULT) - 2
        assert rules.classify(msg("这个多少钱", payload={"vip": True})) == MessageClass()

    def test_replace_default(self) -> None:
        rules = only(rule(keywords_any=["退钱"]))
        assert [r.name for r in rules.rules] == ["r"]
        assert rules.classify(msg("律师")) == MessageClass()

    def test_from_toml(self, tmp_path: Path) -> None:
        path = tmp_path / "rules.toml"
        path.write_text(
            'disable = ["consultation"]\n\n[[rule]]\nname = "vip_dept"\n'
            'fields = { department = "VIP客服部" }\ntags = ["vip"]\n',
            encoding="utf-8",
        )
        rules = Rules.from_toml(path)
        assert rules.classify(msg("请问", department="VIP客服部")) == MessageClass(tags=("vip",))


def rules_error(data: object) -> ClassifyError:
    with pytest.raises(ClassifyError) as caught:
        Rules.from_mapping(data, source="settings [classify.rules]")  # type: ignore[arg-type]
    error = caught.value
    assert error.code is ErrorCode.CONFIG_INVALID and error.exit_code == 78
    assert error.message.startswith("settings [classify.rules]")
    return error


OK = rule(keywords_any=["投诉"])


class TestErrors:
    """GIVEN an invalid rule WHEN loaded THEN the error names the source, entry and field."""

    @pytest.mark.parametrize(
        ("bad", "field", "reason"),
        [
            ({"name": None}, "name", "is required"),
            ({"name": "投诉规则"}, "name", "lower-case identifier"),
            ({"name": "source"}, "name", "reserved"),
            ({"service_type": "After-Sales"}, "service_type", "lower-case identifier"),
            ({"service_type": None}, "service_type", "must set service_type, tags"),
            ({"priority": None}, "priority", "required when the rule sets service_type"),
            ({"priority": 0}, "priority", "integer from 1 to 1000000"),
            ({"priority": True}, "priority", "integer from 1"),
            ({"priority": "10"}, "priority", "integer from 1"),
            ({"override_source": "yes"}, "override_source", "true or false"),
            ({"tags": "vip"}, "tags", "non-empty list of strings"),
            ({"tags": ["vip", ""]}, "tags", "item 2 must be a non-empty string"),
            ({"tags": ["x" * 65]}, "tags", "at most 64"),
            ({"keywords_any": None}, "keywords_any", "needs a condition"),
            ({"keywords_any": []}, "keywords_any", "non-empty list"),
            ({"keywords_any": "投诉"}, "keywords_any", "non-empty list"),
            ({"keywords_any": [" 投诉"]}, "keywords_any", "white space"),
            ({"keywords_all": [1]}, "keywords_all", "item 1 must be a non-empty string"),
            ({"sender_role": ["client"]}, "sender_role", "'client' is not one of customer"),
            ({"platform": "wecom"}, "platform", "non-empty list"),
            ({"msgtype": []}, "msgtype", "non-empty list"),
            ({"fields": {"phone": "x"}}, "fields.phone", "not a canonical field; valid: dep"),
            ({"fields": {"department": 3}}, "fields.department", "string or a list of strings"),
            ({"fields": {"department": []}}, "fields.department", "string or a list"),
            ({"fields": {}}, "fields", "non-empty table"),
            ({"fields": ["department"]}, "fields", "non-empty table"),
            ({"payload": {"vip": {"a": 1}}}, "payload.vip", "string, number or boolean"),
            ({"payload": {"vip": [[1]]}}, "payload.vip", "string, number or boolean"),
            ({"when": "always"}, "when", "unknown field; valid fields: name, priority"),
        ],
    )
    def test_rule_errors(self, bad: dict[str, Any], field: str, reason: str) -> None:
        entry = {k: v for k, v in (OK | bad).items() if v is not None}
        error = rules_error({"rule": [OK | {"name": "first"}, entry]})
        assert (error.section, error.entry, error.field) == ("rule", 2, field)
        assert f"[[rule]] entry 2, field '{field}'" in error.message
        assert reason in error.message

    def test_bad_pattern_names_rule_and_pattern(self) -> None:
        error = rules_error({"rule": [rule(name="orders", patterns=[r"\d+", r"订单(\d+"])]})
        assert (error.entry, error.field) == (1, "patterns")
        assert "rule 'orders' pattern 2 '订单(\\\\d+' does not compile" in error.message

    @pytest.mark.parametrize(
        ("data", "field", "reason"),
        [
            ({"rules": []}, "rules", "unknown key 'rules'"),
            ({"disable": ["no_such_rule"]}, "disable", "item 1 'no_such_rule' is not a default"),
            ({"replace_default": 1}, "replace_default", "true or false"),
            ({"rule": "complaint"}, "rule", "list of tables"),
        ],
    )
    def test_top_level_errors(self, data: dict[str, Any], field: str, reason: str) -> None:
        error = rules_error(data)
        assert error.field == field and reason in error.message

    def test_duplicate_names(self) -> None:
        error = rules_error({"rule": [OK, rule(name="x", keywords_any=["a"]), OK]})
        assert (error.entry, error.field) == (3, None)
        assert "[[rule]] entry 3: repeats entry 1 ('r')" in error.message

    def test_file_errors_name_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "rules.toml"
        path.write_text('[[rule]]\nname = "x"\npriority = 3\n', encoding="utf-8")
        with pytest.raises(ClassifyError) as caught:
            Rules.from_toml(path)
        assert caught.value.message == (
            f"rules file '{path}', [[rule]] entry 1, field 'service_type': "
            "a rule must set service_type, tags, or both"
        )
        with pytest.raises(ClassifyError, match=r"rules file .* does not exist"):
            Rules.from_toml(tmp_path / "missing.toml")
        path.write_text("[[rule]\n", encoding="utf-8")
        with pytest.raises(ClassifyError, match=r"rules file .* is not valid TOML"):
            Rules.from_toml(path)


# --- combine -------------------------------------------------------------------------------

LEGAL = MessageClass("legal_dispute", "legal_dispute", 40, ("legal_risk",), True)
COMPLAINT = MessageClass("complaint", "complaint", 30, (), True)
AFTER_SALES = MessageClass("after_sales", "after_sales", 20, (), False)
TRANSACTION = MessageClass("transaction", "transaction", 10, (), False)
CONSULT = MessageClass("consultation", "consultation", 1, (), False)
VIP = MessageClass(tags=("vip",))
NOTHING = MessageClass()


def fold_all(
    items: list[tuple[MessageClass, str | None]], start: ConversationClass | None = None
) -> ConversationClass | None:
    current = start
    for new, source in items:
        current = combine(current, new, source)
    return current


def decided(result: ConversationClass | None) -> tuple[object, ...]:
    assert result is not None
    return (result.service_type, result.rule, result.tags)


class TestCombine:
    """GIVEN a conversation's messages WHEN their classes are combined THEN the documented
    winner is chosen."""

    def test_first_message(self) -> None:
        assert combine(None, AFTER_SALES, None) == ConversationClass(
            "after_sales", "after_sales", 20, (), False, None
        )
        assert combine(None, NOTHING, None) == ConversationClass()

    def test_highest_priority_wins(self) -> None:
        result = fold_all([(CONSULT, None), (AFTER_SALES, None), (TRANSACTION, None)])
        assert decided(result) == ("after_sales", "after_sales", ())

    def test_source_wins_over_a_plain_rule(self) -> None:
        result = fold_all([(AFTER_SALES, "consultation"), (TRANSACTION, "consultation")])
        assert result == ConversationClass("consultation", "source", 20, (), False, "consultation")

    def test_source_alone(self) -> None:
        assert decided(combine(None, NOTHING, "transaction")) == ("transaction", "source", ())

    def test_override_rule_wins_over_the_source(self) -> None:
        result = fold_all([(AFTER_SALES, "consultation"), (COMPLAINT, "consultation")])
        assert decided(result) == ("complaint", "complaint", ())
        assert result is not None and result.source_service_type == "consultation"

    def test_higher_plain_rule_hands_back_to_the_source(self) -> None:
        # The winning rule is the highest; only its override_source counts.
        plain_high = MessageClass("transaction", "big_order", 60, (), False)
        result = fold_all([(COMPLAINT, "after_sales"), (plain_high, None)])
        assert result == ConversationClass("after_sales", "source", 60, (), False, "after_sales")

    def test_source_arriving_in_a_later_batch(self) -> None:
        first = fold_all([(AFTER_SALES, None)])
        assert decided(first) == ("after_sales", "after_sales", ())
        assert decided(combine(first, NOTHING, "consultation")) == ("consultation", "source", ())
        overriding = fold_all([(LEGAL, None)])
        assert decided(combine(overriding, NOTHING, "consultation"))[0] == "legal_dispute"

    def test_tags_accumulate(self) -> None:
        result = fold_all([(VIP, None), (LEGAL, None), (VIP, None), (CONSULT, None)])
        assert decided(result) == ("legal_dispute", "legal_dispute", ("legal_risk", "vip"))

    def test_ties_keep_the_earlier_rule(self) -> None:  # documented order dependence
        other = MessageClass("transaction", "other_20", 20, (), False)
        assert decided(fold_all([(AFTER_SALES, None), (other, None)]))[1] == "after_sales"
        assert decided(fold_all([(other, None), (AFTER_SALES, None)]))[1] == "other_20"

    def test_first_source_value_is_kept(self) -> None:  # documented order dependence
        assert decided(fold_all([(NOTHING, "a"), (NOTHING, "b")]))[0] == "a"
        assert decided(fold_all([(NOTHING, "b"), (NOTHING, "a")]))[0] == "b"

    def test_empty_source_is_no_source(self) -> None:
        assert decided(combine(None, AFTER_SALES, ""))[1] == "after_sales"


def reference(items: list[tuple[MessageClass, str | None]]) -> tuple[object, ...]:
    """The documented rule computed over the whole conversation at once."""
    rules = [new for new, _ in items if new.service_type is not None]
    best = max(rules, key=lambda new: new.priority, default=None)
    source = next((s for _, s in items if s), None)
    tags = tuple(sorted({tag for new, _ in items for tag in new.tags}))
    if source is not None and (best is None or not best.override_source):
        return (source, "source", tags)
    return (best.service_type if best else None, best.rule if best else None, tags)


_CLASSES = [LEGAL, COMPLAINT, AFTER_SALES, TRANSACTION, CONSULT, VIP, NOTHING]
_ITEMS = st.lists(
    st.tuples(st.sampled_from(_CLASSES), st.sampled_from([None, None, "consultation"])),
    max_size=8,
)


class TestCombineOrder:
    """GIVEN messages with distinct rule priorities and one source value WHEN combined in any
    order and split into any batches (each stored and reloaded) THEN the result is the same."""

    @settings(max_examples=300, deadline=None)
    @given(_ITEMS, st.randoms(use_true_random=False), st.lists(st.integers(0, 8), max_size=3))
    def test_order_and_batches_do_not_matter(
        self, items: list[tuple[MessageClass, str | None]], rng: Any, cuts: list[int]
    ) -> None:
        shuffled = list(items)
        rng.shuffle(shuffled)
        current: ConversationClass | None = None
        bounds = [0, *sorted(cuts), len(shuffled)]
        for start, end in itertools.pairwise(bounds):
            current = fold_all(shuffled[start:end], current)
            if current is not None:  # a batch ends: the store keeps six plain columns
                current = ConversationClass(*astuple(current))
        if items:
            assert decided(current) == reference(items)

    def test_every_permutation_of_a_conversation(self) -> None:
        items = [
            (CONSULT, "after_sales"),
            (VIP, None),
            (COMPLAINT, None),
            (TRANSACTION, "after_sales"),
            (MessageClass("transaction", "big_order", 60, ("big",), False), None),
        ]
        results = {decided(fold_all(list(p))) for p in itertools.permutations(items)}
        assert results == {("after_sales", "source", ("big", "vip"))}
