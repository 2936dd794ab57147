"""FleetManagerFunction in-process on moto, the gateway emulator and an emulated mount host."""

from __future__ import annotations

import copy
import json

import pytest

from sgw_drift.sandbox import Sandbox
from sgw_drift.sandbox.handlers import invoke
from sgw_drift.sandbox.mounthost import EmulatedMountHost
from tests.conftest import load_event

BUCKET = "sgw-drift-demo-bucket"
OUTPUT_BUCKET = "sgw-drift-listing-output"
DOCUMENT = "sgw-drift-ShareListingDocument-AbCdEf123456"
INSTANCE = "i-052fcf7f6fa590e08"  # the instance of the CloudTrail records in events/
MOUNT = "/storage"
OWN_ROLE = "arn:aws:iam::123456789012:role/sgw-drift-ReconcileFunctionRole-1A2B3C4D5E6F"
OPERATOR_ROLE = "cm-operator"


def start_box(box: Sandbox) -> EmulatedMountHost:
    box.create_bucket(BUCKET)
    box.create_bucket(OUTPUT_BUCKET)
    gateway = box.add_gateway(gateway_id="sgw-12A3456B")
    box.share_arn = box.add_share(gateway, BUCKET, share_id="share-1A2B3C4D")
    host = EmulatedMountHost(box.gateway, box.s3, listing_document=DOCUMENT)
    host.mount(INSTANCE, box.share_arn, MOUNT)
    box.start(
        {box.share_arn: {"mount": {"instance_id": INSTANCE, "path": MOUNT}}},
        environ={
            "LISTING_DOCUMENT_NAME": DOCUMENT,
            "LISTING_OUTPUT_BUCKET": OUTPUT_BUCKET,
            "MOUNT_INSTANCE_IDS": INSTANCE,
            "SGW_DRIFT_ROLE_ARNS": OWN_ROLE,
        },
        command_client=host,
    )
    return host


@pytest.fixture
def box():
    with Sandbox(settle_seconds=120) as sandbox:
        sandbox.host = start_box(sandbox)
        yield sandbox


def seed(box: Sandbox, *paths: str) -> None:
    for path in paths:
        box.write_through(box.share_arn, path, b"seed data")
    box.deliver()
    box.run(180)


def audits(box: Sandbox) -> list[dict]:
    return [alert for alert in box.alerts() if alert["event"] == "audit"]


def audit_records(box: Sandbox) -> list[dict]:
    table = box.runtime.service.store.table
    return table.query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"AUDIT#{INSTANCE}"}
    )["Items"]


def fleet(box: Sandbox, operation: str, parameters: dict) -> dict:
    event = box.host.fleet_manager(
        INSTANCE,
        operation,
        parameters,
        principal_role=OPERATOR_ROLE,
        session="alice@example.com",
        when=box.clock.now(),
    )
    return invoke("fleet_manager", event)


def test_own_send_command_leads_to_no_action(box):
    event = load_event("cloudtrail-sgw-drift-own-listing.json")
    sent_before = len(box.host.sent)

    response = invoke("fleet_manager", event)

    assert response["action"] == "ignored_own_call"
    assert audits(box) == []
    assert len(box.host.sent) == sent_before
    assert box.refresh_calls() == []


def test_failed_fleet_manager_call_leads_to_no_action(box):
    response = invoke("fleet_manager", load_event("cloudtrail-fleet-failed-call.json"))

    assert response["action"] == "ignored_failed_call"
    assert audits(box) == []
    assert box.refresh_calls() == []


def test_instance_without_share_is_ignored(box):
    event = copy.deepcopy(load_event("cloudtrail-fleet-delete-file-system-item.json"))
    event["detail"]["requestParameters"]["instanceIds"] = ["i-0fffffffffffffff0"]
    event["detail"]["responseElements"]["command"]["instanceIds"] = ["i-0fffffffffffffff0"]

    response = invoke("fleet_manager", event)

    assert response["action"] == "ignored_instance"
    assert audits(box) == []


def test_reference_delete_record_audited_with_path_unknown(box):
    # The command id of the real record is masked, so ListCommands cannot find its parameters.
    response = invoke("fleet_manager", load_event("cloudtrail-fleet-delete-file-system-item.json"))

    assert response["action"] == "audited"
    (alert,) = audits(box)
    assert "unknown" in alert["message"].lower()
    assert INSTANCE in alert["message"]
    assert "cm-xxxxx.xxxxx" in alert["message"]
    (record,) = audit_records(box)
    assert "paths" not in record
    assert record["document"] == "AWSFleetManager-DeleteFileSystemItem"
    assert record["principal"] == "arn:aws:iam::123456789012:role/cm-xxxxx.xxxxx"
    assert record["event_time"] == "2024-04-19T06:50:06Z"


@pytest.mark.parametrize(
    ("operation", "parameters", "recovered"),
    [
        ("DeleteFileSystemItem", {"Path": [f"{MOUNT}/team/a.txt"]}, [f"{MOUNT}/team/a.txt"]),
        (
            "RenameFileSystemItem",
            {"Path": [f"{MOUNT}/team/a.txt"], "NewName": ["renamed.txt"]},
            [f"{MOUNT}/team/a.txt"],
        ),
        (
            "MoveFileSystemItem",
            {"Path": [f"{MOUNT}/team/a.txt"], "Destination": [f"{MOUNT}/archive/a.txt"]},
            [f"{MOUNT}/team/a.txt", f"{MOUNT}/archive/a.txt"],
        ),
        (
            "CopyFileSystemItem",
            {"Path": [f"{MOUNT}/team/a.txt"], "Destination": [f"{MOUNT}/team/copy.txt"]},
            [f"{MOUNT}/team/a.txt", f"{MOUNT}/team/copy.txt"],
        ),
        ("CreateDirectory", {"Path": [f"{MOUNT}/team/新しいフォルダ"]}, [f"{MOUNT}/team/新しいフォルダ"]),
    ],
)
def test_mutating_document_sends_one_audit_with_path(box, operation, parameters, recovered):
    seed(box, "team/a.txt", "team/b.txt", "archive/old.txt")

    response = fleet(box, operation, parameters)

    assert response["action"] == "audited"
    assert response["audits"] == 1
    (alert,) = audits(box)
    for path in recovered:
        assert path in alert["message"]
    assert "unknown" not in alert["message"].lower()
    (record,) = audit_records(box)
    assert record["paths"] == recovered
    assert f"AWSFleetManager-{operation}" in alert["message"]
    assert f"role/{OPERATOR_ROLE}" in alert["message"]
    assert "alice@example.com" in alert["message"]
    assert box.share_arn in alert["message"]
    # The edit went through the gateway: no refresh is needed.
    assert box.refresh_calls() == []


def test_mutating_document_reports_other_drift_in_folder(box):
    seed(box, "team/a.txt", "team/b.txt")
    box.s3.delete_object(Bucket=BUCKET, Key="team/b.txt")  # direct edit whose event was lost

    fleet(box, "DeleteFileSystemItem", {"Path": [f"{MOUNT}/team/a.txt"]})

    (alert,) = audits(box)
    assert "team/b.txt" in alert["message"]
    assert [call.folder_list for call in box.refresh_calls()] == [["/team"]]


def test_two_views_within_a_minute_check_once(box):
    seed(box, "reports/q1.csv")
    box.s3.delete_object(Bucket=BUCKET, Key="reports/q1.csv")

    first = fleet(box, "GetFileSystemContent", {"Path": [f"{MOUNT}/reports"], "NextToken": ["*"]})
    box.clock.advance(30)
    second = fleet(box, "GetFileSystemContent", {"Path": [f"{MOUNT}/reports"], "NextToken": ["*"]})

    assert first["action"] == "checked"
    assert first["checked"] == ["/reports"]
    assert first["refreshed"] == ["/reports"]
    assert second["action"] == "skipped"
    assert second["checked"] == []
    assert [call.folder_list for call in box.refresh_calls()] == [["/reports"]]
    assert audits(box) == []


def test_view_after_a_minute_checks_again(box):
    seed(box, "reports/q1.csv")

    fleet(box, "GetFileSystemContent", {"Path": [f"{MOUNT}/reports"]})
    box.clock.advance(61)
    again = fleet(box, "GetFileSystemContent", {"Path": [f"{MOUNT}/reports"]})

    assert again["action"] == "checked"
    assert again["refreshed"] == []  # the folder is fresh: nothing to refresh
    assert box.refresh_calls() == []


def test_view_outside_mount_is_not_checked(box):
    response = fleet(box, "GetFileSystemContent", {"Path": ["/home/ec2-user"]})

    assert response["action"] == "skipped"
    assert response["checked"] == []


def test_truncated_listing_leaves_share_unverified_without_false_drift():
    with Sandbox(settle_seconds=120, verify_shares=False) as box:
        host = start_box(box)
        seed(box, "docs/a.txt", "docs/b.txt")
        host.truncate_output_at = 60
        sent_before = len(host.sent)

        box.delete_direct(BUCKET, "docs/a.txt")
        box.deliver()

        assert len(host.sent) > sent_before  # the listing was attempted through Run Command
        opened = [alert for alert in box.alerts() if alert["event"] == "opened"]
        assert len(opened) == 1
        assert "unverified" in opened[0]["message"].lower()
        incident = box.runtime.service.store.load_incident(box.share_arn)
        counts = incident["counts"] if isinstance(incident, dict) else incident.counts
        assert "missing_on_share" not in counts
        assert "only_on_share" not in counts


def test_run_command_listing_confirms_and_resolves_direct_edit():
    with Sandbox(settle_seconds=120, verify_shares=False) as box:
        host = start_box(box)
        seed(box, "docs/a.txt")

        box.put_direct(BUCKET, "docs/new.txt", b"direct")
        box.deliver()
        box.run(180)

        listings = [request for request in host.sent if request["DocumentName"] == DOCUMENT]
        assert len(listings) >= 2  # verified before the refresh and again after it
        assert [call.folder_list for call in box.refresh_calls()] == [["/docs"]]
        assert [alert["event"] for alert in box.alerts()] == ["opened", "resolved"]
        assert box.drift(box.share_arn) == []


def test_demo_shows_fleet_manager_audits(capsys):
    from sgw_drift.demo import run_demo

    code = run_demo(as_json=True)

    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["fleet_manager_audits"] == 2
    assert summary["fleet_manager_paths"] == [
        ["/storage/reports/2026/q2.csv"],
        ["/storage/営業部/議事録.txt"],
    ]
    assert summary["drift_remaining"] == 0
