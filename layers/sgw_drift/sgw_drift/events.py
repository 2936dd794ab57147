"""Pydantic models of the events sgw-drift consumes.

Unknown fields are ignored (pydantic's default) because AWS adds detail fields over time.
Shapes: Amazon S3 User Guide, "EventBridge event message structure"; Storage Gateway User
Guide, "Getting notified about file operations".
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

# Every detail-type S3 sends to EventBridge. Only some change what a share lists (see LISTING_CHANGES).
OBJECT_CREATED = "Object Created"
OBJECT_DELETED = "Object Deleted"
LISTING_CHANGES = frozenset(
    {
        OBJECT_CREATED,
        OBJECT_DELETED,
        "Object Restore Completed",
        "Object Restore Expired",
        "Object Storage Class Changed",
        "Object Access Tier Changed",
    }
)
DELETE_MARKER_CREATED = "Delete Marker Created"


class S3Object(BaseModel):
    """The `object` part of an S3 event detail. Deletes carry no size and no etag."""

    key: str = Field(min_length=1)
    size: NonNegativeInt | None = None
    etag: str | None = None
    version_id: str | None = Field(default=None, alias="version-id")
    # Created and Deleted events carry a sequencer; restore, tag and storage-class events may not.
    sequencer: str | None = Field(default=None, min_length=1, pattern=r"^[0-9A-Fa-f]+$")


class S3Bucket(BaseModel):
    name: str = Field(min_length=3, max_length=63)


class S3EventDetail(BaseModel):
    """`detail` of an S3 object event delivered through EventBridge."""

    model_config = ConfigDict(populate_by_name=True)

    version: str
    bucket: S3Bucket
    object: S3Object
    request_id: str | None = Field(default=None, alias="request-id")
    requester: str | None = None
    reason: str | None = None
    deletion_type: str | None = Field(default=None, alias="deletion-type")


class S3ObjectEvent(EventBridgeModel):
    """An S3 object event as EventBridge delivers it (source `aws.s3`)."""

    source: Literal["aws.s3"]
    detail: S3EventDetail

    @property
    def is_delete(self) -> bool:
        return self.detail_type == OBJECT_DELETED


class RefreshCompleteDetail(BaseModel):
    """`detail` of a refresh-complete event; the older documented shape has no notification id."""

    event_type: Literal["refresh-complete"] = Field(alias="event-type")
    notification_id: str | None = Field(default=None, alias="notification-id")
    started: datetime | None = None
    completed: datetime | None = None
    folder_list: list[str] = Field(default_factory=list, alias="folderList")


class RefreshCompleteEvent(EventBridgeModel):
    """`Storage Gateway Refresh Cache Event`; `resources` holds the share and gateway ARNs in any order."""

    source: Literal["aws.storagegateway"]
    detail_type: Literal["Storage Gateway Refresh Cache Event"] = Field(alias="detail-type")
    detail: RefreshCompleteDetail

    @property
    def share_arn(self) -> str | None:
        return next((arn for arn in self.resources if ":share/" in arn), None)

    @property
    def gateway_arn(self) -> str | None:
        return next((arn for arn in self.resources if ":gateway/" in arn), None)


def sequencer_is_newer(candidate: str, current: str | None) -> bool:
    """Order two S3 sequencers: right-pad the shorter with zeros, then compare as strings.

    Source: Amazon S3 User Guide, "Event message structure" (the `sequencer` key).
    """
    if current is None:
        return True
    width = max(len(candidate), len(current))
    return candidate.upper().ljust(width, "0") > current.upper().ljust(width, "0")
