"""Delivery of alerts to the SNS alert topic, one message with a variant per protocol.

Each alert is published once with `MessageStructure="json"`: SNS delivers the `email` variant to
e-mail subscriptions, `https` to HTTPS subscriptions (Amazon Q Developer in chat applications
subscribes with HTTPS), `sqs`, `lambda`, `http` and `email-json` to subscribers that read JSON,
and `default` to every other protocol (Amazon SNS Developer Guide, "Amazon SNS message
publishing", sending different messages per protocol). docs/alerts.md explains why one message
with variants is used instead of one topic message per format.
"""

from __future__ import annotations

import json

from ..clock import Clock, SystemClock
from ..observability import logger
from . import chat, text
from .model import Alert, IncidentEvent, Language, audit_alert, incident_alert

# An SNS message is at most 262,144 bytes (Amazon SNS API Reference, Publish, parameter Message).
# The JSON of all variants counts, so some room is kept for the message attributes.
MESSAGE_BYTES_LIMIT = 250_000


def protocol_messages(alert: Alert) -> dict[str, str]:
    """Render the alert once per SNS protocol, as the `MessageStructure="json"` keys expect."""
    plain = text.body(alert)
    structured = alert.to_json()
    return {
        "default": plain,
        "email": plain,
        "email-json": structured,
        "sqs": structured,
        "lambda": structured,
        "http": structured,
        "https": json.dumps(chat.render(alert), ensure_ascii=False),
    }


def fit_message(alert: Alert) -> tuple[Alert, str]:
    """Return the alert and its SNS message, with sample paths halved until the message fits SNS."""
    while True:
        message = json.dumps(protocol_messages(alert), ensure_ascii=False)
        if len(message.encode("utf-8")) <= MESSAGE_BYTES_LIMIT:
            return alert, message
        alert = _halve_paths(alert)


def _halve_paths(alert: Alert) -> Alert:
    if alert.incident is not None and alert.incident.sample_paths:
        paths = alert.incident.sample_paths
        return alert.model_copy(
            update={"incident": alert.incident.model_copy(update={"sample_paths": paths[: len(paths) // 2]})}
        )
    if alert.audit is not None and alert.audit.paths:
        paths = alert.audit.paths
        return alert.model_copy(
            update={"audit": alert.audit.model_copy(update={"paths": paths[: len(paths) // 2]})}
        )
    raise ValueError("the alert does not fit an SNS message even without sample paths")


class AlertPublisher:
    """Publishes incident and audit alerts to the alert topic in the configured language."""

    def __init__(
        self, sns_client, topic_arn: str, *, language: Language = "en", clock: Clock | None = None
    ) -> None:
        self._sns = sns_client
        self._topic_arn = topic_arn
        self.language = language
        self.clock = clock or SystemClock()
        self.sent: list[dict] = []  # what this instance published, for the demo and the tests

    def publish(self, incident: dict, event: IncidentEvent) -> str:
        """Publish an incident message: opened, updated, failed, escalated or resolved."""
        alert = incident_alert(incident, event, language=self.language, now=self.clock.now())
        message_id = self._send(alert, {"share_id": incident["share_id"]})
        logger.info(
            "alert published",
            incident_id=incident["id"],
            alert=event,
            share_arn=incident["share_arn"],
            message_id=message_id,
        )
        return message_id

    def publish_audit(self, audit: dict) -> str:
        """Publish an audit alert for a file operation made through Fleet Manager."""
        alert = audit_alert(audit, language=self.language, now=self.clock.now())
        message_id = self._send(alert, {})
        logger.info(
            "audit alert published",
            instance_id=audit["instance_id"],
            document=audit["document"],
            message_id=message_id,
        )
        return message_id

    def _send(self, alert: Alert, attributes: dict[str, str]) -> str:
        alert, message = fit_message(alert)
        subject = text.subject(alert)
        # Attributes let a subscription filter policy pick events, for example only opened and resolved.
        message_attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in {
                "kind": alert.kind,
                "event": alert.event,
                "language": alert.language,
                **attributes,
            }.items()
        }
        response = self._sns.publish(
            TopicArn=self._topic_arn,
            Subject=subject,
            Message=message,
            MessageStructure="json",
            MessageAttributes=message_attributes,
        )
        variants = json.loads(message)
        self.sent.append(
            {
                "event": alert.event,
                "subject": subject,
                "message": variants["email"],
                "incident_id": alert.incident.id if alert.incident else None,
                "messages": variants,
                "message_id": response["MessageId"],
            }
        )
        return response["MessageId"]
