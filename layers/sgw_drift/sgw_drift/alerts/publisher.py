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
