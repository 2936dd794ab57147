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
    """What a difference between the bucket and the share is."""

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
    # A file `p` and a directory `p/` cannot both be shown, and `p/` sorts after every `p<c>`
    # with c < "/". Differences and bucket file names are held back until the merge passes `p/`.
    held: deque[Difference] = deque()
    bucket_files: deque[str] = deque()
    for item in _merge(iter(bucket_entries), iter(share_entries), now, settle_seconds, direct_writes or {}):
        cursor = item.path.encode("utf-8", "surrogateescape")
        while held and _release_key(held[0].path) < cursor:
            yield held.popleft()
        while bucket_files and _release_key(bucket_files[0]) < cursor:
            bucket_files.popleft()

        if isinstance(item, _BucketEntry):
            if not item.entry.is_dir:
                bucket_files.append(item.path)
            elif item.path[:-1] in bucket_files:
                _mark_conflict(held, item.path[:-1])
                held.append(Difference(Kind.UNREPRESENTABLE, item.path, bucket=item.entry, reason=SAME_NAME))
            continue
        is_bucket_directory = item.bucket is not None and item.bucket.is_dir
        if item.kind is Kind.MISSING_ON_SHARE and is_bucket_directory and item.path[:-1] in bucket_files:
            continue  # reported as unrepresentable above
        held.append(item)
    yield from held


SAME_NAME = "a file and a folder have the same name"


class _BucketEntry:
    """Every bucket entry, passed through the merge so `compare` can spot same-name conflicts."""

    __slots__ = ("entry", "path")

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.path = entry.path


def _mark_conflict(held: deque[Difference], name: str) -> None:
    for index, item in enumerate(held):
        if item.path == name:
            held[index] = Difference(Kind.UNREPRESENTABLE, name, item.bucket, item.share, SAME_NAME)


def _release_key(path: str) -> bytes:
    return (path + "/").encode("utf-8", "surrogateescape")


def _merge(bucket, share, now, settle_seconds, direct_writes) -> Iterator[Difference | _BucketEntry]:
    bucket_entry = next(bucket, None)
    share_entry = next(share, None)
    while bucket_entry is not None or share_entry is not None:
        if share_entry is None or (bucket_entry is not None and bucket_entry.sort_key < share_entry.sort_key):
            yield _BucketEntry(bucket_entry)
            yield _bucket_only(bucket_entry)
            bucket_entry = next(bucket, None)
        elif bucket_entry is None or share_entry.sort_key < bucket_entry.sort_key:
            yield _share_only(share_entry, now, settle_seconds)
            share_entry = next(share, None)
        else:
            yield _BucketEntry(bucket_entry)
            difference = _both(bucket_entry, share_entry, now, settle_seconds, direct_writes)
            if difference is not None:
                yield difference
            bucket_entry = next(bucket, None)
            share_entry = next(share, None)


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
    if written is not None and share_entry.mtime is not None and share_entry.mtime < written - 1:
        return Difference(Kind.STALE_CONTENT, share_entry.path, bucket_entry, share_entry)
    return None


def _recent(entry: Entry, now: float, settle_seconds: float) -> bool:
    return entry.mtime is not None and now - entry.mtime < settle_seconds
