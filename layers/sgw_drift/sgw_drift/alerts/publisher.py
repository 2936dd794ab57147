"""Delivery of alert messages to the SNS alert topic."""

from __future__ import annotations

from ..observability import logger
from . import text


class AlertPublisher:
    def __init__(self, sns_client, topic_arn: str) -> None:
        self._sns = sns_client
        self._topic_arn = topic_arn
        self.sent: list[dict] = []  # what this instance published, for the demo's timeline

    def publish(self, incident: dict, event: str) -> str:
        subject = text.subject(incident, event)
        message = text.body(incident, event)
        response = self._sns.publish(TopicArn=self._topic_arn, Subject=subject, Message=message)
        logger.info("alert published", incident_id=incident["id"], alert=event, share_arn=incident["share_arn"],
                    message_id=response["MessageId"])
        self.sent.append({"event": event, "subject": subject, "message": message, "incident_id": incident["id"]})
        return response["MessageId"]

    def publish_audit(self, audit: dict) -> str:
        """Publish an audit alert for a file operation made through Fleet Manager."""
        response = self._sns.publish(
            TopicArn=self._topic_arn, Subject=text.audit_subject(audit), Message=text.audit_body(audit)
        )
        logger.info("audit alert published", instance_id=audit["instance_id"], document=audit["document"],
                    message_id=response["MessageId"])
        self.sent.append({"event": "audit", "subject": text.audit_subject(audit), "message": text.audit_body(audit),
                          "incident_id": None})
        return response["MessageId"]
