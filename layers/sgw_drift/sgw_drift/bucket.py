"""Bucket listings of a share's prefix, in the sorted form the comparison expects."""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from .listing import Entry
from .paths import folder_prefix
from .shares import Share


class BucketLister:
    """Lists a share's folder (with a delimiter) or its whole prefix from S3 with ListObjectsV2."""

    def __init__(self, s3_client) -> None:
        self._s3 = s3_client

    def list_folder(self, share: Share, folder: str) -> Iterator[Entry]:
        """Yield the direct children of `folder`; a `sub/` prefix or marker is a directory."""
        prefix = folder_prefix(share.prefix, folder)
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=share.bucket, Prefix=prefix, Delimiter="/"):
            files = (
                _file_entry(share, item)
                for item in page.get("Contents", [])
                if item["Key"] != prefix  # the folder's own marker
            )
            directories = (
                Entry(path=share.relative_key(item["Prefix"]), is_dir=True)
                for item in page.get("CommonPrefixes", [])
            )
            # Each page lists keys and common prefixes separately, each sorted: merge them.
            yield from heapq.merge(files, directories, key=lambda entry: entry.sort_key)

    def list_tree(self, share: Share) -> Iterator[Entry]:
        """Yield every file and directory under the share's prefix, directories derived from keys."""
        paginator = self._s3.get_paginator("list_objects_v2")
        emitted: list[str] = []  # the chain of directories of the last key, outermost first
        for page in paginator.paginate(Bucket=share.bucket, Prefix=share.prefix):
            for item in page.get("Contents", []):
                relative = share.relative_key(item["Key"])
                if not relative:
                    continue
                for directory in _directories_of(relative):
                    if directory in emitted:
                        continue
                    while emitted and not directory.startswith(emitted[-1]):
                        emitted.pop()
                    emitted.append(directory)
                    yield Entry(path=directory, is_dir=True)
                if not relative.endswith("/"):
                    yield _file_entry(share, item)

    def count_objects(
        self, share: Share, folder: str, *, recursive: bool, limit: float = float("inf")
    ) -> int:
        """Count the objects a refresh of `folder` makes the gateway rescan, stopping past `limit`."""
        prefix = folder_prefix(share.prefix, folder)
        request = {"Bucket": share.bucket, "Prefix": prefix}
        if not recursive:
            request["Delimiter"] = "/"
        count = 0
        for page in self._s3.get_paginator("list_objects_v2").paginate(**request):
            count += len(page.get("Contents", []))
            if count > limit:
                break
        return count


def _directories_of(relative_key: str) -> list[str]:
    """Return `a/`, `a/b/` for `a/b/c` (and for the marker `a/b/`)."""
    parts = relative_key.split("/")[:-1]
    return ["/".join(parts[: index + 1]) + "/" for index in range(len(parts))]


def _file_entry(share: Share, item: dict) -> Entry:
    return Entry(
        path=share.relative_key(item["Key"]),
        is_dir=False,
        size=int(item["Size"]),
        mtime=item["LastModified"].timestamp(),
    )
