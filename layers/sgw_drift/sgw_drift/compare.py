"""Streaming comparison of a bucket listing with a share listing.

Both inputs are iterators sorted by `Entry.sort_key` (UTF-8 bytes, the order of S3 listings),
so memory stays bounded by the few entries held back to detect a file and a directory with the
same name. Names are compared exactly: no Unicode normalization and no case folding, because
S3 keys and NFS names are byte strings and `café` in NFC and NFD are two different files.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from .listing import Entry
from .paths import unrepresentable_reason


class Kind(StrEnum):
    """Kind of difference between the bucket and the share."""

    MISSING_ON_SHARE = "missing_on_share"  # in the bucket, not shown by the share
    ONLY_ON_SHARE = "only_on_share"  # shown by the share, gone from the bucket
    SIZE_DIFFERS = "size_differs"
    STALE_CONTENT = "stale_content"  # same size, but the bucket was written directly after the share's copy
    UNREPRESENTABLE = "unrepresentable"  # a key no NFS or SMB client can show
    PENDING_UPLOAD = "pending_upload"  # written on the share within the settle window: not drift

    @property
    def is_drift(self) -> bool:
        return self not in (Kind.UNREPRESENTABLE, Kind.PENDING_UPLOAD)


@dataclass(frozen=True, slots=True)
class Difference:
    kind: Kind
    path: str
    bucket: Entry | None = None
    share: Entry | None = None
    reason: str | None = None


def compare(
    bucket_entries: Iterable[Entry],
    share_entries: Iterable[Entry],
    *,
    now: float,
    settle_seconds: float,
    direct_writes: dict[str, float] | None = None,
) -> Iterator[Difference]:
    """Yield the differences between two sorted listings, in path order.

    `direct_writes` maps paths written directly in S3 to the event time: a file the share shows
    with the bucket's size but an older modification time then has stale content.
    """
    # Paths present on both sides with the same size need no byte-order comparison, so the loop
    # compares `str` paths for equality first and encodes them only where the listings part.
    writes = direct_writes or {}
    bucket = iter(bucket_entries)
    share = iter(share_entries)
    # A file `p` and a folder `p/` cannot both be shown, and every path between them starts with
    # `p` and a character below "/". `files` stacks the bucket files that the current path extends
    # that way, and the differences in `held` wait until no later folder can relabel them.
    held: deque[Difference] = deque()
    files: list[str] = []
    b = next(bucket, None)
    s = next(share, None)
    while b is not None or s is not None:
        if b is not None and s is not None and b.path == s.path:
            path = b.path
            difference = _both(b, s, now, settle_seconds, writes)
            bucket_entry: Entry | None = b
            b = next(bucket, None)
            s = next(share, None)
        elif s is None or (b is not None and b.sort_key < s.sort_key):
            path = b.path
            difference = _bucket_only(b)
            bucket_entry = b
            b = next(bucket, None)
        else:
            path = s.path
            difference = _share_only(s, now, settle_seconds)
            bucket_entry = None
            s = next(share, None)

        while held and not _extends(path, held[0].path):
            yield held.popleft()
        while files and not _extends(path, files[-1]):
            files.pop()

        if bucket_entry is not None:
            if not bucket_entry.is_dir:
                files.append(path)
            elif path[:-1] in files:
                _mark_conflict(held, path[:-1])
                held.append(Difference(Kind.UNREPRESENTABLE, path, bucket=bucket_entry, reason=SAME_NAME))
                if difference is not None and difference.kind is Kind.MISSING_ON_SHARE:
                    continue  # reported as unrepresentable just above
        if difference is not None:
            held.append(difference)
    yield from held


def _extends(path: str, earlier: str) -> bool:
    """Tell whether `path` sorts between `earlier` and `earlier/` inclusive, where a folder can still
    give `earlier` the same name: it starts with `earlier` and a character below "/", or is `earlier/`.

    Code point order and UTF-8 byte order agree on a single character compared with "/".
    """
    return path.startswith(earlier) and path[len(earlier) :] <= "/"


SAME_NAME = "a file and a folder have the same name"


def _mark_conflict(held: deque[Difference], name: str) -> None:
    for index, item in enumerate(held):
        if item.path == name:
            held[index] = Difference(Kind.UNREPRESENTABLE, name, item.bucket, item.share, SAME_NAME)


def _bucket_only(entry: Entry) -> Difference:
    reason = unrepresentable_reason(entry.path)
    if reason:
        return Difference(Kind.UNREPRESENTABLE, entry.path, bucket=entry, reason=reason)
    return Difference(Kind.MISSING_ON_SHARE, entry.path, bucket=entry)


def _share_only(entry: Entry, now: float, settle_seconds: float) -> Difference:
    if not entry.is_dir and _recent(entry, now, settle_seconds):
        return Difference(Kind.PENDING_UPLOAD, entry.path, share=entry)
    return Difference(Kind.ONLY_ON_SHARE, entry.path, share=entry)


def _both(bucket_entry, share_entry, now, settle_seconds, direct_writes) -> Difference | None:
    if bucket_entry.is_dir or share_entry.is_dir:
        return None
    if bucket_entry.size != share_entry.size:
        if _recent(share_entry, now, settle_seconds):
            return Difference(Kind.PENDING_UPLOAD, share_entry.path, bucket_entry, share_entry)
        return Difference(Kind.SIZE_DIFFERS, share_entry.path, bucket_entry, share_entry)
    written = direct_writes.get(bucket_entry.path)
    if written is not None and bucket_entry.mtime is not None:
        # The edit was recorded when its event was processed, seconds to minutes after S3 stored the
        # object: a share showing the object's own LastModified shows the new content.
        written = min(written, bucket_entry.mtime)
    if written is not None and share_entry.mtime is not None and share_entry.mtime < written - 1:
        return Difference(Kind.STALE_CONTENT, share_entry.path, bucket_entry, share_entry)
    return None


def _recent(entry: Entry, now: float, settle_seconds: float) -> bool:
    return entry.mtime is not None and now - entry.mtime < settle_seconds
