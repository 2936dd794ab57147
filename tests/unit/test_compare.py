from sgw_drift.compare import Kind, compare
from sgw_drift.listing import Entry


def listing(*entries: Entry) -> list[Entry]:
    return sorted(entries, key=lambda entry: entry.sort_key)


def kinds(bucket, share, **kwargs) -> list[tuple[str, str]]:
    options = {"now": 1_000.0, "settle_seconds": 60.0, **kwargs}
    return [(difference.kind.value, difference.path) for difference in compare(bucket, share, **options)]


def test_identical_listings_have_no_difference():
    entries = listing(
        Entry("a/", is_dir=True), Entry("a/b.txt", size=3, mtime=1.0), Entry("c.txt", size=1, mtime=1.0)
    )
    assert kinds(entries, entries) == []


def test_each_drift_kind_is_reported_in_path_order():
    bucket = listing(Entry("new.txt", size=5), Entry("same.txt", size=2), Entry("size.txt", size=10))
    share = listing(
        Entry("gone.txt", size=1, mtime=0.0),
        Entry("same.txt", size=2, mtime=0.0),
        Entry("size.txt", size=9, mtime=0.0),
    )

    assert kinds(bucket, share) == [
        ("only_on_share", "gone.txt"),
        ("missing_on_share", "new.txt"),
        ("size_differs", "size.txt"),
    ]


def test_recent_share_file_is_pending_upload_not_drift():
    share = listing(Entry("draft.docx", size=4, mtime=990.0))

    differences = list(compare([], share, now=1_000.0, settle_seconds=60.0))

    assert [difference.kind for difference in differences] == [Kind.PENDING_UPLOAD]
    assert not differences[0].kind.is_drift


def test_old_share_file_missing_in_bucket_is_drift():
    share = listing(Entry("draft.docx", size=4, mtime=100.0))
    assert kinds([], share) == [("only_on_share", "draft.docx")]


def test_recent_size_change_on_share_is_pending():
    bucket = listing(Entry("log.txt", size=10))
    share = listing(Entry("log.txt", size=20, mtime=995.0))
    assert kinds(bucket, share) == [("pending_upload", "log.txt")]


def test_composed_and_decomposed_names_stay_distinct():
    composed, decomposed = "caf\u00e9.txt", "cafe\u0301.txt"
    bucket = listing(Entry(composed, size=1))
    share = listing(Entry(decomposed, size=1, mtime=0.0))

    assert sorted(kinds(bucket, share)) == [("missing_on_share", composed), ("only_on_share", decomposed)]


def test_names_differing_in_case_stay_distinct():
    assert sorted(
        kinds(listing(Entry("Report.txt", size=1)), listing(Entry("report.txt", size=1, mtime=0.0)))
    ) == [
        ("missing_on_share", "Report.txt"),
        ("only_on_share", "report.txt"),
    ]


def test_unrepresentable_keys_are_not_drift():
    bucket = listing(Entry("a/../b", size=1), Entry("x" * 256, size=1), Entry("a//b", size=1))

    differences = list(compare(bucket, [], now=0.0, settle_seconds=0.0))

    assert {difference.kind for difference in differences} == {Kind.UNREPRESENTABLE}
    assert len(differences) == 3


def test_file_and_folder_with_same_name_are_unrepresentable():
    bucket = listing(Entry("p", size=1), Entry("p-x", size=1), Entry("p/", is_dir=True), Entry("p/q", size=1))
    share = listing(Entry("p-x", size=1, mtime=0.0))

    result = kinds(bucket, share)

    assert ("unrepresentable", "p") in result
    assert ("unrepresentable", "p/") in result
    assert ("missing_on_share", "p") not in result
    assert ("missing_on_share", "p/") not in result


def test_directory_marker_missing_on_share_is_drift():
    assert kinds(listing(Entry("reports/", is_dir=True)), []) == [("missing_on_share", "reports/")]


def test_same_size_direct_overwrite_is_stale_content():
    bucket = listing(Entry("price.csv", size=8))
    share = listing(Entry("price.csv", size=8, mtime=500.0))

    assert kinds(bucket, share, direct_writes={"price.csv": 900.0}) == [("stale_content", "price.csv")]
    assert kinds(bucket, share, direct_writes={"price.csv": 400.0}) == []


def test_invalid_utf8_names_sort_by_bytes():
    raw = b"bad\xff".decode("utf-8", "surrogateescape")
    share = listing(Entry(raw, size=1, mtime=0.0), Entry("bad~", size=1, mtime=0.0))
    assert [path for _, path in kinds([], share)] == ["bad~", raw]


def test_comparison_streams_large_listings():
    count = 50_000
    bucket = (Entry(f"f{index:06d}", size=1) for index in range(count))
    share = (Entry(f"f{index:06d}", size=1, mtime=0.0) for index in range(count) if index != 777)

    assert kinds(bucket, share) == [("missing_on_share", "f000777")]
