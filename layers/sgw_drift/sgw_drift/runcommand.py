"""Share lister that lists folders through the mount, on the instance that mounts the share.

It sends the stack's listing document with Run Command, polls `GetCommandInvocation`, and reads
the whole output from the stack's output bucket. `GetCommandInvocation` itself returns only the
first 24,000 characters of stdout (Systems Manager API Reference, GetCommandInvocation,
StandardOutputContent), and a large folder exceeds that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from botocore.exceptions import BotoCoreError, ClientError

from .clock import Clock, SystemClock
from .config import MountHost
from .listing import Entry, ListingError
from .mountlisting import FolderListing, document_parameters, parse_output
from .observability import logger
from .paths import ROOT

OUTPUT_PREFIX = "listings"
# GetCommandInvocation statuses (Systems Manager API Reference, GetCommandInvocation).
RUNNING_STATUSES = frozenset({"Pending", "InProgress", "Delayed"})
MAX_FOLDERS_PER_COMMAND = 50
MAX_FOLDERS_PARAMETER_CHARS = 32_000
MAX_OUTPUT_BYTES = 256 * 1024 * 1024
PREFETCH_SECONDS = 60.0


@dataclass(frozen=True)
class PollPolicy:
    """How long and how often to poll one command."""

    timeout_seconds: float = 40.0
    first_delay: float = 0.5
    max_delay: float = 5.0
    factor: float = 1.6


class RunCommandLister:
    """Implements `sgw_drift.listing.ShareLister` with the listing document and Run Command."""

    def __init__(
        self,
        ssm_client,
        s3_client,
        *,
        document_name: str,
        output_bucket: str,
        mounts: Mapping[str, MountHost],
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        poll: PollPolicy | None = None,
        output_prefix: str = OUTPUT_PREFIX,
        delivery_timeout_seconds: int = 30,
    ) -> None:
        self._ssm = ssm_client
        self._s3 = s3_client
        self.document_name = document_name
        self.output_bucket = output_bucket
        self.mounts = dict(mounts)
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._poll = poll or PollPolicy()
        self._prefix = output_prefix.strip("/")
        self._delivery_timeout = delivery_timeout_seconds
        self._prefetched: dict[tuple[str, str], tuple[float, FolderListing | ListingError]] = {}

    # ShareLister -------------------------------------------------------------------------------

    def can_list(self, share_arn: str) -> bool:
        return share_arn in self.mounts

    def list_folder(self, share_arn: str, folder: str) -> Iterator[Entry]:
        cached = self._prefetched.pop((share_arn, folder), None)
        if cached is not None and self._clock.now() - cached[0] <= PREFETCH_SECONDS:
            return iter(_result(cached[1]))
        listing = self.list_folders(share_arn, [folder])[folder]
        return iter(listing.result())

    def list_tree(self, share_arn: str) -> Iterator[Entry]:
        """Yield every entry of the share, sorted; the listing is taken whole before the first entry."""
        listing = self._run(share_arn, [ROOT], recursive=True)[ROOT]
        return iter(listing.result())

    # Batches -----------------------------------------------------------------------------------

    def list_folders(self, share_arn: str, folders: Iterable[str]) -> dict[str, FolderListing]:
        """List several folders with as few commands as the parameter limits allow."""
        result: dict[str, FolderListing] = {}
        for batch in _batches(list(dict.fromkeys(folders))):
            result.update(self._run(share_arn, batch, recursive=False))
        return result

    def prefetch(self, share_arn: str, folders: Iterable[str]) -> None:
        """List `folders` in one go, so the `list_folder` calls that follow send no command.

        A failed listing is kept too, so each of those calls raises its ListingError.
        """
        wanted = list(dict.fromkeys(folders))
        if not wanted or not self.can_list(share_arn):
            return
        now = self._clock.now()
        for batch in _batches(wanted):
            try:
                listings: Mapping[str, FolderListing | ListingError] = self._run(
                    share_arn, batch, recursive=False
                )
            except ListingError as error:
                listings = dict.fromkeys(batch, error)
            for folder in batch:
                self._prefetched[(share_arn, folder)] = (now, listings[folder])

    # Run Command --------------------------------------------------------------------------------

    def _run(self, share_arn: str, folders: list[str], *, recursive: bool) -> dict[str, FolderListing]:
        mount = self.mounts.get(share_arn)
        if mount is None:
            raise ListingError(f"no mount host configured for share {share_arn}")
        command_id = self._send(mount, folders, recursive=recursive)
        invocation = self._wait(command_id, mount.instance_id)
        text = self._read_output(command_id, mount.instance_id, invocation)
        listings = parse_output(text, folders, recursive=recursive)
        logger.info(
            "share listed through the mount host",
            share_arn=share_arn,
            instance_id=mount.instance_id,
            command_id=command_id,
            folder_count=len(folders),
            recursive=recursive,
            entry_count=sum(len(listing.entries) for listing in listings.values()),
        )
        return listings

    def _send(self, mount: MountHost, folders: list[str], *, recursive: bool) -> str:
        try:
            response = self._ssm.send_command(
                DocumentName=self.document_name,
                InstanceIds=[mount.instance_id],
                Parameters=document_parameters(mount.path, folders, recursive=recursive),
                OutputS3BucketName=self.output_bucket,
                OutputS3KeyPrefix=self._prefix,
                TimeoutSeconds=self._delivery_timeout,
                Comment="sgw-drift share listing",
            )
        except (ClientError, BotoCoreError) as error:
            raise ListingError(f"SendCommand to {mount.instance_id} failed: {error}") from error
        return response["Command"]["CommandId"]

    def _wait(self, command_id: str, instance_id: str) -> dict:
        """Poll until the invocation ends; raises ListingError unless it succeeded in time."""
        started = self._clock.now()
        waited = 0.0
        delay = self._poll.first_delay
        while True:
            self._sleep(delay)
            waited += delay
            try:
                invocation = self._ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
            except ClientError as error:
                # Right after SendCommand the invocation is often not visible yet (the Run Command
                # API is eventually consistent, API Reference, GetCommandInvocation).
                if error.response.get("Error", {}).get("Code") != "InvocationDoesNotExist":
                    raise ListingError(f"GetCommandInvocation for {command_id} failed: {error}") from error
                logger.info(
                    "command invocation not visible yet, retrying",
                    command_id=command_id,
                    instance_id=instance_id,
                )
                status = "InvocationDoesNotExist"
            else:
                status = invocation["Status"]
                if status == "Success":
                    return invocation
                if status not in RUNNING_STATUSES:
                    raise ListingError(_failure_message(command_id, instance_id, invocation))
            # Sleeps count even when the clock is virtual, so the loop always ends.
            elapsed = max(self._clock.now() - started, waited)
            if elapsed + delay > self._poll.timeout_seconds:
                raise ListingError(
                    f"listing command {command_id} on {instance_id} did not finish within "
                    f"{self._poll.timeout_seconds:.0f} s (last status {status})"
                )
            delay = min(delay * self._poll.factor, self._poll.max_delay)

    def _read_output(self, command_id: str, instance_id: str, invocation: dict) -> str:
        key = self._output_key(invocation.get("StandardOutputUrl") or "")
        if key is None or not key.startswith(f"{self._prefix}/{command_id}/"):
            raise ListingError(f"listing command {command_id} has no stdout in bucket {self.output_bucket}")
        try:
            response = self._s3.get_object(Bucket=self.output_bucket, Key=key)
            if int(response.get("ContentLength") or 0) > MAX_OUTPUT_BYTES:
                raise ListingError(f"listing output of {command_id} exceeds {MAX_OUTPUT_BYTES} bytes")
            body = response["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise ListingError(f"cannot read the listing output of {command_id} from S3: {error}") from error
        try:
            return body.decode("ascii")
        except UnicodeDecodeError as error:
            raise ListingError(f"listing output of {command_id} is not the listing format") from error

    def _output_key(self, url: str) -> str | None:
        """Return the object key of `StandardOutputUrl` if it points into the output bucket."""
        parsed = urlparse(url)
        path = unquote(parsed.path)
        if parsed.netloc.startswith(self.output_bucket + "."):
            return path.lstrip("/") or None  # virtual-hosted style URL
        if path.startswith(f"/{self.output_bucket}/"):
            return path[len(self.output_bucket) + 2 :] or None  # path style URL
        return None


def _failure_message(command_id: str, instance_id: str, invocation: dict) -> str:
    status = invocation.get("StatusDetails") or invocation.get("Status")
    output = (invocation.get("StandardOutputContent") or "").strip().splitlines()
    reason = next((line for line in output if line.startswith("sgw-drift-error ")), "")
    message = f"listing command {command_id} on {instance_id} ended with status {status}"
    return f"{message} ({reason})" if reason else message


def _result(listing: FolderListing | ListingError) -> list[Entry]:
    if isinstance(listing, ListingError):
        raise listing
    return listing.result()


def _batches(folders: list[str]) -> Iterator[list[str]]:
    """Split folders so that each command stays within the folder and parameter size limits."""
    batch: list[str] = []
    size = 0
    for folder in folders:
        # base64 makes 4 characters of every 3 bytes, plus one comma.
        cost = 4 * -(-len(folder.encode("utf-8", "surrogateescape")) // 3) + 1
        if batch and (len(batch) >= MAX_FOLDERS_PER_COMMAND or size + cost > MAX_FOLDERS_PARAMETER_CHARS):
            yield batch
            batch, size = [], 0
        batch.append(folder)
        size += cost
    if batch:
        yield batch
