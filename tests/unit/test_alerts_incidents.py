"""Incident lifecycle on a moto DynamoDB table: open once, rate-limited updates, escalation, resolve once."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from sgw_drift.clock import VirtualClock
from sgw_drift.incidents import IncidentConflict, Incidents
from sgw_drift.sandbox.environment import create_state_table
from sgw_drift.shares import Share
from sgw_drift.state import StateStore

SHARE = Share(
    arn="arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D",
    gateway_arn="arn:aws:storagegateway:ap-northeast-1:123456789012:gateway/sgw-12A3456B",
    bucket="bucket",
    prefix="",
    protocol="NFS",
)


class RecordingPublisher:
    """Stands in for AlertPublisher and keeps (event, incident snapshot) pairs."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict]] = []

    def publish(self, incident: dict, event: str) -> str:
        self.messages.append((event, {**incident, "counts": dict(incident["counts"])}))
        return f"message-{len(self.messages)}"

    @property
    def events(self) -> list[str]:
        return [event for event, _ in self.messages]


@pytest.fixture
def store():
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-1")
        create_state_table(dynamodb.meta.client, "state")
        table = dynamodb.Table("state")
        yield StateStore(table, VirtualClock())


@pytest.fixture
def clock(store):
    return store.clock


@pytest.fixture
def publisher():
    return RecordingPublisher()


@pytest.fixture
def incidents(store, publisher, clock):
    return Incidents(
        store, publisher, clock, max_samples=3, escalation_seconds=3600, update_interval_seconds=300
    )


def drift(incidents: Incidents, *paths: str, kind: str = "missing_on_share") -> dict:
    return incidents.record_drift(SHARE, {kind: len(paths)}, paths, incidents.clock.now() - 10)


def test_first_drift_opens_with_one_message(incidents, publisher):
    incident = drift(incidents, "a.txt", "b.txt")

    assert publisher.events == ["opened"]
    assert incident["counts"] == {"missing_on_share": 2}
    assert incident["samples"] == ["a.txt", "b.txt"]
    assert incident["unverified"] is False


def test_unverified_edit_opens_marked(incidents, publisher):
    incidents.record_drift(SHARE, {"unverified_edit": 1}, ["x.txt"], incidents.clock.now(), unverified=True)

    ((event, incident),) = publisher.messages
    assert event == "opened"
    assert incident["unverified"] is True


def test_open_incident_aggregates_counts_samples_and_times(incidents, store, clock):
    drift(incidents, "a.txt")
    clock.advance(30)
    drift(incidents, "b.txt", "c.txt", kind="size_differs")
    clock.advance(30)
    drift(incidents, "d.txt", "e.txt")
    incidents.record_refresh(SHARE, "notification-1")
    incidents.record_refresh(SHARE, "notification-2")

    incident = store.load_incident(SHARE.arn)

    assert incident["counts"] == {"missing_on_share": 3, "size_differs": 2}
    assert incident["samples"] == ["a.txt", "b.txt", "c.txt"]  # max_samples=3
    assert incident["first_edit_at"] == incident["opened_at"] - 10
    assert incident["last_seen"] == incident["opened_at"] + 60
    assert incident["refreshes"] == ["notification-1", "notification-2"]


def test_updates_are_rate_limited_then_sent_by_review(incidents, publisher, clock):
    drift(incidents, "a.txt")
    clock.advance(60)
    drift(incidents, "b.txt")
    clock.advance(60)
    drift(incidents, "c.txt")

    assert publisher.events == ["opened"]
    assert incidents.review(SHARE) is None  # only 120 s since "opened"

    clock.advance(180)
    assert incidents.review(SHARE) == "updated"
    assert incidents.review(SHARE) is None  # nothing pending any more
    assert publisher.events == ["opened", "updated"]
    assert publisher.messages[-1][1]["counts"] == {"missing_on_share": 3}


def test_update_after_interval_is_sent_at_once(incidents, publisher, clock):
    drift(incidents, "a.txt")
    clock.advance(301)

    drift(incidents, "b.txt")

    assert publisher.events == ["opened", "updated"]


def test_failure_update_outranks_plain_update(incidents, publisher, clock):
    drift(incidents, "a.txt")
    clock.advance(10)
    incidents.record_failure(SHARE, "Cannot access the S3 bucket", clock.now())
    clock.advance(10)
    drift(incidents, "b.txt")
    incidents.record_failure(SHARE, "Cannot access the S3 bucket", clock.now())  # same text: no new change

    clock.advance(300)
    assert incidents.review(SHARE) == "failed"
    assert publisher.events == ["opened", "failed"]
    assert publisher.messages[-1][1]["failures"] == ["Cannot access the S3 bucket"]


def test_failure_opening_incident_is_in_opened_message(incidents, publisher, clock):
    incidents.record_failure(SHARE, "InvalidGatewayRequestException: gateway is offline", clock.now())

    ((event, incident),) = publisher.messages
    assert event == "opened"
    assert incident["failures"] == ["InvalidGatewayRequestException: gateway is offline"]


def test_escalates_once_after_configured_time(incidents, publisher, clock):
    drift(incidents, "a.txt")

    clock.advance(3599)
    assert incidents.review(SHARE) is None
    clock.advance(1)
    assert incidents.review(SHARE) == "escalated"
    clock.advance(7200)
    assert incidents.review(SHARE) is None

    assert publisher.events == ["opened", "escalated"]
    assert publisher.messages[-1][1]["escalated_at"] == publisher.messages[0][1]["opened_at"] + 3600


def test_escalation_carries_pending_update(incidents, publisher, clock):
    drift(incidents, "a.txt")
    clock.advance(3400)
    drift(incidents, "b.txt")  # sent at once: the last message is older than the interval
    clock.advance(100)
    drift(incidents, "c.txt")  # held back: the last message is 100 s old
    clock.advance(100)

    assert incidents.review(SHARE) == "escalated"
    assert incidents.review(SHARE) is None  # the escalation message carried the pending change

    assert publisher.events == ["opened", "updated", "escalated"]
    assert publisher.messages[-1][1]["samples"] == ["a.txt", "b.txt", "c.txt"]


def test_resolves_once_when_no_folder_left(incidents, publisher, store, clock):
    drift(incidents, "a.txt")
    clock.advance(90)

    first = incidents.resolve(SHARE)
    second = incidents.resolve(SHARE)

    assert first is not None and first["status"] == "resolved"
    assert second is None
    assert publisher.events == ["opened", "resolved"]
    assert store.load_incident(SHARE.arn) is None
    (history,) = store.incident_history(SHARE.arn)
    assert history["resolved_at"] == history["opened_at"] + 90


def test_not_resolved_while_folders_remain(incidents, publisher, store):
    drift(incidents, "a.txt")
    store.mark_dirty(SHARE.arn, "/", relative_key="a.txt", deleted=False, unverified=False)

    assert incidents.resolve(SHARE) is None
    assert publisher.events == ["opened"]


def test_pending_update_dropped_when_resolved(incidents, publisher, clock):
    drift(incidents, "a.txt")
    clock.advance(10)
    drift(incidents, "b.txt")

    incidents.resolve(SHARE)
    clock.advance(600)

    assert incidents.review(SHARE) is None
    assert publisher.events == ["opened", "resolved"]


def test_new_incident_after_resolution(incidents, publisher, clock):
    first = drift(incidents, "a.txt")
    incidents.resolve(SHARE)
    clock.advance(60)

    second = drift(incidents, "b.txt")

    assert second["id"] != first["id"]
    assert publisher.events == ["opened", "resolved", "opened"]


class RacingStore(StateStore):
    """A store where another function writes the incident just before this one's first write."""

    def __init__(self, inner: StateStore, rival: Incidents) -> None:
        super().__init__(inner.table, inner.clock)
        self.rival = rival
        self.raced = False

    def save_incident(self, share_arn, incident, *, expected_version):
        if not self.raced:
            self.raced = True
            self.rival.record_drift(SHARE, {"only_on_share": 1}, ["rival.txt"], self.clock.now())
        return super().save_incident(share_arn, incident, expected_version=expected_version)


def test_concurrent_open_sends_one_opened(store, clock):
    rival_publisher, publisher = RecordingPublisher(), RecordingPublisher()
    rival = Incidents(store, rival_publisher, clock)
    incidents = Incidents(RacingStore(store, rival), publisher, clock)

    incident = drift(incidents, "mine.txt")

    assert rival_publisher.events == ["opened"]
    assert publisher.events == []  # the change joined the rival's incident, within the update interval
    assert incident["counts"] == {"only_on_share": 1, "missing_on_share": 1}
    assert store.load_incident(SHARE.arn)["samples"] == ["rival.txt", "mine.txt"]


class AlwaysConflictingStore(StateStore):
    def save_incident(self, share_arn, incident, *, expected_version):
        return False


def test_endless_conflict_raises(store, clock):
    incidents = Incidents(AlwaysConflictingStore(store.table, clock), RecordingPublisher(), clock)

    with pytest.raises(IncidentConflict, match="changed during 5 attempts"):
        drift(incidents, "a.txt")


def test_incident_written_before_versions_still_updates(store, incidents, publisher, clock):
    drift(incidents, "a.txt")
    item = store.table.get_item(Key={"pk": f"SHARE#{SHARE.arn}", "sk": "INCIDENT"})["Item"]
    del item["version"]
    store.table.put_item(Item=item)
    clock.advance(400)

    drift(incidents, "b.txt")

    assert publisher.events == ["opened", "updated"]
    assert store.load_incident(SHARE.arn)["version"] == 1
