"""Incidents: one open incident per share, from the first confirmed drift until it is fixed.

An incident opens on confirmed drift, or on a direct edit of a share that cannot be verified
(marked `unverified`). While open it aggregates the counts per drift kind, the first and last
time drift was seen, up to `max_samples` sample paths and the refresh notification ids. It is
resolved when a refresh has completed and re-verification finds nothing left to fix.

Messages: one "opened" and one "resolved" per incident. Changes in between ("updated", or
"failed" when the gateway rejects a refresh) are sent at most once per `update_interval`; a
change that arrives sooner is kept as pending and sent by the drain tick (`review`) once the
interval has passed. An incident still open `escalation_seconds` after it opened is escalated
once by the drain tick.

Each change is a conditional write on the incident's version, so two functions that change
the same incident at once cannot both open it or both resolve it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from aws_lambda_powertools.metrics import MetricUnit

from .alerts.publisher import AlertPublisher
from .clock import Clock
from .observability import logger, metrics
from .shares import Share
from .state import StateStore

MAX_SAMPLES = 10
MAX_FAILURES = 5
ESCALATION_SECONDS = 3600
UPDATE_INTERVAL_SECONDS = 300
WRITE_ATTEMPTS = 5


class IncidentConflict(RuntimeError):
    """The incident changed under every attempt to write it."""


class Incidents:
    def __init__(
        self,
        store: StateStore,
        publisher: AlertPublisher,
        clock: Clock,
        *,
        max_samples: int = MAX_SAMPLES,
        escalation_seconds: int = ESCALATION_SECONDS,
        update_interval_seconds: int = UPDATE_INTERVAL_SECONDS,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.max_samples = max_samples
        self.escalation_seconds = escalation_seconds
        self.update_interval_seconds = update_interval_seconds

    # Changes ---------------------------------------------------------------------------------------

    def record_drift(
        self,
        share: Share,
        counts: dict[str, int],
        paths: Iterable[str],
        first_edit_at: float,
        *,
        unverified: bool = False,
    ) -> dict:
        """Open the share's incident (one message) or add the differences to the open one."""
        paths = list(paths)

        def add(incident: dict) -> str | None:
            for kind, count in counts.items():
                incident["counts"][kind] = incident["counts"].get(kind, 0) + count
            for path in paths:
                if len(incident["samples"]) >= self.max_samples:
                    break
                if path not in incident["samples"]:
                    incident["samples"].append(path)
            incident["last_seen"] = self.clock.now()
            return "updated" if counts else None

        return self._change(share, first_edit_at, unverified=unverified, change=add)

    def record_failure(self, share: Share, message: str, first_edit_at: float) -> dict:
        """Record a rejected refresh; a message text not seen before is reported as "failed"."""

        def add(incident: dict) -> str | None:
            if message in incident["failures"]:
                return None
            if len(incident["failures"]) < MAX_FAILURES:
                incident["failures"].append(message)
            return "failed"

        return self._change(share, first_edit_at, unverified=False, change=add)

    def record_refresh(self, share: Share, notification_id: str) -> None:
        """Add a refresh notification id to the open incident, without a message."""
        for _ in range(WRITE_ATTEMPTS):
            incident = self.store.load_incident(share.arn)
            if incident is None:
                return
            incident["refreshes"].append(notification_id)
            if self.store.save_incident(share.arn, incident, expected_version=incident.get("version", 0)):
                return
        raise IncidentConflict(
            f"incident of {share.arn} changed during {WRITE_ATTEMPTS} attempts to add a refresh"
        )

    def resolve(self, share: Share) -> dict | None:
        """Resolve the open incident when no folder of the share is left to fix."""
        incident = self.store.load_incident(share.arn)
        if incident is None or self.store.folders(share.arn):
            return None
        now = self.clock.now()
        incident["status"] = "resolved"
        incident["resolved_at"] = now
        incident["pending"] = None
        if not self.store.close_incident(share.arn, incident, expected_version=incident.get("version", 0)):
            logger.info(
                "incident changed while resolving, the next tick checks it again", share_arn=share.arn
            )
            return None
        staleness = now - incident["first_edit_at"]
        metrics.add_metric(name="StalenessSeconds", unit=MetricUnit.Seconds, value=staleness)
        logger.info(
            "incident resolved",
            incident_id=incident["id"],
            share_arn=share.arn,
            staleness_seconds=round(staleness),
        )
        self.publisher.publish(incident, "resolved")
        return incident

    def review(self, share: Share) -> str | None:
        """Escalate an incident open too long, or send its pending update; return the event sent."""
        incident = self.store.load_incident(share.arn)
        if incident is None:
            return None
        now = self.clock.now()
        if incident.get("escalated_at") is None and now - incident["opened_at"] >= self.escalation_seconds:
            event = "escalated"
            incident["escalated_at"] = now
        elif incident.get("pending") and now - self._last_message(incident) >= self.update_interval_seconds:
            event = incident["pending"]
        else:
            return None
        incident["pending"] = None
        incident["last_message_at"] = now
        if not self.store.save_incident(share.arn, incident, expected_version=incident.get("version", 0)):
            logger.info(
                "incident changed while reviewing, the next tick reviews it again", share_arn=share.arn
            )
            return None
        if event == "escalated":
            metrics.add_metric(name="IncidentsEscalated", unit=MetricUnit.Count, value=1)
            logger.warning(
                "incident escalated",
                incident_id=incident["id"],
                share_arn=share.arn,
                open_seconds=round(now - incident["opened_at"]),
            )
        self.publisher.publish(incident, event)
        return event

    # Internals -------------------------------------------------------------------------------------

    def _change(
        self, share: Share, first_edit_at: float, *, unverified: bool, change: Callable[[dict], str | None]
    ) -> dict:
        """Apply `change` to the open incident (opening one if needed) and send what is due."""
        for _ in range(WRITE_ATTEMPTS):
            now = self.clock.now()
            stored = self.store.load_incident(share.arn)
            if stored is None:
                incident, version = self._new(share, first_edit_at, now, unverified=unverified), None
            else:
                incident, version = stored, stored.get("version", 0)
                incident["first_edit_at"] = min(incident["first_edit_at"], first_edit_at)
            update = change(incident)
            event = "opened" if stored is None else self._due(incident, update, now)
            if event is not None:
                incident["pending"] = None
                incident["last_message_at"] = now
            if self.store.save_incident(share.arn, incident, expected_version=version):
                break
        else:
            raise IncidentConflict(
                f"incident of {share.arn} changed during {WRITE_ATTEMPTS} attempts to update it"
            )

        if stored is None:
            logger.info(
                "incident opened", incident_id=incident["id"], share_arn=share.arn, unverified=unverified
            )
        elif update is not None and event is None:
            logger.info(
                "incident update held back by the rate limit",
                incident_id=incident["id"],
                share_arn=share.arn,
                pending=incident["pending"],
            )
        if event is not None:
            # NOTE: the message is sent after the write, so an SNS failure here loses this one message
            # (botocore retries it first); the incident record itself stays correct.
            self.publisher.publish(incident, event)
        return incident

    def _due(self, incident: dict, update: str | None, now: float) -> str | None:
        """Return the update to send now, or keep it pending when the last message is too recent."""
        if update is None:
            return None
        pending = "failed" if "failed" in (update, incident.get("pending")) else "updated"
        if now - self._last_message(incident) >= self.update_interval_seconds:
            return pending
        incident["pending"] = pending
        return None

    @staticmethod
    def _last_message(incident: dict) -> float:
        return incident.get("last_message_at") or incident["opened_at"]

    @staticmethod
    def _new(share: Share, first_edit_at: float, now: float, *, unverified: bool) -> dict:
        return {
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
            "escalated_at": None,
            "last_message_at": now,
            "pending": None,
        }
