"""The errors ``chatkeeper.lifecycle`` raises.

The tree::

    LifecycleError                 base (config_invalid until lifecycle codes exist)
    ├── LifecycleConfigError       config_invalid: a policy, floor, hold or setting is invalid
    │   ├── DurationInvalid        config_invalid: names the field and the bad value
    │   ├── RetentionBelowFloor    config_invalid: names the rule, the law and the article
    │   └── ScheduleInvalid        config_invalid: names the cron field and the bad value
    ├── LegalHoldActive            config_invalid, HTTP 409: a step refused under a legal hold
    └── SegmentError               store_unavailable: a cold segment cannot be used
        ├── SegmentCorrupt         store_unavailable: names the file and the byte offset
        ├── SegmentNotInStore      not_found: no segment of that id in the folder
        └── ConversationNotInSegment  not_found: the segment holds no such conversation

The codes are members of ``chatkeeper.errors.ErrorCode``. The lifecycle codes this package
wants (``retention_below_floor``, ``duration_invalid``, ``schedule_invalid``,
``legal_hold_active``, ``segment_failed``, ``segment_corrupt``, ``segment_not_found``) do not
exist yet; each class says which one it should carry, and uses the nearest existing code until
then.

Messages name rules, laws, articles, fields, files, offsets and conversation ids; never the
content of a conversation.
"""

from __future__ import annotations

from chatkeeper.errors import ChatKeeperError, ErrorCode


class LifecycleError(ChatKeeperError):
    """Base of every lifecycle error."""

    code, http_status, exit_code = ErrorCode.CONFIG_INVALID, 500, 78


class LifecycleConfigError(LifecycleError):
    """A retention policy, floor, legal hold or lifecycle setting is invalid; names the key."""

    code, http_status, exit_code = ErrorCode.CONFIG_INVALID, 500, 78


class DurationInvalid(LifecycleConfigError):
    """A duration cannot be parsed (wanted code: ``duration_invalid``)."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field}: {value!r} {reason}", field=field, value=str(value))
        self.field = field


class RetentionBelowFloor(LifecycleConfigError):
    """A retention rule keeps conversations for less than a statutory floor requires.

    ``details["violations"]`` lists every rule and floor.
    """

    code = ErrorCode.RETENTION_BELOW_FLOOR


class ScheduleInvalid(LifecycleConfigError):
    """A cron expression or time zone is invalid (wanted code: ``schedule_invalid``)."""


class LegalHoldActive(LifecycleError):
    """A lifecycle step was asked for a conversation under a legal hold; names the hold."""

    code, http_status, exit_code = ErrorCode.LEGAL_HOLD_ACTIVE, 409, 20

    def __init__(self, conversation_id: str, holds: tuple[str, ...]) -> None:
        super().__init__(
            f"conversation {conversation_id} is under legal hold {', '.join(holds)}; "
            "no lifecycle step may touch it",
            conversation_id=conversation_id,
            holds=list(holds),
        )
        self.conversation_id = conversation_id
        self.holds = holds


class SegmentError(LifecycleError):
    """A cold-storage segment cannot be written or read (wanted code: ``segment_failed``)."""

    code, http_status, exit_code = ErrorCode.STORE_UNAVAILABLE, 500, 74


class SegmentCorrupt(SegmentError):
    """A segment's bytes do not match their checksums or the format (wanted: ``segment_corrupt``).

    The message names the file and the byte offset of the damaged part.
    """

    code, http_status, exit_code = ErrorCode.STORE_UNAVAILABLE, 500, 65

    def __init__(self, file: str, offset: int, reason: str) -> None:
        super().__init__(
            f"segment {file} is damaged at byte offset {offset}: {reason}",
            file=file,
            offset=offset,
        )
        self.file = file
        self.offset = offset


class SegmentNotInStore(SegmentError):
    """No segment of that id exists in the folder (wanted code: ``segment_not_found``)."""

    code, http_status, exit_code = ErrorCode.NOT_FOUND, 404, 4


class ConversationNotInSegment(SegmentError):
    """The segment's index has no entry for the conversation (wanted: ``segment_not_found``)."""

    code, http_status, exit_code = ErrorCode.NOT_FOUND, 404, 4
