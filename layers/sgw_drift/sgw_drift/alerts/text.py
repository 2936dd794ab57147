"""Plain-text alerts: the SNS Subject line and the body that e-mail subscribers read.

The body is in the alert's language. The Subject stays in ASCII English in every language,
because SNS requires a Subject of ASCII text without line breaks or control characters, shorter
than 100 characters (Amazon SNS API Reference, Publish, parameter Subject).
"""

from __future__ import annotations

from .content import Content, build_content, one_line
from .model import Alert

SUBJECT_LIMIT = 99  # "less than 100 characters"

SUBJECTS = {
    "opened": "Drift detected",
    "updated": "Drift still open",
    "failed": "Refresh failed",
    "escalated": "ESCALATED, drift unresolved",
    "resolved": "Drift resolved",
}


def subject(alert: Alert) -> str:
    if alert.audit is not None:
        text = f"[sgw-drift] Fleet Manager {alert.audit.operation} on {alert.audit.instance_id}"
    elif alert.incident is not None:
        title = SUBJECTS[alert.event]
        if alert.event == "opened" and alert.incident.unverified:
            title = "Direct edit, share not verifiable"
        text = f"[sgw-drift] {title}: {alert.incident.share_id}"
    else:
        raise ValueError("alert carries neither an incident nor an audit")
    return ascii_line(text)[:SUBJECT_LIMIT]


def ascii_line(text: str) -> str:
    """Replace every character that is not printable ASCII with "?"."""
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)


def body(alert: Alert) -> str:
    return render(build_content(alert))


def render(content: Content) -> str:
    lines = [content.title, "", content.summary, ""]
    lines += [f"{label}: {value}" for label, value in content.fields]
    if content.differences:
        lines += ["", f"{content.labels['differences']}:"]
        lines += [f"  {label}: {count:,}" for label, count in content.differences]
    if content.paths:
        lines += ["", f"{content.paths_heading(len(content.paths))}:"]
        lines += [f"  {path}" for path in content.paths]
        if content.more_paths:
            lines.append(f"  {content.more(content.more_paths)}")
    if content.failures:
        lines += ["", f"{content.labels['failures']}:"]
        lines += [f"  {message}" for message in content.failures]
    if content.drift_after:
        lines += ["", f"{content.labels['drift_after']}: {content.drift_after}"]
    if content.next_steps:
        lines += [""] + content.next_steps
    if content.footer:
        lines.append("")
        lines += [f"{label}: {one_line(value)}" for label, value in content.footer]
    return "\n".join(lines) + "\n"
