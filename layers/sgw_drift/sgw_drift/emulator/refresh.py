"""Applying a completed cache refresh: re-list folders from S3 and replace what the view shows."""

from __future__ import annotations

from typing import Any

from sgw_drift.emulator.model import ShareRecord
from sgw_drift.emulator.view import ROOT_DIR, ListedObject, ancestor_dirs, is_below
from sgw_drift.paths import unrepresentable_reason


def folder_dir(folder: str) -> str:
    """Return the view directory path of a FolderList entry: `""` for `/`, `a/b/` for `/a/b`.

    Leading and trailing slashes are ignored, so `a/b`, `/a/b` and `/a/b/` name the same folder.
    """
    trimmed = folder.strip("/")
    return trimmed + "/" if trimmed else ROOT_DIR


def refresh_folder(s3_client: Any, share: ShareRecord, folder: str, recursive: bool) -> None:
    """Re-list one FolderList entry from S3 and replace what the share's view shows there.

    Non-recursive: the direct children are replaced; surviving subdirectories keep their cached
    content. Recursive: the whole subtree is replaced. Keys a share cannot show are skipped, and
    when a file and a directory have the same name, only the directory is shown.
    """
    dir_path = folder_dir(folder)
    if not share.view.is_dir(dir_path):
        # NOTE: AWS does not document how a gateway refreshes a folder missing from its cache. The
        # emulator assumes the stricter case, where the refresh changes nothing there.
        return

    files, dirs = list_folder_objects(s3_client, share, dir_path, recursive)
    for path in [path for path in files if path + "/" in dirs]:
        del files[path]
    if recursive:
        share.view.replace_subtree(dir_path, files, dirs)
    else:
        share.view.replace_children(dir_path, files, dirs)


def list_folder_objects(
    s3_client: Any, share: ShareRecord, dir_path: str, recursive: bool
) -> tuple[dict[str, ListedObject], set[str]]:
    """List a folder from S3 as the share would show it: files by path, and directory paths.

    Non-recursive listings use Delimiter "/" and return direct children only. Recursive listings
    return every file below `dir_path` and every directory implied by a key or marked by a
    zero-byte `dir/` object.
    """
    request = {"Bucket": share.bucket, "Prefix": share.prefix + dir_path}
    if not recursive:
        request["Delimiter"] = "/"

    files: dict[str, ListedObject] = {}
    dirs: set[str] = set()
    for page in s3_client.get_paginator("list_objects_v2").paginate(**request):
        for listed in page.get("Contents", []):
            path = listed["Key"][len(share.prefix) :]
            if not is_below(path, dir_path) or unrepresentable_reason(path) is not None:
                continue
            if path.endswith("/"):
                dirs.add(path)
            else:
                # NOTE: a real gateway HEADs each object and may show its file-mtime metadata. The
                # emulator shows LastModified unless the view already caches an object with this ETag.
                files[path] = ListedObject(
                    size=listed["Size"], last_modified=listed["LastModified"].timestamp(), etag=listed["ETag"]
                )
        for common in page.get("CommonPrefixes", []):
            path = common["Prefix"][len(share.prefix) :]
            if unrepresentable_reason(path) is None:
                dirs.add(path)

    if recursive:
        for path in [*files, *dirs]:
            dirs.update(ancestor for ancestor in ancestor_dirs(path) if is_below(ancestor, dir_path))
    return files, dirs
