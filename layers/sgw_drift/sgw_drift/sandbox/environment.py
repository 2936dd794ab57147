"""Sandbox: moto in-process, the file gateway emulator, and the real handlers on a virtual clock."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack

import boto3

from ..clock import VirtualClock
from ..compare import compare
from ..emulator import FileGatewayEmulator
from ..runtime import Runtime, build_runtime, use_runtime
from ..shares import Share
from .handlers import invoke
from .s3events import S3EventFactory, sqs_batch

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
TABLE = "sgw-drift-state"
PARAMETER = "/sgw-drift/shares"


def create_state_table(dynamodb_client, name: str) -> None:
    """Create the state table with the key schema of StateTable in template.yaml (`pk`, `sk`)."""
    dynamodb_client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


class Sandbox:
    """Everything sgw-drift talks to, local and in memory. Use as a context manager."""

    def __init__(
        self,
        *,
        settle_seconds: int = 120,
        slot_timeout_seconds: int = 1800,
        max_attempts: int = 3,
        refresh_seconds: float = 20.0,
        verify_shares: bool = True,
    ) -> None:
        self.settle_seconds = settle_seconds
        self.slot_timeout_seconds = slot_timeout_seconds
        self.max_attempts = max_attempts
        self.refresh_seconds = refresh_seconds
        self.verify_shares = verify_shares
        self.clock = VirtualClock()
        self.events = S3EventFactory(account=ACCOUNT, region=REGION)
        self.outbox: list[dict] = []  # S3 events not yet delivered to ObjectEvents
        self.completions: list[dict] = []  # refresh-complete events emitted by the gateway
        self.log: list[tuple[float, str, dict]] = []  # what happened, for timelines and assertions
        self.runtime: Runtime | None = None
        self._stack = ExitStack()

    # Set-up ----------------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        from moto import mock_aws

        self._stack.enter_context(
            _environment(
                {
                    **FAKE_CREDENTIALS,
                    "POWERTOOLS_TRACE_DISABLED": "true",
                    "POWERTOOLS_IDEMPOTENCY_DISABLED": "",
                }
            )
        )
        self._stack.enter_context(mock_aws())
        self.session = boto3.session.Session(region_name=REGION)
        self.s3 = self.session.client("s3")
        self.sqs = self.session.client("sqs")
        self.sns = self.session.client("sns")
        self._create_resources()
        self.gateway = FileGatewayEmulator(
            self.s3,
            self.clock,
            region=REGION,
            account=ACCOUNT,
            refresh_seconds=self.refresh_seconds,
            event_sink=self.completions.append,
        )
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def _create_resources(self) -> None:
        create_state_table(self.session.client("dynamodb"), TABLE)
        self.topic_arn = self.sns.create_topic(Name="sgw-drift-alerts")["TopicArn"]
        self.alert_queue_url = self.sqs.create_queue(QueueName="alert-subscriber")["QueueUrl"]
        alert_queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.alert_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=alert_queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        self.dlq_url = self.sqs.create_queue(QueueName="object-events-dlq")["QueueUrl"]
        self.queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:object-events"

    def create_bucket(self, name: str) -> None:
        self.s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})

    def add_gateway(self, gateway_id: str | None = None) -> str:
        return self.gateway.add_gateway(gateway_id=gateway_id)

    def add_share(
        self,
        gateway_arn: str,
        bucket: str,
        prefix: str = "",
        protocol: str = "NFS",
        *,
        share_id: str | None = None,
    ) -> str:
        return self.gateway.add_share(gateway_arn, bucket, prefix, protocol, share_id=share_id)

    def start(
        self, share_options: dict | None = None, *, environ: dict | None = None, command_client=None
    ) -> Runtime:
        """Build the runtime the handlers use, from the same environment variables as on Lambda.

        `environ` adds variables (such as LISTING_DOCUMENT_NAME), and `command_client` answers Run
        Command calls (an `EmulatedMountHost`).
        """
        shares = [
            info["FileShareARN"] for info in self.gateway.client().list_file_shares()["FileShareInfoList"]
        ]
        self.session.client("ssm").put_parameter(
            Name=PARAMETER, Type="String", Value=json.dumps({"shares": share_options or {}}), Overwrite=True
        )
        self.environ = {
            "STATE_TABLE_NAME": TABLE,
            "ALERT_TOPIC_ARN": self.topic_arn,
            "SHARES_PARAMETER_NAME": PARAMETER,
            "FILE_SHARE_ARNS": ",".join(shares),
            "SETTLE_SECONDS": str(self.settle_seconds),
            "REFRESH_SLOT_TIMEOUT_SECONDS": str(self.slot_timeout_seconds),
            "MAX_REFRESH_ATTEMPTS": str(self.max_attempts),
            "DEAD_LETTER_QUEUE_URL": self.dlq_url,
            **(environ or {}),
        }
        self.runtime = build_runtime(
            self.environ,
            session=self.session,
            clock=self.clock,
            share_lister=self.gateway.lister if self.verify_shares else None,
            storagegateway=self.gateway.client(),
            command_client=command_client,
        )
        self._stack.enter_context(use_runtime(self.runtime))
        return self.runtime

    # Edits -------------------------------------------------------------------------------------

    def put_direct(self, bucket: str, key: str, body: bytes, *, reason: str = "PutObject") -> dict:
        """Write an object straight into S3, as the console or the CLI would."""
        response = self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        event = self.events.created(
            bucket, key, size=len(body), etag=response["ETag"], when=self.clock.now(), reason=reason
        )
        return self._emit("direct put", event)

    def delete_direct(self, bucket: str, key: str) -> dict:
        self.s3.delete_object(Bucket=bucket, Key=key)
        return self._emit("direct delete", self.events.deleted(bucket, key, when=self.clock.now()))

    def write_through(self, share_arn: str, path: str, body: bytes) -> dict:
        """Write a file through the share: the gateway uploads it, and S3 emits its own event."""
        result = self.gateway.write_file(share_arn, path, body, mtime=self.clock.now())
        share = self.share(share_arn)
        event = self.events.created(
            share.bucket,
            share.prefix + path,
            size=len(body),
            etag=result.get("ETag", ""),
            when=self.clock.now(),
        )
        return self._emit("share write", event)

    def delete_through(self, share_arn: str, path: str) -> dict:
        self.gateway.delete_file(share_arn, path)
        share = self.share(share_arn)
        return self._emit(
            "share delete", self.events.deleted(share.bucket, share.prefix + path, when=self.clock.now())
        )

    def _emit(self, what: str, event: dict) -> dict:
        self.outbox.append(event)
        self.log.append(
            (
                self.clock.now(),
                what,
                {"bucket": event["detail"]["bucket"]["name"], "key": event["detail"]["object"]["key"]},
            )
        )
        return event

    # Running ------------------------------------------------------------------------------------

    def deliver(self, events: list[dict | str] | None = None) -> dict:
        """Hand the pending S3 events (or the given ones) to ObjectEventsFunction as one SQS batch."""
        batch, self.outbox = (self.outbox, []) if events is None else (events, self.outbox)
        if not batch:
            return {"batchItemFailures": []}
        response = invoke("object_events", sqs_batch(batch, queue_arn=self.queue_arn, when=self.clock.now()))
        self.log.append(
            (
                self.clock.now(),
                "batch delivered",
                {"records": len(batch), "failures": len(response["batchItemFailures"])},
            )
        )
        return response

    def run(self, seconds: float, *, step: float = 5.0, tick_every: float = 60.0) -> None:
        """Advance the virtual clock, completing refreshes and running the drain tick each minute."""
        end = self.clock.now() + seconds
        next_tick = self.clock.now() + tick_every
        while self.clock.now() < end:
            self.clock.advance(min(step, end - self.clock.now()))
            self.complete_refreshes()
            if self.clock.now() >= next_tick:
                invoke("reconcile", {"mode": "drain"})
                next_tick += tick_every

    def complete_refreshes(self) -> None:
        self.gateway.tick()
        while self.completions:
            event = self.completions.pop(0)
            self.log.append(
                (
                    self.clock.now(),
                    "refresh completed",
                    {"notification_id": event["detail"].get("notification-id")},
                )
            )
            invoke("refresh_completed", event)

    def sweep(self) -> dict:
        return invoke("reconcile", {"mode": "sweep"})

    # Inspection -----------------------------------------------------------------------------------

    def share(self, share_arn: str) -> Share:
        assert self.runtime is not None or share_arn, "start() the sandbox first"
        if self.runtime is not None:
            found = self.runtime.service.registry.get(share_arn)
            if found is not None:
                return found
        from ..shares import describe_shares

        return describe_shares(self.gateway.client(), [share_arn], {})[0]

    def drift(self, share_arn: str) -> list:
        """Compare the bucket with what the share shows now (settled files only)."""
        share = self.share(share_arn)
        from ..bucket import BucketLister

        return [
            difference
            for difference in compare(
                BucketLister(self.s3).list_tree(share),
                self.gateway.lister.list_tree(share_arn),
                now=self.clock.now(),
                settle_seconds=0,
            )
            if difference.kind.is_drift
        ]

    def refresh_calls(self) -> list:
        return [call for call in self.gateway.calls if _outcome(call) == "accepted"]

    def alerts(self) -> list[dict]:
        return list(self.runtime.service.incidents.publisher.sent) if self.runtime else []

    def dead_letters(self) -> Iterator[dict]:
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])
                yield message


def _outcome(call) -> str:
    return call["outcome"] if isinstance(call, dict) else call.outcome


class _environment:
    """Set environment variables for the sandbox's lifetime, restoring the old values after."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self):
        for name, value in self.values.items():
            self.saved[name] = os.environ.get(name)
            if value:
                os.environ[name] = value
            else:
                os.environ.pop(name, None)
        return self

    def __exit__(self, *exc_info):
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
