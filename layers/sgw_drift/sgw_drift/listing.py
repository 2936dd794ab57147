"""Listing entries and the share lister interface.

A listing is an iterator of `Entry` sorted by `Entry.sort_key`: the UTF-8 bytes of the path,
which is the order S3 uses for `ListObjectsV2`. Paths are relative to the share root, without a
leading slash; directories end with `/`, as their S3 prefixes do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Entry:
    """One file or directory as a listing shows it."""

    path: str
    is_dir: bool = False
    size: int | None = None
    mtime: float | None = None

    @property
    def sort_key(self) -> bytes:
        # surrogateescape keeps file names that are not valid UTF-8 distinct and ordered by their bytes.
        return self.path.encode("utf-8", "surrogateescape")


class ListingError(Exception):
    """A listing could not be taken completely, so it must not be compared."""


class ShareLister(Protocol):
    """What a share shows its clients, folder by folder."""

    def list_folder(self, share_arn: str, folder: str) -> Iterator[Entry]:
        """Yield the direct children of `folder` (`/` or `/a/b`), sorted by `Entry.sort_key`.

        Raises `ListingError` when the listing is incomplete or failed.
        """
        ...

    def list_tree(self, share_arn: str) -> Iterator[Entry]:
        """Yield every file and directory of the share, sorted by `Entry.sort_key`."""
        ...

    # A lister may also define `can_list(share_arn) -> bool` (which shares it can list; every share
    # when absent) and `prefetch(share_arn, folders)` (list many folders at once before `list_folder`).
