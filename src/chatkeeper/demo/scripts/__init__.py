"""Dialogue scripts: what customers, agents, bots and systems say, per industry and service type.

A script is data, not code: a block of text with one message per line. A message line is a role
letter (``C`` customer, ``A`` agent, ``B`` bot, ``S`` system), ``: `` and alternative templates
separated by ``|``; ``{slots}`` in a template are filled from :mod:`chatkeeper.demo.slots`. A
line ``C: [image]`` (or ``[file:名称.pdf]``, ``[link:标题]``) is an attachment instead of text.
Beats (short exchanges) are grouped by what they are for::

    ## topic        starts a topic: one thing a conversation can be about
    ## shared       starts the beats every topic of the script may use
    ? C: ...        problem: how the customer opens (one beat per ``?``)
    + A: ...        details: the agent asks, the customer answers (order number, phone, ID, ...)
    > C: ...        talk: an exchange in the middle of the conversation
    = A: ...        resolution: how the matter ends
      C: ...        (no mark) the next message of the same beat
      | ...         more alternatives for the message above
    + @order        a snippet of lines passed to :func:`script` as ``order=...``

The generator picks a topic, then beats and alternatives at random.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatkeeper.domain import SenderRole

ROLES = {
    "C": SenderRole.CUSTOMER.value,
    "A": SenderRole.AGENT.value,
    "B": SenderRole.BOT.value,
    "S": SenderRole.SYSTEM.value,
}
_KINDS = {"?": "problems", "+": "details", ">": "talk", "=": "resolutions"}
_WAIT_WORDS = ("稍等", "请稍候", "稍候", "查询一下", "核实一下", "查一下")


@dataclass(frozen=True, slots=True)
class Line:
    """One message in a beat: the sender's role and the templates to choose from.

    ``media`` names an attachment kind (``image``, ``file``, ``link``) and ``title`` its file
    name or link title; ``waits`` marks an agent line after which the customer waits longer.
    """

    role: str
    templates: tuple[str, ...]
    media: str | None = None
    title: str = ""
    waits: bool = False


Beat = tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    """One thing a conversation can be about, such as a refund or a lost card.

    ``problems`` are alternative openings by the customer; ``talk`` the exchanges that belong to
    this topic, in order; ``resolutions`` how it ends; ``details`` questions only it asks.
    """

    problems: tuple[Beat, ...]
    talk: tuple[Beat, ...] = ()
    resolutions: tuple[Beat, ...] = ()
    details: tuple[Beat, ...] = ()


@dataclass(frozen=True, slots=True)
class Script:
    """The material for one industry and service type: its topics and what they share.

    ``details`` are questions and answers that suit every topic; ``talk`` and ``resolutions``
    are generic exchanges and endings, used when a topic has none of its own or room is left.
    """

    topics: tuple[Topic, ...]
    details: tuple[Beat, ...]
    talk: tuple[Beat, ...]
    resolutions: tuple[Beat, ...]


def _line(text: str) -> Line:
    role_letter, sep, rest = text.partition(": ")
    if not sep or role_letter not in ROLES:
        raise ValueError(f"script line must start with C:, A:, B: or S: — {text!r}")
    role = ROLES[role_letter]
    rest = rest.strip()
    if rest.startswith("[") and rest.endswith("]"):
        kind, _, title = rest[1:-1].partition(":")
        return Line(role, (), media=kind, title=title)
    templates = tuple(part.strip() for part in rest.split("|") if part.strip())
    waits = role == "agent" and any(word in t for t in templates for word in _WAIT_WORDS)
    return Line(role, templates, waits=waits)


def _messages(text: str) -> list[str]:
    """The message lines of ``text``, with ``|`` continuation lines joined to their message."""
    messages: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("|"):
            if not messages:
                raise ValueError(f"continuation without a message: {line!r}")
            messages[-1] += line
        else:
            messages.append(line)
    return messages


def beat(*lines: str) -> Beat:
    """One beat from its message lines (each may hold ``|``-separated alternatives)."""
    return tuple(_line(text) for text in lines)


def beats(*groups: tuple[str, ...]) -> tuple[Beat, ...]:
    """Several beats, each given as a tuple of message lines."""
    return tuple(beat(*group) for group in groups)


def _sections(text: str, snippets: dict[str, str]) -> list[tuple[str, dict[str, list[Beat]]]]:
    sections: list[tuple[str, dict[str, list[Beat]]]] = []
    current: list[str] | None = None  # the lines of the beat being read
    kind = ""

    def close() -> None:
        if current:
            sections[-1][1][kind].append(beat(*current))

    for line in _messages(text):
        if line.startswith("## "):
            close()
            current = None
            sections.append((line[3:].strip(), {k: [] for k in _KINDS.values()}))
        elif line[0] in _KINDS:
            close()
            if not sections:
                raise ValueError(f"beat before the first '## topic': {line!r}")
            kind, body = _KINDS[line[0]], line[1:].strip()
            current = _messages(snippets[body[1:]]) if body.startswith("@") else [body]
        elif current is None:
            raise ValueError(f"message outside a beat: {line!r}")
        else:
            current.append(line)
    close()
    return sections


def script(text: str, **snippets: str) -> Script:
    """Parse one script written in the format described in this module's docstring."""
    topics: list[Topic] = []
    shared: dict[str, list[Beat]] = {k: [] for k in _KINDS.values()}
    for name, found in _sections(text, snippets):
        if name == "shared":
            for kind, items in found.items():
                shared[kind] += items
            continue
        if not found["problems"]:
            raise ValueError(f"a topic needs at least one '?' problem (topic {len(topics) + 1})")
        topics.append(
            Topic(
                tuple(found["problems"]),
                tuple(found["talk"]),
                tuple(found["resolutions"]),
                tuple(found["details"]),
            )
        )
    if not topics or not shared["details"] or not shared["resolutions"]:
        raise ValueError("a script needs topics and shared '+' details and '=' resolutions")
    return Script(
        tuple(topics), tuple(shared["details"]), tuple(shared["talk"]), tuple(shared["resolutions"])
    )
