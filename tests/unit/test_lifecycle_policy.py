"""Retention policies: the shipped defaults, floors refused by law and article, which rule wins,
the retention file's errors, and the property that no deadline is ever below a floor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatkeeper.errors import ChatKeeperError, ErrorCode
from chatkeeper.lifecycle import (
    ConversationFacts,
    Duration,
    Floor,
    FloorScope,
    RetentionPolicy,
    RetentionRule,
    check_floors,
    default_floors,
    default_policy,
    default_settings,
    load_retention,
    parse_duration,
    resolve,
)
from chatkeeper.lifecycle.errors import LifecycleConfigError, RetentionBelowFloor, ScheduleInvalid

CST = timezone(timedelta(hours=8))
ENDED = datetime(2025, 8, 31, 18, 30, tzinfo=CST)
ECOMMERCE = Floor(
    "E-Commerce Law of the People's Republic of China",
    "art. 31",
    Duration.years(3),
    FloorScope(service_types=frozenset({"transaction"})),
)


def rule(name: str, service: str, keep: str, **narrowing: str) -> RetentionRule:
    return RetentionRule(name, service, parse_duration(keep), **narrowing)


def facts(service: str | None = "consultation", **fields: object) -> ConversationFacts:
    return ConversationFacts("c1", service, fields.pop("ended_at", ENDED), **fields)  # type: ignore[arg-type]


class TestShippedDefaults:
    def test_policy_keeps_each_service_type_as_the_issue_says(self) -> None:
        policy = default_policy()
        keeps = {r.service_type: str(r.keep) for r in policy.rules}
        assert keeps == {
            "consultation": "6 months",
            "after_sales": "6 months",
            "complaint": "1 year",
            "transaction": "3 years",
            "legal_dispute": "permanent",
        }
        assert policy.version == 1

    def test_floors_cite_the_law_as_design_states_it(self) -> None:
        cited = {(f.law, f.article, f.scope.records, str(f.minimum)) for f in default_floors()}
        assert cited == {
            (
                "E-Commerce Law of the People's Republic of China",
                "art. 31",
                "conversation",
                "3 years",
            ),
            (
                "Cybersecurity Law of the People's Republic of China",
                "art. 21(3) (art. 23 from 2026-01-01)",
                "network_log",
                "6 months",
            ),
            (
                "Personal Information Protection Law of the People's Republic of China",
                "art. 56",
                "processing_record",
                "3 years",
            ),
        }
        assert all(f.law_zh and f.law_zh.startswith("中华人民共和国") for f in default_floors())

    def test_the_shipped_policy_passes_its_floors(self) -> None:
        check_floors(default_policy(), default_floors())

    def test_settings(self) -> None:
        shipped = default_settings()
        assert (str(shipped.cold_after), str(shipped.recycle_bin_window)) == ("30 days", "30 days")
        assert (shipped.schedule, shipped.timezone) == ("0 22 * * *", "Asia/Shanghai")


class TestFloors:
    def test_a_rule_below_a_floor_is_refused_naming_law_and_article(self) -> None:
        policy = RetentionPolicy(2, (rule("transaction", "transaction", "1 year"),))
        with pytest.raises(RetentionBelowFloor) as caught:
            check_floors(policy, default_floors())
        message = str(caught.value)
        assert "E-Commerce Law of the People's Republic of China art. 31" in message
        assert "'transaction' keeps 1 year" in message
        assert "3 years" in message
        assert caught.value.code is ErrorCode.RETENTION_BELOW_FLOOR
        assert isinstance(caught.value, ChatKeeperError)
        assert caught.value.details["violations"] == [
            {
                "rule": "transaction",
                "keep": "1 year",
                "law": "E-Commerce Law of the People's Republic of China",
                "article": "art. 31",
                "minimum": "3 years",
            }
        ]

    def test_days_that_may_fall_short_of_months_are_refused(self) -> None:
        policy = RetentionPolicy(1, (rule("transaction", "transaction", "1095d"),))
        with pytest.raises(RetentionBelowFloor, match=r"art. 31"):
            check_floors(policy, [ECOMMERCE])
        check_floors(RetentionPolicy(1, (rule("t", "transaction", "1096d"),)), [ECOMMERCE])

    def test_a_narrowed_rule_below_the_floor_is_refused(self) -> None:
        rules = (
            rule("transaction", "transaction", "3 years"),
            rule("vip", "transaction", "2 years", tag="VIP"),
        )
        with pytest.raises(RetentionBelowFloor, match="'vip'"):
            check_floors(RetentionPolicy(1, rules), [ECOMMERCE])

    def test_a_wildcard_rule_shadowed_for_the_floors_service_types_is_allowed(self) -> None:
        rules = (rule("catch-all", "*", "6 months"), rule("transaction", "transaction", "3 years"))
        check_floors(RetentionPolicy(1, rules), [ECOMMERCE])

    def test_a_wildcard_rule_that_can_win_is_refused(self) -> None:
        with pytest.raises(RetentionBelowFloor, match="'catch-all'"):
            check_floors(RetentionPolicy(1, (rule("catch-all", "*", "6 months"),)), [ECOMMERCE])

    def test_floors_for_logs_never_constrain_conversations(self) -> None:
        policy = RetentionPolicy(1, (rule("consultation", "consultation", "30d"),))
        check_floors(policy, default_floors())  # network-log floor: 6 months, not chat content

    def test_a_floor_on_other_platforms_does_not_apply(self) -> None:
        floor = Floor(
            "Law", "art. 1", Duration.years(1), FloorScope(platforms=frozenset({"wecom"}))
        )
        check_floors(
            RetentionPolicy(1, (rule("dt", "*", "1 month", platform="dingtalk"),)), [floor]
        )
        with pytest.raises(RetentionBelowFloor, match=r"Law art. 1"):
            check_floors(RetentionPolicy(1, (rule("any", "*", "1 month"),)), [floor])

    def test_a_permanent_floor_is_refused(self) -> None:
        with pytest.raises(LifecycleConfigError, match="cannot be permanent"):
            Floor("Law", "art. 1", Duration.permanent())


class TestResolve:
    def test_the_service_types_rule_sets_the_deadline_from_the_service_date(self) -> None:
        retention = resolve(facts("consultation"), default_policy(), default_floors())
        assert retention.deadline == datetime(2026, 2, 28, 18, 30, tzinfo=CST)
        assert (retention.rule, retention.policy_version, retention.floor) == (
            "consultation",
            1,
            None,
        )

    def test_permanent(self) -> None:
        retention = resolve(facts("legal_dispute"), default_policy(), default_floors())
        assert (retention.deadline, retention.rule) == (None, "legal_dispute")

    def test_no_rule_means_no_deadline(self) -> None:
        retention = resolve(facts("warranty"), default_policy(), default_floors())
        assert (retention.deadline, retention.rule) == (None, None)

    @pytest.mark.parametrize(
        ("conversation", "winner"),
        [
            (facts("complaint"), "complaint"),
            (facts("complaint", department="法务部"), "legal-department"),
            (facts("complaint", department="法务部", platform="wecom"), "legal-on-wecom"),
            (facts("complaint", platform="wecom"), "complaint"),
            (facts("complaint", tags=("VIP",)), "complaint-vip"),
            (facts("consultation", tags=("VIP",)), "vip-any"),
            (facts("consultation"), "catch-all"),
            (facts(None), "catch-all"),
        ],
    )
    def test_the_most_specific_rule_wins(
        self, conversation: ConversationFacts, winner: str
    ) -> None:
        policy = RetentionPolicy(
            3,
            (
                rule("catch-all", "*", "1 year"),
                rule("vip-any", "*", "2 years", tag="VIP"),
                rule("complaint", "complaint", "1 year"),
                rule("complaint-vip", "complaint", "2 years", tag="VIP"),
                rule("legal-department", "complaint", "3 years", department="法务部"),
                rule(
                    "legal-on-wecom", "complaint", "1 year", department="法务部", platform="wecom"
                ),
            ),
        )
        retention = resolve(conversation, policy)
        assert retention.rule == winner
        assert retention.deadline == policy.rule(winner).keep.add_to(ENDED)

    def test_the_longest_wins_a_tie(self) -> None:
        policy = RetentionPolicy(
            1,
            (
                rule("by-department", "complaint", "1 year", department="售后服务部"),
                rule("by-platform", "complaint", "18 months", platform="sobot"),
                rule("by-tag", "complaint", "400d", tag="VIP"),
            ),
        )
        both = facts("complaint", department="售后服务部", platform="sobot", tags=("VIP",))
        assert resolve(both, policy).rule == "by-platform"

    def test_permanent_wins_a_tie(self) -> None:
        policy = RetentionPolicy(
            1,
            (
                rule("long", "complaint", "100 years", tag="VIP"),
                rule("forever", "complaint", "permanent", department="法务部"),
            ),
        )
        both = facts("complaint", department="法务部", tags=("VIP",))
        assert resolve(both, policy) == resolve(both, policy)._replace(deadline=None)
        assert resolve(both, policy).rule == "forever"

    def test_a_floor_raises_the_deadline_and_says_so(self) -> None:
        policy = RetentionPolicy(1, (rule("catch-all", "*", "6 months"),))
        retention = resolve(facts("transaction"), policy, [ECOMMERCE])
        assert retention.deadline == datetime(2028, 8, 31, 18, 30, tzinfo=CST)
        assert retention.rule_deadline == datetime(2026, 2, 28, 18, 30, tzinfo=CST)
        assert retention.floor is ECOMMERCE
        assert retention.floor.citation.endswith("art. 31")

    def test_month_arithmetic_uses_the_deployments_calendar(self) -> None:
        ended_utc = datetime(2025, 8, 31, 17, 0, tzinfo=UTC)  # 1 September in Shanghai
        policy = RetentionPolicy(1, (rule("c", "consultation", "6 months"),))
        shanghai = resolve(facts(ended_at=ended_utc), policy, zone=ZoneInfo("Asia/Shanghai"))
        assert shanghai.deadline == datetime(2026, 3, 1, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        assert resolve(facts(ended_at=ended_utc), policy).deadline == datetime(
            2026, 2, 28, 17, 0, tzinfo=UTC
        )


class TestPolicyValidation:
    def test_duplicate_names_are_refused(self) -> None:
        with pytest.raises(LifecycleConfigError, match="two retention rules are named 'a'"):
            RetentionPolicy(1, (rule("a", "complaint", "1y"), rule("a", "consultation", "1y")))

    def test_rules_with_the_same_criteria_are_refused(self) -> None:
        with pytest.raises(LifecycleConfigError, match="'a' and 'b' match the same"):
            RetentionPolicy(1, (rule("a", "complaint", "1y"), rule("b", "complaint", "2y")))

    def test_version_starts_at_one(self) -> None:
        with pytest.raises(LifecycleConfigError, match="version"):
            RetentionPolicy(0, ())


RULE = '[policy]\nversion = 1\n[[policy.rules]]\nname = "a"\nservice_type = "x"\n'


class TestRetentionFile:
    def write(self, tmp_path: Path, text: str) -> Path:
        path = tmp_path / "retention.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def test_a_deployment_file(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path,
            """
            [policy]
            version = 4
            [[policy.rules]]
            name = "vip-complaints"
            service_type = "complaint"
            tag = "VIP"
            keep = "2y"
            [[floors]]
            law = "Some Law"
            article = "art. 9"
            service_types = ["complaint"]
            minimum = "1y"
            [lifecycle]
            cold_after = "7d"
            schedule = "30 1 * * 1-5"
            """,
        )
        config = load_retention(path)
        assert config.policy.version == 4
        assert config.policy.rules[0].tag == "VIP"
        assert config.floors[0].scope.service_types == {"complaint"}
        assert str(config.settings.cold_after) == "7 days"
        assert str(config.settings.recycle_bin_window) == "30 days"  # default
        assert config.settings.timezone == "Asia/Shanghai"

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            (RULE + 'keep = "6 monts"\n', "policy.rules[0].keep: '6 monts' is not a duration"),
            (RULE + 'keep = "1y"\nkept = 1\n', "policy.rules[0].kept: unknown key"),
            ('[policy]\nversion = "1"\n', "policy.version: must be a whole number"),
            (
                '[policy]\nversion = 1\n[lifecycle]\nschedule = "0 25 * * *"\n',
                "lifecycle: cron expression '0 25 * * *': field 'hour' (2nd) value 25 is out of "
                "range 0-23",
            ),
            (
                '[policy]\nversion = 1\n[lifecycle]\ntimezone = "Mars/Olympus"\n',
                "timezone: 'Mars/Olympus' is not an IANA time zone",
            ),
            (
                '[policy]\nversion = 1\n[[floors]]\nlaw = "L"\narticle = "art. 2"\n'
                'minimum = "1y"\nscope = 1\n',
                "floors[0].scope: unknown key",
            ),
            (
                '[policy]\nversion = 1\n[[policy.rules]]\nname = "t"\n'
                'service_type = "transaction"\nkeep = "1y"\n'
                '[[floors]]\nlaw = "E-Commerce Law"\narticle = "art. 31"\n'
                'service_types = ["transaction"]\nminimum = "3y"\n',
                "below the 3 years that E-Commerce Law art. 31 requires",
            ),
            ("[policy\n", "not valid TOML"),
        ],
    )
    def test_errors_name_the_file_and_the_key(self, tmp_path: Path, text: str, says: str) -> None:
        path = self.write(tmp_path, text)
        with pytest.raises(LifecycleConfigError) as caught:
            load_retention(path)
        assert str(path) in str(caught.value)
        assert says in str(caught.value)

    def test_a_bad_schedule_is_a_schedule_error(self, tmp_path: Path) -> None:
        path = self.write(tmp_path, '[policy]\nversion = 1\n[lifecycle]\nschedule = "* * *"\n')
        with pytest.raises(ScheduleInvalid, match="has 3 fields"):
            load_retention(path)


# --- the property: whatever the rules, floors and service date, no deadline is below a floor --

SERVICES = ("consultation", "after_sales", "complaint", "transaction", "legal_dispute", None)
PLATFORMS = ("wecom", "dingtalk", "sobot", None)
durations = st.one_of(
    st.builds(Duration.days, st.integers(1, 4000)),
    st.builds(Duration.months, st.integers(1, 120)),
    st.builds(Duration.years, st.integers(1, 10)),
    st.just(Duration.permanent()),
)
floor_minimums = st.one_of(
    st.builds(Duration.days, st.integers(1, 4000)),
    st.builds(Duration.months, st.integers(1, 120)),
    st.builds(Duration.years, st.integers(1, 10)),
)
rules = st.lists(
    st.builds(
        lambda i, service, keep, platform, tag: RetentionRule(
            f"r{i}", service or "*", keep, platform=platform, tag=tag
        ),
        st.integers(0, 10**6),
        st.sampled_from(SERVICES),
        durations,
        st.sampled_from(PLATFORMS),
        st.sampled_from(("VIP", None)),
    ),
    max_size=6,
    unique_by=(lambda r: r.name, lambda r: r.criteria()),
)
floors = st.lists(
    st.builds(
        lambda services, platforms, minimum: Floor(
            "Law", "art. 1", minimum, FloorScope("conversation", services, platforms)
        ),
        st.frozensets(st.sampled_from(SERVICES[:-1]), max_size=2),
        st.frozensets(st.sampled_from(PLATFORMS[:-1]), max_size=2),
        floor_minimums,
    ),
    max_size=3,
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(CST)
)


@settings(max_examples=300, deadline=None)
@given(
    rules=rules,
    floors=floors,
    ended=moments,
    service=st.sampled_from(SERVICES),
    platform=st.sampled_from(PLATFORMS),
    tagged=st.booleans(),
)
def test_resolve_never_returns_a_deadline_below_an_applicable_floor(
    rules: list[RetentionRule],
    floors: list[Floor],
    ended: datetime,
    service: str | None,
    platform: str | None,
    tagged: bool,
) -> None:
    conversation = ConversationFacts(
        "c", service, ended, platform=platform, tags=("VIP",) if tagged else ()
    )
    retention = resolve(conversation, RetentionPolicy(1, tuple(rules)), floors)
    if retention.rule is None:
        assert retention.deadline is None  # nothing deletes what no rule covers
        return
    for floor in floors:
        if floor.scope.covers(conversation) and retention.deadline is not None:
            floor_deadline = floor.minimum.add_to(ended)
            assert floor_deadline is not None
            assert retention.deadline >= floor_deadline
