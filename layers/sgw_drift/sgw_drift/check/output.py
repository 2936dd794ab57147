"""`sgw-drift check` output: the JSON document, the table, and the listing progress on stderr."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from ..compare import Difference
from ..listing import Entry
from .options import LOCAL_SHARE

if TYPE_CHECKING:
    from .core import CheckResult

JSON_VERSION = 1
SURROGATE = re.compile("[\ud800-\udfff]")


def to_json(result: CheckResult) -> dict:
    """Build the JSON document that `--json` prints (its shape is described in the README)."""
    counts = Counter(difference.kind.value for difference in result.differences)
    return {
        "version": JSON_VERSION,
        "checked_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "share_arn": None if result.share.arn == LOCAL_SHARE else result.share.arn,
        "bucket": result.share.bucket,
        "prefix": result.share.prefix,
        "share_side": result.source,
        "folder": result.folder,
        "clean": not result.drift,
        "counts": dict(sorted(counts.items())),
        "differences": [_difference_json(difference) for difference in result.differences],
        "refresh": result.refresh,
    }


def _difference_json(difference: Difference) -> dict:
    return {
        "kind": difference.kind.value,
        "drift": difference.kind.is_drift,
        "path": difference.path,
        "bucket": _entry_json(difference.bucket),
        "share": _entry_json(difference.share),
        "reason": difference.reason,
    }


def _entry_json(entry: Entry | None) -> dict | None:
    if entry is None:
        return None
    return {"is_dir": entry.is_dir, "size": entry.size, "mtime": entry.mtime}


def json_text(document: dict, encoding: str | None) -> str:
    r"""Serialize `document` as JSON that any UTF-8 reader accepts and `encoding` can write.

    A name that is not valid UTF-8 contains lone surrogates (`\udcff` for the byte 0xff, from
    surrogateescape decoding), which no UTF-8 encoder writes: each becomes a `\udcXX` escape.
    Other characters stay as they are, unless `encoding` cannot write them: then every non-ASCII
    character becomes a `\uXXXX` escape.
    """
    text = SURROGATE.sub(
        lambda match: f"\\u{ord(match.group()):04x}", json.dumps(document, ensure_ascii=False)
    )
    if encoding is not None:
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            text = json.dumps(document)
    return text


def write_table(result: CheckResult, out: TextIO) -> None:
    """Print the result as a table; every name from a listing or an option is escaped by `printable`."""
    lines = _table_lines(result)
    encoding = getattr(out, "encoding", None)
    for line in lines:
        if encoding is not None:
            # A stream with a narrow encoding (such as PYTHONIOENCODING=ascii) gets \xNN and \uNNNN escapes.
            line = line.encode(encoding, "backslashreplace").decode(encoding)
        out.write(line + "\n")


def _table_lines(result: CheckResult) -> list[str]:
    side = (
        result.source.get("path") or f"{result.source.get('instance_id')}:{result.source.get('mount_path')}"
    )
    scope = f" folder {result.folder}" if result.folder else ""
    lines = [printable(f"s3://{result.share.bucket}/{result.share.prefix}{scope} compared with {side}"), ""]
    if result.differences:
        rows = [("KIND", "BUCKET SIZE", "SHARE SIZE", "PATH")]
        for difference in result.differences:
            rows.append(
                (
                    difference.kind.value,
                    _size(difference.bucket),
                    _size(difference.share),
                    printable(difference.path)
                    + (f"  ({printable(difference.reason)})" if difference.reason else ""),
                )
            )
        widths = [max(len(row[index]) for row in rows) for index in range(3)]
        for row in rows:
            lines.append(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}")
        lines.append("")
    drift = len(result.drift)
    others = len(result.differences) - drift
    verdict = "no drift" if not drift else f"{drift} difference(s) are drift"
    lines.append(
        f"Result: {verdict}" + (f"; {others} other difference(s) listed above" if others else "") + "."
    )
    if result.refresh is not None:
        for plan in result.refresh["requested"]:
            lines.append(
                f"Refresh requested: {printable(str(plan['folders']))} recursive={plan['recursive']} "
                f"(notification {plan['notification_id']})"
            )
        for plan in result.refresh["deferred"]:
            lines.append(
                f"Refresh deferred: {printable(str(plan['folders']))} ({printable(plan['reason'])}); "
                "the pipeline or a rerun requests it"
            )
        for plan in result.refresh["failed"]:
            lines.append(f"Refresh failed: {printable(str(plan['folders']))} ({printable(plan['reason'])})")
    return lines


def _size(entry: Entry | None) -> str:
    if entry is None:
        return "-"
    return "dir" if entry.is_dir else str(entry.size)


def printable(path: str) -> str:
    """Render an untrusted name on one line: control characters and undecodable bytes become escapes."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape", "backslashreplace").decode("ascii")
        for char in path
    )


class Progress:
    """A count of listed entries on stderr, redrawn in place, shown only when stderr is a terminal."""

    def __init__(self, stream: TextIO, *, interval: float = 0.2) -> None:
        self._stream = stream
        self._enabled = bool(getattr(stream, "isatty", lambda: False)())
        self._interval = interval
        self._counts: dict[str, int] = {}
        self._drawn = 0.0
        self._started = time.monotonic()

    def count(self, side: str, entries: Iterable[Entry]) -> Iterator[Entry]:
        self._counts.setdefault(side, 0)
        for entry in entries:
            self._counts[side] += 1
            if self._enabled and time.monotonic() - self._drawn >= self._interval:
                self._draw()
            yield entry

    def done(self) -> None:
        if self._enabled and self._drawn:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        elapsed = self._drawn - self._started
        parts = "  ".join(f"{side} {count:,} entries" for side, count in self._counts.items())
        self._stream.write(f"\rlisting: {parts}  ({elapsed:.0f} s)")
        self._stream.flush()
