"""Share lister over a mounted directory, for `sgw-drift check` on the mount host and for tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

from .listing import Entry, ListingError
from .paths import ROOT


class LocalDirectoryLister:
    """Lists shares mounted at local paths (`share ARN -> mount path`)."""

    def __init__(self, mounts: dict[str, str]) -> None:
        self._mounts = mounts

    def can_list(self, share_arn: str) -> bool:
        return share_arn in self._mounts

    def list_folder(self, share_arn: str, folder: str) -> Iterator[Entry]:
        base = self._root(share_arn)
        relative = "" if folder == ROOT else folder.strip("/") + "/"
        directory = os.path.join(base, relative) if relative else base
        if not os.path.isdir(directory):
            return iter(())  # the share does not show this folder at all
        return iter(sorted(self._scan(directory, relative), key=lambda entry: entry.sort_key))

    def list_tree(self, share_arn: str) -> Iterator[Entry]:
        return self._walk(self._root(share_arn), "")

    def _walk(self, directory: str, relative: str) -> Iterator[Entry]:
        # Children sorted by name (with "/" after directories) give global UTF-8 byte order,
        # because each subtree is one contiguous block starting with "name/".
        for entry in sorted(self._scan(directory, relative), key=lambda item: item.sort_key):
            yield entry
            if entry.is_dir:
                yield from self._walk(os.path.join(directory, entry.path[len(relative) : -1]), entry.path)

    def _scan(self, directory: str, relative: str) -> list[Entry]:
        try:
            with os.scandir(directory) as iterator:
                items = list(iterator)
        except OSError as error:
            raise ListingError(f"cannot list {directory!r}: {error.strerror}") from error
        entries = []
        for item in items:
            info = item.stat(follow_symlinks=False)
            if item.is_dir(follow_symlinks=False):
                entries.append(Entry(path=relative + item.name + "/", is_dir=True, mtime=info.st_mtime))
            else:
                entries.append(Entry(path=relative + item.name, size=info.st_size, mtime=info.st_mtime))
        return entries

    def _root(self, share_arn: str) -> str:
        try:
            return self._mounts[share_arn]
        except KeyError:
            raise ListingError(f"no mount path configured for share {share_arn}") from None
