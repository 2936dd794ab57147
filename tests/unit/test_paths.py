import pytest

from sgw_drift.paths import ancestors, folder_list_entry, folder_prefix, parent_folder, unrepresentable_reason


@pytest.mark.parametrize(
    ("key", "folder"),
    [
        ("a.txt", "/"),
        ("a/b.txt", "/a"),
        ("a/b/c.txt", "/a/b"),
        ("a/b/", "/a"),
        ("a/", "/"),
        ("営業部/報告 書.xlsx", "/営業部"),
    ],
)
def test_parent_folder(key, folder):
    assert parent_folder(key) == folder


@pytest.mark.parametrize(("folder", "entry"), [("/", "/"), ("", "/"), ("a/b", "/a/b"), ("/a/b/", "/a/b")])
def test_folder_list_entry_form(folder, entry):
    assert folder_list_entry(folder) == entry


def test_folder_prefix_joins_share_prefix():
    assert folder_prefix("projects/", "/") == "projects/"
    assert folder_prefix("projects/", "/a/b") == "projects/a/b/"
    assert folder_prefix("", "/a") == "a/"


def test_ancestors_end_at_root():
    assert ancestors("/a/b/c") == ["/a/b", "/a", "/"]
    assert ancestors("/") == []


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a/./b", "'.' path segment"),
        ("../etc/passwd", "'..' path segment"),
        ("a//b", "empty path segment (//)"),
        ("/leading", "empty path segment (//)"),
        ("x" * 256, "path segment longer than 255 bytes"),
        ("あ" * 86, "path segment longer than 255 bytes"),
    ],
)
def test_unrepresentable_keys(key, expected):
    assert unrepresentable_reason(key) == expected


@pytest.mark.parametrize(
    "key", ["a/b.txt", "x" * 255, "あ" * 85, "dir/", "R&D <draft> v2.xlsx", "$(reboot).txt"]
)
def test_representable_keys(key):
    assert unrepresentable_reason(key) is None
