"""The published JSON Schema of the canonical format agrees with the normaliser."""

from __future__ import annotations

from importlib import resources

import orjson
import pytest
from jsonschema import Draft202012Validator

from chatkeeper.errors import RecordError
from chatkeeper.formats.canonical import normalise_canonical
from tests.factories import record

SCHEMA = orjson.loads(
    resources.files("chatkeeper.formats")
    .joinpath("schema/canonical-message.schema.json")
    .read_bytes()
)
VALIDATOR = Draft202012Validator(SCHEMA)


def test_the_schema_is_a_valid_json_schema():
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"msgtype": "image", "text": None, "payload": {"sdkfileid": "x", "md5sum": "y"}},
        {"msgtype": "revoke", "text": None, "ref_message_id": "m-1"},
        {"sent_at": "2025-03-01T02:00:00Z", "customer_tags": []},
    ],
)
def test_valid_records_pass_both(fields):
    item = record(**fields)
    assert VALIDATOR.is_valid(item)
    normalise_canonical(item)


@pytest.mark.parametrize(
    "fields",
    [
        {"platform": None},
        {"conversation_id": None},
        {"message_id": None},
        {"sent_at": None},
        {"sender_role": "robot"},
        {"text": None},
        {"text": "   "},
    ],
)
def test_invalid_records_fail_both(fields):
    item = record(**fields)
    assert not VALIDATOR.is_valid(item)
    with pytest.raises(RecordError):
        normalise_canonical(item)
