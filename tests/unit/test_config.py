import json

import pytest

from sgw_drift.config import ConfigurationError, load_settings, parse_shares_document
from sgw_drift.shares import Share, ShareRegistry, parse_location_arn

SHARE = "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D"
OTHER = "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-99999999"
ENVIRON = {
    "STATE_TABLE_NAME": "state",
    "ALERT_TOPIC_ARN": "arn:aws:sns:ap-northeast-1:123456789012:alerts",
    "SHARES_PARAMETER_NAME": "/sgw-drift/shares",
    "FILE_SHARE_ARNS": f"{SHARE}, {OTHER}",
    "SETTLE_SECONDS": "120",
    "REFRESH_SLOT_TIMEOUT_SECONDS": "1800",
    "MAX_REFRESH_ATTEMPTS": "3",
}


def test_settings_load():
    settings = load_settings(ENVIRON)
    assert settings.file_share_arns == (SHARE, OTHER)
    assert settings.dead_letter_queue_url is None


def test_missing_variable_is_named():
    environ = {key: value for key, value in ENVIRON.items() if key != "STATE_TABLE_NAME"}
    with pytest.raises(ConfigurationError, match="STATE_TABLE_NAME"):
        load_settings(environ)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SETTLE_SECONDS", "soon"),
        ("REFRESH_SLOT_TIMEOUT_SECONDS", "5"),
        ("FILE_SHARE_ARNS", "share-1A2B3C4D"),
    ],
)
def test_invalid_variable_is_named_with_its_value(name, value):
    with pytest.raises(ConfigurationError) as raised:
        load_settings({**ENVIRON, name: value})
    assert name in str(raised.value)
    assert value in str(raised.value)


def test_shares_document_with_mount():
    document = parse_shares_document(
        json.dumps(
            {"shares": {SHARE: {"mount": {"instance_id": "i-052fcf7f6fa590e08", "path": "/storage"}}}}
        ),
        load_settings(ENVIRON),
    )
    assert document.shares[SHARE].mount.path == "/storage"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"shares": {"share-1": {}}}), "invalid file share ARN"),
        (json.dumps({"shares": {SHARE: {"mount": {"instance_id": "box", "path": "/s"}}}}), "instance_id"),
        (json.dumps({"shares": {SHARE: {"colour": "red"}}}), "colour"),
        (
            json.dumps(
                {"shares": {"arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-00000000": {}}}
            ),
            "FileShareArns",
        ),
    ],
)
def test_bad_shares_document_names_the_problem(text, fragment):
    with pytest.raises(ConfigurationError) as raised:
        parse_shares_document(text, load_settings(ENVIRON))
    assert fragment in str(raised.value)
    assert "/sgw-drift/shares" in str(raised.value)


@pytest.mark.parametrize(
    ("location", "bucket", "prefix"),
    [
        ("arn:aws:s3:::demo-bucket", "demo-bucket", ""),
        ("arn:aws:s3:::demo-bucket/projects/", "demo-bucket", "projects/"),
        ("arn:aws:s3:::demo-bucket/projects/2026", "demo-bucket", "projects/2026/"),
    ],
)
def test_location_arn(location, bucket, prefix):
    assert parse_location_arn(location) == (bucket, prefix)


def test_access_point_location_is_rejected_clearly():
    with pytest.raises(ConfigurationError, match="access points"):
        parse_location_arn("arn:aws:s3:ap-northeast-1:123456789012:accesspoint/ap")


def test_key_maps_to_every_share_that_shows_it():
    root = Share("arn:1", "gw-1", "bucket", "", "NFS")
    projects = Share("arn:2", "gw-2", "bucket", "projects/", "SMB")
    registry = ShareRegistry([root, projects])

    assert registry.for_key("bucket", "projects/a.txt") == [root, projects]
    assert registry.for_key("bucket", "other/a.txt") == [root]
    assert registry.for_key("bucket", "projects/") == [root]
    assert registry.for_key("elsewhere", "a.txt") == []
    assert projects.relative_key("projects/a/b.txt") == "a/b.txt"
