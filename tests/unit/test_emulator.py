"""File gateway emulator: a real boto3 storagegateway client against the emulator, S3 on moto."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from sgw_drift.clock import VirtualClock
from sgw_drift.emulator import (
    EmulatorNotImplementedError,
    EmulatorShareLister,
    FileGatewayEmulator,
    RefreshOutcome,
    UnknownFileShareError,
)
from sgw_drift.listing import Entry, ListingError

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"
BUCKET = "drift-test-bucket"
REFRESH_SECONDS = 20.0


@dataclass
class Harness:
    s3: object
    clock: VirtualClock
    emulator: FileGatewayEmulator
    client: object
    gateway: str
    events: list[dict]

    def add_share(self, prefix: str = "", protocol: str = "NFS", gateway: str | None = None) -> str:
        return self.emulator.add_share(gateway or self.gateway, BUCKET, prefix=prefix, protocol=protocol)

    def put(self, key: str, body: bytes = b"direct") -> None:
        """Edit the bucket directly, bypassing every share."""
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)

    def bucket_keys(self) -> list[str]:
        return [item["Key"] for item in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    def refresh(self, share: str, folders: list[str], recursive: bool) -> str:
        response = self.client.refresh_cache(FileShareARN=share, FolderList=folders, Recursive=recursive)
        return response["NotificationId"]

    def complete(self) -> list[dict]:
        """Move past one refresh duration and deliver what completed."""
        self.clock.advance(REFRESH_SECONDS)
        return self.emulator.tick()


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def harness(aws) -> Harness:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    clock = VirtualClock()
    events: list[dict] = []
    emulator = FileGatewayEmulator(
        s3, clock, region=REGION, account=ACCOUNT, refresh_seconds=REFRESH_SECONDS, event_sink=events.append
    )
    gateway = emulator.add_gateway("test-gateway")
    return Harness(s3, clock, emulator, emulator.client(), gateway, events)


def error_of(raised: pytest.ExceptionInfo) -> dict:
    return raised.value.response


# RefreshCache validation and limits


def test_botocore_validation_still_applies(harness):
    share = harness.add_share()

    with pytest.raises(botocore.exceptions.ParamValidationError):
        harness.client.refresh_cache(FileShareARN=share, FolderList=[])

    assert harness.emulator.calls == []


def test_folder_list_of_51_entries_rejected(harness):
    share = harness.add_share()
    folders = [f"/folder{index}" for index in range(51)]

    with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as raised:
        harness.refresh(share, folders, recursive=False)

    response = error_of(raised)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "InvalidGatewayRequestException"
    assert response["error"]["errorCode"] == "InvalidParameters"
    assert "51" in response["Error"]["Message"]
    assert harness.emulator.calls[-1].outcome == RefreshOutcome.REJECTED_INVALID
    assert harness.emulator.calls[-1].notification_id is None


def test_folder_list_of_50_entries_accepted(harness):
    share = harness.add_share()

    harness.refresh(share, [f"/folder{index}" for index in range(50)], recursive=False)

    assert harness.emulator.calls[-1].outcome == RefreshOutcome.ACCEPTED


def test_folder_entry_of_1025_chars_rejected(harness):
    share = harness.add_share()
    too_long = "/" + "a" * 1024

    with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as raised:
        harness.refresh(share, ["/ok", too_long], recursive=False)

    assert error_of(raised)["error"]["errorCode"] == "InvalidParameters"
    assert "1025" in error_of(raised)["Error"]["Message"]
    assert harness.emulator.calls[-1].outcome == RefreshOutcome.REJECTED_INVALID


def test_folder_entry_of_1024_chars_accepted(harness):
    share = harness.add_share()

    harness.refresh(share, ["/" + "a" * 1023], recursive=False)

    assert harness.emulator.calls[-1].outcome == RefreshOutcome.ACCEPTED


def test_third_refresh_rejected_while_two_in_flight(aws):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    clock = VirtualClock()
    emulator = FileGatewayEmulator(s3, clock, refresh_seconds=300.0)
    gateway = emulator.add_gateway()
    share = emulator.add_share(gateway, BUCKET)
    client = emulator.client()

    # GIVEN two refreshes accepted 60 s apart, each lasting 300 s
    client.refresh_cache(FileShareARN=share, FolderList=["/"])
    clock.advance(60)
    client.refresh_cache(FileShareARN=share, FolderList=["/"])
    clock.advance(60)
    assert emulator.in_flight(gateway) == 2

    # WHEN a third one arrives
    with pytest.raises(client.exceptions.InvalidGatewayRequestException) as raised:
        client.refresh_cache(FileShareARN=share, FolderList=["/"])

    # THEN it is throttled, without an error code
    response = error_of(raised)
    assert "too many requests were sent to the server" in response["Error"]["Message"].lower()
    assert "2 cache refreshes are already in progress" in response["message"]
    assert "errorCode" not in response["error"]
    assert emulator.calls[-1].outcome == RefreshOutcome.REJECTED_THROTTLE

    # AND once the first refresh is done, a slot is free again
    clock.advance(180)
    assert emulator.in_flight(gateway) == 1
    client.refresh_cache(FileShareARN=share, FolderList=["/"])
    assert emulator.calls[-1].outcome == RefreshOutcome.ACCEPTED


def test_refresh_within_60_seconds_rejected(harness):
    share = harness.add_share()
    harness.refresh(share, ["/"], recursive=True)

    harness.clock.advance(30)
    with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as raised:
        harness.refresh(share, ["/"], recursive=True)
    assert "too many requests" in error_of(raised)["Error"]["Message"].lower()
    assert "errorCode" not in error_of(raised)["error"]
    assert harness.emulator.calls[-1].outcome == RefreshOutcome.REJECTED_THROTTLE

    harness.clock.advance(30)
    harness.refresh(share, ["/"], recursive=True)
    assert harness.emulator.calls[-1].outcome == RefreshOutcome.ACCEPTED
    assert [call.outcome for call in harness.emulator.calls] == [
        RefreshOutcome.ACCEPTED,
        RefreshOutcome.REJECTED_THROTTLE,
        RefreshOutcome.ACCEPTED,
    ]


def test_spacing_is_per_gateway(harness):
    share_one = harness.add_share()
    other_gateway = harness.emulator.add_gateway("other")
    share_two = harness.add_share(gateway=other_gateway)

    harness.refresh(share_one, ["/"], recursive=True)
    harness.refresh(share_two, ["/"], recursive=True)

    assert [call.outcome for call in harness.emulator.calls] == [RefreshOutcome.ACCEPTED] * 2


def test_refresh_of_unknown_share_rejected(harness):
    unknown = f"arn:aws:storagegateway:{REGION}:{ACCOUNT}:share/share-DEADBEEF"

    with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as raised:
        harness.refresh(unknown, ["/"], recursive=True)

    assert error_of(raised)["error"]["errorCode"] == "InvalidParameters"
    assert unknown in error_of(raised)["Error"]["Message"]
    assert harness.emulator.calls[-1].share_arn == unknown
    assert harness.emulator.calls[-1].outcome == RefreshOutcome.REJECTED_INVALID


def test_refresh_defaults_match_the_api(harness):
    share = harness.add_share()
    harness.put("deep/down/file.txt")

    response = harness.client.refresh_cache(FileShareARN=share)
    harness.complete()

    call = harness.emulator.calls[-1]
    assert call.folder_list == ["/"]
    assert call.recursive is True
    assert call.notification_id == response["NotificationId"]
    assert response["FileShareARN"] == share
    assert "deep/down/file.txt" in harness.emulator.view(share)


# Share views: writes through the share, direct edits and refreshes


def test_new_share_loads_the_bucket(harness):
    harness.put("docs/readme.txt", b"12345")
    harness.put("empty/")
    harness.put("outside.txt")

    share = harness.add_share()

    view = harness.emulator.view(share)
    assert set(view) == {"docs/", "docs/readme.txt", "empty/", "outside.txt"}
    assert view["docs/readme.txt"].size == 5
    assert view["docs/"].is_dir


def test_direct_put_visible_only_after_refresh(harness):
    harness.put("reports/existing.txt")
    share = harness.add_share()

    # GIVEN a direct edit in a folder the share shows
    harness.put("reports/direct.txt", b"abc")
    assert "reports/direct.txt" not in harness.emulator.view(share)

    # WHEN a non-recursive refresh of that folder is accepted, the view waits for completion
    notification_id = harness.refresh(share, ["/reports"], recursive=False)
    harness.clock.advance(REFRESH_SECONDS - 1)
    assert harness.emulator.tick() == []
    assert "reports/direct.txt" not in harness.emulator.view(share)

    # THEN after completion the file appears
    harness.clock.advance(1)
    events = harness.emulator.tick()
    assert [event["detail"]["notification-id"] for event in events] == [notification_id]
    assert harness.emulator.view(share)["reports/direct.txt"].size == 3


def test_direct_delete_stays_visible_until_refresh(harness):
    harness.put("reports/old.txt")
    share = harness.add_share()

    harness.s3.delete_object(Bucket=BUCKET, Key="reports/old.txt")
    assert "reports/old.txt" in harness.emulator.view(share)

    harness.refresh(share, ["/reports"], recursive=False)
    harness.complete()
    assert "reports/old.txt" not in harness.emulator.view(share)
    assert "reports/" in harness.emulator.view(share)


def test_non_recursive_refresh_updates_direct_children_only(harness):
    harness.put("a/kept.txt")
    harness.put("a/sub/cached.txt")
    harness.put("a/gone/inner.txt")
    share = harness.add_share()

    # GIVEN direct edits at two depths below /a
    harness.put("a/new.txt")
    harness.put("a/sub/deeper-new.txt")
    harness.put("a/fresh/inside.txt")
    harness.s3.delete_object(Bucket=BUCKET, Key="a/gone/inner.txt")

    # WHEN /a is refreshed non-recursively
    harness.refresh(share, ["/a"], recursive=False)
    harness.complete()

    # THEN direct children change, and surviving subdirectories keep their cached content
    view = harness.emulator.view(share)
    assert "a/new.txt" in view
    assert "a/fresh/" in view
    assert "a/fresh/inside.txt" not in view
    assert "a/gone/" not in view
    assert "a/gone/inner.txt" not in view
    assert "a/sub/cached.txt" in view
    assert "a/sub/deeper-new.txt" not in view


def test_recursive_refresh_replaces_the_subtree(harness):
    harness.put("a/sub/cached.txt")
    harness.put("a/sub/removed.txt")
    harness.put("b/untouched.txt")
    share = harness.add_share()

    harness.put("a/sub/deeper-new.txt")
    harness.put("a/fresh/inside.txt")
    harness.s3.delete_object(Bucket=BUCKET, Key="a/sub/removed.txt")
    harness.put("b/outside-the-refresh.txt")

    harness.refresh(share, ["/a"], recursive=True)
    harness.complete()

    view = harness.emulator.view(share)
    assert "a/sub/deeper-new.txt" in view
    assert "a/fresh/inside.txt" in view
    assert "a/sub/removed.txt" not in view
    assert "a/sub/cached.txt" in view
    assert "b/outside-the-refresh.txt" not in view


def test_refresh_of_folder_missing_from_view_changes_nothing(harness):
    share = harness.add_share()
    harness.put("new-folder/file.txt")

    harness.refresh(share, ["/new-folder"], recursive=True)
    harness.complete()
    assert harness.emulator.view(share) == {}

    harness.clock.advance(60)
    harness.refresh(share, ["/"], recursive=False)
    harness.complete()
    assert set(harness.emulator.view(share)) == {"new-folder/"}


def test_refresh_skips_keys_a_share_cannot_show(harness):
    share = harness.add_share()
    for key in ["odd/../escape.txt", "odd/./dot.txt", "odd//double.txt", "odd/" + "x" * 256, "odd/fine.txt"]:
        harness.put(key)

    harness.refresh(share, ["/"], recursive=True)
    harness.complete()

    assert set(harness.emulator.view(share)) == {"odd/", "odd/fine.txt"}


def test_name_clash_shows_the_directory(harness):
    share = harness.add_share()
    harness.put("clash")
    harness.put("clash/inside.txt")

    harness.refresh(share, ["/"], recursive=True)
    harness.complete()

    assert set(harness.emulator.view(share)) == {"clash/", "clash/inside.txt"}


def test_write_adds_gateway_metadata(harness):
    share = harness.add_share("data")

    result = harness.emulator.write_file(share, "team/report.csv", b"a,b\n", mtime=1_780_000_123.5)

    assert result["key"] == "data/team/report.csv"
    assert result["created_directories"] == ["team/"]
    head = harness.s3.head_object(Bucket=BUCKET, Key="data/team/report.csv")
    assert head["Metadata"] == {
        "user-agent": "aws-storage-gateway",
        "file-owner": "0",
        "file-group": "0",
        "file-permissions": "0644",
        "file-mtime": "1780000123500000000",
    }
    assert "data/team/" in harness.bucket_keys()
    view = harness.emulator.view(share)
    assert view["team/report.csv"] == Entry("team/report.csv", is_dir=False, size=4, mtime=1_780_000_123.5)
    assert view["team/"].is_dir


def test_written_file_keeps_its_mtime_after_refresh(harness):
    share = harness.add_share()
    harness.emulator.write_file(share, "kept.txt", b"x", mtime=1_700_000_000.0)

    harness.refresh(share, ["/"], recursive=True)
    harness.complete()

    assert harness.emulator.view(share)["kept.txt"].mtime == 1_700_000_000.0


def test_write_through_share_a_invisible_in_share_b(harness):
    share_a = harness.add_share("projects/")
    share_b = harness.add_share("projects/alpha/")

    harness.emulator.write_file(share_a, "alpha/plan.txt", b"plan")

    assert "alpha/plan.txt" in harness.emulator.view(share_a)
    assert "plan.txt" not in harness.emulator.view(share_b)

    harness.refresh(share_b, ["/"], recursive=False)
    harness.complete()
    assert harness.emulator.view(share_b)["plan.txt"].size == 4
    assert set(harness.emulator.view(share_a)) == {"alpha/", "alpha/plan.txt"}


def test_delete_through_share(harness):
    harness.put("folder/doomed.txt")
    share = harness.add_share()

    result = harness.emulator.delete_file(share, "folder/doomed.txt")

    assert result == {
        "operation": "DeleteObject",
        "bucket": BUCKET,
        "key": "folder/doomed.txt",
        "path": "folder/doomed.txt",
    }
    assert "folder/doomed.txt" not in harness.bucket_keys()
    assert "folder/doomed.txt" not in harness.emulator.view(share)
    assert "folder/" in harness.emulator.view(share)
    with pytest.raises(FileNotFoundError):
        harness.emulator.delete_file(share, "folder/doomed.txt")
    with pytest.raises(IsADirectoryError):
        harness.emulator.delete_file(share, "folder")


def test_make_directory_writes_a_marker(harness):
    share = harness.add_share("root")

    result = harness.emulator.make_directory(share, "a/b")

    assert result["key"] == "root/a/b/"
    assert result["created_directories"] == ["a/"]
    assert harness.bucket_keys() == ["root/a/", "root/a/b/"]
    head = harness.s3.head_object(Bucket=BUCKET, Key="root/a/b/")
    assert head["ContentLength"] == 0
    assert head["Metadata"]["user-agent"] == "aws-storage-gateway"
    assert set(harness.emulator.view(share)) == {"a/", "a/b/"}
    with pytest.raises(FileExistsError):
        harness.emulator.make_directory(share, "a/b")


def test_rename_file_copies_then_deletes(harness):
    share = harness.add_share()
    harness.emulator.write_file(share, "in/old.txt", b"body", mtime=1_700_000_000.0)

    calls = harness.emulator.rename(share, "in/old.txt", "out/new.txt")

    assert [call["operation"] for call in calls] == ["PutObject", "CopyObject", "DeleteObject"]
    assert sorted(harness.bucket_keys()) == ["in/", "out/", "out/new.txt"]
    head = harness.s3.head_object(Bucket=BUCKET, Key="out/new.txt")
    assert head["Metadata"]["user-agent"] == "aws-storage-gateway"
    assert head["Metadata"]["file-mtime"] == "1700000000000000000"
    view = harness.emulator.view(share)
    assert "in/old.txt" not in view
    assert view["out/new.txt"] == Entry("out/new.txt", is_dir=False, size=4, mtime=1_700_000_000.0)


def test_rename_directory_moves_its_tree(harness):
    harness.put("old/a.txt", b"a")
    harness.put("old/sub/b.txt", b"bb")
    share = harness.add_share()

    harness.emulator.rename(share, "old", "new")

    assert sorted(harness.bucket_keys()) == ["new/", "new/a.txt", "new/sub/", "new/sub/b.txt"]
    view = harness.emulator.view(share)
    assert set(view) == {"new/", "new/a.txt", "new/sub/", "new/sub/b.txt"}
    assert view["new/sub/b.txt"].size == 2


def test_rename_rejects_bad_targets(harness):
    share = harness.add_share()
    harness.emulator.make_directory(share, "dir")
    harness.emulator.write_file(share, "file.txt", b"x")

    with pytest.raises(FileNotFoundError):
        harness.emulator.rename(share, "missing.txt", "other.txt")
    with pytest.raises(IsADirectoryError):
        harness.emulator.rename(share, "file.txt", "dir")
    with pytest.raises(ValueError, match="into itself"):
        harness.emulator.rename(share, "dir", "dir/inner")


def test_write_rejects_names_a_share_cannot_hold(harness):
    share = harness.add_share()

    for bad in ["", "dir/", "a/../b", "a//b", "x" * 256]:
        with pytest.raises(ValueError):
            harness.emulator.write_file(share, bad, b"x")
    assert harness.bucket_keys() == []


def test_file_operations_on_unknown_share_raise(harness):
    unknown = f"arn:aws:storagegateway:{REGION}:{ACCOUNT}:share/share-DEADBEEF"

    with pytest.raises(UnknownFileShareError):
        harness.emulator.write_file(unknown, "a.txt", b"x")
    with pytest.raises(UnknownFileShareError):
        harness.emulator.view(unknown)


# Completion events and fault injection


def test_refresh_complete_event_shape(harness):
    share = harness.add_share()
    started = harness.clock.now()
    notification_id = harness.refresh(share, ["/a", "/b"], recursive=False)

    events = harness.complete()

    assert events == harness.events
    assert len(events) == 1
    event = events[0]
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert event["version"] == "0"
    assert event["detail-type"] == "Storage Gateway Refresh Cache Event"
    assert event["source"] == "aws.storagegateway"
    assert event["account"] == ACCOUNT
    assert event["region"] == REGION
    assert event["resources"] == [share, harness.gateway]
    assert event["time"] == datetime.fromtimestamp(started + REFRESH_SECONDS, UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    detail = event["detail"]
    assert detail["event-type"] == "refresh-complete"
    assert detail["notification-id"] == notification_id
    assert detail["folderList"] == ["/a", "/b"]
    assert datetime.fromisoformat(detail["started"]).timestamp() == started
    assert datetime.fromisoformat(detail["completed"]).timestamp() == started + REFRESH_SECONDS
    assert detail["started"].endswith("Z")


def test_tick_delivers_in_due_order_once(harness):
    share = harness.add_share()
    first = harness.refresh(share, ["/"], recursive=True)
    harness.clock.advance(60)
    second = harness.refresh(share, ["/"], recursive=True)

    harness.clock.advance(REFRESH_SECONDS)
    events = harness.emulator.tick()

    assert [event["detail"]["notification-id"] for event in events] == [first, second]
    assert harness.emulator.tick() == []


def test_injected_failure_rejects_next_call(harness):
    share = harness.add_share()
    harness.emulator.inject_refresh_failure(
        "Cannot access the S3 bucket: access denied",
        error_code="InternalError",
        error_details={"reason": "x"},
    )

    with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as raised:
        harness.refresh(share, ["/"], recursive=True)

    response = error_of(raised)
    assert response["Error"]["Message"] == "Cannot access the S3 bucket: access denied"
    assert response["error"] == {"errorCode": "InternalError", "errorDetails": {"reason": "x"}}
    assert harness.emulator.calls[-1].outcome == RefreshOutcome.REJECTED_FAILURE
    assert harness.emulator.calls[-1].message == "Cannot access the S3 bucket: access denied"

    harness.refresh(share, ["/"], recursive=True)
    assert harness.emulator.calls[-1].outcome == RefreshOutcome.ACCEPTED


def test_injected_throttle_counts_down(harness):
    share = harness.add_share()
    harness.emulator.inject_refresh_failure(count=2, throttle=True)

    for _ in range(2):
        with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as raised:
            harness.refresh(share, ["/"], recursive=True)
        assert "too many requests" in error_of(raised)["Error"]["Message"].lower()
        assert "errorCode" not in error_of(raised)["error"]
    harness.refresh(share, ["/"], recursive=True)

    assert [call.outcome for call in harness.emulator.calls] == [
        RefreshOutcome.REJECTED_THROTTLE,
        RefreshOutcome.REJECTED_THROTTLE,
        RefreshOutcome.ACCEPTED,
    ]


def test_dropped_completion_frees_slot_silently(harness):
    harness.put("folder/before.txt")
    share = harness.add_share()
    harness.put("folder/after.txt")
    harness.emulator.drop_completion()

    harness.refresh(share, ["/folder"], recursive=False)
    assert harness.emulator.in_flight(harness.gateway) == 1
    events = harness.complete()

    assert events == []
    assert harness.events == []
    assert "folder/after.txt" not in harness.emulator.view(share)
    assert harness.emulator.in_flight(harness.gateway) == 0

    # The next accepted refresh completes normally.
    harness.clock.advance(60)
    harness.refresh(share, ["/folder"], recursive=False)
    assert len(harness.complete()) == 1
    assert "folder/after.txt" in harness.emulator.view(share)


# Discovery operations


def test_list_file_shares_filters_by_gateway(harness):
    other_gateway = harness.emulator.add_gateway("other")
    nfs_share = harness.add_share()
    smb_share = harness.add_share("smb/", protocol="SMB", gateway=other_gateway)

    everything = harness.client.list_file_shares()["FileShareInfoList"]
    on_other = harness.client.list_file_shares(GatewayARN=other_gateway)["FileShareInfoList"]

    assert [info["FileShareARN"] for info in everything] == [nfs_share, smb_share]
    assert on_other == [
        {
            "FileShareType": "SMB",
            "FileShareARN": smb_share,
            "FileShareId": smb_share.rsplit("/", 1)[1],
            "FileShareStatus": "AVAILABLE",
            "GatewayARN": other_gateway,
        }
    ]


def test_list_file_shares_paginates(harness):
    shares = [harness.add_share(f"p{index}/") for index in range(3)]

    first = harness.client.list_file_shares(Limit=2)
    second = harness.client.list_file_shares(Limit=2, Marker=first["NextMarker"])

    assert [info["FileShareARN"] for info in first["FileShareInfoList"]] == shares[:2]
    assert [info["FileShareARN"] for info in second["FileShareInfoList"]] == shares[2:]
    assert "NextMarker" not in second


def test_list_file_shares_of_unknown_gateway_rejected(harness):
    unknown = f"arn:aws:storagegateway:{REGION}:{ACCOUNT}:gateway/sgw-DEADBEEF"

    with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as raised:
        harness.client.list_file_shares(GatewayARN=unknown)

    assert error_of(raised)["error"]["errorCode"] == "GatewayNotFound"


def test_describe_nfs_file_shares(harness):
    whole_bucket = harness.add_share()
    with_prefix = harness.add_share("exports/team")

    infos = harness.client.describe_nfs_file_shares(FileShareARNList=[whole_bucket, with_prefix])[
        "NFSFileShareInfoList"
    ]

    assert [info["FileShareARN"] for info in infos] == [whole_bucket, with_prefix]
    assert infos[0]["LocationARN"] == f"arn:aws:s3:::{BUCKET}"
    assert infos[1]["LocationARN"] == f"arn:aws:s3:::{BUCKET}/exports/team/"
    for info in infos:
        assert info["GatewayARN"] == harness.gateway
        assert info["FileShareStatus"] == "AVAILABLE"
        assert info["NotificationPolicy"] == "{}"
        assert info["Path"].startswith("/")


def test_describe_smb_file_shares(harness):
    share = harness.emulator.add_share(
        harness.gateway, BUCKET, "office/", protocol="SMB", notification_policy='{"Upload": {}}'
    )

    infos = harness.client.describe_smb_file_shares(FileShareARNList=[share])["SMBFileShareInfoList"]

    assert len(infos) == 1
    assert infos[0]["FileShareARN"] == share
    assert infos[0]["LocationARN"] == f"arn:aws:s3:::{BUCKET}/office/"
    assert infos[0]["Path"] == "/office"
    assert infos[0]["NotificationPolicy"] == '{"Upload": {}}'


def test_describe_with_wrong_protocol_or_unknown_arn_rejected(harness):
    nfs_share = harness.add_share()
    unknown = f"arn:aws:storagegateway:{REGION}:{ACCOUNT}:share/share-DEADBEEF"

    with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as wrong_protocol:
        harness.client.describe_smb_file_shares(FileShareARNList=[nfs_share])
    with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as missing:
        harness.client.describe_nfs_file_shares(FileShareARNList=[unknown])
    with pytest.raises(harness.client.exceptions.InvalidGatewayRequestException) as too_many:
        harness.client.describe_nfs_file_shares(FileShareARNList=[nfs_share] * 11)

    assert "NFS" in error_of(wrong_protocol)["Error"]["Message"]
    assert error_of(missing)["error"]["errorCode"] == "InvalidParameters"
    assert error_of(too_many)["error"]["errorCode"] == "InvalidParameters"


def test_list_gateways(harness):
    second = harness.emulator.add_gateway("second")

    gateways = harness.client.list_gateways()["Gateways"]

    assert [gateway["GatewayARN"] for gateway in gateways] == [harness.gateway, second]
    assert gateways[0]["GatewayName"] == "test-gateway"
    assert gateways[1]["GatewayId"] == second.rsplit("/", 1)[1]
    assert second.startswith(f"arn:aws:storagegateway:{REGION}:{ACCOUNT}:gateway/sgw-")


def test_unimplemented_operation_names_itself(harness):
    with pytest.raises(EmulatorNotImplementedError, match="DescribeGatewayInformation"):
        harness.client.describe_gateway_information(GatewayARN=harness.gateway)


def test_attach_to_an_existing_client(harness):
    client = boto3.client("storagegateway", region_name=REGION)

    assert harness.emulator.attach(client) is client
    assert client.list_gateways()["Gateways"][0]["GatewayARN"] == harness.gateway
    with pytest.raises(ValueError, match="storagegateway"):
        harness.emulator.attach(boto3.client("s3", region_name=REGION))


# Share lister


def test_lister_lists_in_utf8_byte_order(harness):
    share = harness.add_share()
    for path in ["b.txt", "B.txt", "é.txt", "a-b.txt", "a/inner.txt", "z/"]:
        if path.endswith("/"):
            harness.emulator.make_directory(share, path)
        else:
            harness.emulator.write_file(share, path, b"x")
    lister = harness.emulator.lister

    root = [entry.path for entry in lister.list_folder(share, "/")]
    tree = [entry.path for entry in lister.list_tree(share)]

    assert isinstance(lister, EmulatorShareLister)
    assert root == ["B.txt", "a-b.txt", "a/", "b.txt", "z/", "é.txt"]
    assert tree == ["B.txt", "a-b.txt", "a/", "a/inner.txt", "b.txt", "z/", "é.txt"]
    assert [entry.path for entry in lister.list_folder(share, "/a")] == ["a/inner.txt"]
    assert list(lister.list_folder(share, "/missing")) == []


def test_lister_unknown_share_raises_listing_error(harness):
    unknown = f"arn:aws:storagegateway:{REGION}:{ACCOUNT}:share/share-DEADBEEF"

    with pytest.raises(ListingError):
        harness.emulator.lister.list_folder(unknown, "/")
    with pytest.raises(ListingError):
        harness.emulator.lister.list_tree(unknown)
