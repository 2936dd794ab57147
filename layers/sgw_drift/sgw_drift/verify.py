"""Verification: compare the objects in the bucket with what the share shows, folder by folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .bucket import BucketLister
from .compare import Difference, Kind, compare
from .listing import ListingError, ShareLister
from .paths import ROOT, parent_folder
from .shares import Share


@dataclass
class FolderResult:
    """Outcome of comparing one folder; `verified` is False when the share could not be listed."""

    folder: str
    verified: bool
    differences: list[Difference] = field(default_factory=list)
    error: str | None = None
    share_empty: bool = False

    @property
    def drift(self) -> list[Difference]:
        return [difference for difference in self.differences if difference.kind.is_drift]

    @property
    def unrepresentable(self) -> list[Difference]:
        return [difference for difference in self.differences if difference.kind is Kind.UNREPRESENTABLE]


class Verifier:
    def __init__(
        self, bucket_lister: BucketLister, share_lister: ShareLister | None, *, settle_seconds: int
    ) -> None:
        self.bucket_lister = bucket_lister
        self.share_lister = share_lister
        self.settle_seconds = settle_seconds

    def can_verify(self, share: Share) -> bool:
        """Tell whether the share can be listed; a lister without `can_list` lists every share."""
        if self.share_lister is None:
            return False
        can_list = getattr(self.share_lister, "can_list", None)
        return can_list is None or bool(can_list(share.arn))

    def prefetch(self, share: Share, folders: Iterable[str]) -> None:
        """Let a lister that supports it list many folders at once, before `verify_folder` reads each."""
        prefetch = getattr(self.share_lister, "prefetch", None)
        if prefetch is not None and self.can_verify(share):
            prefetch(share.arn, list(folders))

    def verify_folder(
        self, share: Share, folder: str, *, now: float, direct_writes: dict[str, float] | None = None
    ) -> FolderResult:
        if self.share_lister is None or not self.can_verify(share):
            return FolderResult(
                folder, verified=False, error="no share lister for this share (no mount host)"
            )
        settle = share.settle_seconds if share.settle_seconds is not None else self.settle_seconds
        try:
            # The share listing is taken whole first: a failed listing must never half-compare.
            share_entries = list(self.share_lister.list_folder(share.arn, folder))
        except ListingError as error:
            return FolderResult(folder, verified=False, error=str(error))
        differences = list(
            compare(
                self.bucket_lister.list_folder(share, folder),
                share_entries,
                now=now,
                settle_seconds=settle,
                direct_writes=direct_writes,
            )
        )
        return FolderResult(folder, verified=True, differences=differences, share_empty=not share_entries)

    def shown_ancestor(self, share: Share, folder: str) -> str:
        """Return the deepest folder on the way to `folder` that the share shows (the root at worst).

        A refresh of a folder the gateway has never listed may change nothing, so a new folder
        becomes visible by refreshing the nearest folder the share already shows.
        """
        current = folder
        while current != ROOT:
            parent = parent_folder(current.lstrip("/"))
            name = current.rsplit("/", 1)[-1] + "/"
            try:
                is_shown = any(
                    entry.is_dir and entry.path.endswith("/" + name) or entry.path == name
                    for entry in self.share_lister.list_folder(share.arn, parent)
                )
            except ListingError:
                return current
            if is_shown:
                return current
            current = parent
        return ROOT
