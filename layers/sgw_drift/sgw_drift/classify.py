"""Pre-filter: does an S3 object event look like a write through a file share?

The event's `requester` cannot tell (an account id or a service principal), so this reads the
metadata the gateway writes: `x-amz-meta-user-agent: aws-storage-gateway` with `file-*` keys.
That metadata is seen in practice, not documented, so the listing comparison has the last word.
A `CopyObject` keeps the source's metadata, so a copy is always treated as a direct edit.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from .events import OBJECT_CREATED, S3ObjectEvent

GATEWAY_USER_AGENT = "aws-storage-gateway"


class Origin(StrEnum):
    GATEWAY = "gateway"  # gateway metadata present: a write through some share
    DIRECT = "direct"  # no gateway metadata: console, CLI, another application
    UNKNOWN = "unknown"  # deletes and vanished objects: the comparison decides


def candidate_keys(key: str) -> list[str]:
    """Return the key and, when it differs, its URL-decoded form.

    Public sources do not settle whether EventBridge URL-encodes `detail.object.key` (classic S3
    notifications do, with `+` for a space), so both forms are resolved against the bucket.
    """
    decoded = unquote_plus(key)
    return [key] if decoded == key else [key, decoded]


def classify(s3_client, event: S3ObjectEvent) -> tuple[Origin, list[str]]:
    """Return the origin of the change and the keys it concerns after resolving encoding."""
    keys = candidate_keys(event.detail.object.key)
    if event.detail_type != OBJECT_CREATED:
        return Origin.UNKNOWN, keys

    bucket = event.detail.bucket.name
    for key in keys:
        metadata = _head_metadata(s3_client, bucket, key)
        if metadata is None:
            continue
        resolved = [key]
        if event.detail.reason == "CopyObject":
            return Origin.DIRECT, resolved
        if metadata.get("user-agent") == GATEWAY_USER_AGENT and "file-mtime" in metadata:
            return Origin.GATEWAY, resolved
        return Origin.DIRECT, resolved
    # Gone again (a later delete): every candidate folder is checked.
    return Origin.UNKNOWN, keys


def _head_metadata(s3_client, bucket: str, key: str) -> dict[str, str] | None:
    try:
        return s3_client.head_object(Bucket=bucket, Key=key).get("Metadata", {})
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
