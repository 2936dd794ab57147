"""`sgw-drift check`: compare a share's bucket and prefix with what the share shows, once, from a terminal.

The share side is a local directory (run on the mount host) or a listing taken through Run Command
on a named instance with the stack's listing document. Exit status: 0 when no drift is found, 1
when drift is found, 2 on error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from botocore.exceptions import BotoCoreError, ClientError

from .bucket import BucketLister
from .clock import SystemClock
from .compare import Difference, compare
from .config import ConfigurationError, MountHost
from .listing import Entry, ListingError, ShareLister
from .local import LocalDirectoryLister
from .paths import ROOT, parent_folder
from .planner import RefreshPlan, plan_refresh
from .runcommand import PollPolicy, RunCommandLister
from .shares import Share, describe_shares

EXIT_CLEAN = 0
EXIT_DRIFT = 1
EXIT_ERROR = 2
JSON_VERSION = 1
# The key under which the check's one share is known to the listers when no share ARN is given.
LOCAL_SHARE = "arn:aws:storagegateway:local:000000000000:share/share-CHECK"


class CheckError(Exception):
    """The check could not run; the message names what failed and the fix."""


@dataclass
class CheckResult:
    share: Share
    source: dict
    folder: str | None
    differences: list[Difference]
    shown_dirs: set[str] = field(default_factory=set)
    refresh: dict | None = None

    @property
    def drift(self) -> list[Difference]:
        return [difference for difference in self.differences if difference.kind.is_drift]


def add_parser(commands) -> None:
    """Add the `check` subcommand to the `sgw-drift` argument parser."""
    check = commands.add_parser(
        "check",
        help="compare a share's bucket and prefix with what the share shows (exit 0 clean, 1 drift, 2 error)",
        description="Compare a share's bucket and prefix with what the share shows. Exit status: 0 when "
        "no drift is found, 1 when drift is found, 2 on error.",
    )
    where = check.add_argument_group("bucket side (give --share-arn, or --bucket and optionally --prefix)")
    where.add_argument("--share-arn", help="file share ARN; its bucket and prefix come from Storage Gateway")
    where.add_argument("--bucket", help="bucket behind the share")
    where.add_argument(
        "--prefix", default="", help="prefix of the share in the bucket (default: whole bucket)"
    )
    share = check.add_argument_group("share side (give --path, or --instance-id with --mount-path)")
    share.add_argument("--path", help="local directory where the share is mounted (run on the mount host)")
    share.add_argument("--instance-id", help="EC2 instance that mounts the share; listed through Run Command")
    share.add_argument("--mount-path", help="mount path of the share on --instance-id, such as /storage")
    share.add_argument(
        "--document", help="name of the stack's listing document (output ShareListingDocumentName)"
    )
    share.add_argument(
        "--output-bucket", help="bucket for Run Command output (output ListingOutputBucketName)"
    )
    share.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the Run Command listing (default: 600)",
    )
    check.add_argument("--folder", help="compare only this folder's direct children, such as /reports/2026")
    check.add_argument(
        "--settle-seconds",
        type=int,
        default=120,
        help="files written on the share within this many seconds count as pending uploads",
    )
    check.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    check.add_argument(
        "--refresh",
        action="store_true",
        help="request the minimal RefreshCache for the drift found (needs --share-arn and --state-table)",
    )
    check.add_argument("--state-table", help="the stack's state table (output StateTableName), for --refresh")
    check.add_argument(
        "--slot-timeout-minutes",
        type=int,
        default=30,
        help="minutes after which a refresh slot without a completion expires (default: 30)",
    )
    check.add_argument("--endpoint-url", help="AWS endpoint URL, such as a local moto server")
    check.add_argument("--region", help="AWS Region (default: from the AWS configuration)")
    check.add_argument("--profile", help="AWS profile (default: from the AWS configuration)")
    check.set_defaults(run=run)


def run(
    arguments: argparse.Namespace,
    *,
    storagegateway=None,
    ssm=None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the check and print the result; returns the exit status."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        _validate(arguments)
        clients = Clients(arguments, storagegateway=storagegateway, ssm=ssm)
        result = check(arguments, clients, progress=Progress(stderr))
        if arguments.refresh and result.drift:
            result.refresh = request_refresh(
                result, clients, arguments.state_table, slot_timeout=arguments.slot_timeout_minutes * 60
            )
    except (CheckError, ConfigurationError, ListingError) as error:
        stderr.write(f"sgw-drift check: error: {error}\n")
        return EXIT_ERROR
    except (ClientError, BotoCoreError) as error:
        stderr.write(f"sgw-drift check: error: AWS request failed: {error}\n")
        return EXIT_ERROR

    if arguments.json:
        stdout.write(json.dumps(to_json(result), ensure_ascii=False) + "\n")
    else:
        write_table(result, stdout)
    return EXIT_DRIFT if result.drift else EXIT_CLEAN


def _validate(arguments: argparse.Namespace) -> None:
    if not arguments.share_arn and not arguments.bucket:
        raise CheckError("give --share-arn, or --bucket (and --prefix) to name the bucket side")
    if bool(arguments.path) == bool(arguments.instance_id):
        raise CheckError(
            "give either --path (a local mount) or --instance-id (Run Command), not both or neither"
        )
    if arguments.instance_id and not (
        arguments.mount_path and arguments.document and arguments.output_bucket
    ):
        raise CheckError(
            "--instance-id needs --mount-path, --document and --output-bucket (see the stack's outputs)"
        )
    if arguments.refresh and not (arguments.share_arn and arguments.state_table):
        raise CheckError(
            "--refresh needs --share-arn and --state-table, so it follows the pipeline's slot rules"
        )
    if arguments.folder is not None and not arguments.folder.startswith(ROOT):
        raise CheckError(f"invalid --folder {arguments.folder!r}: expected '/' or a path like '/a/b'")


class Clients:
    """boto3 clients from the default credential chain, or from --profile, --region and --endpoint-url."""

    def __init__(self, arguments: argparse.Namespace, *, storagegateway=None, ssm=None) -> None:
        import boto3
        from botocore.config import Config

        self._session = boto3.session.Session(profile_name=arguments.profile, region_name=arguments.region)
        self._endpoint = arguments.endpoint_url
        self._config = Config(
            retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="sgw-drift-check"
        )
        self._storagegateway = storagegateway
        self._ssm = ssm

    def client(self, name: str):
        return self._session.client(name, endpoint_url=self._endpoint, config=self._config)

    @property
    def storagegateway(self):
        return self._storagegateway or self.client("storagegateway")

    @property
    def ssm(self):
        return self._ssm or self.client("ssm")

    def table(self, name: str):
        return self._session.resource("dynamodb", endpoint_url=self._endpoint, config=self._config).Table(
            name
        )


def check(arguments: argparse.Namespace, clients: Clients, *, progress: Progress) -> CheckResult:
    """List both sides and compare them."""
    share = _share(arguments, clients)
    s3 = clients.client("s3")
    lister, source = _share_lister(arguments, share, clients, s3)
    bucket = BucketLister(s3)
    now = time.time()
    shown_dirs: set[str] = set()

    try:
        if arguments.folder is None:
            # The share listing comes first and whole: a failed listing must never be half compared.
            share_entries = list(progress.count("share", lister.list_tree(share.arn)))
            bucket_entries: Iterable[Entry] = progress.count("bucket", bucket.list_tree(share))
        else:
            share_entries = list(progress.count("share", lister.list_folder(share.arn, arguments.folder)))
            bucket_entries = progress.count("bucket", bucket.list_folder(share, arguments.folder))
        shown_dirs = {entry.path for entry in share_entries if entry.is_dir}
        differences = list(
            compare(bucket_entries, share_entries, now=now, settle_seconds=arguments.settle_seconds)
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in ("NoSuchBucket", "AccessDenied"):
            raise CheckError(f"cannot list s3://{share.bucket}/{share.prefix}: {code}") from error
        raise
    finally:
        progress.done()
    return CheckResult(share, source, arguments.folder, differences, shown_dirs)


def _share(arguments: argparse.Namespace, clients: Clients) -> Share:
    if arguments.share_arn:
        try:
            (share,) = describe_shares(clients.storagegateway, [arguments.share_arn], {})
        except ConfigurationError as error:
            raise CheckError(str(error)) from error
        return share
    prefix = arguments.prefix
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return Share(LOCAL_SHARE, "", arguments.bucket, prefix, "NFS")


def _share_lister(
    arguments: argparse.Namespace, share: Share, clients: Clients, s3
) -> tuple[ShareLister, dict]:
    if arguments.path:
        return LocalDirectoryLister({share.arn: arguments.path}), {"type": "local", "path": arguments.path}
    try:
        mount = MountHost(instance_id=arguments.instance_id, path=arguments.mount_path)
    except ValueError as error:
        raise CheckError(f"invalid --instance-id or --mount-path: {error}") from error
    lister = RunCommandLister(
        clients.ssm,
        s3,
        document_name=arguments.document,
        output_bucket=arguments.output_bucket,
        mounts={share.arn: mount},
        clock=SystemClock(),
        poll=PollPolicy(timeout_seconds=arguments.timeout),
    )
    source = {"type": "run_command", "instance_id": arguments.instance_id, "mount_path": arguments.mount_path}
    return lister, source


# Refresh ----------------------------------------------------------------------------------------------


def refresh_folders(result: CheckResult) -> list[str]:
    """Return the folders to refresh: each drifted folder, or its nearest ancestor the share shows."""
    folders = set()
    for difference in result.drift:
        folder = parent_folder(difference.path)
        if result.folder is None:
            while folder != ROOT and folder.strip("/") + "/" not in result.shown_dirs:
                folder = parent_folder(folder.strip("/"))
        folders.add(folder)
    return sorted(folders)


def request_refresh(result: CheckResult, clients: Clients, state_table: str, *, slot_timeout: float) -> dict:
    """Request the planned refreshes under the pipeline's per-gateway slot rules."""
    from .gateway import GatewayAdapter
    from .scheduler import Failed, NoSlot, RefreshScheduler, Requested, Throttled
    from .state import StateStore

    clock = SystemClock()
    store = StateStore(clients.table(state_table), clock)
    scheduler = RefreshScheduler(
        store, GatewayAdapter(clients.storagegateway), clock, slot_timeout=slot_timeout
    )
    report: dict[str, list[dict]] = {"requested": [], "deferred": [], "failed": []}
    for plan in plan_refresh(refresh_folders(result)):
        outcome, _ = scheduler.request(result.share.gateway_arn, result.share.arn, plan)
        entry = _plan_json(plan)
        match outcome:
            case Requested(slot=slot):
                report["requested"].append({**entry, "notification_id": slot.notification_id})
            case NoSlot(reason=reason):
                report["deferred"].append({**entry, "reason": reason})
            case Throttled(message=message):
                report["deferred"].append({**entry, "reason": message})
            case Failed(message=message, code=code):
                report["failed"].append({**entry, "reason": message, "code": code})
    return report


def _plan_json(plan: RefreshPlan) -> dict:
    return {"folders": list(plan.folders), "recursive": plan.recursive}


# Output -------------------------------------------------------------------------------------------------


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


def write_table(result: CheckResult, out: TextIO) -> None:
    side = (
        result.source.get("path") or f"{result.source.get('instance_id')}:{result.source.get('mount_path')}"
    )
    scope = f" folder {result.folder}" if result.folder else ""
    out.write(f"s3://{result.share.bucket}/{result.share.prefix}{scope} compared with {side}\n\n")
    if result.differences:
        rows = [("KIND", "BUCKET SIZE", "SHARE SIZE", "PATH")]
        for difference in result.differences:
            rows.append(
                (
                    difference.kind.value,
                    _size(difference.bucket),
                    _size(difference.share),
                    printable(difference.path) + (f"  ({difference.reason})" if difference.reason else ""),
                )
            )
        widths = [max(len(row[index]) for row in rows) for index in range(3)]
        for row in rows:
            out.write(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}\n")
        out.write("\n")
    drift = len(result.drift)
    others = len(result.differences) - drift
    verdict = "no drift" if not drift else f"{drift} difference(s) are drift"
    out.write(
        f"Result: {verdict}" + (f"; {others} other difference(s) listed above" if others else "") + ".\n"
    )
    if result.refresh is not None:
        for plan in result.refresh["requested"]:
            out.write(
                f"Refresh requested: {plan['folders']} recursive={plan['recursive']} "
                f"(notification {plan['notification_id']})\n"
            )
        for plan in result.refresh["deferred"]:
            out.write(
                f"Refresh deferred: {plan['folders']} ({plan['reason']}); "
                "the pipeline or a rerun requests it\n"
            )
        for plan in result.refresh["failed"]:
            out.write(f"Refresh failed: {plan['folders']} ({printable(plan['reason'])})\n")


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
