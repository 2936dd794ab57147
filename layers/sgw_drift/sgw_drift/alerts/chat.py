"""Messages for Amazon Q Developer in chat applications (the chat integration's SNS subscription).

Amazon Q Developer reads SNS messages in its custom notification schema: `version` "1.0",
`source` "custom", a `content` object with `textType` "client-markdown", `title`,
`description`, `nextSteps` and `keywords`, and a `metadata` object with `threadId`, `summary`,
`eventType`, `relatedResources` and `additionalContext` (Amazon Q Developer in chat
applications Administrator Guide, "Custom notifications using Amazon Q Developer in chat
applications", Event schema and Parameter details). With `client-markdown` the text is shown in
the chat platform's own markdown, which for Slack is mrkdwn, so untrusted text is escaped with
`markup.escape`. All messages of one incident share a `threadId`, which groups them in one thread
when the channel allows threaded notifications.
"""

from __future__ import annotations

from .content import Content, build_content, shorten
from .markup import code_line, escape, escape_within
from .model import Alert

# NOTE: the schema page gives no length limits for title and description; these bounds keep the
# description inside one Slack section (3,000 characters), the smallest limit among the platforms.
TITLE_LIMIT = 250
DESCRIPTION_LIMIT = 3000
PATH_LIMIT = 200  # characters of one path shown before it is shortened around an ellipsis
FAILURE_LIMIT = 300


def render(alert: Alert) -> dict:
    content = build_content(alert)
    event_id = f"{alert.incident.id}-{alert.event}" if alert.incident else f"audit-{alert.audit.instance_id}"
    message = {
        "version": "1.0",
        "source": "custom",
        "id": f"{event_id}-{int(alert.sent_at.timestamp())}",
        "content": {
            "textType": "client-markdown",
            "title": escape_within(content.title, TITLE_LIMIT),
            "description": _description(content),
            "nextSteps": [escape(step) for step in content.next_steps],
            "keywords": ["sgw-drift", alert.event],
        },
        "metadata": {
            "summary": escape_within(content.title, TITLE_LIMIT),
            "eventType": f"sgw-drift.{alert.kind}.{alert.event}",
            "additionalContext": {"language": alert.language},
        },
    }
    if alert.incident is not None:
        incident = alert.incident
        message["content"]["keywords"].append(incident.share_id)
        message["metadata"]["threadId"] = f"sgw-drift-{incident.id}"
        message["metadata"]["relatedResources"] = [incident.share_arn, incident.gateway_arn]
        message["metadata"]["additionalContext"].update(
            {"incident_id": incident.id, "share_arn": incident.share_arn}
        )
    elif alert.audit is not None and alert.audit.share_arn:
        message["metadata"]["relatedResources"] = [alert.audit.share_arn]
    return message


def _description(content: Content) -> str:
    """Lay the content out in markdown, dropping sample paths until it fits DESCRIPTION_LIMIT."""
    paths = list(content.paths)
    while True:
        text = _layout(content, paths)
        if len(text) <= DESCRIPTION_LIMIT or not paths:
            return text[:DESCRIPTION_LIMIT] if len(text) > DESCRIPTION_LIMIT else text
        paths = paths[: len(paths) // 2] if len(paths) > 1 else []


def _layout(content: Content, paths: list[str]) -> str:
    lines = [escape(content.summary), ""]
    lines += [f"*{escape(label)}*: {escape_within(value, 600)}" for label, value in content.fields]
    if content.differences:
        lines += ["", f"*{escape(content.labels['differences'])}*"]
        lines += [f"• {escape(label)}: {count:,}" for label, count in content.differences]
    hidden = content.more_paths + len(content.paths) - len(paths)
    if paths:
        lines += ["", f"*{escape(content.paths_heading(len(paths)))}*", "```"]
        lines += [code_line(shorten(path, PATH_LIMIT)) for path in paths]
        lines.append("```")
    if hidden:
        lines.append(escape(content.more(hidden)))
    if content.failures:
        lines += ["", f"*{escape(content.labels['failures'])}*"]
        lines += [f"• {escape_within(message, FAILURE_LIMIT)}" for message in content.failures]
    if content.drift_after:
        lines += ["", f"*{escape(content.labels['drift_after'])}*: {escape_within(content.drift_after, 600)}"]
    if content.footer:
        lines += [""] + [f"{escape(label)}: {escape_within(value, 300)}" for label, value in content.footer]
    return "\n".join(lines)
