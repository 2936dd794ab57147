"""Plain-text alert messages (email and any SNS subscriber that reads text).

Object keys are untrusted: they are printed with `repr`-style escaping of control characters so a
key cannot forge extra lines in an alert.
"""

from __future__ import annotations

from datetime import UTC, datetime

SUBJECT_LIMIT = 100  # SNS Subject: at most 100 ASCII printable characters (SNS Publish API reference)

KIND_LABELS = {
    "missing_on_share": "in the bucket, not on the share",
    "only_on_share": "on the share, gone from the bucket",
    "size_differs": "size differs",
    "stale_content": "changed in the bucket, old content on the share",
    "unrepresentable": "key the share cannot show",
    "unverified_edit": "direct edit (share not verifiable)",
}


def _time(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def safe_path(path: str) -> str:
    """Render an untrusted path on one line: control characters become escapes."""
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in path)


def subject(incident: dict, event: str) -> str:
    title = {"opened": "Drift detected", "resolved": "Drift resolved", "failed": "Refresh failed"}[event]
    text = f"[sgw-drift] {title}: {incident['share_id']}"
    printable = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return printable[:SUBJECT_LIMIT]


def body(incident: dict, event: str) -> str:
    lines = [
        {
            "opened": "sgw-drift found that a file share does not show what its bucket holds.",
            "resolved": "The file share shows what its bucket holds again.",
            "failed": "The gateway rejected a cache refresh, so the share may stay out of date.",
        }[event],
        "",
        f"Share:    {incident['share_arn']}",
        f"Gateway:  {incident['gateway_arn']}",
        f"Location: s3://{incident['bucket']}/{safe_path(incident['prefix'])}",
        f"First direct edit: {_time(incident.get('first_edit_at'))}",
        f"Opened:   {_time(incident.get('opened_at'))}",
    ]
    if incident.get("unverified"):
        lines.append("Mode:     unverified (no share listing available; based on S3 events alone)")
    if event == "resolved":
        lines.append(f"Resolved: {_time(incident.get('resolved_at'))}")
        if incident.get("first_edit_at") and incident.get("resolved_at"):
            lines.append(f"Stale for: {round(incident['resolved_at'] - incident['first_edit_at'])} s")
    counts = incident.get("counts", {})
    if counts:
        lines += ["", "Differences:"]
        lines += [f"  {KIND_LABELS.get(kind, kind)}: {count}" for kind, count in sorted(counts.items())]
    samples = incident.get("samples", [])
    if samples:
        lines += ["", "Paths (sample):"]
        lines += [f"  {safe_path(path)}" for path in samples]
    if incident.get("failures"):
        lines += ["", "Refresh errors:"]
        lines += [f"  {safe_path(message)}" for message in incident["failures"]]
    if incident.get("refreshes"):
        lines += ["", f"Refreshes requested: {len(incident['refreshes'])} (notification ids: {', '.join(incident['refreshes'][-5:])})"]
    return "\n".join(lines) + "\n"


def audit_subject(audit: dict) -> str:
    text = f"[sgw-drift] Fleet Manager {audit['operation']} on {audit['instance_id']}"
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)[:SUBJECT_LIMIT]


def audit_body(audit: dict) -> str:
    """Describe a file operation made through Fleet Manager on a share's mount host."""
    lines = [
        "A file on a watched share was changed through Systems Manager Fleet Manager.",
        "",
        f"Operation: {audit['document']}",
        f"Who:       {audit.get('principal', '-')} (session {audit.get('session', '-')})",
        f"When:      {audit.get('event_time', '-')}",
        f"Instance:  {audit['instance_id']}",
        f"Share:     {audit.get('share_arn') or '-'}",
    ]
    paths = audit.get("paths") or []
    if paths:
        lines += ["Paths:"] + [f"  {safe_path(path)}" for path in paths]
    else:
        lines.append("Paths:     path unknown (the command's parameters could not be read)")
    if audit.get("drift"):
        lines += ["", f"Drift found after the operation: {audit['drift']}"]
    return "\n".join(lines) + "\n"
