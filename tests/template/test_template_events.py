"""Shape checks on the canonical events in events/, which `sam local invoke` and the tests share."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    EventBridgeModel,
    S3EventNotificationEventBridgeModel,
    SqsModel,
)
from cfn_template import event_file_names, is_eventbridge_event, load_event
from pydantic import ValidationError

S3_EVENT_NAMES = [name for name in event_file_names() if name.startswith("s3-")]
SEQUENCER = re.compile(r"^[0-9A-F]{18}$")


def test_every_event_file_is_json_object():
    for name in event_file_names():
        assert isinstance(load_event(name), dict), name


@pytest.mark.parametrize(
    "event_name", [name for name in event_file_names() if name.startswith(("s3-", "refresh-"))]
)
def test_eventbridge_envelope(event_name):
    event = load_event(event_name)

    model = EventBridgeModel.model_validate(event)

    assert model.account == "123456789012"
    assert model.region == "ap-northeast-1"
    assert model.version == "0"


@pytest.mark.parametrize("event_name", S3_EVENT_NAMES)
def test_s3_event_detail(event_name):
    event = load_event(event_name)

    model = S3EventNotificationEventBridgeModel.model_validate(event)

    assert model.source == "aws.s3"
    assert model.resources == [f"arn:aws:s3:::{model.detail.bucket.name}"]


@pytest.mark.parametrize("event_name", S3_EVENT_NAMES)
def test_s3_sequencer_realistic(event_name):
    sequencer = load_event(event_name)["detail"]["object"].get("sequencer")

    # Restore and tag events carry no sequencer (Amazon S3 User Guide, EventBridge event examples).
    if sequencer is not None:
        assert SEQUENCER.match(sequencer), sequencer


@pytest.mark.parametrize("event_name", [name for name in S3_EVENT_NAMES if "deleted" in name])
def test_s3_delete_has_no_size_or_etag(event_name):
    detail = load_event(event_name)["detail"]

    assert detail["deletion-type"] in {"Permanently Deleted", "Delete Marker Created"}
    assert "size" not in detail["object"]
    assert "etag" not in detail["object"]


def test_japanese_key_is_not_url_encoded():
    assert (
        load_event("s3-object-created-japanese-key.json")["detail"]["object"]["key"]
        == "営業部/2026年 報告書.xlsx"
    )


def test_folder_marker_is_zero_bytes():
    obj = load_event("s3-object-created-folder-marker.json")["detail"]["object"]

    assert obj["key"] == "reports/2026/"
    assert obj["size"] == 0


def test_refresh_events_notification_id():
    current = load_event("refresh-complete.json")["detail"]
    legacy = load_event("refresh-complete-legacy.json")["detail"]

    assert current["event-type"] == legacy["event-type"] == "refresh-complete"
    assert "notification-id" in current
    assert "notification-id" not in legacy


@pytest.mark.parametrize(
    ("event_name", "mode"), [("schedule-drain.json", "drain"), ("schedule-sweep.json", "sweep")]
)
def test_schedule_inputs(event_name, mode):
    assert load_event(event_name) == {"mode": mode}


def test_sqs_event_shape():
    event = load_event("sqs-object-events.json")

    model = SqsModel.model_validate(event)

    assert len(model.Records) >= 2
    for record in event["Records"]:
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode("utf-8")).hexdigest()


def test_sqs_bodies_are_canonical_events():
    canonical = [load_event(name) for name in event_file_names() if is_eventbridge_event(load_event(name))]
    bodies = [json.loads(record["body"]) for record in load_event("sqs-object-events.json")["Records"]]

    unknown = [body for body in bodies if body not in canonical]

    # Every body but the deliberately malformed one is a copy of a file in events/.
    assert len(unknown) == 1
    with pytest.raises(ValidationError):
        S3EventNotificationEventBridgeModel.model_validate(unknown[0])
    assert unknown[0]["detail"]["object"]["size"] == "abc"
