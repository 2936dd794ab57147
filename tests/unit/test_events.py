import pytest
from pydantic import ValidationError

from sgw_drift.events import RefreshCompleteEvent, S3ObjectEvent, sequencer_is_newer
from tests.conftest import event_files, load_event

S3_FILES = [name for name in event_files() if name.startswith("s3-")]


@pytest.mark.parametrize("name", S3_FILES)
def test_every_s3_event_file_parses(name):
    event = S3ObjectEvent.model_validate(load_event(name))
    assert event.detail.object.key


def test_delete_has_no_size_or_etag():
    event = S3ObjectEvent.model_validate(load_event("s3-object-deleted.json"))

    assert event.is_delete
    assert event.detail.object.size is None
    assert event.detail.object.etag is None
    assert event.detail.deletion_type == "Permanently Deleted"


def test_unknown_fields_are_ignored():
    raw = load_event("s3-object-created-put.json")
    raw["detail"]["brand-new-field"] = {"nested": 1}
    raw["detail"]["object"]["checksum-algorithm"] = "CRC64NVME"

    assert S3ObjectEvent.model_validate(raw).detail.object.size == raw["detail"]["object"]["size"]


@pytest.mark.parametrize("size", ["abc", -1, 1.5])
def test_size_must_be_a_non_negative_integer(size):
    raw = load_event("s3-object-created-put.json")
    raw["detail"]["object"]["size"] = size
    with pytest.raises(ValidationError):
        S3ObjectEvent.model_validate(raw)


def test_malformed_sequencer_is_rejected():
    raw = load_event("s3-object-created-put.json")
    raw["detail"]["object"]["sequencer"] = "not-hex"
    with pytest.raises(ValidationError, match="sequencer"):
        S3ObjectEvent.model_validate(raw)


def test_refresh_complete_both_shapes():
    current = RefreshCompleteEvent.model_validate(load_event("refresh-complete.json"))
    legacy = RefreshCompleteEvent.model_validate(load_event("refresh-complete-legacy.json"))

    assert current.detail.notification_id
    assert legacy.detail.notification_id is None
    assert current.share_arn and ":share/" in current.share_arn
    assert legacy.gateway_arn and ":gateway/" in legacy.gateway_arn


def test_refresh_complete_resources_in_any_order():
    raw = load_event("refresh-complete.json")
    raw["resources"].reverse()
    event = RefreshCompleteEvent.model_validate(raw)
    assert ":share/" in event.share_arn
    assert ":gateway/" in event.gateway_arn


@pytest.mark.parametrize(
    ("candidate", "current", "newer"),
    [
        ("0065E27A1E3B9C4D21", None, True),
        ("0065E27A1E3B9C4D22", "0065E27A1E3B9C4D21", True),
        ("0065E27A1E3B9C4D21", "0065E27A1E3B9C4D21", False),
        ("0065E27A1E3B9C4D2100", "0065E27A1E3B9C4D21", False),  # padding makes them equal
        ("0065E27A1E3B9C4D2101", "0065E27A1E3B9C4D21", True),
        ("0065E27A1E3B9C4D20", "0065E27A1E3B9C4D2101", False),
        ("0065e27a1e3b9c4d22", "0065E27A1E3B9C4D21", True),
    ],
)
def test_sequencer_order(candidate, current, newer):
    assert sequencer_is_newer(candidate, current) is newer
