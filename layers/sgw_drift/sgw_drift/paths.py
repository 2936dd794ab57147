"""Paths inside a share: folders, FolderList entries and keys a share cannot show.

Folders are written `/` for the share root and `/a/b` below it. This is the form
`RefreshCache` receives: relative to the share's root (not the bucket, not the share's
prefix), a leading slash and no trailing slash. The AWS API reference gives `["/"]` as the
default `FolderList`; no public source settles the rest, so `folder_list_entry` is the only
place that formats an entry.
"""

from __future__ import annotations

ROOT = "/"
MAX_FOLDER_ENTRY_CHARS = 1024
MAX_SEGMENT_BYTES = 255


def parent_folder(relative_key: str) -> str:
    """Return the folder whose listing shows `relative_key` (a file, or a `dir/` marker)."""
    trimmed = relative_key[:-1] if relative_key.endswith("/") else relative_key
    head, _, _ = trimmed.rpartition("/")
    return ROOT + head if head else ROOT


def folder_list_entry(folder: str) -> str:
    """Format a folder as a `RefreshCache` `FolderList` entry."""
    if folder in ("", ROOT):
        return ROOT
    return ROOT + folder.strip("/")


def folder_prefix(share_prefix: str, folder: str) -> str:
    """Return the S3 prefix that lists `folder` of a share whose location is `share_prefix`."""
    if folder in ("", ROOT):
        return share_prefix
    return share_prefix + folder.strip("/") + "/"


def ancestors(folder: str) -> list[str]:
    """Return the strict ancestors of `folder`, nearest first, ending with the root."""
    result = []
    current = folder
    while current != ROOT:
        current = parent_folder(current.lstrip("/"))
        result.append(current)
    return result


def depth(folder: str) -> int:
    return 0 if folder == ROOT else folder.count("/")


def unrepresentable_reason(relative_key: str) -> str | None:
    """Explain why a share cannot show `relative_key`, or return None when it can.

    NFS and SMB clients cannot name a `.` or `..` segment, an empty segment (`a//b`) or a
    segment longer than 255 bytes, so a refresh never makes such a key appear.
    """
    trimmed = relative_key[:-1] if relative_key.endswith("/") else relative_key
    if not trimmed:
        return "empty name"
    for segment in trimmed.split("/"):
        if segment == "":
            return "empty path segment (//)"
        if segment in (".", ".."):
            return f"'{segment}' path segment"
        if len(segment.encode("utf-8", "surrogateescape")) > MAX_SEGMENT_BYTES:
            return f"path segment longer than {MAX_SEGMENT_BYTES} bytes"
    return None
