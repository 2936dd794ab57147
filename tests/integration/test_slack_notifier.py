"""The Slack notifier function in-process, with moto and a webhook receiver on 127.0.0.1.

The real `functions/slack_notifier/app.py` handler runs with its Powertools decorators. Lambda's
asynchronous invocation (retries, then the on-failure destination) is imitated by `invoke_async`,
with the retry count read from template.yaml.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import socket
import uuid
from pathlib import Path

import boto3
import pytest
from cfnlint.decode import cfn_yaml
from moto import mock_aws

from sgw_drift.alerts import slack
from sgw_drift.alerts.model import audit_alert, incident_alert
from sgw_drift.alerts.notifier import (
    MAX_RETRIES,
    MalformedNotification,
    SlackConfigurationError,
    SlackDeliveryError,
    SlackWebhook,
    build_notifier,
    use_notifier,
    webhook_url_from_secret,
)
from sgw_drift.alerts.publisher import protocol_messages
from sgw_drift.alerts.webhook_receiver import WEBHOOK_PATH, Response, WebhookReceiver
from sgw_drift.observability import logger
from sgw_drift.sandbox import Sandbox
from sgw_drift.sandbox.environment import create_state_table
from sgw_drift.sandbox.handlers import LambdaContext

REPO = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-1"
TOPIC_ARN = "arn:aws:sns:ap-northeast-1:123456789012:sgw-drift-alerts"
TABLE = "sgw-drift-state"
SECRET_NAME = "sgw-drift/slack-webhook"
TOKEN = WEBHOOK_PATH.rsplit("/", 1)[-1]

INCIDENT = {
    "id": "0f1e2d3c4b5a",
    "status": "open",
    "share_arn": "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D",
    "share_id": "share-1A2B3C4D",
    "gateway_arn": "arn:aws:storagegateway:ap-northeast-1:123456789012:gateway/sgw-12A3456B",
    "bucket": "sgw-drift-demo-bucket",
    "prefix": "",
    "opened_at": 1_780_000_000.0,
    "first_edit_at": 1_779_999_990.0,
    "last_seen": 1_780_000_000.0,
    "counts": {"missing_on_share": 2},
    "samples": ["R&D <draft> v2.xlsx", "<!channel> urgent.txt"],
    "failures": [],
    "refreshes": [],
}


def load_app():
    spec = importlib.util.spec_from_file_location(
        "slack_notifier_app", REPO / "functions/slack_notifier/app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def async_retries() -> int:
    """Lambda's retries of a failed asynchronous invocation, as template.yaml configures them."""
    function = cfn_yaml.load(str(REPO / "template.yaml"))["Resources"]["SlackNotifierFunction"]
    return int(function["Properties"]["EventInvokeConfig"]["MaximumRetryAttempts"])


def sns_event(
    message: str, message_id: str | None = None, subject: str = "[sgw-drift] Drift detected"
) -> dict:
    """An SNS delivery to a Lambda subscriber, in the shape Lambda passes it."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id or str(uuid.uuid4()),
                    "TopicArn": TOPIC_ARN,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": "2026-05-28T20:27:40.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.ap-northeast-1.amazonaws.com/SimpleNotificationService-0000.pem",
                    "UnsubscribeUrl": f"https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC_ARN}:x",
                    "MessageAttributes": {"event": {"Type": "String", "Value": "opened"}},
                },
            }
        ]
    }


def opened_message(language: str = "en") -> str:
    alert = incident_alert(INCIDENT, "opened", language=language, now=1_780_000_060.0)
    return protocol_messages(alert)["lambda"]


class Harness:
    """moto, the notifier wired to a receiver, recorded waits, and Lambda's asynchronous invocation."""

    def __init__(self, receiver: WebhookReceiver, secret_value: str | None = None, *, session=None) -> None:
        self.receiver = receiver
        self.sleeps: list[float] = []
        self.session = session or boto3.session.Session(region_name=REGION)
        if session is None:
            self._create_table()
        secrets = self.session.client("secretsmanager")
        self.secret_arn = secrets.create_secret(Name=SECRET_NAME, SecretString=secret_value or receiver.url)[
            "ARN"
        ]
        self.sqs = self.session.client("sqs")
        self.dlq_url = self.sqs.create_queue(QueueName="slack-notifier-dlq")["QueueUrl"]
        self.notifier = build_notifier(
            {"STATE_TABLE_NAME": TABLE, "SLACK_WEBHOOK_SECRET_ARN": self.secret_arn, "ALERT_LANGUAGE": "en"},
            session=self.session,
        )
        self.notifier.webhook_factory = lambda url: SlackWebhook(url, sleep=self.sleeps.append)
        self.handler = load_app()

    def _create_table(self) -> None:
        create_state_table(self.session.client("dynamodb"), TABLE)

    def invoke(self, event: dict) -> dict:
        with use_notifier(self.notifier):
            return self.handler(event, LambdaContext("SlackNotifierFunction"))

    def invoke_async(self, event: dict) -> dict | None:
        """Invoke as Lambda does for SNS: on error retry, and after the last retry send to the destination."""
        attempts = 1 + async_retries()
        for _ in range(attempts):
            try:
                return self.invoke(event)
            except Exception as error:  # Lambda catches every function error
                last = error
        self.sqs.send_message(
            QueueUrl=self.dlq_url,
            MessageBody=json.dumps(
                {
                    "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": attempts},
                    "requestPayload": event,
                    "responsePayload": {"errorType": type(last).__name__, "errorMessage": str(last)},
                }
            ),
        )
        return None

    def dead_letters(self) -> list[dict]:
        messages = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def receiver():
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def harness(receiver):
    with mock_aws():
        yield Harness(receiver)


def test_opened_alert_posted_as_block_kit(harness, receiver):
    message = opened_message()

    result = harness.invoke(sns_event(message))

    assert result == {"posted": 1, "records": 1}
    (post,) = receiver.posts
    expected = slack.render(incident_alert(INCIDENT, "opened", language="en", now=1_780_000_060.0))
    assert post["blocks"] == expected["blocks"]
    assert post["text"] == expected["text"]
    assert post["unfurl_links"] is False
    assert "<!channel>" not in json.dumps(post, ensure_ascii=False)


def test_japanese_alert_posted_in_japanese(harness, receiver):
    harness.invoke(sns_event(opened_message("ja")))

    (post,) = receiver.posts
    assert post["blocks"][0]["text"]["text"] == "share-1A2B3C4D でドリフトを検出しました"


def test_429_waits_retry_after_then_posts(harness, receiver):
    receiver.script.extend([Response(429, {"Retry-After": "3"}, "rate_limited")])

    result = harness.invoke(sns_event(opened_message()))

    assert result["posted"] == 1
    assert [request.status for request in receiver.requests] == [429, 200]
    assert len(receiver.posts) == 1
    assert harness.sleeps == [3.0]


def test_long_retry_after_left_to_lambda_retry(harness, receiver):
    receiver.script.extend([Response(429, {"Retry-After": "120"}, "rate_limited")])

    with pytest.raises(SlackDeliveryError, match="status 429"):
        harness.invoke(sns_event(opened_message()))

    assert len(receiver.requests) == 1
    assert harness.sleeps == []


def test_server_error_every_time_bounded_then_dead_letter():
    with WebhookReceiver(default_status=500) as failing, mock_aws():
        harness = Harness(failing)
        event = sns_event(opened_message())

        assert harness.invoke_async(event) is None

        invocations = 1 + async_retries()
        assert len(failing.requests) == invocations * (1 + MAX_RETRIES)
        assert failing.posts == []
        assert len(harness.sleeps) == invocations * MAX_RETRIES
        (dead,) = harness.dead_letters()
        assert dead["requestPayload"] == event
        assert dead["responsePayload"]["errorType"] == "SlackDeliveryError"


@pytest.mark.parametrize("status", [502, 503, 504])
def test_every_5xx_is_retried(status):
    with WebhookReceiver([Response(status, {}, "upstream")]) as flaky, mock_aws():
        harness = Harness(flaky)

        harness.invoke(sns_event(opened_message()))

        assert [request.status for request in flaky.requests] == [status, 200]


def test_client_error_not_retried(harness, receiver):
    receiver.script.extend([Response(400, {}, "invalid_blocks")])

    with pytest.raises(SlackDeliveryError, match="status 400: invalid_blocks"):
        harness.invoke(sns_event(opened_message()))

    assert len(receiver.requests) == 1


def test_duplicate_sns_delivery_posts_once(harness, receiver):
    event = sns_event(opened_message(), message_id="95df01b4-ee98-5cb9-9903-4c221d41eb5e")

    first = harness.invoke(event)
    second = harness.invoke(event)

    assert first == second == {"posted": 1, "records": 1}
    assert len(receiver.requests) == 1


def test_new_message_id_posts_again(harness, receiver):
    message = opened_message()

    harness.invoke(sns_event(message))
    harness.invoke(sns_event(message))

    assert len(receiver.posts) == 2


def test_failed_post_can_be_retried_by_lambda(harness, receiver):
    receiver.script.extend([Response(500, {}, "x")] * (1 + MAX_RETRIES))
    event = sns_event(opened_message())

    with pytest.raises(SlackDeliveryError):
        harness.invoke(event)
    harness.invoke(event)  # Lambda's retry: the failed attempt left no idempotency record behind

    assert len(receiver.posts) == 1


def test_connection_refused_retried_then_fails():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed_url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    with WebhookReceiver() as unused, mock_aws():
        harness = Harness(unused, secret_value=closed_url)

        with pytest.raises(SlackDeliveryError, match="status none: request failed"):
            harness.invoke(sns_event(opened_message()))

        assert len(harness.sleeps) == MAX_RETRIES


def test_secret_as_json(receiver):
    with mock_aws():
        harness = Harness(receiver, secret_value=json.dumps({"webhook_url": receiver.url}))

        harness.invoke(sns_event(opened_message()))

    assert len(receiver.posts) == 1


@pytest.mark.parametrize(
    "secret",
    [
        "http://hooks.slack.example/services/T/B/secret-token-123",
        '{"channel": "#ops"}',
        "{not json",
        "",
    ],
)
def test_unusable_secret_rejected_without_its_value(secret):
    with pytest.raises(SlackConfigurationError) as raised:
        webhook_url_from_secret(secret, "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:slack")

    assert "secret-token-123" not in str(raised.value)
    assert "arn:aws:secretsmanager" in str(raised.value)


def test_https_and_loopback_secrets_accepted():
    assert (
        webhook_url_from_secret(" https://hooks.slack.com/services/T/B/x \n", "s")
        == "https://hooks.slack.com/services/T/B/x"
    )
    assert webhook_url_from_secret('{"url": "http://127.0.0.1:8080/x"}', "s") == "http://127.0.0.1:8080/x"


def test_cloudwatch_alarm_posted_escaped(harness, receiver):
    alarm = {
        "AlarmName": "sgw-drift-ObjectEventsDLQDepthAlarm-1X2Y3Z",
        "AlarmDescription": "S3 events wait in ObjectEventsDLQ <check> & redrive",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).",
        "StateChangeTime": "2026-05-28T20:40:00.000+0000",
        "Region": "Asia Pacific (Tokyo)",
    }

    harness.invoke(sns_event(json.dumps(alarm), subject="ALARM: sgw-drift"))

    (post,) = receiver.posts
    assert (
        post["blocks"][0]["text"]["text"]
        == "CloudWatch alarm sgw-drift-ObjectEventsDLQDepthAlarm-1X2Y3Z: ALARM"
    )
    assert (
        post["blocks"][-1]["text"]["text"] == "S3 events wait in ObjectEventsDLQ &lt;check&gt; &amp; redrive"
    )


def test_audit_alert_posted(harness, receiver):
    audit = audit_alert(
        {
            "operation": "DeleteFileSystemItem",
            "document": "AWSFleetManager-DeleteFileSystemItem",
            "instance_id": "i-052fcf7f6fa590e08",
            "paths": ["/storage/<!here>.txt"],
        },
        language="en",
        now=1_780_000_000.0,
    )

    harness.invoke(sns_event(protocol_messages(audit)["lambda"]))

    (post,) = receiver.posts
    assert "&lt;!here&gt;.txt" in json.dumps(post, ensure_ascii=False)


def test_unrecognised_message_skipped(harness, receiver):
    result = harness.invoke(sns_event("plain text from another publisher"))

    assert result == {"posted": 0, "records": 1}
    assert receiver.requests == []


def test_malformed_event_rejected(harness):
    with pytest.raises(MalformedNotification, match="invalid SNS event"):
        harness.invoke({"Records": [{"body": "an SQS record"}]})


def test_webhook_url_in_no_log_line(receiver, caplog, capsys):
    logger.setLevel("DEBUG")
    caplog.set_level(logging.DEBUG)  # every logger, botocore's included
    logged: list[str] = []

    def collect() -> None:
        captured = capsys.readouterr()
        logged.extend([caplog.text, captured.out, captured.err])
        caplog.clear()

    def forget_setup() -> None:
        # The test's own set-up (creating the secret) logs the URL through botocore; only the function counts.
        caplog.clear()
        capsys.readouterr()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}{WEBHOOK_PATH}"
    receiver.script.extend(
        [Response(429, {"Retry-After": "1"}, "rate_limited"), Response(503, {}, "x"), Response()]
    )
    receiver.script.extend([Response(500, {}, "x")] * (1 + MAX_RETRIES) * (1 + async_retries()))
    try:
        with mock_aws():
            harness = Harness(receiver)
            forget_setup()
            harness.invoke(sns_event(opened_message()))
            harness.invoke_async(sns_event(opened_message()))
            collect()
        with mock_aws():
            harness = Harness(receiver, secret_value=closed)
            forget_setup()
            harness.invoke_async(sns_event(opened_message()))
            collect()
    finally:
        logger.setLevel("WARNING")

    text = "\n".join(logged)
    assert "slack webhook post retried" in text  # the retries were logged
    assert "slack webhook post failed" in text
    assert "GetSecretValue" in text  # botocore's DEBUG output was captured too
    assert TOKEN not in text
    assert receiver.url not in text
    assert closed not in text


def test_pipeline_alerts_reach_slack(receiver):
    bucket = "sgw-drift-demo-bucket"
    with Sandbox() as box:
        box.create_bucket(bucket)
        share = box.add_share(box.add_gateway(), bucket)
        box.start()
        box.write_through(share, "R&D/seed.txt", b"seed")
        box.deliver()
        box.run(180)
        box.put_direct(bucket, "R&D/<!channel> urgent.txt", b"x")
        box.deliver()
        box.run(180)
        # The alert topic's SQS subscriber received the structured variant of each message.
        delivered = box.sqs.receive_message(QueueUrl=box.alert_queue_url, MaxNumberOfMessages=10)["Messages"]
        harness = Harness(receiver, session=box.session)

        for message in delivered:
            harness.invoke(sns_event(message["Body"], message_id=message["MessageId"]))

    headers = [post["blocks"][0]["text"]["text"] for post in receiver.posts]
    share_id = share.rsplit("/", 1)[-1]
    assert headers == [f"Drift detected on {share_id}", f"Drift resolved on {share_id}"]
    assert "&lt;!channel&gt; urgent.txt" in json.dumps(receiver.posts[0], ensure_ascii=False)
    assert "<!channel>" not in json.dumps(receiver.posts, ensure_ascii=False)


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "report"])
def test_demo_posts_opened_and_resolved(as_json, capsys, monkeypatch):
    from sgw_drift.demo import run_demo

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    assert run_demo(as_json=as_json) == 0

    out = capsys.readouterr().out
    if as_json:
        summary = json.loads(out)  # stdout stays exactly one JSON object
        assert summary["slack_posts"] == 2
    else:
        blocks = re.findall(r'"text": "(Drift (?:detected|resolved) on share-[0-9A-Za-z]+)"', out)
        assert "Slack posts (Block Kit JSON" in out
        assert any(text.startswith("Drift detected") for text in blocks)
        assert any(text.startswith("Drift resolved") for text in blocks)
