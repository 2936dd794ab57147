"""RunCommandLister: SendCommand and GetCommandInvocation (botocore Stubber), output read from S3 (moto)."""

from __future__ import annotations

import base64

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from sgw_drift.bucket import BucketLister
from sgw_drift.clock import VirtualClock
from sgw_drift.config import MountHost
from sgw_drift.listing import ListingError
from sgw_drift.mountlisting import FOOTER, HEADER, encode_text
from sgw_drift.runcommand import PollPolicy, RunCommandLister
from sgw_drift.shares import Share
from sgw_drift.verify import Verifier

REGION = "ap-northeast-1"
SHARE_ARN = "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D"
INSTANCE = "i-052fcf7f6fa590e08"
OUTPUT_BUCKET = "sgw-drift-listing-output"
DOCUMENT = "sgw-drift-ShareListingDocument-AbCdEf123456"
COMMAND_ID = "0b7c5d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"


def listing_text(sections: dict[str, list[tuple[str, int, str]]]) -> str:
    """Format what the listing script prints: (type, size, name) records per folder."""
    lines = [HEADER]
    for folder, records in sections.items():
        data = b"".join(f"{kind} {size} 1780000000.5 {name}".encode() + b"\0" for kind, size, name in records)
        encoded = base64.b64encode(data).decode()
        lines.append(f"folder {encode_text(folder)} ok {len(data)}")
        lines.extend(encoded[index : index + 76] for index in range(0, len(encoded), 76))
        lines.append(f"end {encode_text(folder)}")
    lines.append(FOOTER)
    return "\n".join(lines) + "\n"


def output_key(command_id: str = COMMAND_ID) -> str:
    return f"listings/{command_id}/{INSTANCE}/awsrunShellScript/listFolders/stdout"


def output_url(command_id: str = COMMAND_ID) -> str:
    return f"https://s3.{REGION}.amazonaws.com/{OUTPUT_BUCKET}/{output_key(command_id)}"


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=OUTPUT_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.create_bucket(Bucket="data", CreateBucketConfiguration={"LocationConstraint": REGION})
        ssm = boto3.client("ssm", region_name=REGION)
        yield ssm, s3


def make_lister(ssm, s3, **kwargs) -> tuple[RunCommandLister, list[float]]:
    sleeps: list[float] = []
    lister = RunCommandLister(
        ssm,
        s3,
        document_name=DOCUMENT,
        output_bucket=OUTPUT_BUCKET,
        mounts={SHARE_ARN: MountHost(instance_id=INSTANCE, path="/storage")},
        clock=VirtualClock(),
        sleep=sleeps.append,
        **kwargs,
    )
    return lister, sleeps


def expect_send(
    stub: Stubber, folders: list[str], recursive: bool = False, command_id: str = COMMAND_ID
) -> None:
    stub.add_response(
        "send_command",
        {"Command": {"CommandId": command_id}},
        {
            "DocumentName": DOCUMENT,
            "InstanceIds": [INSTANCE],
            "Parameters": {
                "MountPath": [encode_text("/storage")],
                "Folders": [",".join(encode_text(folder) for folder in folders)],
                "Recursive": ["true" if recursive else "false"],
            },
            "OutputS3BucketName": OUTPUT_BUCKET,
            "OutputS3KeyPrefix": "listings",
            "TimeoutSeconds": ANY,
            "Comment": ANY,
        },
    )


def expect_status(
    stub: Stubber, status: str, *, url: str = "", stdout: str = "", command_id: str = COMMAND_ID
):
    stub.add_response(
        "get_command_invocation",
        {
            "CommandId": command_id,
            "InstanceId": INSTANCE,
            "Status": status,
            "StatusDetails": status,
            "StandardOutputContent": stdout,
            "StandardOutputUrl": url,
        },
        {"CommandId": command_id, "InstanceId": INSTANCE},
    )


def expect_not_visible(stub: Stubber, command_id: str = COMMAND_ID) -> None:
    stub.add_client_error(
        "get_command_invocation",
        service_error_code="InvocationDoesNotExist",
        http_status_code=400,
        expected_params={"CommandId": command_id, "InstanceId": INSTANCE},
    )


def test_polls_through_not_visible_and_in_progress(aws):
    ssm, s3 = aws
    records = [("f", 10 + index, f"report-{index:05d}-{'x' * 30}.csv") for index in range(800)]
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=output_key(), Body=listing_text({"/reports": records}).encode())
    lister, sleeps = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/reports"])
        expect_not_visible(stub)
        expect_status(stub, "InProgress")
        expect_status(stub, "Success", url=output_url(), stdout="sgw-drift-listing 1\n" + "x" * 23_980)
        entries = list(lister.list_folder(SHARE_ARN, "/reports"))
        stub.assert_no_pending_responses()

    assert len(entries) == 800
    assert entries[0].path == "reports/report-00000-" + "x" * 30 + ".csv"
    assert entries[0].size == 10
    assert len(sleeps) == 3
    assert sleeps == sorted(sleeps)  # backoff never shortens the wait


def test_output_over_24000_characters_is_read_from_s3(aws):
    ssm, s3 = aws
    text = listing_text({"/": [("f", 1, f"{index:06d}-{'y' * 60}") for index in range(1000)]})
    assert len(text) > 24_000
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=output_key(), Body=text.encode())
    lister, _ = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/"])
        # GetCommandInvocation itself returns only the first 24,000 characters.
        expect_status(stub, "Success", url=output_url(), stdout=text[:24_000])
        entries = list(lister.list_folder(SHARE_ARN, "/"))

    assert len(entries) == 1000


def test_failed_command_raises_with_script_reason(aws):
    ssm, s3 = aws
    lister, _ = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/"])
        expect_status(stub, "Failed", stdout="sgw-drift-error not-a-mount-point\n")
        with pytest.raises(ListingError, match="not-a-mount-point"):
            list(lister.list_folder(SHARE_ARN, "/"))


@pytest.mark.parametrize("status", ["TimedOut", "Cancelled", "Cancelling"])
def test_other_final_statuses_raise(aws, status):
    ssm, s3 = aws
    lister, _ = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/"])
        expect_status(stub, status)
        with pytest.raises(ListingError, match=status):
            list(lister.list_folder(SHARE_ARN, "/"))


def test_polling_stops_at_overall_timeout(aws):
    ssm, s3 = aws
    lister, sleeps = make_lister(ssm, s3, poll=PollPolicy(timeout_seconds=10, first_delay=1, max_delay=4))

    with Stubber(ssm) as stub:
        expect_send(stub, ["/"])
        for _ in range(20):
            expect_status(stub, "InProgress")
        with pytest.raises(ListingError, match="did not finish within 10 s"):
            list(lister.list_folder(SHARE_ARN, "/"))

    assert sum(sleeps) <= 10


def test_access_denied_on_poll_raises(aws):
    ssm, s3 = aws
    lister, _ = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/"])
        stub.add_client_error(
            "get_command_invocation", service_error_code="AccessDeniedException", http_status_code=400
        )
        with pytest.raises(ListingError, match="GetCommandInvocation"):
            list(lister.list_folder(SHARE_ARN, "/"))


def test_output_url_outside_bucket_is_not_read(aws):
    ssm, s3 = aws
    s3.put_object(Bucket="data", Key=output_key(), Body=listing_text({"/": []}).encode())
    lister, _ = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/"])
        expect_status(stub, "Success", url=f"https://s3.{REGION}.amazonaws.com/data/{output_key()}")
        with pytest.raises(ListingError, match="no stdout"):
            list(lister.list_folder(SHARE_ARN, "/"))


def test_truncated_output_in_s3_raises(aws):
    ssm, s3 = aws
    text = listing_text({"/": [("f", 1, f"{index:05d}.txt") for index in range(500)]})
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=output_key(), Body=text[: len(text) // 2].encode())
    lister, _ = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/"])
        expect_status(stub, "Success", url=output_url())
        with pytest.raises(ListingError, match="truncated"):
            list(lister.list_folder(SHARE_ARN, "/"))


def test_truncated_output_leaves_folder_unverified_without_drift(aws):
    ssm, s3 = aws
    for index in range(3):
        s3.put_object(Bucket="data", Key=f"docs/{index}.txt", Body=b"abc")
    text = listing_text({"/docs": [("f", 3, f"{index}.txt") for index in range(3)]})
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=output_key(), Body=text[:40].encode())
    lister, _ = make_lister(ssm, s3)
    share = Share(
        SHARE_ARN,
        "arn:aws:storagegateway:ap-northeast-1:123456789012:gateway/sgw-12A3456B",
        "data",
        "",
        "NFS",
        mount=MountHost(instance_id=INSTANCE, path="/storage"),
    )
    verifier = Verifier(BucketLister(s3), lister, settle_seconds=0)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/docs"])
        expect_status(stub, "Success", url=output_url())
        result = verifier.verify_folder(share, "/docs", now=1_780_000_100.0)

    assert result.verified is False
    assert "truncated" in result.error
    assert result.differences == []
    assert result.drift == []


def test_prefetch_sends_one_command_for_many_folders(aws):
    ssm, s3 = aws
    folders = ["/a", "/b", "/c"]
    text = listing_text({folder: [("f", 1, "x.txt")] for folder in folders})
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=output_key(), Body=text.encode())
    lister, _ = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, folders)
        expect_status(stub, "Success", url=output_url())
        lister.prefetch(SHARE_ARN, folders)
        listed = {
            folder: [entry.path for entry in lister.list_folder(SHARE_ARN, folder)] for folder in folders
        }
        stub.assert_no_pending_responses()

    assert listed == {"/a": ["a/x.txt"], "/b": ["b/x.txt"], "/c": ["c/x.txt"]}


def test_prefetch_failure_raises_on_each_folder(aws):
    ssm, s3 = aws
    lister, _ = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/a", "/b"])
        expect_status(stub, "Failed")
        lister.prefetch(SHARE_ARN, ["/a", "/b"])
        for folder in ("/a", "/b"):
            with pytest.raises(ListingError, match="Failed"):
                list(lister.list_folder(SHARE_ARN, folder))
        stub.assert_no_pending_responses()


def test_share_without_mount_host_is_not_listable(aws):
    ssm, s3 = aws
    lister, _ = make_lister(ssm, s3)
    other = "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-5E6F7A8B"

    assert lister.can_list(SHARE_ARN)
    assert not lister.can_list(other)
    with pytest.raises(ListingError, match="no mount host"):
        list(lister.list_folder(other, "/"))


def test_list_tree_sends_recursive_listing(aws):
    ssm, s3 = aws
    text = listing_text({"/": [("d", 0, "a"), ("f", 2, "a/b.txt"), ("f", 1, "z.txt")]})
    s3.put_object(Bucket=OUTPUT_BUCKET, Key=output_key(), Body=text.encode())
    lister, _ = make_lister(ssm, s3)

    with Stubber(ssm) as stub:
        expect_send(stub, ["/"], recursive=True)
        expect_status(stub, "Success", url=output_url())
        paths = [entry.path for entry in lister.list_tree(SHARE_ARN)]

    assert paths == ["a/", "a/b.txt", "z.txt"]
