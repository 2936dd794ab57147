"""The streaming comparison against a plain set-based reference, and its bounded look-back."""

from __future__ import annotations

import itertools
import random

from sgw_drift.compare import SAME_NAME, Kind, compare
from sgw_drift.listing import Entry
from sgw_drift.paths import unrepresentable_reason

NOW = 1_000.0
SETTLE = 60.0
# Characters around "/" in byte order, composed and decomposed accents, and a byte that is not UTF-8.
PIECES = [
    "a",
    "b",
    "a-",
    "a.",
    "a!",
    "/",
    "\u00e9",
    "e\u0301",
    b"\xff".decode("utf-8", "surrogateescape"),
    "..",
    " ",
]


def reference(bucket: list[Entry], share: list[Entry], direct_writes: dict[str, float]) -> list[tuple]:
    """What `compare` must report, computed with dictionaries and sorted at the end."""
    ours = {entry.path: entry for entry in bucket}
    theirs = {entry.path: entry for entry in share}
    conflicts = {
        path[:-1] for path, entry in ours.items() if entry.is_dir and not ours.get(path[:-1], entry).is_dir
    }
    found = []
    for path in sorted(ours.keys() | theirs.keys(), key=lambda path: path.encode("utf-8", "surrogateescape")):
        mine, other = ours.get(path), theirs.get(path)
        if mine is not None and mine.is_dir and path[:-1] in conflicts:
            # The folder of a same-name pair is reported once, and a missing folder is not drift.
            found.append((Kind.UNREPRESENTABLE, path, SAME_NAME))
            if other is None and unrepresentable_reason(path):
                found.append((Kind.UNREPRESENTABLE, path, unrepresentable_reason(path)))
            continue
        difference = _difference(path, mine, other, direct_writes)
        if difference is not None and path in conflicts:
            # The file of a same-name pair: only a difference it has is reported, as unrepresentable.
            difference = (Kind.UNREPRESENTABLE, path, SAME_NAME)
        if difference is not None:
            found.append(difference)
    return found


def _difference(
    path: str, mine: Entry | None, other: Entry | None, direct_writes: dict[str, float]
) -> tuple | None:
    recent = other is not None and other.mtime is not None and NOW - other.mtime < SETTLE
    if mine is None:
        return Kind.PENDING_UPLOAD if recent and not other.is_dir else Kind.ONLY_ON_SHARE, path, None
    if other is None:
        reason = unrepresentable_reason(path)
        return (Kind.UNREPRESENTABLE, path, reason) if reason else (Kind.MISSING_ON_SHARE, path, None)
    if mine.is_dir or other.is_dir:
        return None
    if mine.size != other.size:
        return Kind.PENDING_UPLOAD if recent else Kind.SIZE_DIFFERS, path, None
    written = direct_writes.get(path)
    if written is not None and mine.mtime is not None:
        written = min(written, mine.mtime)
    if written is not None and other.mtime is not None and other.mtime < written - 1:
        return Kind.STALE_CONTENT, path, None
    return None


def random_listings(draw: random.Random) -> tuple[list[Entry], list[Entry], dict[str, float]]:
    paths = set()
    for _ in range(draw.randint(0, 12)):
        path = "/".join(
            "".join(draw.choice(PIECES) for _ in range(draw.randint(1, 3))) for _ in range(draw.randint(1, 3))
        )
        paths.add(path)
        if draw.random() < 0.3:
            paths.add(path + "/")

    def side(is_share: bool) -> list[Entry]:
        entries = []
        for path in paths:
            if draw.random() < 0.7:
                is_dir = path.endswith("/")
                mtime = (
                    draw.choice([None, 0.0, 990.0, 500.0]) if is_share else draw.choice([None, 450.0, 950.0])
                )
                entries.append(
                    Entry(path, is_dir=is_dir, size=None if is_dir else draw.randint(0, 3), mtime=mtime)
                )
        return sorted(entries, key=lambda entry: entry.sort_key)

    bucket, share = side(False), side(True)
    writes = {entry.path: draw.choice([400.0, 900.0]) for entry in bucket if draw.random() < 0.3}
    return bucket, share, writes


def test_compare_matches_set_based_reference():
    draw = random.Random(20260601)
    for _ in range(3000):
        bucket, share, writes = random_listings(draw)

        found = [
            (difference.kind, difference.path, difference.reason)
            for difference in compare(bucket, share, now=NOW, settle_seconds=SETTLE, direct_writes=writes)
        ]

        assert found == reference(bucket, share, writes), (bucket, share, writes)


def test_same_name_found_across_many_paths_between():
    # Every "p-…" folder sorts between the file "p" and the folder "p/".
    between = [Entry(f"p-{index:05d}/x", size=1) for index in range(5000)]
    bucket = [Entry("p", size=1), *between, Entry("p/", is_dir=True), Entry("p/q", size=1)]
    share = [Entry("p-00000/x", size=1, mtime=0.0)]

    found = [
        (difference.kind, difference.path)
        for difference in compare(bucket, share, now=NOW, settle_seconds=SETTLE)
    ]

    assert found[0] == (Kind.UNREPRESENTABLE, "p")
    assert (Kind.UNREPRESENTABLE, "p/") in found
    assert (Kind.MISSING_ON_SHARE, "p/q") in found
    assert len(found) == 1 + 4999 + 1 + 1


def test_differences_stream_before_the_listing_ends():
    endless_bucket = (Entry(f"f{index:012d}", size=1) for index in itertools.count())
    endless_share = (Entry(f"f{index:012d}", size=1, mtime=0.0) for index in itertools.count() if index != 3)

    first = next(compare(endless_bucket, endless_share, now=NOW, settle_seconds=SETTLE))

    assert (first.kind, first.path) == (Kind.MISSING_ON_SHARE, "f000000000003")


def test_direct_write_recorded_late_is_not_stale_once_shown():
    # S3 stored the object at 1,000 and the pipeline recorded the edit at 1,020.
    bucket = [Entry("price.csv", size=8, mtime=1_000.0)]
    refreshed = [Entry("price.csv", size=8, mtime=1_000.0)]
    old = [Entry("price.csv", size=8, mtime=900.0)]
    writes = {"price.csv": 1_020.0}

    assert list(compare(bucket, refreshed, now=NOW, settle_seconds=0, direct_writes=writes)) == []
    [stale] = compare(bucket, old, now=NOW, settle_seconds=0, direct_writes=writes)
    assert stale.kind is Kind.STALE_CONTENT
