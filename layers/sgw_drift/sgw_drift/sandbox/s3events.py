"""Builders of S3 EventBridge events in the shape AWS sends them.

moto's own S3 events share one id and sequencer and carry other `reason` values, so the
sandbox builds events itself from the documented shape (Amazon S3 User Guide, "EventBridge
event message structure"), with increasing sequencers per key.
"""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime


class S3EventFactory:
    def __init__(self, *, account: str, region: str) -> None:
        self.account = account
        self.region = region
        self._sequence = itertools.count(0x10_0000_0000_0000)

    def next_sequencer(self) -> str:
        return f"{next(self._sequence):018X}"

    def created(
        self,
        bucket: str,
        key: str,
        *,
        size: int,
        etag: str,
        when: float,
        reason: str = "PutObject",
        version_id: str | None = None,
    ) -> dict:
        obj = {"key": key, "size": size, "etag": etag.strip('"'), "sequencer": self.next_sequencer()}
        if version_id:
            obj["version-id"] = version_id
        return self._event("Object Created", bucket, obj, when, reason=reason)

    def deleted(
        self,
        bucket: str,
        key: str,
        *,
        when: float,
        reason: str = "DeleteObject",
        deletion_type: str = "Permanently Deleted",
    ) -> dict:
        obj = {"key": key, "sequencer": self.next_sequencer()}
        return self._event("Object Deleted", bucket, obj, when, reason=reason, deletion_type=deletion_type)

    def _event(
        self,
        detail_type: str,
        bucket: str,
        obj: dict,
        when: float,
        *,
        reason: str,
        deletion_type: str | None = None,
    ) -> dict:
        detail = {
            "version": "0",
            "bucket": {"name": bucket},
            "object": obj,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": self.account,
            "source-ip-address": "203.0.113.10",
            "reason": reason,
        }
        if deletion_type:
            detail["deletion-type"] = deletion_type
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": "aws.s3",
            "account": self.account,
            "time": datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": detail,
        }


def sqs_batch(events: list[dict | str], *, queue_arn: str, when: float) -> dict:
    """Wrap EventBridge events (or raw bodies) as the SQS batch Lambda receives."""
    records = []
    for body in events:
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": uuid.uuid4().hex,
                "body": text,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(when * 1000)),
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": str(int(when * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
        )
    return {"Records": records}
