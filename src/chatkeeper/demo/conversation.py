"""One conversation's shape: which beats it has, in what order, and how long people take.

:func:`compose` picks the lines (bot greeting and hand-over, the customer's problem, the agent's
questions, the middle, escalation, resolution, closing, survey) to fit a drawn length of 6-30
messages; :func:`gap_before` says how many seconds pass before each message.
"""

from __future__ import annotations

import re
from random import Random

from chatkeeper.demo.scripts import Beat, Line, Script, Topic, common, ecommerce, finance, telecom

SCRIPTS: dict[str, dict[str, Script]] = {
    "ecommerce": ecommerce.SCRIPTS,
    "finance": finance.SCRIPTS,
    "telecom": telecom.SCRIPTS,
}

#: Chance that a customer threatens escalation (12315, 消费者协会, 律师, 起诉, 曝光, 投诉).
ESCALATION_RATE = {
    "consultation": 0.01,
    "after_sales": 0.06,
    "complaint": 0.6,
    "transaction": 0.02,
    "legal_dispute": 0.85,
}
#: Industries where the agent checks the customer's identity before anything else.
VERIFYING = {"finance": 0.75, "telecom": 0.55, "ecommerce": 0.0}

MIN_MESSAGES = 6
MAX_MESSAGES = 30


def _target_length(rng: Random) -> int:
    return int(rng.triangular(MIN_MESSAGES, MAX_MESSAGES + 1, 13))


def _head(rng: Random, industry: str, has_bot: bool) -> list[Line]:
    lines: list[Line] = []
    if has_bot and rng.random() < 0.75:
        lines += common.BOT_GREETING
        lines += common.TO_HUMAN
        lines += common.JOINED
    elif rng.random() < 0.5:
        lines += common.HELLO
    lines += common.AGENT_GREETING[industry]
    return lines


def _tail(rng: Random, script: Script, topic: Topic, bad_mood: bool) -> list[Line]:
    own = topic.resolutions
    lines: list[Line] = list(rng.choice(own if own and rng.random() < 0.8 else script.resolutions))
    lines += rng.choice(common.CLOSING)
    if rng.random() < 0.65:
        lines += common.SURVEY
        if rng.random() < 0.7:
            mood = 0.6 if bad_mood else 0.12
            lines += common.RATING_BAD if rng.random() < mood else common.RATING_GOOD
    if rng.random() < 0.25:
        lines += common.ENDED
    return lines


def _middle(
    rng: Random, script: Script, topic: Topic, industry: str, service: str, budget: int
) -> list[Line]:
    """The questions, answers and talk, as many beats as ``budget`` messages allow.

    Candidate beats carry a priority (what a conversation of this kind cannot do without comes
    first) and a position (where in the conversation it belongs); the beats that fit are then
    put in position order.
    """
    asked = topic.details + script.details
    details = rng.sample(asked, k=min(len(asked), rng.randrange(1, 3)))
    candidates: list[tuple[int, float, Beat]] = []  # (priority, position, beat)
    candidates.append((0, 0, details[0]))  # always at least one exchange of details
    if rng.random() < ESCALATION_RATE[service]:
        angry = common.ESCALATION[industry] + common.CALM_DOWN
        if rng.random() < 0.5:
            angry += common.ANGRY_ACK
        candidates.append((1, rng.choice((10.5, 11.5, 20.5)), angry))
    if rng.random() < VERIFYING[industry]:
        candidates.append((3, 1, rng.choice(common.VERIFY) + common.VERIFIED))
    if rng.random() < 0.55:
        candidates.append((4, 3, common.WAIT))
    for index, beat in enumerate(topic.talk):
        candidates.append((2 if index == 0 else 5, 10 + index, beat))
    for beat in details[1:]:
        candidates.append((6, 2, beat))
    for index, beat in enumerate(rng.sample(script.talk, k=len(script.talk))):
        candidates.append((7, 20 + index, beat))
    fillers = rng.sample(common.FILLER, k=rng.randrange(0, 4))
    for index, beat in enumerate(fillers):
        candidates.append((8, rng.choice((4, 12, 21, 30)) + index / 10, beat))
    chosen: list[tuple[float, Beat]] = []
    for _priority, position, beat in sorted(candidates, key=lambda item: item[0]):
        if len(beat) <= budget or position == 0:
            chosen.append((position, beat))
            budget -= len(beat)
    lines: list[Line] = []
    for _position, beat in sorted(chosen, key=lambda item: item[0]):
        lines += beat
    return lines


def compose(rng: Random, industry: str, service: str, has_bot: bool) -> list[Line]:
    """The lines of one conversation, 6 to 30 of them, in the order they are sent."""
    script = SCRIPTS[industry][service]
    topic = rng.choice(script.topics)
    head = _head(rng, industry, has_bot)
    problem = list(rng.choice(topic.problems))
    if rng.random() < 0.25 and head[-1].role == "agent" and len(head) < 3:
        problem = list(common.HELLO) + problem  # the customer says hello again, then asks
    tail = _tail(rng, script, topic, bad_mood=service in ("complaint", "legal_dispute"))
    budget = max(_target_length(rng), MIN_MESSAGES) - len(head) - len(problem) - len(tail)
    middle = _middle(rng, script, topic, industry, service, budget)
    lines = head + problem + middle + tail
    return lines[:MAX_MESSAGES]


_HALF_WIDTH = str.maketrans({"，": ",", "？": "?", "！": "!", "：": ":", "；": ";"})
_TERSE_COMMA = re.compile(r"，(?!\d)")
_CHATTY_ENDINGS = ("~", "哈", "[微笑]", "🙏", "😊", "呀", "哈哈", "[捂脸]", "😂")
#: How customers type: as written, terse, chatty, on a PC keyboard, emphatic.
VOICES = (0, 1, 2, 3, 4)
VOICE_WEIGHTS = (40, 25, 15, 10, 10)


def voice(rng: Random, text: str, style: int) -> str:
    """The customer's text as this customer types it (``style`` is one of :data:`VOICES`)."""
    if style == 1:  # no final punctuation, spaces for commas (not between numbers)
        return _TERSE_COMMA.sub(" ", text.rstrip("。！~"))
    if style == 2 and text[-1] not in "？！?!" and rng.random() < 0.35:
        return text.rstrip("。") + rng.choice(_CHATTY_ENDINGS)
    if style == 3:
        return text.translate(_HALF_WIDTH)
    if style == 4:
        return text.replace("？", "？？？").replace("！", "！！")
    return text


def gap_before(rng: Random, line: Line, previous: Line | None, waiting: bool) -> int:
    """Seconds between the previous message and this one."""
    if previous is None:
        return 0
    role, before = line.role, previous.role
    if role == "bot":
        low, high = 1, 4
    elif role == "system":
        if before == "bot":  # queued for a person
            low, high = 8, 240
        elif before == "system":  # closed after the survey went unanswered
            low, high = 60, 300
        else:
            low, high = 1, 10
    elif role == "agent":
        if waiting:  # the agent said they would look something up
            low, high = 30, 300
        elif before == "agent":
            low, high = 2, 25
        else:
            low, high = 6, 90
    elif before == "customer":
        low, high = 2, 30
    else:
        low, high = 5, 120
    return low + int(rng.random() * (high - low))
