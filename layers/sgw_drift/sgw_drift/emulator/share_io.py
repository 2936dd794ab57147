"""Client operations on an NFS or SMB share, with the S3 calls the gateway makes for each.

Each operation changes the bucket through the S3 client and the share's own view in the same
step, as a file gateway does once it has uploaded the change. Missing parent directories are
created first, like `mkdir -p`, each with its own zero-byte `dir/` object. Every function returns
the S3 calls it made as dicts: `operation` (PutObject, CopyObject, DeleteObject), `bucket`, `key`,
the share-relative `path`, and `source_key` and `source_path` for a copy.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from sgw_drift.emulator.model import ShareRecord
from sgw_drift.emulator.view import ancestor_dirs, is_below
from sgw_drift.paths import unrepresentable_reason

# Object metadata a file gateway writes, as seen on objects uploaded through real shares (AWS
# does not document it). Owner and group 0 are what a root NFS client produces.
GATEWAY_USER_AGENT = "aws-storage-gateway"
FILE_PERMISSIONS = "0644"
DIRECTORY_PERMISSIONS = "0755"


def gateway_metadata(mtime: float, permissions: str) -> dict[str, str]:
    """Return the S3 user metadata of an object the gateway uploads.

    `file-mtime` is the modification time in integer nanoseconds since the epoch.
    """
    # NOTE: the exact text of a real gateway's file-mtime value is not public; readers should
    # check only that it is present.
    return {
        "user-agent": GATEWAY_USER_AGENT,
        "file-owner": "0",
        "file-group": "0",
        "file-permissions": permissions,
        "file-mtime": str(round(mtime * 1_000_000_000)),
    }


def write_file(s3_client: Any, share: ShareRecord, path: str, body: bytes, mtime: float) -> dict[str, Any]:
    path = normalize_file_path(path)
    view = share.view
    if view.is_dir(path + "/"):
        raise IsADirectoryError(f"cannot write {path!r}: it is a directory on the share")

    created = _make_parents(s3_client, share, path, mtime)
    response = s3_client.put_object(
        Bucket=share.bucket,
        Key=share.prefix + path,
        Body=body,
        Metadata=gateway_metadata(mtime, FILE_PERMISSIONS),
    )
    view.put_file(path, size=len(body), mtime=mtime, etag=response["ETag"])
    return {
        **_call("PutObject", share, path),
        "size": len(body),
        "etag": response["ETag"],
        "mtime": mtime,
        "created_directories": [call["path"] for call in created],
    }


def delete_file(s3_client: Any, share: ShareRecord, path: str) -> dict[str, Any]:
    path = normalize_file_path(path)
    view = share.view
    if view.is_dir(path + "/"):
        raise IsADirectoryError(f"cannot delete {path!r}: it is a directory on the share")
    if not view.is_file(path):
        raise FileNotFoundError(f"cannot delete {path!r}: no such file on the share")

    s3_client.delete_object(Bucket=share.bucket, Key=share.prefix + path)
    view.remove(path)
    return _call("DeleteObject", share, path)


def make_directory(s3_client: Any, share: ShareRecord, path: str, mtime: float) -> dict[str, Any]:
    dir_path = normalize_dir_path(path)
    view = share.view
    if view.is_dir(dir_path) or view.is_file(dir_path[:-1]):
        raise FileExistsError(f"cannot create directory {dir_path!r}: the name exists on the share")

    created = _make_parents(s3_client, share, dir_path, mtime)
    call = _put_marker(s3_client, share, dir_path, mtime)
    return {**call, "created_directories": [parent["path"] for parent in created]}


def rename(s3_client: Any, share: ShareRecord, old_path: str, new_path: str, mtime: float) -> list[dict]:
    """Rename a file or a directory tree, as copy and delete of every object it contains."""
    old = old_path.strip("/")
    new = new_path.strip("/")
    view = share.view
    if view.is_dir(normalize_dir_path(old)):
        return _rename_dir(s3_client, share, normalize_dir_path(old), normalize_dir_path(new), mtime)
    old = normalize_file_path(old)
    if not view.is_file(old):
        raise FileNotFoundError(f"cannot rename {old!r}: no such file or directory on the share")

    new = normalize_file_path(new)
    if new == old:
        return []
    if view.is_dir(new + "/"):
        raise IsADirectoryError(f"cannot rename {old!r} to {new!r}: the target is a directory")
    calls = _make_parents(s3_client, share, new, mtime)
    calls.extend(_move_file(s3_client, share, old, new))
    return calls


def normalize_file_path(path: str) -> str:
    """Return `path` without a leading slash, or raise ValueError if a share cannot name it."""
    relative = path.lstrip("/")
    if not relative or relative.endswith("/"):
        raise ValueError(f"invalid file path {path!r}: expected a name like 'a/b.txt'")
    reason = unrepresentable_reason(relative)
    if reason is not None:
        raise ValueError(f"invalid file path {path!r}: {reason}")
    return relative


def normalize_dir_path(path: str) -> str:
    """Return `path` as a directory path ending with `/`, or raise ValueError."""
    relative = path.strip("/")
    if not relative:
        raise ValueError(f"invalid directory path {path!r}: the share root cannot be created or renamed")
    reason = unrepresentable_reason(relative)
    if reason is not None:
        raise ValueError(f"invalid directory path {path!r}: {reason}")
    return relative + "/"


def _rename_dir(s3_client: Any, share: ShareRecord, old: str, new: str, mtime: float) -> list[dict]:
    view = share.view
    if new == old:
        return []
    if is_below(new, old):
        raise ValueError(f"cannot move directory {old!r} into itself ({new!r})")
    if view.is_dir(new) or view.is_file(new[:-1]):
        raise FileExistsError(f"cannot rename {old!r} to {new!r}: the target exists on the share")

    calls = _make_parents(s3_client, share, new, mtime)
    moved = sorted([old, *view.subtree(old)], key=lambda path: path.encode("utf-8", "surrogateescape"))
    for path in moved:
        target = new + path[len(old) :]
        if path.endswith("/"):
            calls.append(_put_marker(s3_client, share, target, mtime))
            if _object_exists(s3_client, share, path):
                s3_client.delete_object(Bucket=share.bucket, Key=share.prefix + path)
                calls.append(_call("DeleteObject", share, path))
        else:
            calls.extend(_move_file(s3_client, share, path, target))
    view.remove(old)
    return calls


def _move_file(s3_client: Any, share: ShareRecord, old: str, new: str) -> list[dict]:
    entry = share.view.get(old)
    assert entry is not None and not entry.is_dir
    old_key = share.prefix + old
    new_key = share.prefix + new
    # MetadataDirective COPY keeps the gateway metadata, including file-mtime: a rename keeps mtime.
    response = s3_client.copy_object(
        Bucket=share.bucket,
        Key=new_key,
        CopySource={"Bucket": share.bucket, "Key": old_key},
        MetadataDirective="COPY",
    )
    s3_client.delete_object(Bucket=share.bucket, Key=old_key)

    share.view.remove(old)
    etag = response["CopyObjectResult"]["ETag"]
    share.view.put_file(new, size=entry.size or 0, mtime=entry.mtime, etag=etag)
    return [
        {**_call("CopyObject", share, new), "source_key": old_key, "source_path": old},
        _call("DeleteObject", share, old),
    ]


def _make_parents(s3_client: Any, share: ShareRecord, path: str, mtime: float) -> list[dict]:
    """Create the missing parent directories of `path` and return the S3 calls made."""
    created = []
    for dir_path in ancestor_dirs(path):
        if share.view.is_dir(dir_path):
            continue
        if share.view.is_file(dir_path[:-1]):
            raise NotADirectoryError(f"cannot create {path!r}: {dir_path[:-1]!r} is a file on the share")
        created.append(_put_marker(s3_client, share, dir_path, mtime))
    return created


def _put_marker(s3_client: Any, share: ShareRecord, dir_path: str, mtime: float) -> dict[str, Any]:
    s3_client.put_object(
        Bucket=share.bucket,
        Key=share.prefix + dir_path,
        Body=b"",
        Metadata=gateway_metadata(mtime, DIRECTORY_PERMISSIONS),
    )
    share.view.put_dir(dir_path)
    return _call("PutObject", share, dir_path)


def _object_exists(s3_client: Any, share: ShareRecord, path: str) -> bool:
    """Tell whether `path` has its own S3 object; a directory implied only by keys below it has none."""
    try:
        s3_client.head_object(Bucket=share.bucket, Key=share.prefix + path)
    except ClientError as error:
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return False
        raise
    return True


def _call(operation: str, share: ShareRecord, path: str) -> dict[str, Any]:
    return {"operation": operation, "bucket": share.bucket, "key": share.prefix + path, "path": path}
