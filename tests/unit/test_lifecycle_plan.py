"""The lifecycle planner: each conversation's step and reason, holds, floors, the bin window,
planning as of a date, streaming, and the totals per rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chatkeeper.lifecycle import (
    NO_RULE,
    Action,
    ConversationFacts,
    Decision,
    Duration,
    Floor,
    FloorScope,
    HoldIndex,
    LegalHold,
    LifecycleSettings,
    Reason,
    RetentionPolicy,
    RetentionRule,
    RuleTotals,
    State,
    check_floors,
    decide,
    default_floors,
    default_policy,
)
from chatkeeper.lifecycle.errors import LegalHoldActive, LifecycleConfigError, RetentionBelowFloor

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 1, 22, 0, tzinfo=CST)


def conv(
    cid: str = "c1",
    service: str | None = "consultation",
    ended: datetime = NOW - timedelta(days=5),
    **fields: object,
) -> ConversationFacts:
    return ConversationFacts(cid, service, ended, **fields)  # type: ignore[arg-type]


def plan_one(
    conversation: ConversationFacts,
    *,
    now: datetime = NOW,
    holds: tuple[LegalHold, ...] = (),
    policy: RetentionPolicy | None = None,
    floors: tuple[Floor, ...] | None = None,
    settings: LifecycleSettings | None = None,
) -> Decision:
    plan = decide(
        [conversation],
        policy or default_policy(),
        default_floors() if floors is None else floors,
        holds,
        now,
        settings,
    )
    (decision,) = list(plan)
    return decision


class TestActiveConversations:
    def test_a_recent_conversation_stays(self) -> None:
        """GIVEN a consultation that ended 5 days ago
        WHEN the job plans
        THEN it stays, before its deadline, under the consultation rule of policy version 1"""
        decision = plan_one(conv())
        assert (decision.action, decision.reason) == (Action.STAY, Reason.BEFORE_DEADLINE)
        assert decision.retention.rule == "consultation"
        assert decision.retention.policy_version == 1

    def test_after_cold_after_it_is_archived(self) -> None:
        """GIVEN an active consultation that ended 30 days ago to the minute
        WHEN the job plans
        THEN it goes to cold storage"""
        decision = plan_one(conv(ended=NOW - timedelta(days=30)))
        assert (decision.action, decision.reason) == (Action.ARCHIVE, Reason.COLD_AFTER_ELAPSED)

    def test_one_minute_before_cold_after_it_stays(self) -> None:
        """GIVEN an active consultation that ended 30 days less one minute ago
        WHEN the job plans
        THEN it stays active"""
        decision = plan_one(conv(ended=NOW - timedelta(days=30) + timedelta(minutes=1)))
        assert decision.action is Action.STAY

    def test_cold_after_is_configurable(self) -> None:
        """GIVEN cold_after set to 7 days and a conversation that ended 8 days ago
        WHEN the job plans
        THEN it is archived"""
        settings = LifecycleSettings(cold_after=Duration.days(7))
        decision = plan_one(conv(ended=NOW - timedelta(days=8)), settings=settings)
        assert decision.action is Action.ARCHIVE

    def test_past_its_deadline_it_goes_straight_to_the_bin(self) -> None:
        """GIVEN an active consultation that ended 31 August 2025 (deadline 28 February 2026)
        WHEN the job plans on 1 November 2026
        THEN it goes to the recycle bin (not via cold storage), naming its rule"""
        decision = plan_one(conv(ended=datetime(2025, 8, 31, 12, 0, tzinfo=CST)))
        assert (decision.action, decision.reason) == (
            Action.TO_RECYCLE_BIN,
            Reason.DEADLINE_REACHED,
        )
        assert decision.retention.deadline == datetime(2026, 2, 28, 12, 0, tzinfo=CST)
        assert decision.retention.rule == "consultation"


class TestArchivedConversations:
    def test_an_archived_conversation_goes_to_the_bin_at_its_deadline(self) -> None:
        """GIVEN an archived complaint that ended exactly one year before now
        WHEN the job plans
        THEN it goes to the recycle bin under the complaint rule"""
        decision = plan_one(
            conv(service="complaint", ended=NOW - timedelta(days=365), state=State.ARCHIVED)
        )
        assert (decision.action, decision.retention.rule) == (Action.TO_RECYCLE_BIN, "complaint")

    def test_an_archived_conversation_before_its_deadline_stays(self) -> None:
        """GIVEN an archived complaint that ended 100 days ago
        WHEN the job plans
        THEN it stays (it is already cold)"""
        decision = plan_one(
            conv(service="complaint", ended=NOW - timedelta(days=100), state=State.ARCHIVED)
        )
        assert (decision.action, decision.reason) == (Action.STAY, Reason.BEFORE_DEADLINE)

    def test_a_permanent_conversation_is_archived_but_never_binned(self) -> None:
        """GIVEN legal-dispute conversations that ended ten years ago, one active, one archived
        WHEN the job plans
        THEN the active one is archived, the archived one stays, permanently"""
        ended = NOW - timedelta(days=3650)
        active = plan_one(conv(service="legal_dispute", ended=ended))
        archived = plan_one(conv(service="legal_dispute", ended=ended, state=State.ARCHIVED))
        assert active.action is Action.ARCHIVE
        assert (archived.action, archived.reason) == (Action.STAY, Reason.PERMANENT)

    def test_a_conversation_no_rule_covers_is_never_deleted(self) -> None:
        """GIVEN an archived conversation of a service type no rule names, ended years ago
        WHEN the job plans
        THEN it stays, counted under the no-rule key"""
        plan = decide(
            [conv(service="warranty", ended=NOW - timedelta(days=2000), state=State.ARCHIVED)],
            default_policy(),
            default_floors(),
            (),
            NOW,
        )
        (decision,) = list(plan)
        assert (decision.action, decision.reason) == (Action.STAY, Reason.NO_RULE)
        assert plan.totals() == {NO_RULE: RuleTotals(stayed=1)}


class TestRecycleBin:
    def test_purged_after_the_bin_window(self) -> None:
        """GIVEN a consultation past its deadline, moved to the bin 30 days ago
        WHEN the job plans
        THEN it is purged"""
        decision = plan_one(
            conv(
                ended=NOW - timedelta(days=400),
                state=State.RECYCLE_BIN,
                state_since=NOW - timedelta(days=30),
            )
        )
        assert (decision.action, decision.reason) == (Action.PURGE, Reason.BIN_WINDOW_ELAPSED)

    def test_kept_inside_the_bin_window(self) -> None:
        """GIVEN a consultation moved to the bin 29 days ago
        WHEN the job plans
        THEN it stays in the bin, recoverable"""
        decision = plan_one(
            conv(
                ended=NOW - timedelta(days=400),
                state=State.RECYCLE_BIN,
                state_since=NOW - timedelta(days=29),
            )
        )
        assert (decision.action, decision.reason) == (Action.STAY, Reason.IN_RECYCLE_BIN)

    def test_the_bin_window_is_configurable(self) -> None:
        """GIVEN a 7-day bin window and a conversation binned 8 days ago
        WHEN the job plans
        THEN it is purged"""
        settings = LifecycleSettings(recycle_bin_window=Duration.days(7))
        decision = plan_one(
            conv(
                ended=NOW - timedelta(days=400),
                state=State.RECYCLE_BIN,
                state_since=NOW - timedelta(days=8),
            ),
            settings=settings,
        )
        assert decision.action is Action.PURGE

    def test_an_unknown_bin_entry_time_never_purges(self) -> None:
        """GIVEN a conversation in the bin whose entry time is unknown
        WHEN the job plans
        THEN it stays: the planner never guesses towards deleting"""
        decision = plan_one(conv(ended=NOW - timedelta(days=400), state=State.RECYCLE_BIN))
        assert (decision.action, decision.reason) == (Action.STAY, Reason.BIN_ENTRY_UNKNOWN)

    def test_already_purged_conversations_stay(self) -> None:
        """GIVEN a purged conversation
        WHEN the job plans
        THEN it stays"""
        decision = plan_one(conv(state=State.PURGED, ended=NOW - timedelta(days=900)))
        assert (decision.action, decision.reason) == (Action.STAY, Reason.ALREADY_PURGED)


TRANSACTIONS = FloorScope(service_types=frozenset({"transaction"}))
TAX_FLOOR = Floor("Tax rules", "art. 9", Duration.years(5), TRANSACTIONS)


class TestFloors:
    def test_kept_by_floor_when_the_rule_deadline_has_passed(self) -> None:
        """GIVEN a transaction rule of 3 years and a 5-year floor for transactions
        AND an archived transaction conversation that ended 4 years ago
        WHEN the job plans
        THEN it stays with reason kept_by_floor, naming the floor, and the totals count it"""
        policy = RetentionPolicy(
            1, (RetentionRule("transaction", "transaction", Duration.years(3)),)
        )
        ended = NOW - timedelta(days=4 * 365)
        plan = decide(
            [conv(service="transaction", ended=ended, state=State.ARCHIVED)],
            policy,
            (*default_floors(), TAX_FLOOR),
            (),
            NOW,
        )
        (decision,) = list(plan)
        assert (decision.action, decision.reason) == (Action.STAY, Reason.KEPT_BY_FLOOR)
        assert decision.kept_by_floor
        assert decision.retention.floor is TAX_FLOOR
        assert decision.retention.rule == "transaction"
        assert plan.totals()["transaction"] == RuleTotals(kept_by_floor=1, stayed=1)

    def test_after_the_floor_deadline_it_goes_to_the_bin(self) -> None:
        """GIVEN the same rule and floor, and a conversation that ended 5 years and a day ago
        WHEN the job plans
        THEN it goes to the recycle bin"""
        policy = RetentionPolicy(
            1, (RetentionRule("transaction", "transaction", Duration.years(3)),)
        )
        ended = NOW - timedelta(days=5 * 365 + 2)
        decision = plan_one(
            conv(service="transaction", ended=ended, state=State.ARCHIVED),
            policy=policy,
            floors=(TAX_FLOOR,),
        )
        assert (decision.action, decision.kept_by_floor) == (Action.TO_RECYCLE_BIN, False)

    def test_an_active_conversation_kept_by_a_floor_still_goes_cold(self) -> None:
        """GIVEN an active transaction conversation past its rule's deadline but not the floor's
        WHEN the job plans
        THEN it is archived, and flagged as kept by the floor"""
        policy = RetentionPolicy(
            1, (RetentionRule("transaction", "transaction", Duration.years(3)),)
        )
        decision = plan_one(
            conv(service="transaction", ended=NOW - timedelta(days=4 * 365)),
            policy=policy,
            floors=(TAX_FLOOR,),
        )
        assert (decision.action, decision.kept_by_floor) == (Action.ARCHIVE, True)

    def test_a_floor_stops_the_purge_of_a_conversation_binned_by_hand(self) -> None:
        """GIVEN a transaction conversation put in the bin by hand 40 days ago, ended a year ago
        WHEN the job plans
        THEN it is not purged: the E-Commerce Law floor (3 years) has not passed"""
        decision = plan_one(
            conv(
                service="transaction",
                ended=NOW - timedelta(days=365),
                state=State.RECYCLE_BIN,
                state_since=NOW - timedelta(days=40),
            )
        )
        assert (decision.action, decision.reason) == (Action.STAY, Reason.KEPT_BY_FLOOR)
        assert decision.kept_by_floor
        assert decision.retention.floor_deadline == datetime(2028, 11, 1, 22, 0, tzinfo=CST)

    def test_a_policy_the_floors_overtook_is_still_kept_above_them(self) -> None:
        """GIVEN a 6-month catch-all and a 3-year transaction rule narrowed to WeCom only
        (refused by check_floors, as if the floors table changed after it was approved)
        AND an archived DingTalk transaction conversation that ended a year ago
        WHEN the job plans
        THEN it stays, kept by the E-Commerce Law art. 31 floor, and the totals say so"""
        policy = RetentionPolicy(
            1,
            (
                RetentionRule("catch-all", "*", Duration.months(6)),
                RetentionRule("tx-wecom", "transaction", Duration.years(3), platform="wecom"),
            ),
        )
        with pytest.raises(RetentionBelowFloor, match=r"'catch-all'.*art. 31"):
            check_floors(policy, default_floors())
        conversation = conv(
            service="transaction",
            ended=NOW - timedelta(days=365),
            state=State.ARCHIVED,
            platform="dingtalk",
        )
        plan = decide([conversation], policy, default_floors(), (), NOW)
        (decision,) = list(plan)
        assert (decision.action, decision.reason) == (Action.STAY, Reason.KEPT_BY_FLOOR)
        assert decision.retention.rule == "catch-all"
        assert decision.retention.floor is not None
        assert decision.retention.floor.article == "art. 31"
        assert plan.totals() == {"catch-all": RuleTotals(kept_by_floor=1, stayed=1)}


class TestLegalHolds:
    OLD = NOW - timedelta(days=1000)

    @pytest.mark.parametrize(
        "hold",
        [
            LegalHold("H-customer", customers=frozenset({"cust-7"})),
            LegalHold("H-conversation", conversations=frozenset({"c1"})),
            LegalHold("H-department", departments=frozenset({"投诉处理部"})),
            LegalHold(
                "H-dates",
                service_dates=(
                    datetime(2024, 1, 1, tzinfo=CST),
                    datetime(2024, 12, 31, tzinfo=CST),
                ),
            ),
            LegalHold("H-query", query="退款 AND 投诉", query_matches=frozenset({"c1"})),
        ],
        ids=lambda hold: hold.id,
    )
    @pytest.mark.parametrize("state", [State.ACTIVE, State.ARCHIVED, State.RECYCLE_BIN])
    def test_a_held_conversation_never_moves(self, hold: LegalHold, state: State) -> None:
        """GIVEN a conversation long past its deadline (and bin window, if binned)
        AND a hold covering it by customer, id, department, dates or query
        WHEN the job plans
        THEN it is held, naming the hold, whatever its state"""
        conversation = conv(
            ended=self.OLD,
            state=state,
            state_since=NOW - timedelta(days=90),
            customer="cust-7",
            department="投诉处理部",
        )
        decision = plan_one(conversation, holds=(hold,))
        assert (decision.action, decision.reason) == (Action.HELD, Reason.LEGAL_HOLD)
        assert decision.holds == (hold.id,)
        assert not decision.moves

    def test_a_hold_the_caller_matched_is_honoured(self) -> None:
        """GIVEN no holds passed in, but the conversation carries a hold id its reader matched
        WHEN the job plans
        THEN it is held"""
        decision = plan_one(conv(ended=self.OLD, hold_ids=("H-search",)))
        assert (decision.action, decision.holds) == (Action.HELD, ("H-search",))

    def test_a_hold_stops_archiving_too(self) -> None:
        """GIVEN an active conversation due to go cold, under a hold
        WHEN the job plans
        THEN it is held, not archived"""
        hold = LegalHold("H1", conversations=frozenset({"c1"}))
        assert plan_one(conv(ended=NOW - timedelta(days=40)), holds=(hold,)).action is Action.HELD

    def test_holds_that_do_not_cover_it_do_nothing(self) -> None:
        """GIVEN holds on another customer, department and date range
        WHEN the job plans an old conversation
        THEN it goes to the bin as usual"""
        holds = (
            LegalHold("H1", customers=frozenset({"someone-else"})),
            LegalHold("H2", departments=frozenset({"法务部"})),
            LegalHold(
                "H3",
                service_dates=(datetime(2026, 1, 1, tzinfo=CST), datetime(2026, 2, 1, tzinfo=CST)),
            ),
        )
        decision = plan_one(
            conv(ended=self.OLD, customer="cust-7", department="投诉处理部"), holds=holds
        )
        assert (decision.action, decision.holds) == (Action.TO_RECYCLE_BIN, ())

    def test_several_holds_are_all_named(self) -> None:
        """GIVEN two holds covering the same conversation
        WHEN the job plans
        THEN the decision names both"""
        holds = (
            LegalHold("H2", customers=frozenset({"cust-7"})),
            LegalHold("H1", conversations=frozenset({"c1"})),
        )
        decision = plan_one(conv(ended=self.OLD, customer="cust-7"), holds=holds)
        assert decision.holds == ("H1", "H2")

    def test_a_date_range_covers_a_conversation_that_overlaps_it(self) -> None:
        """GIVEN a hold on January 2024 and a conversation from 31 December 2023 to 1 January 2024
        WHEN holds are matched
        THEN the hold covers it; one ending before the range does not"""
        hold = LegalHold(
            "H", service_dates=(datetime(2024, 1, 1, tzinfo=CST), datetime(2024, 2, 1, tzinfo=CST))
        )
        spanning = conv(
            started_at=datetime(2023, 12, 31, 23, 0, tzinfo=CST),
            ended=datetime(2024, 1, 1, 0, 30, tzinfo=CST),
        )
        before = conv(ended=datetime(2023, 12, 31, 23, 59, tzinfo=CST))
        assert hold.covers(spanning) and not hold.covers(before)

    def test_ensure_not_held_names_the_hold(self) -> None:
        """GIVEN a hold on a conversation
        WHEN the service checks before deleting it by hand
        THEN LegalHoldActive names the conversation and the hold"""
        index = HoldIndex([LegalHold("H-42", conversations=frozenset({"c1"}))])
        with pytest.raises(LegalHoldActive, match="c1 is under legal hold H-42") as caught:
            index.ensure_not_held(conv())
        assert caught.value.http_status == 409
        index.ensure_not_held(conv("c2"))

    def test_a_hold_without_criteria_is_refused(self) -> None:
        with pytest.raises(LifecycleConfigError, match="has no criteria"):
            LegalHold("H-empty")


class TestAsOf:
    def test_the_same_conversation_planned_at_different_dates(self) -> None:
        """GIVEN a consultation that ended 31 August 2025 at 12:00
        WHEN the job plans as of several dates
        THEN it stays, is archived, goes to the bin exactly at its deadline (28 February 2026)"""
        ended = datetime(2025, 8, 31, 12, 0, tzinfo=CST)
        active = conv(ended=ended)
        archived = conv(ended=ended, state=State.ARCHIVED)
        deadline = datetime(2026, 2, 28, 12, 0, tzinfo=CST)
        assert plan_one(active, now=ended + timedelta(days=1)).action is Action.STAY
        assert plan_one(active, now=ended + timedelta(days=30)).action is Action.ARCHIVE
        assert plan_one(archived, now=deadline - timedelta(seconds=1)).action is Action.STAY
        assert plan_one(archived, now=deadline).action is Action.TO_RECYCLE_BIN

    def test_now_in_another_zone_is_the_same_instant(self) -> None:
        """GIVEN the deadline instant expressed in UTC
        WHEN the job plans as of it
        THEN the conversation goes to the bin"""
        archived = conv(ended=datetime(2025, 8, 31, 12, 0, tzinfo=CST), state=State.ARCHIVED)
        assert (
            plan_one(archived, now=datetime(2026, 2, 28, 4, 0, tzinfo=UTC)).action
            is Action.TO_RECYCLE_BIN
        )

    def test_a_naive_now_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            decide([], default_policy(), default_floors(), (), datetime(2026, 1, 1))


class TestPlanStreaming:
    def test_decisions_are_made_only_when_asked_for(self) -> None:
        """GIVEN a generator of conversations that counts how many were read
        WHEN the plan is made and two decisions are taken
        THEN only two conversations have been read"""
        read = []

        def conversations() -> Iterator[ConversationFacts]:
            for i in range(1000):
                read.append(i)
                yield conv(f"c{i}")

        plan = decide(conversations(), default_policy(), default_floors(), (), NOW)
        assert read == []
        iterator = iter(plan)
        next(iterator), next(iterator)
        assert len(read) == 2 and not plan.finished
        assert plan.overall().conversations == 1000
        assert plan.finished

    def test_totals_per_rule(self) -> None:
        """GIVEN a mix of conversations in every state
        WHEN the plan is read to the end
        THEN the totals per rule count each step, and add up"""
        old = NOW - timedelta(days=800)
        conversations = [
            conv("a", "consultation", NOW - timedelta(days=40)),  # archive
            conv("b", "consultation", old, state=State.ARCHIVED),  # to the bin
            conv(
                "c",
                "consultation",
                old,
                state=State.RECYCLE_BIN,
                state_since=NOW - timedelta(days=31),
            ),
            conv("d", "consultation", old, customer="held-customer"),  # held
            conv("e", "complaint", NOW - timedelta(days=2)),  # stays
            conv("f", "complaint", old, state=State.ARCHIVED),  # to the bin
            conv("g", None, old),  # no rule: archived, never binned
        ]
        plan = decide(
            conversations,
            default_policy(),
            default_floors(),
            [LegalHold("H", customers=frozenset({"held-customer"}))],
            NOW,
        )
        actions = {d.conversation_id: d.action for d in plan}
        assert actions == {
            "a": Action.ARCHIVE,
            "b": Action.TO_RECYCLE_BIN,
            "c": Action.PURGE,
            "d": Action.HELD,
            "e": Action.STAY,
            "f": Action.TO_RECYCLE_BIN,
            "g": Action.ARCHIVE,
        }
        assert plan.totals() == {
            NO_RULE: RuleTotals(archived=1),
            "complaint": RuleTotals(to_recycle_bin=1, stayed=1),
            "consultation": RuleTotals(archived=1, to_recycle_bin=1, purged=1, held=1),
        }
        assert plan.overall() == RuleTotals(
            archived=2, to_recycle_bin=2, purged=1, held=1, stayed=1
        )
        assert plan.overall().conversations == 7
