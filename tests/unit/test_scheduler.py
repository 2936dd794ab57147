"""The per-gateway refresh scheduler on a moto DynamoDB table and a fake gateway adapter."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from sgw_drift.clock import VirtualClock
from sgw_drift.gateway import RefreshFailed, RefreshThrottled
from sgw_drift.planner import RefreshPlan
from sgw_drift.sandbox.environment import create_state_table
from sgw_drift.scheduler import Failed, NoSlot, RefreshScheduler, Requested, Throttled
from sgw_drift.state import StateStore

GATEWAY = "arn:aws:storagegateway:ap-northeast-1:123456789012:gateway/sgw-12A3456B"
SHARE = "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D"
PLAN = RefreshPlan(("/a",), recursive=False)


class FakeGateway:
    """Fake GatewayAdapter that returns notification ids, or raises the queued errors."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, RefreshPlan]] = []
        self.errors: list[Exception] = []

    def refresh_cache(self, share_arn: str, plan: RefreshPlan) -> str:
        self.calls.append((share_arn, plan))
        if self.errors:
            raise self.errors.pop(0)
        return f"notification-{len(self.calls)}"


@pytest.fixture
def parts():
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="ap-northeast-1")
        create_state_table(dynamodb.meta.client, "state")
        table = dynamodb.Table("state")
        clock = VirtualClock()
        gateway = FakeGateway()
        scheduler = RefreshScheduler(StateStore(table, clock), gateway, clock, slot_timeout=600)
        yield scheduler, gateway, clock


def test_first_request_takes_a_slot(parts):
    scheduler, gateway, _ = parts

    outcome, expired = scheduler.request(GATEWAY, SHARE, PLAN)

    assert isinstance(outcome, Requested)
    assert outcome.slot.notification_id == "notification-1"
    assert expired == []
    assert [slot.notification_id for slot in scheduler.in_flight(GATEWAY)] == ["notification-1"]


def test_second_call_within_60_seconds_waits(parts):
    scheduler, gateway, clock = parts
    scheduler.request(GATEWAY, SHARE, PLAN)
    clock.advance(59)

    outcome, _ = scheduler.request(GATEWAY, SHARE, PLAN)

    assert isinstance(outcome, NoSlot)
    assert outcome.retry_after == pytest.approx(1)
    assert len(gateway.calls) == 1


def test_third_refresh_waits_for_a_free_slot(parts):
    scheduler, gateway, clock = parts
    scheduler.request(GATEWAY, SHARE, PLAN)
    clock.advance(60)
    scheduler.request(GATEWAY, SHARE, PLAN)
    clock.advance(60)

    outcome, _ = scheduler.request(GATEWAY, SHARE, PLAN)

    assert isinstance(outcome, NoSlot)
    assert outcome.reason == "two refreshes in flight"
    assert len(gateway.calls) == 2


def test_completion_frees_its_slot_by_notification_id(parts):
    scheduler, _, clock = parts
    first, _ = scheduler.request(GATEWAY, SHARE, PLAN)
    clock.advance(60)
    scheduler.request(GATEWAY, SHARE, PLAN)

    freed = scheduler.complete(GATEWAY, SHARE, "notification-2")

    assert freed is not None and freed.notification_id == "notification-2"
    assert [slot.notification_id for slot in scheduler.in_flight(GATEWAY)] == [first.slot.notification_id]


def test_completion_without_id_frees_oldest_slot(parts):
    scheduler, _, clock = parts
    scheduler.request(GATEWAY, SHARE, PLAN)
    clock.advance(60)
    scheduler.request(GATEWAY, SHARE, PLAN)

    freed = scheduler.complete(GATEWAY, SHARE, None)

    assert freed.notification_id == "notification-1"


def test_unknown_completion_frees_nothing(parts):
    scheduler, _, _ = parts
    scheduler.request(GATEWAY, SHARE, PLAN)

    assert scheduler.complete(GATEWAY, SHARE, "someone-else") is None
    assert len(scheduler.in_flight(GATEWAY)) == 1


def test_slot_expires_after_timeout(parts):
    scheduler, _, clock = parts
    scheduler.request(GATEWAY, SHARE, PLAN)
    clock.advance(599)
    assert scheduler.expire(GATEWAY) == []

    clock.advance(1)
    expired = scheduler.expire(GATEWAY)

    assert [slot.folders for slot in expired] == [("/a",)]
    assert scheduler.in_flight(GATEWAY) == []


def test_throttled_call_releases_the_slot(parts):
    scheduler, gateway, clock = parts
    gateway.errors.append(RefreshThrottled("Too many requests were sent to the server"))

    outcome, _ = scheduler.request(GATEWAY, SHARE, PLAN)

    assert isinstance(outcome, Throttled)
    assert scheduler.in_flight(GATEWAY) == []
    clock.advance(30)
    assert isinstance(scheduler.request(GATEWAY, SHARE, PLAN)[0], NoSlot)  # the rejected call still counts


def test_failed_call_reports_message_and_code(parts):
    scheduler, gateway, _ = parts
    gateway.errors.append(RefreshFailed("Cannot access bucket", "StorageFailure"))

    outcome, _ = scheduler.request(GATEWAY, SHARE, PLAN)

    assert outcome == Failed("Cannot access bucket", "StorageFailure")
    assert scheduler.in_flight(GATEWAY) == []


def test_gateways_have_separate_slots(parts):
    scheduler, gateway, _ = parts
    other = GATEWAY.replace("sgw-12A3456B", "sgw-99999999")

    assert isinstance(scheduler.request(GATEWAY, SHARE, PLAN)[0], Requested)
    assert isinstance(scheduler.request(other, SHARE, PLAN)[0], Requested)
