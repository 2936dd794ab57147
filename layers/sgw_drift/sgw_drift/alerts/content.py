"""The text of an alert in one language, before any format is applied.

`build_content` turns an `Alert` into titled, labelled text. The e-mail, chat and Slack
renderers only lay this text out and escape it for their format, so all of them carry the same
facts. Text from outside sgw-drift goes through `one_line` here, so no key or error message can
start a new line in any format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalogue import MESSAGES, Catalogue
from .model import Alert, AuditView, IncidentView


@dataclass
class Content:
    """The parts of one alert message, each a plain string in the alert's language."""

    title: str
    summary: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    differences: list[tuple[str, int]] = field(default_factory=list)
    paths_template: str = ""  # heading of the path list, with {shown} and {total} placeholders
    paths_total: int = 0
    paths: list[str] = field(default_factory=list)
    more_paths: int = 0  # differences not among `paths`
    more_template: str = "{count}"  # the "and {count} more" text of the alert's language
    failures: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    footer: list[tuple[str, str]] = field(default_factory=list)
    drift_after: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # section headings: differences, failures, ...

    def paths_heading(self, shown: int) -> str:
        """Heading of a path list that shows `shown` of the paths."""
        return self.paths_template.format(shown=f"{shown:,}", total=f"{self.paths_total:,}")

    def more(self, count: int) -> str:
        """The "and N more" line for `count` paths that a message leaves out."""
        return self.more_template.format(count=f"{count:,}")


def one_line(text: Any) -> str:
    """Render untrusted text on one line: control and format characters become escapes.

    Line breaks, tabs and bidirectional overrides in an object key would otherwise let the key
    forge lines or reorder text in a message.
    """
    text = str(text)
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, keeping both ends around an ellipsis."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    tail = limit - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]


def build_content(alert: Alert) -> Content:
    catalogue = Catalogue(alert.language)
    if alert.incident is not None:
        content = _incident_content(alert, alert.incident, catalogue)
    elif alert.audit is not None:
        content = _audit_content(alert.audit, catalogue)
    else:
        raise ValueError(f"alert of kind {alert.kind!r} carries neither an incident nor an audit")
    content.more_template = MESSAGES[alert.language]["value.more_paths"]
    content.labels = {
        "differences": catalogue("label.differences"),
        "failures": catalogue("label.failures"),
        "drift_after": catalogue("label.drift_after"),
        "next_steps": catalogue("label.next_steps"),
    }
    return content


def _incident_content(alert: Alert, incident: IncidentView, t: Catalogue) -> Content:
    share = incident.share_id
    variant = ".unverified" if alert.event == "opened" and incident.unverified else ""
    duration = t.duration(incident.open_seconds)
    content = Content(
        title=t(f"title.{alert.event}{variant}", share=share, duration=duration),
        summary=t(f"summary.{alert.event}{variant}", duration=duration),
    )

    location = f"s3://{incident.bucket}/{incident.prefix}"
    content.fields = [
        (t("label.share"), incident.share_arn),
        (t("label.gateway"), incident.gateway_arn),
        (t("label.location"), one_line(location)),
        (t("label.first_edit"), t.time(incident.first_edit_at)),
        (t("label.last_seen"), t.time(incident.last_seen_at)),
        (t("label.opened"), t.time(incident.opened_at)),
    ]
    if incident.unverified:
        content.fields.append((t("label.mode"), t("value.unverified")))
    if incident.escalated_at is not None:
        content.fields.append((t("label.escalated"), t.time(incident.escalated_at)))
    if alert.event == "resolved":
        content.fields.append((t("label.resolved"), t.time(incident.resolved_at)))
        content.fields.append((t("label.stale_for"), t.duration(incident.staleness_seconds)))
    else:
        content.fields.append((t("label.open_for"), duration))

    content.differences = [(t.kind(kind), count) for kind, count in sorted(incident.counts.items())]
    content.paths = [one_line(path) for path in incident.sample_paths]
    content.paths_total = max(incident.difference_count, len(incident.sample_paths))
    content.paths_template = MESSAGES[t.language]["label.paths"]
    content.more_paths = incident.more_paths
    content.failures = [one_line(message) for message in incident.failures]

    next_key = {"opened": f"next.opened{variant}", "failed": "next.failed", "escalated": "next.escalated"}
    if alert.event in next_key:
        content.next_steps.append(t(next_key[alert.event]))

    content.footer = [(t("label.incident"), incident.id)]
    if incident.refresh_count:
        content.footer.append(
            (t("label.refreshes"), t("value.refresh_count", count=t.number(incident.refresh_count)))
        )
        content.footer.append(
            (t("label.notification_ids"), ", ".join(incident.refresh_notification_ids[-5:]))
        )
    return content


def _audit_content(audit: AuditView, t: Catalogue) -> Content:
    none = t("value.none")
    content = Content(
        title=t("title.audit", operation=one_line(audit.operation), instance=one_line(audit.instance_id)),
        summary=t("summary.audit"),
        fields=[
            (t("label.operation"), one_line(audit.document)),
            (t("label.principal"), one_line(audit.principal or none)),
            (t("label.session"), one_line(audit.session or none)),
            (t("label.event_time"), one_line(audit.event_time or none)),
            (t("label.instance"), one_line(audit.instance_id)),
            (t("label.share"), one_line(audit.share_arn or none)),
        ],
        next_steps=[t("next.audit")],
    )
    content.paths = [one_line(path) for path in audit.paths]
    content.paths_template = MESSAGES[t.language]["label.audit_paths"]
    content.paths_total = len(content.paths)
    if not content.paths:
        content.fields.append((t("label.audit_paths"), t("value.unknown_path")))
    if audit.drift:
        content.drift_after = _describe_drift(audit.drift, t)
    return content


def _describe_drift(drift: Any, t: Catalogue) -> str:
    """Describe the drift an audit reports: counts per kind, a list of paths, or a text."""
    if isinstance(drift, dict):
        return ", ".join(f"{t.kind(str(kind))}: {one_line(count)}" for kind, count in sorted(drift.items()))
    if isinstance(drift, list | tuple):
        return ", ".join(one_line(item) for item in drift)
    return one_line(drift)
