"""Read-only Storage Gateway operations: ListGateways, ListFileShares, Describe{NFS,SMB}FileShares.

Each function takes the request as botocore serialized it and returns the response body. Field
names and types follow botocore's service model for `storagegateway` (API version 2013-06-30).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sgw_drift.emulator.model import GatewayRecord, ShareRecord

# DescribeNFSFileShares and DescribeSMBFileShares accept 1 to 10 ARNs (service model shape
# FileShareARNList). botocore checks only the minimum.
MAX_DESCRIBE_ARNS = 10

T = TypeVar("T")


class InvalidGatewayRequest(Exception):
    """A request the emulated gateway rejects with InvalidGatewayRequestException."""

    def __init__(
        self, message: str, error_code: str | None = None, error_details: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.error_details = dict(error_details or {})


def list_gateways(gateways: Sequence[GatewayRecord], request: dict[str, Any]) -> dict[str, Any]:
    page, next_marker = _paginate(gateways, request)
    body: dict[str, Any] = {
        "Gateways": [
            {
                "GatewayId": gateway.gateway_id,
                "GatewayARN": gateway.arn,
                "GatewayType": "FILE_S3",
                "GatewayOperationalState": "ACTIVE",
                "GatewayName": gateway.name,
                "HostEnvironment": "EC2",
            }
            for gateway in page
        ]
    }
    # ListGateways returns the next page's marker as `Marker` (there is no NextMarker field).
    if next_marker is not None:
        body["Marker"] = next_marker
    return body


def list_file_shares(
    gateways: dict[str, GatewayRecord], shares: Sequence[ShareRecord], request: dict[str, Any]
) -> dict[str, Any]:
    gateway_arn = request.get("GatewayARN")
    if gateway_arn is not None and gateway_arn not in gateways:
        raise InvalidGatewayRequest(
            f"The specified gateway was not found: {gateway_arn}",
            "GatewayNotFound",
            {"GatewayARN": gateway_arn},
        )

    selected = [share for share in shares if gateway_arn is None or share.gateway_arn == gateway_arn]
    page, next_marker = _paginate(selected, request)
    body: dict[str, Any] = {
        "FileShareInfoList": [
            {
                "FileShareType": share.protocol,
                "FileShareARN": share.arn,
                "FileShareId": share.share_id,
                "FileShareStatus": "AVAILABLE",
                "GatewayARN": share.gateway_arn,
            }
            for share in page
        ]
    }
    if "Marker" in request:
        body["Marker"] = request["Marker"]
    if next_marker is not None:
        body["NextMarker"] = next_marker
    return body


def describe_file_shares(
    shares: dict[str, ShareRecord], request: dict[str, Any], protocol: str, account: str
) -> dict[str, Any]:
    """Return the body of DescribeNFSFileShares (`protocol` "NFS") or DescribeSMBFileShares ("SMB")."""
    arns = request["FileShareARNList"]
    if len(arns) > MAX_DESCRIBE_ARNS:
        raise InvalidGatewayRequest(
            f"FileShareARNList has {len(arns)} entries; at most {MAX_DESCRIBE_ARNS} are allowed",
            "InvalidParameters",
            {"FileShareARNList": f"length {len(arns)} exceeds {MAX_DESCRIBE_ARNS}"},
        )

    infos = []
    for arn in arns:
        share = shares.get(arn)
        if share is None:
            raise InvalidGatewayRequest(
                f"The specified file share was not found: {arn}", "InvalidParameters", {"FileShareARN": arn}
            )
        if share.protocol != protocol:
            raise InvalidGatewayRequest(
                f"The file share {arn} is an {share.protocol} file share, not {protocol}",
                "InvalidParameters",
                {"FileShareARN": arn},
            )
        infos.append(_nfs_info(share, account) if protocol == "NFS" else _smb_info(share, account))

    return {f"{protocol}FileShareInfoList": infos}


def _common_info(share: ShareRecord, account: str) -> dict[str, Any]:
    return {
        "FileShareARN": share.arn,
        "FileShareId": share.share_id,
        "FileShareStatus": "AVAILABLE",
        "GatewayARN": share.gateway_arn,
        "EncryptionType": "SseS3",
        "KMSEncrypted": False,
        "Path": "/" + share.name,
        "Role": f"arn:aws:iam::{account}:role/StorageGatewayBucketAccess",
        "LocationARN": share.location_arn,
        "DefaultStorageClass": "S3_STANDARD",
        "ObjectACL": "bucket-owner-full-control",
        "ReadOnly": False,
        "GuessMIMETypeEnabled": True,
        "RequesterPays": False,
        "Tags": [],
        "FileShareName": share.name,
        "NotificationPolicy": share.notification_policy,
    }


def _nfs_info(share: ShareRecord, account: str) -> dict[str, Any]:
    info = _common_info(share, account)
    info.update(
        {
            "NFSFileShareDefaults": {
                "FileMode": "0666",
                "DirectoryMode": "0777",
                "GroupId": 65534,
                "OwnerId": 65534,
            },
            "ClientList": ["0.0.0.0/0"],
            "Squash": "RootSquash",
        }
    )
    return info


def _smb_info(share: ShareRecord, account: str) -> dict[str, Any]:
    info = _common_info(share, account)
    info.update(
        {
            "SMBACLEnabled": False,
            "AccessBasedEnumeration": False,
            "Authentication": "ActiveDirectory",
            "CaseSensitivity": "ClientSpecified",
            "OplocksEnabled": True,
        }
    )
    return info


def _paginate(items: Sequence[T], request: dict[str, Any]) -> tuple[Sequence[T], str | None]:
    """Return one page of `items` and the marker of the next page, or None on the last page.

    The marker is the decimal index of the next item. Real markers are opaque strings, so callers
    must only pass back what they received.
    """
    marker = request.get("Marker")
    start = 0
    if marker is not None:
        if not marker.isdigit() or int(marker) > len(items):
            raise InvalidGatewayRequest(f"Invalid Marker: {marker}", "InvalidParameters", {"Marker": marker})
        start = int(marker)

    limit = request.get("Limit")
    end = len(items) if limit is None else min(len(items), start + limit)
    next_marker = str(end) if end < len(items) else None
    return items[start:end], next_marker
