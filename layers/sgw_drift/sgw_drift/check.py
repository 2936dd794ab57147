"""`sgw-drift check`: compare a share's bucket and prefix with what the share shows, once, from a terminal.

The share side is a local directory (run on the mount host) or a listing taken through Run Command
on a named instance with the stack's listing document. Exit status: 0 when no drift is found, 1
when drift is found, 2 on error.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import urlsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)
from pydantic import ValidationError

from .bucket import BucketLister
from .clock import SystemClock
from .compare import Difference, compare
from .config import SHARE_ARN_PATTERN, ConfigurationError, MountHost
from .listing import Entry, ListingError, ShareLister
from .local import LocalDirectoryLister
from .paths import ROOT, folder_prefix, parent_folder
from .planner import RefreshPlan, plan_refresh
from .runcommand import PollPolicy, RunCommandLister
from .shares import Share, describe_shares

EXIT_CLEAN = 0
EXIT_DRIFT = 1
EXIT_ERROR = 2
JSON_VERSION = 1
# The key under which the check's one share is known to the listers when no share ARN is given.
LOCAL_SHARE = "arn:aws:storagegateway:local:000000000000:share/share-CHECK"
SHARE_ARN_FORM = "arn:aws:storagegateway:REGION:ACCOUNT:share/share-ID"
# The same bounds as the pipeline's SETTLE_SECONDS and REFRESH_SLOT_TIMEOUT_SECONDS (config.Settings).
MAX_SETTLE_SECONDS = 86_400
MAX_SLOT_TIMEOUT_MINUTES = 1_440
# Error codes with which AWS rejects the credentials themselves, not the request.
SURROGATE = re.compile("[\ud800-\udfff]")
REJECTED_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


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
    where.add_argument(
        "--share-arn",
        help=f"file share ARN ({SHARE_ARN_FORM}); its bucket and prefix come from Storage Gateway",
    )
    where.add_argument("--bucket", help="bucket behind the share")
    where.add_argument(
        "--prefix",
        default="",
        help="prefix of the share in the bucket, without a leading '/', such as projects/ "
        "(default: the whole bucket)",
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
        help="seconds to wait for the Run Command listing (default: %(default)s)",
    )
    check.add_argument("--folder", help="compare only this folder's direct children, such as /reports/2026")
    check.add_argument(
        "--settle-seconds",
        type=int,
        default=120,
        help="files written on the share within this many seconds count as pending uploads "
        f"(0 to {MAX_SETTLE_SECONDS}, default: %(default)s)",
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
        help="minutes after which a refresh slot without a completion expires "
        f"(1 to {MAX_SLOT_TIMEOUT_MINUTES}, default: %(default)s)",
    )
    check.add_argument(
        "--endpoint-url",
        help="endpoint URL of a local AWS emulator such as a moto server, used for every AWS call; "
        "it works with --bucket and --path only, because moto has no Storage Gateway and runs no Run Command",
    )
    check.add_argument("--region", help="AWS Region (default: from the AWS configuration)")
    check.add_argument("--profile", help="AWS profile (default: from the AWS configuration)")
    check.add_argument("--debug", action="store_true", help="print the traceback of an error on stderr")
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


# Validation ---------------------------------------------------------------------------------------------


def _validate(arguments: argparse.Namespace) -> None:
    """Check the options before any AWS call; raises CheckError naming the value and the fix."""
    _validate_bucket_side(arguments)
    _validate_share_side(arguments)
    _validate_endpoint(arguments)
    if arguments.refresh and not (arguments.share_arn and arguments.state_table):
        raise CheckError(
            "--refresh needs --share-arn and --state-table, so it follows the pipeline's slot rules"
        )
    if arguments.state_table and not arguments.refresh:
        raise CheckError("--state-table is used only with --refresh: add --refresh or drop --state-table")
    if arguments.folder is not None and not arguments.folder.startswith(ROOT):
        raise CheckError(f"invalid --folder {arguments.folder!r}: expected '/' or a path like '/a/b'")
    _validate_numbers(arguments)


def _validate_bucket_side(arguments: argparse.Namespace) -> None:
    if not arguments.share_arn and not arguments.bucket:
        raise CheckError("give --share-arn, or --bucket (and --prefix) to name the bucket side")
    if arguments.share_arn:
        if arguments.bucket or arguments.prefix:
            raise CheckError(
                "give --share-arn or --bucket and --prefix, not both: "
                "with --share-arn the bucket and prefix come from the share"
            )
        if not SHARE_ARN_PATTERN.match(arguments.share_arn):
            raise CheckError(
                f"invalid --share-arn {arguments.share_arn!r}: expected {SHARE_ARN_FORM}, such as "
                "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D"
            )
    if arguments.prefix.startswith("/"):
        fix = (
            f"give --prefix {arguments.prefix.lstrip('/')!r}"
            if arguments.prefix.strip("/")
            else "drop --prefix to compare the whole bucket"
        )
        raise CheckError(
            f"invalid --prefix {arguments.prefix!r}: the keys of a share do not start with '/'; {fix}"
        )


def _validate_share_side(arguments: argparse.Namespace) -> None:
    if bool(arguments.path) == bool(arguments.instance_id):
        raise CheckError(
            "give either --path (a local mount) or --instance-id (Run Command), not both or neither"
        )
    run_command_options = {
        "--mount-path": arguments.mount_path,
        "--document": arguments.document,
        "--output-bucket": arguments.output_bucket,
    }
    if arguments.path:
        extra_options = [name for name, value in run_command_options.items() if value]
        if extra_options:
            verb, pronoun = ("is", "it") if len(extra_options) == 1 else ("are", "them")
            raise CheckError(
                f"{', '.join(extra_options)} {verb} used only with --instance-id: "
                f"drop {pronoun} when you give --path"
            )
        return
    if not all(run_command_options.values()):
        raise CheckError(
            "--instance-id needs --mount-path, --document and --output-bucket (see the stack's outputs)"
        )
    mount_host(arguments)


def _validate_endpoint(arguments: argparse.Namespace) -> None:
    endpoint = arguments.endpoint_url
    if endpoint is None:
        return
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CheckError(
            f"invalid --endpoint-url {endpoint!r}: expected an http:// or https:// URL with a host, "
            "such as http://127.0.0.1:5000 for a local moto server"
        )
    if arguments.refresh:
        raise CheckError(
            "--refresh cannot work with --endpoint-url, because --refresh needs --share-arn and "
            "--state-table and calls Storage Gateway, which moto does not have; drop --refresh and "
            "compare with --bucket, --prefix and --path"
        )
    # moto 5.2 has no Storage Gateway service, and its SSM marks every command Success without running
    # it or writing output (moto/ssm/models.py, Command.invocation_response).
    if arguments.share_arn:
        raise CheckError(
            "--share-arn cannot work with --endpoint-url, because it reads the share from Storage Gateway, "
            "which moto does not have; with --endpoint-url, give --bucket and --prefix instead"
        )
    if arguments.instance_id:
        raise CheckError(
            "--instance-id cannot work with --endpoint-url, because moto runs no Run Command document; "
            "with --endpoint-url, list a local directory with --path instead"
        )


def _validate_numbers(arguments: argparse.Namespace) -> None:
    if not 0 <= arguments.settle_seconds <= MAX_SETTLE_SECONDS:
        raise CheckError(
            f"invalid --settle-seconds {arguments.settle_seconds}: expected 0 to {MAX_SETTLE_SECONDS} seconds"
        )
    if not (math.isfinite(arguments.timeout) and arguments.timeout > 0):
        raise CheckError(
            f"invalid --timeout {arguments.timeout:g}: expected a number of seconds greater than 0, "
            "such as 600"
        )
    if not 1 <= arguments.slot_timeout_minutes <= MAX_SLOT_TIMEOUT_MINUTES:
        raise CheckError(
            f"invalid --slot-timeout-minutes {arguments.slot_timeout_minutes}: "
            f"expected 1 to {MAX_SLOT_TIMEOUT_MINUTES} minutes"
        )


def mount_host(arguments: argparse.Namespace) -> MountHost:
    """Return the --instance-id and --mount-path as a MountHost; raises CheckError naming a bad value."""
    try:
        return MountHost(instance_id=arguments.instance_id, path=arguments.mount_path)
    except ValidationError as error:
        fields = {item["loc"][0] for item in error.errors() if item["loc"]}
    problems = []
    if "instance_id" in fields:
        problems.append(
            f"invalid --instance-id {arguments.instance_id!r}: expected an EC2 instance ID such as "
            "i-0123456789abcdef0 (or a managed node ID such as mi-0123456789abcdef0)"
        )
    if "path" in fields:
        problems.append(
            f"invalid --mount-path {arguments.mount_path!r}: expected the absolute path where the "
            "instance mounts the share, such as /storage"
        )
    raise CheckError("; ".join(problems) or "invalid --instance-id or --mount-path")


# Error messages -----------------------------------------------------------------------------------------


def error_message(error: Exception, arguments: argparse.Namespace) -> str:
    """Return the one-line message for an error that ended the check, with the fix where one is known."""
    if isinstance(error, CheckError | ConfigurationError):
        return str(error)
    cause = _aws_cause(error)
    hint = _aws_fix(cause, arguments) if cause is not None else None
    if isinstance(error, ListingError):
        return f"{error}; {hint}" if hint else str(error)
    if isinstance(error, ClientError):
        return f"AWS request failed: {error}" + (f"; {hint}" if hint else "")
    if isinstance(error, BotoCoreError):
        return f"{error}; {hint}" if hint else f"AWS request failed: {error}"
    return (
        f"unexpected {type(error).__name__}: {error}. This is a bug in sgw-drift check: "
        "rerun with --debug to print the traceback, and report it"
    )


def _aws_cause(error: BaseException) -> ClientError | BotoCoreError | None:
    """Return the botocore error that caused `error` (or is `error`), following `raise ... from`."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, ClientError | BotoCoreError):
            return current
        current = current.__cause__
    return None


def _aws_fix(error: ClientError | BotoCoreError, arguments: argparse.Namespace) -> str | None:
    """Return what to do about a botocore error, or None when no specific fix is known."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            "configure AWS credentials (aws configure, AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY); with --endpoint-url any fake values work, such as "
            "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
        )
    if isinstance(error, ProfileNotFound):
        return "check --profile or AWS_PROFILE against the profiles in ~/.aws/config"
    if isinstance(error, NoRegionError):
        return "give --region or set AWS_DEFAULT_REGION"
    if isinstance(error, InvalidRegionError):
        return "give a Region code such as --region ap-northeast-1"
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        if arguments.endpoint_url:
            return f"check that a server listens at --endpoint-url {arguments.endpoint_url}"
        return "check the network connection and --region"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code")
        if code in REJECTED_CREDENTIAL_CODES:
            return (
                "AWS rejected the credentials: renew them or configure valid ones (aws configure, --profile)"
            )
        if code in ("AccessDenied", "AccessDeniedException"):
            return f"the credentials are not allowed to call {error.operation_name}: ask for that permission"
    return None


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
