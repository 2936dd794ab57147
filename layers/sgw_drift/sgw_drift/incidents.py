"""Incidents: one open incident per share, opened on confirmed drift and resolved when clean."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from aws_lambda_powertools.metrics import MetricUnit

from .alerts.publisher import AlertPublisher
from .clock import Clock
from .observability import logger, metrics
from .shares import Share
from .state import StateStore

MAX_SAMPLES = 10
MAX_FAILURES = 5


class Incidents:
    def __init__(self, store: StateStore, publisher: AlertPublisher, clock: Clock, *, max_samples: int = MAX_SAMPLES) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.max_samples = max_samples

    def record_drift(
        self, share: Share, counts: dict[str, int], paths: Iterable[str], first_edit_at: float, *, unverified: bool = False
    ) -> dict:
        """Open the share's incident (one message) or add to the open one."""
        incident, opened = self._open(share, first_edit_at, unverified=unverified)
        for kind, count in counts.items():
            incident["counts"][kind] = incident["counts"].get(kind, 0) + count
        for path in paths:
            if len(incident["samples"]) >= self.max_samples:
                break
            if path not in incident["samples"]:
                incident["samples"].append(path)
        incident["last_seen"] = self.clock.now()
        self.store.save_incident(share.arn, incident)
        if opened:
            self.publisher.publish(incident, "opened")
        return incident

    def record_failure(self, share: Share, message: str, first_edit_at: float) -> dict:
        """Record a rejected refresh; a new message text is published once per incident."""
        incident, opened = self._open(share, first_edit_at, unverified=False)
        new_message = message not in incident["failures"]
        if new_message and len(incident["failures"]) < MAX_FAILURES:
            incident["failures"].append(message)
        self.store.save_incident(share.arn, incident)
        if opened:
            self.publisher.publish(incident, "opened")
        if new_message:
            self.publisher.publish(incident, "failed")
        return incident

    def record_refresh(self, share: Share, notification_id: str) -> None:
        incident = self.store.load_incident(share.arn)
        if incident is None:
            return
        incident["refreshes"].append(notification_id)
        self.store.save_incident(share.arn, incident)

    def resolve(self, share: Share) -> dict | None:
        """Resolve the open incident when no folder of the share is left to fix."""
        incident = self.store.load_incident(share.arn)
        if incident is None or self.store.folders(share.arn):
            return None
        now = self.clock.now()
        incident["status"] = "resolved"
        incident["resolved_at"] = now
        self.store.close_incident(share.arn, incident)
        staleness = now - incident["first_edit_at"]
        metrics.add_metric(name="StalenessSeconds", unit=MetricUnit.Seconds, value=staleness)
        logger.info("incident resolved", incident_id=incident["id"], share_arn=share.arn, staleness_seconds=round(staleness))
        self.publisher.publish(incident, "resolved")
        return incident

    def _open(self, share: Share, first_edit_at: float, *, unverified: bool) -> tuple[dict, bool]:
        incident = self.store.load_incident(share.arn)
        if incident is not None:
            incident["first_edit_at"] = min(incident["first_edit_at"], first_edit_at)
            return incident, False
        now = self.clock.now()
        incident = {
            "id": uuid.uuid4().hex[:12],
            "status": "open",
            "share_arn": share.arn,
            "share_id": share.short_id,
            "gateway_arn": share.gateway_arn,
            "bucket": share.bucket,
            "prefix": share.prefix,
            "opened_at": now,
            "first_edit_at": min(first_edit_at, now),
            "last_seen": now,
            "unverified": unverified,
            "counts": {},
            "samples": [],
            "failures": [],
            "refreshes": [],
        }
        logger.info("incident opened", incident_id=incident["id"], share_arn=share.arn, unverified=unverified)
        return incident, True
