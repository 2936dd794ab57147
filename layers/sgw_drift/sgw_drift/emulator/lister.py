"""ShareLister over the emulator's share views: what an NFS client would see with `ls`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sgw_drift.emulator.model import UnknownFileShareError
from sgw_drift.emulator.refresh import folder_dir
from sgw_drift.emulator.view import ShareView
from sgw_drift.listing import Entry, ListingError

if TYPE_CHECKING:
    from sgw_drift.emulator.gateway import FileGatewayEmulator


class EmulatorShareLister:
    """Implements `sgw_drift.listing.ShareLister` by reading the emulator's cached views."""

    def __init__(self, emulator: FileGatewayEmulator) -> None:
        self._emulator = emulator

    def list_folder(self, share_arn: str, folder: str) -> Iterator[Entry]:
        """Yield the direct children of `folder` (`/` or `/a/b`) as the share shows them.

        A folder the share does not show yields nothing, since that is what its listing contains.
        The listing is taken when this method is called, and errors are raised then too.
        """
        if not folder.startswith("/"):
            raise ListingError(f"invalid folder {folder!r}: expected '/' or a path like '/a/b'")
        return iter(self._view(share_arn).children(folder_dir(folder)))

    def list_tree(self, share_arn: str) -> Iterator[Entry]:
        return iter(self._view(share_arn).entries())

    def _view(self, share_arn: str) -> ShareView:
        try:
            return self._emulator.share_view(share_arn)
        except UnknownFileShareError as error:
            raise ListingError(str(error)) from error
