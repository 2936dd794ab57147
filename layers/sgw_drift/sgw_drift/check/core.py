"""`sgw-drift check`: compare a share's bucket and prefix with what the share shows, once, from a terminal.

The share side is a local directory (run on the mount host) or a listing taken through Run Command
on a named instance with the stack's listing document. Exit status: 0 when no drift is found, 1
when drift is found, 2 on error.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from botocore.exceptions import ClientError

from ..bucket import BucketLister
from ..clock import SystemClock
from ..compare import Difference, compare
from ..config import ConfigurationError
from ..listing import Entry, ListingError, ShareLister
from ..local import LocalDirectoryLister
from ..paths import ROOT, folder_prefix, parent_folder
from ..planner import RefreshPlan, plan_refresh
from ..runcommand import PollPolicy, RunCommandLister
from ..shares import Share, describe_shares
from .errors import CheckError, error_message
from .options import LOCAL_SHARE, _validate, mount_host
from .output import Progress, json_text, to_json, write_table

EXIT_CLEAN = 0
EXIT_DRIFT = 1
EXIT_ERROR = 2


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
        if arguments.json:
            stdout.write(json_text(to_json(result), getattr(stdout, "encoding", None)) + "\n")
        else:
            write_table(result, stdout)
    except Exception as error:
        if getattr(arguments, "debug", False):
            traceback.print_exception(error, file=stderr)
        stderr.write(f"sgw-drift check: error: {error_message(error, arguments)}\n")
        return EXIT_ERROR
    return EXIT_DRIFT if result.drift else EXIT_CLEAN


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
        try:
            return self._session.client(name, endpoint_url=self._endpoint, config=self._config)
        except ValueError as error:
            if self._endpoint is None:
                raise
            # botocore raises ValueError for an endpoint URL it cannot use (botocore/endpoint.py).
            raise CheckError(
                f"invalid --endpoint-url {self._endpoint!r} ({error}): give a URL such as http://127.0.0.1:5000"
            ) from error

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
            share_entries, share_has_folder = _list_share_folder(arguments, share, lister)
            share_entries = list(progress.count("share", share_entries))
            bucket_entries = progress.count("bucket", bucket.list_folder(share, arguments.folder))
            if not share_has_folder:
                first = next(iter(bucket_entries), None)
                if first is None:
                    _require_folder(arguments, share, s3)
                bucket_entries = itertools.chain([first] if first is not None else [], bucket_entries)
        shown_dirs = {entry.path for entry in share_entries if entry.is_dir}
        differences = list(
            compare(bucket_entries, share_entries, now=now, settle_seconds=arguments.settle_seconds)
        )
    except ClientError as error:
        problem = _bucket_error(error, arguments, share)
        if problem is None:
            raise
        raise problem from error
    finally:
        progress.done()
    return CheckResult(share, source, arguments.folder, differences, shown_dirs)


def _list_share_folder(
    arguments: argparse.Namespace, share: Share, lister: ShareLister
) -> tuple[list[Entry], bool]:
    """List --folder on the share; returns its entries and whether the share shows it as a folder."""
    folder = arguments.folder
    if isinstance(lister, RunCommandLister):
        listing = lister.list_folders(share.arn, [folder])[folder]
        return listing.result(), folder == ROOT or listing.status == "ok"
    entries = list(lister.list_folder(share.arn, folder))
    return entries, os.path.isdir(os.path.join(arguments.path, folder.strip("/")))


def _require_folder(arguments: argparse.Namespace, share: Share, s3) -> None:
    """Raise CheckError unless the bucket has --folder as an empty folder.

    Called when the share does not show --folder and the bucket lists nothing in it.
    """
    prefix = folder_prefix(share.prefix, arguments.folder)
    if s3.list_objects_v2(Bucket=share.bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0):
        return  # the folder's own marker, because its listing was empty: the bucket has the folder, empty

    # A key sorts before every longer key that starts with it, so MaxKeys=1 finds a file of that name.
    file_key = prefix.rstrip("/")
    found = s3.list_objects_v2(Bucket=share.bucket, Prefix=file_key, MaxKeys=1).get("Contents", [])
    is_file = bool(found) and found[0]["Key"] == file_key
    if arguments.path:
        is_file = is_file or os.path.lexists(os.path.join(arguments.path, arguments.folder.strip("/")))
    if is_file:
        parent = parent_folder(arguments.folder.strip("/"))
        raise CheckError(
            f"--folder {arguments.folder!r} is a file, not a folder: "
            f"give a folder, such as its parent {parent!r}"
        )
    raise CheckError(
        f"--folder {arguments.folder!r} not found in s3://{share.bucket}/{share.prefix} nor on the share: "
        "check the name, which is relative to the share root, such as /reports/2026"
    )


def _bucket_error(error: ClientError, arguments: argparse.Namespace, share: Share) -> CheckError | None:
    """Return the CheckError for a failed bucket listing, or None when nothing specific applies."""
    code = error.response.get("Error", {}).get("Code")
    where = f"s3://{share.bucket}/{share.prefix}"
    if code == "NoSuchBucket":
        if arguments.share_arn:
            fix = f"the share's LocationARN names it: check the bucket of {arguments.share_arn} and --region"
        else:
            fix = "check --bucket and --region (the bucket must exist in that Region's account)"
        return CheckError(f"cannot list {where}: NoSuchBucket; {fix}")
    if code == "AccessDenied":
        return CheckError(
            f"cannot list {where}: AccessDenied; the credentials need s3:ListBucket on bucket {share.bucket}"
        )
    return None


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
        if not os.path.isdir(arguments.path):
            raise CheckError(
                f"--path {arguments.path!r} is not a directory: give the directory where the share is mounted"
            )
        return LocalDirectoryLister({share.arn: arguments.path}), {"type": "local", "path": arguments.path}
    lister = CheckRunCommandLister(
        clients.ssm,
        s3,
        document_name=arguments.document,
        output_bucket=arguments.output_bucket,
        mounts={share.arn: mount_host(arguments)},
        clock=SystemClock(),
        poll=PollPolicy(timeout_seconds=arguments.timeout),
    )
    source = {"type": "run_command", "instance_id": arguments.instance_id, "mount_path": arguments.mount_path}
    return lister, source


class CheckRunCommandLister(RunCommandLister):
    """The pipeline's Run Command lister, whose error for a missing listing output names the fix.

    The pipeline's error names only the command and the bucket. Someone at a terminal also needs
    the permission to check, so this class adds it.
    """

    def _read_output(self, command_id: str, instance_id: str, invocation: dict) -> str:
        # StandardOutputUrl is empty when no output bucket was given (Systems Manager API Reference,
        # GetCommandInvocation). This lister always gives one, so an empty URL means the output is missing.
        if not invocation.get("StandardOutputUrl"):
            raise ListingError(
                f"listing command {command_id} on {instance_id} has no output in bucket "
                f"{self.output_bucket}; {self._missing_output_fix(instance_id)}"
            )
        try:
            return super()._read_output(command_id, instance_id, invocation)
        except ListingError as error:
            cause = error.__cause__
            # S3 returns 403 instead of 404 for a missing key when the caller may not list the bucket.
            if isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") in (
                "NoSuchKey",
                "AccessDenied",
                "404",
                "403",
            ):
                raise ListingError(f"{error}; {self._missing_output_fix(instance_id)}") from error
            raise

    def _missing_output_fix(self, instance_id: str) -> str:
        return (
            f"check that the instance profile of {instance_id} allows s3:PutObject on bucket "
            f"{self.output_bucket} (stack output ListingOutputBucketName), and that your credentials "
            "allow s3:GetObject on it"
        )


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
    from ..gateway import GatewayAdapter
    from ..scheduler import Failed, NoSlot, RefreshScheduler, Requested, Throttled
    from ..state import StateStore

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
