"""The structured alert: one model that every message format is rendered from.

`AlertPublisher` builds an `Alert` from an incident record or an audit record and sends it as
JSON to the SNS subscribers that read JSON (Lambda, SQS, HTTP). The Slack notifier parses that
JSON back into an `Alert`, so e-mail, chat and Slack messages all show the same facts. Every
string that comes from outside sgw-drift (object keys, prefixes, error messages, principals) is
stored raw here; each renderer escapes it for its own format.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "sgw-drift/alert/v1"
LANGUAGES = ("en", "ja")

Language = Literal["en", "ja"]
IncidentEvent = Literal["opened", "updated", "failed", "escalated", "resolved"]
AlertEvent = Literal["opened", "updated", "failed", "escalated", "resolved", "audit"]


class _Model(BaseModel):
    # Subscribers may receive messages from a newer sgw-drift: unknown fields are ignored.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class IncidentView(_Model):
    """An incident as the alert shows it: where the share is, what differs, what was done."""

    id: str
    status: Literal["open", "resolved"]
    share_arn: str
    share_id: str
    gateway_arn: str
    bucket: str
    prefix: str = ""
    unverified: bool = False
    opened_at: datetime
    first_edit_at: datetime | None = None
    last_seen_at: datetime | None = None
    resolved_at: datetime | None = None
    escalated_at: datetime | None = None
    open_seconds: int = Field(ge=0)
    staleness_seconds: int | None = None  # resolved time minus first direct edit
    counts: dict[str, int] = Field(default_factory=dict)
    difference_count: int = Field(default=0, ge=0)  # sum of counts: may exceed len(sample_paths)
    sample_paths: list[str] = Field(default_factory=list)
    refresh_notification_ids: list[str] = Field(default_factory=list)
    refresh_count: int = Field(default=0, ge=0)
    failures: list[str] = Field(default_factory=list)

    @property
    def more_paths(self) -> int:
        """Differences that the sample paths do not show."""
        return max(self.difference_count - len(self.sample_paths), 0)


class AuditView(_Model):
    """A file operation made through Systems Manager Fleet Manager on a share's mount host."""

    operation: str
    document: str
    instance_id: str
    principal: str | None = None
    session: str | None = None
    event_time: str | None = None
    share_arn: str | None = None
    paths: list[str] = Field(default_factory=list)
    drift: Any = None  # drift found after the operation: a count per kind, a list of paths or a text


class Alert(_Model):
    """The structured JSON message that Lambda, SQS and HTTP subscribers of the alert topic receive."""

    schema_: Literal["sgw-drift/alert/v1"] = Field(default=SCHEMA, alias="schema")
    kind: Literal["incident", "audit"]
    event: AlertEvent
    language: Language = "en"
    sent_at: datetime
    incident: IncidentView | None = None
    audit: AuditView | None = None

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=False)


def _time(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def incident_alert(incident: dict, event: IncidentEvent, *, language: Language, now: float) -> Alert:
    """Build the alert for an incident record (the dict that `Incidents` stores)."""
    counts = {kind: int(count) for kind, count in incident.get("counts", {}).items()}
    first_edit = incident.get("first_edit_at")
    resolved = incident.get("resolved_at")
    refreshes = list(incident.get("refreshes", []))
    view = IncidentView(
        id=incident["id"],
        status="resolved" if incident.get("status") == "resolved" else "open",
        share_arn=incident["share_arn"],
        share_id=incident["share_id"],
        gateway_arn=incident["gateway_arn"],
        bucket=incident["bucket"],
        prefix=incident.get("prefix", ""),
        unverified=bool(incident.get("unverified")),
        opened_at=_time(incident["opened_at"]),
        first_edit_at=_time(first_edit),
        last_seen_at=_time(incident.get("last_seen")),
        resolved_at=_time(resolved),
        escalated_at=_time(incident.get("escalated_at")),
        open_seconds=max(int((resolved or now) - incident["opened_at"]), 0),
        staleness_seconds=round(resolved - first_edit) if resolved and first_edit else None,
        counts=counts,
        difference_count=sum(counts.values()),
        sample_paths=list(incident.get("samples", [])),
        refresh_notification_ids=refreshes,
        refresh_count=len(refreshes),
        failures=list(incident.get("failures", [])),
    )
    return Alert(kind="incident", event=event, language=language, sent_at=_time(now), incident=view)


def audit_alert(audit: dict, *, language: Language, now: float) -> Alert:
    """Build the alert for a Fleet Manager audit record."""
    view = AuditView(
        operation=str(audit["operation"]),
        document=str(audit["document"]),
        instance_id=str(audit["instance_id"]),
        principal=_optional_text(audit.get("principal")),
        session=_optional_text(audit.get("session")),
        event_time=_optional_text(audit.get("event_time")),
        share_arn=_optional_text(audit.get("share_arn")),
        paths=[str(path) for path in audit.get("paths") or []],
        drift=audit.get("drift"),
    )
    return Alert(kind="audit", event="audit", language=language, sent_at=_time(now), audit=view)


def _optional_text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
