"""Every handler runs in-process on every file in events/, as `sam local invoke` would run it."""

from __future__ import annotations

import json

import pytest

from sgw_drift.sandbox import Sandbox
from sgw_drift.sandbox.handlers import invoke
from sgw_drift.sandbox.s3events import sqs_batch
from tests.conftest import event_files, load_event

BUCKET = "sgw-drift-demo-bucket"


def handler_for(event: dict) -> str:
    """Name the function (folder under functions/) that receives this event in the deployed stack."""
    if "Records" in event:
        return "object_events"
    if event.get("source") == "aws.s3":
        return "object_events"  # through the queue: wrapped in an SQS batch below
    if event.get("source") == "aws.storagegateway":
        return "refresh_completed"
    if event.get("source") == "aws.ssm":
        return "fleet_manager"
    if set(event) == {"mode"}:
        return "reconcile"
    raise AssertionError(f"no function is known to receive this event: {sorted(event)}")


@pytest.fixture
def box():
    with Sandbox() as sandbox:
        sandbox.create_bucket(BUCKET)
        gateway = sandbox.add_gateway(gateway_id="sgw-12A3456B")
        sandbox.share_arn = sandbox.add_share(gateway, BUCKET, share_id="share-1A2B3C4D")
        sandbox.start()
        yield sandbox


@pytest.mark.parametrize("name", event_files())
def test_handler_accepts_event_file(box, name):
    event = load_event(name)
    function = handler_for(event)

    if event.get("source") == "aws.s3":
        event = sqs_batch([event], queue_arn=box.queue_arn, when=box.clock.now())
    response = invoke(function, event)

    if function == "object_events":
        assert response == {"batchItemFailures": []}
    else:
        assert isinstance(response, dict)


def test_sqs_file_sends_its_malformed_record_to_the_dlq(box):
    event = load_event("sqs-object-events.json")
    malformed = [record for record in event["Records"] if not _valid_s3_body(record["body"])]

    invoke("object_events", event)

    dead = list(box.dead_letters())
    assert len(dead) == len(malformed) >= 1
    assert all("invalid S3 event" in message["MessageAttributes"]["error"]["StringValue"] for message in dead)


def test_s3_event_file_leads_to_a_refresh(box):
    event = load_event("s3-object-created-japanese-key.json")
    box.s3.put_object(
        Bucket=BUCKET, Key=event["detail"]["object"]["key"], Body=b"x" * event["detail"]["object"]["size"]
    )

    invoke("object_events", sqs_batch([event], queue_arn=box.queue_arn, when=box.clock.now()))

    # The share does not show the new folder yet, so its nearest shown folder (the root) is refreshed.
    assert [(call.folder_list, call.recursive) for call in box.refresh_calls()] == [(["/"], False)]


def _valid_s3_body(body: str) -> bool:
    from pydantic import ValidationError

    from sgw_drift.events import S3ObjectEvent

    try:
        S3ObjectEvent.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        return False
    return True
