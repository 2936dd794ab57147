"""Cached namespace of one emulated file share.

Paths follow `sgw_drift.listing`: relative to the share root, no leading slash, directories
end with `/`. The root directory is the empty string and never appears as an entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sgw_drift.listing import Entry

ROOT_DIR = ""


@dataclass(frozen=True, slots=True)
class ListedObject:
    """One S3 object as a refresh lists it, keyed elsewhere by its share-relative path."""

    size: int
    last_modified: float
    etag: str


def parent_dir(path: str) -> str:
    """Return the directory path (`a/` or the root `""`) that contains `path`."""
    trimmed = path[:-1] if path.endswith("/") else path
    head, separator, _ = trimmed.rpartition("/")
    return head + separator


def ancestor_dirs(path: str) -> list[str]:
    """Return the directories above `path`, outermost first, without the root."""
    trimmed = path[:-1] if path.endswith("/") else path
    segments = trimmed.split("/")[:-1]
    return ["/".join(segments[: index + 1]) + "/" for index in range(len(segments))]


def is_below(path: str, dir_path: str) -> bool:
    """Tell whether `path` lies strictly inside directory `dir_path`."""
    return path != dir_path and path.startswith(dir_path)


class ShareView:
    """Files and directories one share shows, with a child index so folders list without a scan.

    The view is a tree, so adding an entry adds its missing parent directories. A file `a` and a
    directory `a/` may both be present, and callers decide which one a share shows.
    """

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._children: dict[str, set[str]] = {ROOT_DIR: set()}
        # ETag of each file's S3 object as the share last wrote or listed it, so a refresh can keep
        # the cached mtime of a file that did not change.
        self._etags: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, path: str) -> Entry | None:
        return self._entries.get(path)

    def etag(self, path: str) -> str | None:
        return self._etags.get(path)

    def is_dir(self, dir_path: str) -> bool:
        return dir_path in self._children

    def is_file(self, path: str) -> bool:
        entry = self._entries.get(path)
        return entry is not None and not entry.is_dir

    def snapshot(self) -> dict[str, Entry]:
        return dict(self._entries)

    def children(self, dir_path: str) -> list[Entry]:
        """Return the direct children of `dir_path` sorted by `Entry.sort_key`, or [] if it is absent."""
        names = self._children.get(dir_path, ())
        return sorted((self._entries[name] for name in names), key=_sort_key)

    def entries(self) -> list[Entry]:
        return sorted(self._entries.values(), key=_sort_key)

    def subtree(self, dir_path: str) -> Iterator[str]:
        """Yield every path strictly inside `dir_path`, parents before their children."""
        pending = list(self._children.get(dir_path, ()))
        while pending:
            path = pending.pop()
            yield path
            pending.extend(self._children.get(path, ()))

    def put_dir(self, dir_path: str) -> None:
        if dir_path in self._children:
            return
        self._link(dir_path)
        self._entries[dir_path] = Entry(path=dir_path, is_dir=True)
        self._children[dir_path] = set()

    def put_file(self, path: str, size: int, mtime: float | None, etag: str | None) -> None:
        self._link(path)
        self._entries[path] = Entry(path=path, is_dir=False, size=size, mtime=mtime)
        if etag is None:
            self._etags.pop(path, None)
        else:
            self._etags[path] = etag

    def remove(self, path: str) -> None:
        """Remove a file, or a directory with everything inside it. An absent path is ignored."""
        if path not in self._entries:
            return
        doomed = [path, *self.subtree(path)] if path in self._children else [path]
        self._children[parent_dir(path)].discard(path)
        for doomed_path in doomed:
            del self._entries[doomed_path]
            self._children.pop(doomed_path, None)
            self._etags.pop(doomed_path, None)

    def replace_children(self, dir_path: str, files: dict[str, ListedObject], dirs: set[str]) -> None:
        """Make the direct children of `dir_path` exactly `files` and `dirs`.

        A directory that stays keeps its cached content, a new one starts empty, and a vanished one
        goes with everything inside it.
        """
        for path in list(self._children.get(dir_path, ())):
            if path not in files and path not in dirs:
                self.remove(path)
        for path in dirs:
            self.put_dir(path)
        for path, listed in files.items():
            self._update_file(path, listed)

    def replace_subtree(self, dir_path: str, files: dict[str, ListedObject], dirs: set[str]) -> None:
        """Make everything inside `dir_path` exactly `files` and `dirs`, at every depth.

        `dirs` must already contain every directory between `dir_path` and each file.
        """
        for path in list(self.subtree(dir_path)):
            if path in self._entries and path not in files and path not in dirs:
                self.remove(path)
        for path in sorted(dirs, key=len):
            self.put_dir(path)
        for path, listed in files.items():
            self._update_file(path, listed)

    def _update_file(self, path: str, listed: ListedObject) -> None:
        current = self._entries.get(path)
        if current is not None and not current.is_dir and self._etags.get(path) == listed.etag:
            # Same object as the share already caches: keep the mtime the share recorded for it.
            return
        self.put_file(path, size=listed.size, mtime=listed.last_modified, etag=listed.etag)

    def _link(self, path: str) -> None:
        """Register `path` under its parent, creating missing parent directories."""
        parent = parent_dir(path)
        if parent not in self._children:
            self.put_dir(parent)
        self._children[parent].add(path)


def _sort_key(entry: Entry) -> bytes:
    return entry.sort_key
