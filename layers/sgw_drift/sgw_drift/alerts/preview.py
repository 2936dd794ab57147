"""Slack posts of a local run: the demo sends alerts through the real notifier to a receiver on 127.0.0.1.

Inside a `Sandbox` (moto is active), `post_to_local_slack` stores the receiver's URL as the
webhook secret, hands the first incident's "opened" and "resolved" messages to
`handle_slack_notification` in the SNS-to-Lambda event shape, and returns what the receiver got.
"""

from __future__ import annotations

import json
import uuid
from typing import IO

from .notifier import build_notifier, handle_slack_notification
from .webhook_receiver import WebhookReceiver

WEBHOOK_SECRET_NAME = "sgw-drift/demo-slack-webhook"  # noqa: S105 (a name, not a password)


def sns_lambda_event(message: str, *, message_id: str, topic_arn: str, subject: str) -> dict:
    """Build the event that Lambda receives for one SNS delivery (Lambda protocol)."""
    region = topic_arn.split(":")[3]
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": "1970-01-01T00:00:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "LOCAL",
                    "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-local.pem",
                    "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def first_incident_messages(sent: list[dict]) -> list[dict]:
    """Return the opened and resolved messages of the first incident that has both."""
    for opened in (item for item in sent if item["event"] == "opened"):
        resolved = [
            item
            for item in sent
            if item["event"] == "resolved" and item["incident_id"] == opened["incident_id"]
        ]
        if resolved:
            return [opened, resolved[0]]
    return []


def post_to_local_slack(
    session, *, table_name: str, topic_arn: str, sent: list[dict], language: str
) -> list[dict]:
    """Post the first incident's opened and resolved alerts to a local receiver; return the payloads."""
    from ..sandbox.handlers import LambdaContext

    messages = first_incident_messages(sent)
    with WebhookReceiver() as receiver:
        secret_arn = session.client("secretsmanager").create_secret(
            Name=WEBHOOK_SECRET_NAME, SecretString=receiver.url
        )["ARN"]
        notifier = build_notifier(
            {
                "STATE_TABLE_NAME": table_name,
                "SLACK_WEBHOOK_SECRET_ARN": secret_arn,
                "ALERT_LANGUAGE": language,
            },
            session=session,
        )
        for item in messages:
            event = sns_lambda_event(
                item["messages"]["lambda"],
                message_id=item["message_id"],
                topic_arn=topic_arn,
                subject=item["subject"],
            )
            handle_slack_notification(event, LambdaContext("SlackNotifierFunction"), notifier)
        return receiver.posts


def print_slack_posts(posts: list[dict], out: IO[str]) -> None:
    out.write("Slack posts (Block Kit JSON that the notifier posted to a webhook receiver on 127.0.0.1):\n")
    for post in posts:
        out.write(json.dumps(post, ensure_ascii=False, indent=2) + "\n")
