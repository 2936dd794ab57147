"""Bucket and local-directory listers produce the sorted listings the comparison expects."""

from __future__ import annotations

import os

import boto3
import pytest
from moto import mock_aws

from sgw_drift.bucket import BucketLister
from sgw_drift.compare import compare
from sgw_drift.listing import ListingError
from sgw_drift.local import LocalDirectoryLister
from sgw_drift.shares import Share

KEYS = [
    "a.txt",
    "a/",
    "a/b/c.txt",
    "a-b.txt",
    "a0.txt",
    "営業部/報告 書.xlsx",
    "z/y/",
    "caf\u00e9",
    "cafe\u0301",
]


@pytest.fixture
def bucket():
    with mock_aws():
        s3 = boto3.client("s3", region_name="ap-northeast-1")
        s3.create_bucket(Bucket="demo", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
        for key in KEYS:
            s3.put_object(Bucket="demo", Key="root/" + key, Body=b"" if key.endswith("/") else b"data")
        s3.put_object(Bucket="demo", Key="outside.txt", Body=b"x")
        yield BucketLister(s3), Share("arn:share", "arn:gateway", "demo", "root/", "NFS")


def make_tree(root) -> None:
    for key in KEYS:
        path = root / key
        if key.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"data")


def test_bucket_tree_is_sorted_with_directories(bucket):
    lister, share = bucket

    entries = list(lister.list_tree(share))

    paths = [entry.path for entry in entries]
    assert paths == sorted(paths, key=lambda path: path.encode())
    for directory in ("a/", "a/b/", "z/", "z/y/"):
        assert directory in paths
    assert paths.count("a/") == 1
    assert "outside.txt" not in paths


def test_bucket_folder_listing_merges_files_and_prefixes(bucket):
    lister, share = bucket

    entries = list(lister.list_folder(share, "/"))

    assert [entry.path for entry in entries] == sorted((entry.path for entry in entries), key=str.encode)
    assert {entry.path for entry in entries if entry.is_dir} == {"a/", "z/", "営業部/"}
    assert all(entry.size == 4 for entry in entries if not entry.is_dir)


def test_bucket_folder_listing_skips_its_own_marker(bucket):
    lister, share = bucket
    assert [entry.path for entry in lister.list_folder(share, "/a")] == ["a/b/"]


def test_local_tree_matches_bucket_tree(bucket, tmp_path):
    lister, share = bucket
    make_tree(tmp_path)
    local = LocalDirectoryLister({share.arn: str(tmp_path)})

    differences = list(
        compare(lister.list_tree(share), local.list_tree(share.arn), now=0.0, settle_seconds=0.0)
    )

    assert differences == []


def test_local_folder_listing_and_missing_folder(tmp_path):
    make_tree(tmp_path)
    local = LocalDirectoryLister({"arn:share": str(tmp_path)})

    assert [entry.path for entry in local.list_folder("arn:share", "/a")] == ["a/b/"]
    assert list(local.list_folder("arn:share", "/missing")) == []


def test_local_lister_reports_unreadable_directory(tmp_path, monkeypatch):
    (tmp_path / "locked").mkdir()
    local = LocalDirectoryLister({"arn:share": str(tmp_path)})

    def deny(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "scandir", deny)
    with pytest.raises(ListingError, match="cannot list .*Permission denied"):
        list(local.list_folder("arn:share", "/locked"))


def test_local_lister_unknown_share():
    with pytest.raises(ListingError, match="no mount path"):
        list(LocalDirectoryLister({}).list_tree("arn:share"))


def test_bucket_counts_objects_for_refresh_cost(bucket):
    lister, share = bucket

    assert lister.count_objects(share, "/a", recursive=False) == 1  # the a/ marker itself
    assert lister.count_objects(share, "/a", recursive=True) == 2
    assert lister.count_objects(share, "/", recursive=True) == len(KEYS)
