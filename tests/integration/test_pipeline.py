"""The main job end to end, in-process on moto and the file gateway emulator."""

from __future__ import annotations

import json

import pytest

from sgw_drift.sandbox import Sandbox

BUCKET = "sgw-drift-demo-bucket"


def accepted(box: Sandbox) -> list:
    return box.refresh_calls()


def paths(box: Sandbox, share_arn: str) -> set[str]:
    return set(box.gateway.view(share_arn))


@pytest.fixture
def box():
    with Sandbox(settle_seconds=120) as sandbox:
        sandbox.create_bucket(BUCKET)
        gateway = sandbox.add_gateway()
        sandbox.share_arn = sandbox.add_share(gateway, BUCKET)
        sandbox.gateway_arn = gateway
        sandbox.start()
        yield sandbox


def seed(box: Sandbox, *files: str) -> None:
    """Write files through the share and let the pipeline see them, so their folders exist on the share."""
    for path in files:
        box.write_through(box.share_arn, path, b"seed")
    box.deliver()
    box.run(180)


def test_direct_put_refreshes_its_folder_once_and_resolves(box):
    seed(box, "reports/2026/old.csv")
    calls_before = len(accepted(box))

    box.put_direct(BUCKET, "reports/2026/new.csv", b"1,2,3")
    box.deliver()

    new_calls = accepted(box)[calls_before:]
    assert len(new_calls) == 1
    assert new_calls[0].folder_list == ["/reports/2026"]
    assert new_calls[0].recursive is False
    assert "reports/2026/new.csv" not in paths(box, box.share_arn)

    box.run(120)

    assert "reports/2026/new.csv" in paths(box, box.share_arn)
    assert len(accepted(box)) == calls_before + 1
    events = [alert["event"] for alert in box.alerts()]
    assert events == ["opened", "resolved"]
    assert box.drift(box.share_arn) == []


def test_write_through_share_requests_no_refresh(box):
    for index in range(5):
        box.write_through(box.share_arn, f"team/notes-{index}.txt", b"hello")
    box.deliver()
    box.run(300)

    assert accepted(box) == []
    assert box.alerts() == []
    assert box.drift(box.share_arn) == []


def test_direct_delete_hides_share_file(box):
    seed(box, "contracts/a.pdf", "contracts/b.pdf")
    assert "contracts/a.pdf" in paths(box, box.share_arn)

    box.delete_direct(BUCKET, "contracts/a.pdf")
    box.deliver()
    box.run(120)

    assert [call.folder_list for call in accepted(box)] == [["/contracts"]]
    assert "contracts/a.pdf" not in paths(box, box.share_arn)
    assert "contracts/b.pdf" in paths(box, box.share_arn)
    assert box.drift(box.share_arn) == []


def run_scenario(order: str) -> tuple[set[str], list, list]:
    with Sandbox() as sandbox:
        sandbox.create_bucket(BUCKET)
        share = sandbox.add_share(sandbox.add_gateway(), BUCKET)
        sandbox.start()
        sandbox.write_through(share, "inbox/keep.txt", b"keep")
        sandbox.deliver()
        sandbox.run(120)

        create = sandbox.put_direct(BUCKET, "inbox/report.txt", b"v1")
        delete = sandbox.delete_direct(BUCKET, "inbox/report.txt")
        sandbox.outbox.clear()
        batches = {
            "in-order": [[create, delete]],
            "triplicated": [[create, create, create], [delete, delete], [create, delete]],
            "delete-first": [[delete], [create]],
            "delete-first-same-batch": [[delete, create]],
        }[order]
        for batch in batches:
            sandbox.deliver(batch)
            sandbox.run(90)
        sandbox.run(300)
        view = set(sandbox.gateway.view(share))
        return view, sandbox.drift(share), [alert["event"] for alert in sandbox.alerts()]


@pytest.mark.parametrize("order", ["triplicated", "delete-first", "delete-first-same-batch"])
def test_redelivered_and_reordered_events_end_like_in_order(order):
    expected_view, expected_drift, _ = run_scenario("in-order")

    view, drift, alerts = run_scenario(order)

    assert view == expected_view
    assert "inbox/report.txt" not in view
    assert drift == expected_drift == []
    assert alerts.count("opened") <= 1


def test_same_event_three_times_records_one_edit(box):
    seed(box, "docs/a.txt")
    event = box.put_direct(BUCKET, "docs/b.txt", b"b")
    box.outbox.clear()

    for _ in range(3):
        assert box.deliver([event]) == {"batchItemFailures": []}

    assert len(accepted(box)) == 1
    record = box.runtime.service.store.folders(box.share_arn)[0]
    assert record.edit_count == 1


def in_flight_at(calls, moment: float, duration: float) -> int:
    return sum(1 for call in calls if call.time <= moment < call.time + duration)


def test_edit_burst_respects_gateway_limits(box):
    folders = [f"dept{index % 6}/project{index:03d}" for index in range(120)]
    seed(box, *(f"{folder}/seed.txt" for folder in folders))
    seeded_calls = len(box.gateway.calls)

    for index in range(300):
        box.put_direct(BUCKET, f"{folders[index % 120]}/edit-{index}.bin", b"x" * (index % 7 + 1))
    box.deliver()
    box.run(900)

    calls = box.gateway.calls[seeded_calls:]
    assert calls, "the burst must lead to refreshes"
    assert all(call.outcome == "accepted" for call in calls), [call.message for call in calls]
    times = [call.time for call in calls]
    assert all(later - earlier >= 60 for earlier, later in zip(times, times[1:], strict=False))
    assert max(in_flight_at(calls, moment, box.refresh_seconds) for moment in times) <= 2
    for call in calls:
        assert 1 <= len(call.folder_list) <= 50
        assert all(1 <= len(entry) <= 1024 for entry in call.folder_list)
    for folder in folders:
        assert f"{folder}/edit-0.bin" in paths(box, box.share_arn) or any(
            f"{folder}/edit-{index}.bin" in paths(box, box.share_arn) for index in range(300)
        )
    assert box.drift(box.share_arn) == []
    assert [alert["event"] for alert in box.alerts()] == ["opened", "resolved"]


def test_throttled_refresh_is_deferred_without_incident_failure(box):
    seed(box, "shared/a.txt")
    box.gateway.inject_refresh_failure(throttle=True, count=2)

    box.put_direct(BUCKET, "shared/b.txt", b"b")
    box.deliver()
    box.run(400)

    outcomes = [call.outcome for call in box.gateway.calls]
    assert outcomes.count("rejected-throttle") == 2
    assert outcomes[-1] == "accepted"
    assert "shared/b.txt" in paths(box, box.share_arn)
    assert [alert["event"] for alert in box.alerts()] == ["opened", "resolved"]


def test_refresh_failure_opens_incident_with_bounded_retries(box):
    seed(box, "shared/a.txt")
    message = "Cannot access the S3 bucket sgw-drift-demo-bucket: Access Denied"
    box.gateway.inject_refresh_failure(message=message, count=50)

    box.put_direct(BUCKET, "shared/b.txt", b"b")
    box.deliver()
    box.run(1200)

    failures = [call for call in box.gateway.calls if call.outcome == "rejected-failure"]
    assert len(failures) == box.max_attempts
    failed_alerts = [alert for alert in box.alerts() if alert["event"] == "failed"]
    assert len(failed_alerts) == 1
    assert message in failed_alerts[0]["message"]
    assert box.share_arn in failed_alerts[0]["message"]
    records = box.runtime.service.store.folders(box.share_arn)
    assert [(record.folder, record.status, record.last_error) for record in records] == [
        ("/shared", "failed", message)
    ]
    assert box.runtime.service.store.load_incident(box.share_arn)["status"] == "open"


def test_lost_completion_expires_slot_and_retries(box, caplog):
    seed(box, "logs/a.txt")
    box.gateway.drop_completion()

    box.put_direct(BUCKET, "logs/b.txt", b"b")
    box.deliver()
    box.run(box.slot_timeout_seconds - 60)
    assert len(accepted(box)) == 1
    assert "logs/b.txt" not in paths(box, box.share_arn)

    box.run(300)

    calls = accepted(box)
    assert len(calls) == 2
    assert calls[1].time - calls[0].time >= box.slot_timeout_seconds
    assert calls[1].folder_list == ["/logs"]
    assert "logs/b.txt" in paths(box, box.share_arn)
    assert [alert["event"] for alert in box.alerts()] == ["opened", "resolved"]


def test_key_on_two_shares_refreshes_both():
    with Sandbox() as box:
        box.create_bucket(BUCKET)
        whole = box.add_share(box.add_gateway(), BUCKET)
        projects = box.add_share(box.add_gateway(), BUCKET, "projects/")
        box.start()
        box.put_direct(BUCKET, "projects/alpha/seed.txt", b"s")
        box.deliver()
        box.run(400)
        calls_before = len(box.refresh_calls())

        box.put_direct(BUCKET, "projects/alpha/plan.txt", b"plan")
        box.deliver()
        box.run(120)

        calls = {call.share_arn: call.folder_list for call in box.refresh_calls()[calls_before:]}
        assert calls == {whole: ["/projects/alpha"], projects: ["/alpha"]}
        assert "projects/alpha/plan.txt" in box.gateway.view(whole)
        assert "alpha/plan.txt" in box.gateway.view(projects)


def test_malformed_record_goes_to_dlq_and_others_succeed(box, caplog):
    seed(box, "docs/a.txt")
    good = box.put_direct(BUCKET, "docs/b.txt", b"b")
    box.outbox.clear()
    bad = json.loads(json.dumps(good))
    bad["detail"]["object"]["size"] = "abc"
    bad["detail"]["object"]["sequencer"] = "00FF"

    response = box.deliver([good, bad, "{not json"])

    assert response == {"batchItemFailures": []}
    dead = list(box.dead_letters())
    assert len(dead) == 2
    reasons = [message["MessageAttributes"]["error"]["StringValue"] for message in dead]
    assert any("detail.object.size" in reason and "'abc'" in reason for reason in reasons)
    assert any("invalid JSON" in reason for reason in reasons)
    box.run(120)
    assert "docs/b.txt" in paths(box, box.share_arn)


def test_unuploaded_share_file_is_not_drift(box):
    seed(box, "drafts/a.txt")
    # The gateway shows the file at once and uploads it later: S3 has nothing yet.
    box.gateway.share_view(box.share_arn).put_file("drafts/unsaved.docx", 10, box.clock.now(), None)
    box.put_direct(BUCKET, "drafts/other.txt", b"o")
    box.deliver()

    result = box.runtime.service.verifier.verify_folder(
        box.share(box.share_arn), "/drafts", now=box.clock.now()
    )

    assert [(item.kind.value, item.path) for item in result.differences] == [
        ("missing_on_share", "drafts/other.txt"),
        ("pending_upload", "drafts/unsaved.docx"),
    ]
    assert [item.path for item in result.drift] == ["drafts/other.txt"]
    box.run(120)
    incident = box.runtime.service.store.incident_history(box.share_arn)[0]
    assert "only_on_share" not in incident["counts"]
    assert "drafts/unsaved.docx" not in incident["samples"]


def test_sweep_finds_drift_whose_event_was_lost(box):
    seed(box, "ledger/a.txt")
    box.put_direct(BUCKET, "ledger/b.txt", b"b")
    box.outbox.clear()  # the event never arrives

    box.sweep()
    box.run(120)

    assert [call.folder_list for call in accepted(box)] == [["/ledger"]]
    assert "ledger/b.txt" in paths(box, box.share_arn)
    assert box.drift(box.share_arn) == []


def test_unverified_share_refreshes_on_direct_edits_only():
    with Sandbox(verify_shares=False) as box:
        box.create_bucket(BUCKET)
        share = box.add_share(box.add_gateway(), BUCKET)
        box.start()
        box.write_through(share, "team/a.txt", b"a")
        box.deliver()
        box.run(120)
        assert box.refresh_calls() == []

        box.put_direct(BUCKET, "team/b.txt", b"b")
        box.deliver()
        box.run(120)

        assert [call.folder_list for call in box.refresh_calls()] == [["/team"]]
        assert "team/b.txt" in box.gateway.view(share)
        alerts = box.alerts()
        assert [alert["event"] for alert in alerts] == ["opened", "resolved"]
        assert "unverified" in alerts[0]["message"]
