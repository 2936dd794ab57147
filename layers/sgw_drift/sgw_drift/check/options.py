"""`sgw-drift check` options: the argument parser and the checks that run before any AWS call."""

from __future__ import annotations

import argparse
import math
from urllib.parse import urlsplit

from pydantic import ValidationError

from ..config import SHARE_ARN_PATTERN, MountHost
from ..paths import ROOT
from .errors import CheckError

# The key under which the check's one share is known to the listers when no share ARN is given.
LOCAL_SHARE = "arn:aws:storagegateway:local:000000000000:share/share-CHECK"
SHARE_ARN_FORM = "arn:aws:storagegateway:REGION:ACCOUNT:share/share-ID"
# The same bounds as the pipeline's SETTLE_SECONDS and REFRESH_SLOT_TIMEOUT_SECONDS (config.Settings).
MAX_SETTLE_SECONDS = 86_400
MAX_SLOT_TIMEOUT_MINUTES = 1_440


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
    # Imported here because core imports this module for the option checks.
    from .core import run

    check.set_defaults(run=run)


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
