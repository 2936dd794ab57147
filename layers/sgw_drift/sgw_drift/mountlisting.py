"""Parameters and output of the share listing document that template.yaml defines.

The document runs a POSIX shell script on the instance that mounts a share. Its parameters are
base64 (the mount path, and one base64 item per folder, joined by commas), so a name never
becomes shell code. Its output is ASCII only:

    sgw-drift-listing 1
    folder <base64 folder> ok <byte count>
    <base64 lines of GNU find -printf '%y %s %T@ %P\\0' records>
    end <base64 folder>
    folder <base64 folder> absent | refused | invalid | error [<base64 stderr>]
    sgw-drift-listing-end

A listing is complete only when every requested folder has its section, every `ok` section
decodes to its announced byte count, and the end line is present. Anything else raises
`ListingError`, so a truncated listing is never compared.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from .listing import Entry, ListingError
from .paths import ROOT

HEADER = "sgw-drift-listing 1"
FOOTER = "sgw-drift-listing-end"
ERROR_PREFIX = "sgw-drift-error "
DOCUMENT_PARAMETERS = ("MountPath", "Folders", "Recursive")


def encode_text(text: str) -> str:
    """Encode a path as the base64 the document's parameters expect (file system bytes)."""
    return base64.b64encode(text.encode("utf-8", "surrogateescape")).decode("ascii")


def document_parameters(mount_path: str, folders: list[str], *, recursive: bool) -> dict[str, list[str]]:
    """Build SendCommand `Parameters` for listing `folders` (`/` or `/a/b`) under `mount_path`."""
    if not folders:
        raise ValueError("a listing needs at least one folder")
    for folder in folders:
        if not folder.startswith(ROOT):
            raise ValueError(f"invalid folder {folder!r}: expected '/' or a path like '/a/b'")
    return {
        "MountPath": [encode_text(mount_path.rstrip("/") or "/")],
        "Folders": [",".join(encode_text(folder) for folder in folders)],
        "Recursive": ["true" if recursive else "false"],
    }


@dataclass
class FolderListing:
    """Script result for one folder: its entries, or the reason it has none."""

    folder: str
    status: str  # "ok", "absent", "refused", "invalid" or "error"
    entries: list[Entry]
    detail: str = ""

    def result(self) -> list[Entry]:
        """Return the entries, or raise ListingError when the folder could not be listed."""
        if self.status in ("ok", "absent"):
            return self.entries
        reason = {
            "refused": "it resolves outside the mount path",
            "invalid": "the script could not decode its name",
            "error": "find failed on the mount host",
        }.get(self.status, self.status)
        suffix = f": {self.detail}" if self.detail else ""
        raise ListingError(f"folder {self.folder!r} was not listed because {reason}{suffix}")


def parse_output(text: str, folders: list[str], *, recursive: bool) -> dict[str, FolderListing]:
    """Parse the script's output for `folders`; raises ListingError unless the output is complete."""
    lines = text.split("\n")
    error = next((line for line in lines if line.startswith(ERROR_PREFIX)), None)
    if error is not None:
        raise ListingError(
            f"the listing script stopped on the mount host: {error[len(ERROR_PREFIX) :].strip()}"
        )
    if not lines or lines[0].strip() != HEADER:
        raise ListingError("listing output does not start with the sgw-drift header; it is not a listing")
    if FOOTER not in (line.strip() for line in lines[-2:]):
        raise ListingError("listing output is truncated: the end line is missing")

    sections: dict[str, FolderListing] = {}
    index = 1
    while index < len(lines) and lines[index].strip() != FOOTER:
        words = lines[index].split()
        if len(words) < 3 or words[0] != "folder":
            raise ListingError(f"malformed listing output at line {index + 1}")
        folder = _decode_name(words[1])
        status = words[2]
        if status != "ok":
            detail = _decode_name(words[3]).strip() if len(words) > 3 else ""
            sections[folder] = FolderListing(folder, status, [], detail)
            index += 1
            continue
        data, index = _section_data(lines, index, words)
        sections[folder] = FolderListing(folder, "ok", _entries(data, folder, recursive))
    if index >= len(lines):
        raise ListingError("listing output is truncated: the end line is missing")

    missing = [folder for folder in folders if folder not in sections]
    if missing:
        raise ListingError(f"listing output has no section for {len(missing)} requested folder(s)")
    return sections


def _section_data(lines: list[str], index: int, words: list[str]) -> tuple[bytes, int]:
    """Return the decoded records of the `ok` section starting at `index`, and the next line index."""
    if len(words) != 4 or not words[3].isdigit():
        raise ListingError(f"malformed listing output at line {index + 1}")
    expected = int(words[3])
    end_line = f"end {words[1]}"
    chunks = []
    index += 1
    while index < len(lines) and lines[index].strip() != end_line:
        chunks.append(lines[index].strip())
        index += 1
    if index >= len(lines):
        raise ListingError("listing output is truncated inside a folder section")
    try:
        data = base64.b64decode("".join(chunks), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ListingError(f"listing output has invalid base64 data ({error})") from error
    if len(data) != expected:
        raise ListingError(f"listing output is truncated: {len(data)} of {expected} bytes")
    return data, index + 1


def _entries(data: bytes, folder: str, recursive: bool) -> list[Entry]:
    """Turn `%y %s %T@ %P` records (NUL-terminated) into entries relative to the share root."""
    prefix = "" if folder == ROOT else folder.strip("/") + "/"
    entries = []
    if data and not data.endswith(b"\0"):
        raise ListingError("listing output is truncated: the last record has no terminator")
    for record in data.split(b"\0")[:-1]:
        try:
            kind, size, mtime, name = record.split(b" ", 3)
            path = prefix + name.decode("utf-8", "surrogateescape")
            if kind == b"d":
                entries.append(Entry(path=path + "/", is_dir=True, mtime=float(mtime)))
            else:
                entries.append(Entry(path=path, size=int(size), mtime=float(mtime)))
        except ValueError as error:
            raise ListingError(f"malformed listing record {record[:80]!r}") from error
        if not name or (not recursive and b"/" in name):
            raise ListingError(f"malformed listing record {record[:80]!r}")
    entries.sort(key=lambda entry: entry.sort_key)
    return entries


def _decode_name(item: str) -> str:
    try:
        return base64.b64decode(item, validate=True).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError) as error:
        raise ListingError(f"listing output has an invalid folder name {item[:40]!r}") from error
