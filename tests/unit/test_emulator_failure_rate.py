"""Random RefreshCache rejections of the file gateway emulator, used by the benchmarks and the chaos run."""

from __future__ import annotations

import contextlib

import boto3
import pytest
from moto import mock_aws

from sgw_drift.clock import VirtualClock
from sgw_drift.emulator import FileGatewayEmulator, RefreshOutcome

REGION = "ap-northeast-1"
BUCKET = "rate-bucket"


@pytest.fixture
def gateway(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        clock = VirtualClock()
        emulator = FileGatewayEmulator(s3, clock, refresh_seconds=1.0)
        share = emulator.add_share(emulator.add_gateway(), BUCKET)
        yield emulator, clock, share


def call_many(emulator, clock, share, count: int) -> list[RefreshOutcome]:
    client = emulator.client()
    for _ in range(count):
        clock.advance(61)  # past the spacing and the refresh time, so only injected rejections happen
        emulator.tick()
        with contextlib.suppress(client.exceptions.InvalidGatewayRequestException):
            client.refresh_cache(FileShareARN=share, FolderList=["/"], Recursive=False)
    return [call.outcome for call in emulator.calls]


def test_failure_rate_rejects_about_that_share(gateway):
    emulator, clock, share = gateway
    emulator.inject_refresh_failure_rate(1 / 3, seed=5)

    outcomes = call_many(emulator, clock, share, 300)

    rejected = outcomes.count(RefreshOutcome.REJECTED_THROTTLE)
    assert 70 <= rejected <= 130
    assert outcomes.count(RefreshOutcome.ACCEPTED) == 300 - rejected


def test_failure_rate_is_repeatable_for_a_seed(gateway):
    emulator, clock, share = gateway
    emulator.inject_refresh_failure_rate(0.5, seed=11)
    first = call_many(emulator, clock, share, 40)

    emulator.calls.clear()
    emulator.inject_refresh_failure_rate(0.5, seed=11)
    second = call_many(emulator, clock, share, 40)

    assert first == second


def test_failure_rate_can_reject_as_failures_and_be_turned_off(gateway):
    emulator, clock, share = gateway
    emulator.inject_refresh_failure_rate(1.0, throttle=False)
    assert call_many(emulator, clock, share, 3) == [RefreshOutcome.REJECTED_FAILURE] * 3

    emulator.inject_refresh_failure_rate(0)
    assert call_many(emulator, clock, share, 1)[-1] == RefreshOutcome.ACCEPTED


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_failure_rate_outside_0_to_1_raises(gateway, rate):
    emulator, _, _ = gateway
    with pytest.raises(ValueError, match="between 0 and 1"):
        emulator.inject_refresh_failure_rate(rate)
