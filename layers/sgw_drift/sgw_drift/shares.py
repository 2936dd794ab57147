"""File shares: where each one sits in S3, and which shares show a given key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .config import ConfigurationError, MountHost, ShareOptions


@dataclass(frozen=True)
class Share:
    """A file share as the Storage Gateway API describes it, plus its sgw-drift options."""

    arn: str
    gateway_arn: str
    bucket: str
    prefix: str  # "" for a whole bucket, otherwise ends with "/"
    protocol: str  # "NFS" or "SMB"
    mount: MountHost | None = None
    settle_seconds: int | None = None

    def contains(self, key: str) -> bool:
        return key.startswith(self.prefix) and key != self.prefix

    def relative_key(self, key: str) -> str:
        return key[len(self.prefix) :]

    @property
    def short_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


def parse_location_arn(location_arn: str) -> tuple[str, str]:
    """Split a share's `LocationARN` into bucket and prefix (`arn:aws:s3:::bucket/prefix/`)."""
    marker = ":s3:::"
    if marker not in location_arn:
        raise ConfigurationError(
            f"unsupported LocationARN {location_arn!r}: sgw-drift watches shares on an S3 bucket "
            "(arn:aws:s3:::bucket[/prefix/]); access points and S3 on Outposts are not supported"
        )
    path = location_arn.split(marker, 1)[1]
    bucket, _, prefix = path.partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def describe_shares(client, arns: Iterable[str], options: dict[str, ShareOptions]) -> list[Share]:
    """Describe NFS and SMB shares through the Storage Gateway API; every ARN must be found."""
    wanted = list(dict.fromkeys(arns))
    found: dict[str, Share] = {}
    for operation, protocol in (("describe_nfs_file_shares", "NFS"), ("describe_smb_file_shares", "SMB")):
        for chunk in _chunks(wanted, 10):
            try:
                infos = getattr(client, operation)(FileShareARNList=chunk)[f"{protocol}FileShareInfoList"]
            except client.exceptions.InvalidGatewayRequestException:
                # A list that mixes NFS and SMB ARNs is rejected by one of the two calls: ask one by one.
                infos = _describe_one_by_one(client, operation, protocol, chunk)
            for info in infos:
                bucket, prefix = parse_location_arn(info["LocationARN"])
                share_options = options.get(info["FileShareARN"], ShareOptions())
                found[info["FileShareARN"]] = Share(
                    arn=info["FileShareARN"],
                    gateway_arn=info["GatewayARN"],
                    bucket=bucket,
                    prefix=prefix,
                    protocol=protocol,
                    mount=share_options.mount,
                    settle_seconds=share_options.settle_seconds,
                )
    missing = [arn for arn in wanted if arn not in found]
    if missing:
        raise ConfigurationError(
            f"file shares not found by DescribeNFSFileShares or DescribeSMBFileShares: {', '.join(missing)}; "
            "check the stack parameter FileShareArns (region and account must match the stack)"
        )
    return [found[arn] for arn in wanted]


def _describe_one_by_one(client, operation: str, protocol: str, arns: list[str]) -> list[dict]:
    infos = []
    for arn in arns:
        try:
            infos.extend(getattr(client, operation)(FileShareARNList=[arn])[f"{protocol}FileShareInfoList"])
        except client.exceptions.InvalidGatewayRequestException:
            continue  # the other protocol's call finds it, or it is reported as missing
    return infos


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ShareRegistry:
    """The configured shares, indexed for the key-to-shares lookup every event needs."""

    def __init__(self, shares: Iterable[Share]) -> None:
        self.shares = list(shares)
        self._by_arn = {share.arn: share for share in self.shares}
        self._by_bucket: dict[str, list[Share]] = {}
        for share in self.shares:
            self._by_bucket.setdefault(share.bucket, []).append(share)

    def get(self, arn: str) -> Share | None:
        return self._by_arn.get(arn)

    def for_key(self, bucket: str, key: str) -> list[Share]:
        """Return every share whose location contains `key`; one bucket may back several shares."""
        return [share for share in self._by_bucket.get(bucket, []) if share.contains(key)]

    def by_gateway(self) -> dict[str, list[Share]]:
        groups: dict[str, list[Share]] = {}
        for share in self.shares:
            groups.setdefault(share.gateway_arn, []).append(share)
        return groups
