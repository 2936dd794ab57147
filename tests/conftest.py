"""Shared test set-up: fake AWS credentials, quiet Powertools, and one loader for events/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

EVENTS = Path(__file__).resolve().parents[1] / "events"

# Set before any test module imports boto3 or Powertools: nothing may reach a real account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "SgwDrift",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_PROFILE", None)


def load_event(name: str) -> dict:
    """Load a canonical event from events/ (the files `sam local invoke` uses)."""
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def event_files() -> list[str]:
    return sorted(path.name for path in EVENTS.glob("*.json"))


@pytest.fixture
def sandbox():
    from sgw_drift.sandbox import Sandbox

    with Sandbox() as box:
        yield box
