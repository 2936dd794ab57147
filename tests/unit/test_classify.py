import boto3
import pytest
from moto import mock_aws

from sgw_drift.classify import Origin, candidate_keys, classify
from sgw_drift.events import S3ObjectEvent
from tests.conftest import load_event

GATEWAY_METADATA = {
    "user-agent": "aws-storage-gateway",
    "file-mtime": "1780000000000000000",
    "file-owner": "0",
}


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="ap-northeast-1")
        client.create_bucket(
            Bucket="sgw-drift-demo-bucket", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
        )
        yield client


def event_for(name: str, key: str) -> S3ObjectEvent:
    raw = load_event(name)
    raw["detail"]["object"]["key"] = key
    return S3ObjectEvent.model_validate(raw)


def test_gateway_metadata_means_gateway_write(s3):
    s3.put_object(Bucket="sgw-drift-demo-bucket", Key="a.txt", Body=b"x", Metadata=GATEWAY_METADATA)
    assert classify(s3, event_for("s3-object-created-put.json", "a.txt")) == (Origin.GATEWAY, ["a.txt"])


def test_no_metadata_means_direct(s3):
    s3.put_object(Bucket="sgw-drift-demo-bucket", Key="a.txt", Body=b"x")
    assert classify(s3, event_for("s3-object-created-put.json", "a.txt")) == (Origin.DIRECT, ["a.txt"])


def test_copy_with_gateway_metadata_is_direct(s3):
    s3.put_object(Bucket="sgw-drift-demo-bucket", Key="b.txt", Body=b"x", Metadata=GATEWAY_METADATA)
    assert classify(s3, event_for("s3-object-created-copy.json", "b.txt"))[0] is Origin.DIRECT


def test_delete_is_decided_by_comparison(s3):
    assert classify(s3, event_for("s3-object-deleted.json", "a.txt")) == (Origin.UNKNOWN, ["a.txt"])


def test_encoded_key_resolves_against_the_bucket(s3):
    s3.put_object(Bucket="sgw-drift-demo-bucket", Key="my report.txt", Body=b"x")
    assert classify(s3, event_for("s3-object-created-put.json", "my+report.txt")) == (
        Origin.DIRECT,
        ["my report.txt"],
    )


def test_vanished_object_keeps_both_key_forms(s3):
    assert classify(s3, event_for("s3-object-created-put.json", "a%20b.txt")) == (
        Origin.UNKNOWN,
        ["a%20b.txt", "a b.txt"],
    )


def test_candidate_keys():
    assert candidate_keys("plain/key.txt") == ["plain/key.txt"]
    assert candidate_keys("a+b") == ["a+b", "a b"]
