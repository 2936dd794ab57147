"""Slack delivery for the chaos run: every alert the sandbox publishes reaches the real notifier.

SNS invokes SlackNotifierFunction asynchronously and at least once, so a share of deliveries
arrives twice. The functions/slack_notifier handler posts to a webhook receiver on 127.0.0.1 that
returns 429 (Retry-After 0 or 1 s) or 500, 502 or 503 for a share of the posts. Lambda retries a
failed invocation twice and then sends the event to the function's dead-letter queue, as
`tests/integration/test_slack_notifier.py` models it. Deliveries and Lambda's retries run on the
sandbox's virtual clock.
"""

from __future__ import annotations

import copy
import heapq
import importlib.util
import json
import random
from collections import Counter
from dataclasses import dataclass, field

from benchlib import ROOT

# Lambda runs a failed asynchronous invocation twice more, one minute and then two minutes later
# (AWS Lambda Developer Guide, "Asynchronous invocation"); template.yaml keeps MaximumRetryAttempts 2.
ASYNC_RETRY_DELAYS = (60.0, 120.0)
MAX_DUPLICATE_DELAY = 60.0  # a duplicated SNS delivery arrives up to a minute after the first one
RETRY_AFTER_SECONDS = (0, 1)  # small, so the 429s keep the run bounded
SERVER_ERRORS = (500, 502, 503)
WEBHOOK_SECRET_NAME = "sgw-drift/chaos-slack-webhook"  # noqa: S105 (a name, not a password)
DEAD_LETTER_QUEUE = "slack-notifier-dlq"
FUNCTION_NAME = "SlackNotifierFunction"


@dataclass(order=True)
class Delivery:
    """One asynchronous invocation of the notifier for one SNS delivery, due at `due`."""

    due: float
    order: int
    message_id: str = field(compare=False)
    event: dict = field(compare=False)
    attempt: int = field(compare=False, default=1)


def load_notifier_handler():
    """Return `lambda_handler` of functions/slack_notifier/app.py, with its Powertools decorators."""
    path = ROOT / "functions" / "slack_notifier" / "app.py"
    spec = importlib.util.spec_from_file_location("sgw_drift_function_slack_notifier", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the Slack notifier handler {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


class SlackDelivery:
    """Deliver the sandbox's alerts to the notifier with faults, and check what Slack got.

    Call `step(now)` after every step of the run (it fits `Driver.on_step`), and `close()` at the end.
    """

    def __init__(self, box, *, seed: int, fault_rate: float, duplicate_share: float) -> None:
        from sgw_drift.alerts.notifier import SlackWebhook, build_notifier
        from sgw_drift.alerts.webhook_receiver import WebhookReceiver

        self.box = box
        self.fault_rate = fault_rate
        self.duplicate_share = duplicate_share
        self.draw = random.Random(seed)
        self.pending: list[Delivery] = []
        self.language = box.runtime.service.incidents.publisher.language
        self.published = 0  # alerts of box.alerts() already handed to SNS
        self.deliveries = 0
        self.duplicates = 0
        self.invocations = 0
        self.lambda_retries = 0
        self.waits: list[float] = []  # the notifier's waits before retrying a post, in seconds
        self.posts_by_message: Counter[str] = Counter()
        self.wrong_payloads: list[str] = []
        self._order = 0
        self._dead: list[dict] | None = None

        self.receiver = WebhookReceiver(fault_hook=self._fault)
        self.receiver.__enter__()
        secret_arn = box.session.client("secretsmanager").create_secret(
            Name=WEBHOOK_SECRET_NAME, SecretString=self.receiver.url
        )["ARN"]
        self.dlq_url = box.sqs.create_queue(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
        self.notifier = build_notifier(
            {
                "STATE_TABLE_NAME": box.environ["STATE_TABLE_NAME"],
                "SLACK_WEBHOOK_SECRET_ARN": secret_arn,
                "ALERT_LANGUAGE": self.language,
            },
            session=box.session,
        )
        # NOTE: the notifier's waits (Retry-After, backoff) are recorded but not slept, and the virtual
        # clock does not advance for them. They add at most a few seconds to a post.
        self.notifier.webhook_factory = lambda url: SlackWebhook(url, sleep=self.waits.append)
        self.handler = load_notifier_handler()

    def close(self) -> None:
        self.receiver.__exit__(None, None, None)

    # Faults ------------------------------------------------------------------------------------

    def _fault(self, body: dict):
        """Return a 429 or 5xx response for `fault_rate` of the posts (half of each), else None for 200."""
        from sgw_drift.alerts.webhook_receiver import Response

        if self.draw.random() >= self.fault_rate:
            return None
        if self.draw.random() < 0.5:
            seconds = self.draw.choice(RETRY_AFTER_SECONDS)
            return Response(429, {"Retry-After": str(seconds)}, "rate_limited")
        return Response(self.draw.choice(SERVER_ERRORS), {}, "server_error")

    # Running -----------------------------------------------------------------------------------

    def step(self, now: float) -> None:
        """Hand new alerts to SNS and run the invocations that are due."""
        alerts = self.box.alerts()
        for alert in alerts[self.published :]:
            self._publish(alert, now)
        self.published = len(alerts)
        while self.pending and self.pending[0].due <= now:
            self._invoke(heapq.heappop(self.pending), now)

    def _publish(self, alert: dict, now: float) -> None:
        from sgw_drift.alerts.preview import sns_lambda_event

        event = sns_lambda_event(
            alert["messages"]["lambda"],
            message_id=alert["message_id"],
            topic_arn=self.box.topic_arn,
            subject=alert["subject"],
        )
        self._schedule(now, alert["message_id"], event)
        self.deliveries += 1
        # SNS delivers at least once: every so many deliveries one arrives a second time, same MessageId.
        if self.duplicates < round(self.deliveries * self.duplicate_share):
            self.duplicates += 1
            delay = self.draw.uniform(0, MAX_DUPLICATE_DELAY)
            self._schedule(now + delay, alert["message_id"], copy.deepcopy(event))

    def _schedule(self, due: float, message_id: str, event: dict, attempt: int = 1) -> None:
        self._order += 1
        heapq.heappush(self.pending, Delivery(due, self._order, message_id, event, attempt))

    def _invoke(self, delivery: Delivery, now: float) -> None:
        """Invoke the handler as Lambda does for SNS: retry a failed invocation later, then dead-letter it."""
        from sgw_drift.alerts.notifier import use_notifier
        from sgw_drift.sandbox.handlers import LambdaContext

        # NOTE: invocations run one at a time, so a duplicate never meets its first delivery still in
        # progress (Powertools idempotency would reject it, and Lambda would retry it).
        self.invocations += 1
        first_request = len(self.receiver.requests)
        error: Exception | None = None
        try:
            with use_notifier(self.notifier):
                self.handler(delivery.event, LambdaContext(FUNCTION_NAME))
        except Exception as caught:  # Lambda catches every function error
            error = caught
        self._attribute(delivery, self.receiver.requests[first_request:])
        if error is None:
            return
        if delivery.attempt <= len(ASYNC_RETRY_DELAYS):
            self.lambda_retries += 1
            due = now + ASYNC_RETRY_DELAYS[delivery.attempt - 1]
            self._schedule(due, delivery.message_id, delivery.event, delivery.attempt + 1)
            return
        self._dead_letter(delivery, error)

    def _attribute(self, delivery: Delivery, requests: list) -> None:
        """Count the posts Slack accepted for this message and compare each with the alert's payload."""
        from sgw_drift.alerts.notifier import payload_for

        expected = payload_for(delivery.event["Records"][0]["Sns"]["Message"], self.language)
        for request in requests:
            if request.status != 200:
                continue
            self.posts_by_message[delivery.message_id] += 1
            body = request.body or {}
            if expected is None or (body.get("blocks"), body.get("text")) != (
                expected["blocks"],
                expected["text"],
            ):
                self.wrong_payloads.append(delivery.message_id)

    def _dead_letter(self, delivery: Delivery, error: Exception) -> None:
        """Send the on-failure destination record that Lambda sends after the last retry."""
        record = {
            "requestContext": {
                "condition": "RetriesExhausted",
                "approximateInvokeCount": delivery.attempt,
            },
            "requestPayload": delivery.event,
            "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
        }
        self.box.sqs.send_message(QueueUrl=self.dlq_url, MessageBody=json.dumps(record))

    # Checks ------------------------------------------------------------------------------------

    def dead_letters(self) -> list[dict]:
        """Receive and delete the records of the notifier's dead-letter queue once; later calls reuse them."""
        if self._dead is None:
            self._dead = []
            while True:
                messages = self.box.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get(
                    "Messages", []
                )
                if not messages:
                    break
                for message in messages:
                    self.box.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])
                    self._dead.append(json.loads(message["Body"]))
        return self._dead

    def figures(self) -> dict:
        statuses = Counter(request.status for request in self.receiver.requests)
        return {
            "slack_alerts": self.published,
            "slack_deliveries": self.deliveries + self.duplicates,
            "slack_duplicate_deliveries": self.duplicates,
            "slack_invocations": self.invocations,
            "slack_requests": len(self.receiver.requests),
            "slack_posts": statuses[200],
            "slack_429": statuses[429],
            "slack_5xx": sum(count for status, count in statuses.items() if 500 <= status <= 599),
            "slack_post_retries": len(self.waits),
            "slack_lambda_retries": self.lambda_retries,
            "slack_dlq": len(self.dead_letters()),
        }

    def check(self) -> dict:
        """Check that each alert was posted once with its payload or is in the DLQ, and nothing is left."""
        dead = self.dead_letters()
        dead_ids = {record["requestPayload"]["Records"][0]["Sns"]["MessageId"] for record in dead}
        error_types = Counter(record["responsePayload"]["errorType"] for record in dead)
        alert_ids = [alert["message_id"] for alert in self.box.alerts()]
        lost = [
            message_id
            for message_id in alert_ids
            if self.posts_by_message[message_id] == 0 and message_id not in dead_ids
        ]
        twice = {message_id: count for message_id, count in self.posts_by_message.items() if count > 1}
        unknown = sorted(set(self.posts_by_message) - set(alert_ids))
        # Only Slack's error responses may dead-letter an alert. Any other error is a fault of the notifier.
        other_errors = {name: count for name, count in error_types.items() if name != "SlackDeliveryError"}
        return {
            "passed": not (lost or twice or unknown or self.wrong_payloads or other_errors or self.pending),
            "alerts": len(alert_ids),
            "posted_once": sum(1 for message_id in alert_ids if self.posts_by_message[message_id] == 1),
            "in_dlq": len(dead_ids),
            "lost": lost[:10],
            "posted_twice": dict(list(twice.items())[:10]),
            "posted_without_alert": unknown[:10],
            "wrong_payloads": self.wrong_payloads[:10],
            "dlq_error_types": dict(error_types),
            "still_pending": len(self.pending),
        }
