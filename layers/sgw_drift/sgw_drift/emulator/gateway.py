"""File gateway emulator: responds to a real boto3 `storagegateway` client and behaves like a gateway.

moto has no Storage Gateway, so tests, benchmarks and `sgw-drift demo` use this emulator. It
registers on botocore's `before-call.storage-gateway.*` event of a client, after botocore has
validated and serialized the request, and returns a JSON 1.1 response that botocore parses as
usual. Nothing is ever sent over the network.

Each share keeps its own cached view. The view changes only on writes through the share
(`write_file`, `delete_file`, `rename`, `make_directory`) and when `tick()` delivers a completed
refresh, never on a direct S3 edit. Time comes from an injected clock, usually a VirtualClock.
The emulator is not thread-safe: drive it from one thread.
"""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3

from sgw_drift.clock import Clock
from sgw_drift.emulator import api, share_io, wire
from sgw_drift.emulator.api import InvalidGatewayRequest
from sgw_drift.emulator.lister import EmulatorShareLister
from sgw_drift.emulator.model import (
    GatewayRecord,
    InjectedFailure,
    PendingRefresh,
    RefreshCall,
    RefreshOutcome,
    ShareRecord,
    UnknownFileShareError,
)
from sgw_drift.emulator.refresh import refresh_folder
from sgw_drift.emulator.view import ShareView
from sgw_drift.listing import Entry
from sgw_drift.paths import MAX_FOLDER_ENTRY_CHARS

# RefreshCache limits from the AWS API reference: "the gateway will accept no more than two
# refreshes at any time", and FolderList holds 1 to 50 entries of 1 to 1,024 characters. An AWS
# Knowledge Center article counts the two refreshes per share instead; the emulator counts per gateway.
MAX_IN_FLIGHT = 2
MAX_FOLDER_LIST_ENTRIES = 50
# Minimum spacing between accepted calls on one gateway. The sgw-drift refresh scheduler promises
# this spacing, so the emulator rejects calls that break it.
MIN_SECONDS_BETWEEN_REFRESHES = 60.0

DEFAULT_FAILURE_MESSAGE = "Cannot access the S3 bucket behind the file share"
REFRESH_EVENT_DETAIL_TYPE = "Storage Gateway Refresh Cache Event"
EVENT_SOURCE = "aws.storagegateway"
SHARE_PROTOCOLS = ("NFS", "SMB")

# Fake credentials for clients made by `client()`: the emulator responds before any request is signed.
_FAKE_ACCESS_KEY = "testing"
_FAKE_SECRET_KEY = "testing"  # noqa: S105 - not a secret, the emulator never sends a request


class EmulatorNotImplementedError(NotImplementedError):
    """A Storage Gateway operation the emulator does not implement."""


class FileGatewayEmulator:
    """Emulated Storage Gateway S3 File Gateways, their shares and their refresh behaviour.

    `calls` records every RefreshCache call received. `lister` lists the share views as
    `sgw_drift.listing.ShareLister`. `event_sink`, when given, receives every EventBridge event
    the gateways emit.
    """

    def __init__(
        self,
        s3_client: Any,
        clock: Clock,
        *,
        region: str = "ap-northeast-1",
        account: str = "123456789012",
        refresh_seconds: float = 20.0,
        event_sink: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        if refresh_seconds < 0:
            raise ValueError(f"refresh_seconds must be 0 or more, got {refresh_seconds}")
        self._s3 = s3_client
        self._clock = clock
        self._region = region
        self._account = account
        self._refresh_seconds = refresh_seconds
        self._event_sink = event_sink

        self.calls: list[RefreshCall] = []
        self.lister = EmulatorShareLister(self)

        self._gateways: dict[str, GatewayRecord] = {}
        self._shares: dict[str, ShareRecord] = {}
        self._gateway_numbers = itertools.count(1)
        self._share_numbers = itertools.count(1)
        self._refresh_numbers = itertools.count(1)
        self._failures: deque[InjectedFailure] = deque()
        self._failure_rate: tuple[float, random.Random, bool] | None = None
        self._completions_to_drop = 0
        self._operations: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "RefreshCache": self._refresh_cache,
            "ListGateways": lambda request: api.list_gateways(list(self._gateways.values()), request),
            "ListFileShares": lambda request: api.list_file_shares(
                self._gateways, list(self._shares.values()), request
            ),
            "DescribeNFSFileShares": lambda request: api.describe_file_shares(
                self._shares, request, "NFS", self._account
            ),
            "DescribeSMBFileShares": lambda request: api.describe_file_shares(
                self._shares, request, "SMB", self._account
            ),
        }

    # Setup

    def add_gateway(self, name: str = "gateway", *, gateway_id: str | None = None) -> str:
        """Create a gateway; `gateway_id` (such as `sgw-12A3456B`) defaults to a counter."""
        gateway_id = gateway_id or f"sgw-{next(self._gateway_numbers):08X}"
        arn = f"arn:aws:storagegateway:{self._region}:{self._account}:gateway/{gateway_id}"
        self._gateways[arn] = GatewayRecord(arn=arn, gateway_id=gateway_id, name=name)
        return arn

    def add_share(
        self,
        gateway_arn: str,
        bucket: str,
        prefix: str = "",
        protocol: str = "NFS",
        *,
        name: str | None = None,
        notification_policy: str = "{}",
        share_id: str | None = None,
    ) -> str:
        """Create a file share on `bucket`/`prefix` and load its view from the bucket as it is now.

        `prefix` is the S3 key prefix of the share root; "" shares the whole bucket and a missing
        trailing slash is added. `name` defaults to the bucket name, or to the prefix with slashes
        replaced by dashes. `share_id` (such as `share-1A2B3C4D`) defaults to a counter.
        """
        if gateway_arn not in self._gateways:
            raise ValueError(f"unknown gateway ARN {gateway_arn!r}: create it with add_gateway() first")
        if protocol not in SHARE_PROTOCOLS:
            raise ValueError(f"invalid protocol {protocol!r}: expected one of {', '.join(SHARE_PROTOCOLS)}")
        if prefix.startswith("/"):
            raise ValueError(f"invalid prefix {prefix!r}: S3 prefixes of a share have no leading slash")
        if prefix and not prefix.endswith("/"):
            prefix += "/"

        share_id = share_id or f"share-{next(self._share_numbers):08X}"
        share = ShareRecord(
            arn=f"arn:aws:storagegateway:{self._region}:{self._account}:share/{share_id}",
            share_id=share_id,
            gateway_arn=gateway_arn,
            bucket=bucket,
            prefix=prefix,
            protocol=protocol,
            name=name or (prefix.rstrip("/").replace("/", "-") if prefix else bucket),
            notification_policy=notification_policy,
        )
        refresh_folder(self._s3, share, "/", recursive=True)
        self._shares[share.arn] = share
        return share.arn

    def attach(self, client: Any) -> Any:
        """Register the emulator as the responder to every call of a boto3 `storagegateway` client.

        Returns the same client.
        """
        service_id = client.meta.service_model.service_id
        if service_id != "Storage Gateway":
            raise ValueError(f"cannot attach to a {service_id} client: expected a storagegateway client")
        client.meta.events.register(
            "before-call.storage-gateway.*", self._answer, unique_id=f"sgw-drift-emulator-{id(self)}"
        )
        client.meta.events.register(
            "before-send.storage-gateway", _refuse_to_send, unique_id="sgw-drift-emulator-no-send"
        )
        return client

    def client(self) -> Any:
        """Return a new boto3 `storagegateway` client with fake credentials, answered by the emulator."""
        session = boto3.session.Session(
            aws_access_key_id=_FAKE_ACCESS_KEY,
            aws_secret_access_key=_FAKE_SECRET_KEY,
            region_name=self._region,
        )
        return self.attach(session.client("storagegateway"))

    # What a client of the share does

    def write_file(self, share_arn: str, path: str, body: bytes, mtime: float | None = None) -> dict:
        """Create or replace a file; `mtime` defaults to the clock's current time."""
        when = self._clock.now() if mtime is None else mtime
        return share_io.write_file(self._s3, self._share(share_arn), path, body, when)

    def delete_file(self, share_arn: str, path: str) -> dict:
        return share_io.delete_file(self._s3, self._share(share_arn), path)

    def rename(self, share_arn: str, old_path: str, new_path: str) -> list[dict]:
        return share_io.rename(self._s3, self._share(share_arn), old_path, new_path, self._clock.now())

    def make_directory(self, share_arn: str, path: str) -> dict:
        return share_io.make_directory(self._s3, self._share(share_arn), path, self._clock.now())

    def view(self, share_arn: str) -> dict[str, Entry]:
        """Return a copy of what the share shows, keyed by `Entry.path`."""
        return self._share(share_arn).view.snapshot()

    def share_view(self, share_arn: str) -> ShareView:
        """Return the live view of a share (not a copy); raise UnknownFileShareError if there is none."""
        return self._share(share_arn).view

    # Refresh completion and fault injection

    def tick(self) -> list[dict[str, Any]]:
        """Complete every refresh due by now, send its refresh-complete event, and return the events.

        Refreshes complete in order of due time, then acceptance. A refresh frees its gateway slot
        at its due time even before tick() runs, but the view changes only here.
        """
        now = self._clock.now()
        pending = [refresh for gateway in self._gateways.values() for refresh in gateway.pending]
        due = sorted(
            (refresh for refresh in pending if refresh.due <= now),
            key=lambda refresh: (refresh.due, refresh.sequence),
        )

        events = []
        for refresh in due:
            self._gateways[refresh.gateway_arn].pending.remove(refresh)
            if refresh.dropped:
                continue
            share = self._shares[refresh.share_arn]
            for folder in refresh.folder_list:
                refresh_folder(self._s3, share, folder, refresh.recursive)
            event = self._completion_event(refresh)
            events.append(event)
            if self._event_sink is not None:
                self._event_sink(event)
        return events

    def in_flight(self, gateway_arn: str) -> int:
        """Return how many refreshes hold a slot on the gateway now."""
        return self._gateways[gateway_arn].in_flight(self._clock.now())

    def inject_refresh_failure(
        self,
        message: str | None = None,
        count: int = 1,
        throttle: bool = False,
        *,
        error_code: str | None = None,
        error_details: dict[str, str] | None = None,
    ) -> None:
        """Reject the next `count` well-formed RefreshCache calls on a known share.

        A failure is recorded as "rejected-failure" with `message` (default: a bucket access
        failure) and `error_code`. With `throttle=True` it is recorded as "rejected-throttle" and
        carries the too-many-requests message and no error code, unless given.
        """
        if count < 1:
            raise ValueError(f"count must be 1 or more, got {count}")
        if message is None:
            message = _throttle_message("injected throttling") if throttle else DEFAULT_FAILURE_MESSAGE
        for _ in range(count):
            self._failures.append(InjectedFailure(message, throttle, error_code, dict(error_details or {})))

    def inject_refresh_failure_rate(self, rate: float, *, seed: int = 0, throttle: bool = True) -> None:
        """Reject each later well-formed RefreshCache call with probability `rate`, drawn from `seed`.

        Rejections are throttles ("too many requests") unless `throttle` is False, then failures with
        the default message. Calls queued by `inject_refresh_failure` are rejected first. A rate of 0
        turns random rejection off.
        """
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        draw = random.Random(seed)  # noqa: S311 - fault injection, not security
        self._failure_rate = (rate, draw, throttle) if rate > 0 else None

    def drop_completion(self, count: int = 1) -> None:
        """Make the next `count` accepted refreshes never complete.

        A dropped refresh frees its slot at its due time, as a real one does, but changes no view and
        emits no event.
        """
        if count < 1:
            raise ValueError(f"count must be 1 or more, got {count}")
        self._completions_to_drop += count

    # botocore hook

    def _answer(self, model: Any, params: dict[str, Any], **_kwargs: Any) -> tuple[Any, dict[str, Any]]:
        operation = self._operations.get(model.name)
        if operation is None:
            implemented = ", ".join(sorted(self._operations))
            raise EmulatorNotImplementedError(
                f"the file gateway emulator does not implement Storage Gateway operation {model.name}; "
                f"implemented operations: {implemented}"
            )

        request = json.loads(params.get("body") or b"{}")
        try:
            body = operation(request)
        except InvalidGatewayRequest as error:
            body = wire.error_body(error.message, error.error_code, error.error_details)
            return wire.build_response(model, params.get("url", ""), 400, body)
        return wire.build_response(model, params.get("url", ""), 200, body)

    def _refresh_cache(self, request: dict[str, Any]) -> dict[str, Any]:
        now = self._clock.now()
        share_arn = request["FileShareARN"]
        folder_list = list(request.get("FolderList", ["/"]))
        recursive = request.get("Recursive", True)

        def reject(outcome: RefreshOutcome, error: InvalidGatewayRequest) -> InvalidGatewayRequest:
            call = RefreshCall(now, share_arn, folder_list, recursive, None, outcome, error.message)
            self.calls.append(call)
            return error

        share = self._shares.get(share_arn)
        if share is None:
            raise reject(RefreshOutcome.REJECTED_INVALID, _unknown_share(share_arn))
        problem = _folder_list_problem(folder_list)
        if problem is not None:
            raise reject(RefreshOutcome.REJECTED_INVALID, problem)

        failure = self._next_failure()
        if failure is not None:
            error = InvalidGatewayRequest(failure.message, failure.error_code, failure.error_details)
            if failure.throttle:
                raise reject(RefreshOutcome.REJECTED_THROTTLE, error)
            raise reject(RefreshOutcome.REJECTED_FAILURE, error)

        gateway = self._gateways[share.gateway_arn]
        reason = _throttle_reason(gateway, now)
        if reason is not None:
            raise reject(RefreshOutcome.REJECTED_THROTTLE, InvalidGatewayRequest(_throttle_message(reason)))

        return self._accept(gateway, share, folder_list, recursive, now)

    def _next_failure(self) -> InjectedFailure | None:
        if self._failures:
            return self._failures.popleft()
        if self._failure_rate is None:
            return None
        rate, draw, throttle = self._failure_rate
        if draw.random() >= rate:
            return None
        message = _throttle_message("injected throttling") if throttle else DEFAULT_FAILURE_MESSAGE
        return InjectedFailure(message, throttle, None)

    def _accept(
        self, gateway: GatewayRecord, share: ShareRecord, folder_list: list[str], recursive: bool, now: float
    ) -> dict[str, Any]:
        notification_id = str(uuid.uuid4())
        dropped = self._completions_to_drop > 0
        if dropped:
            self._completions_to_drop -= 1

        gateway.pending.append(
            PendingRefresh(
                sequence=next(self._refresh_numbers),
                notification_id=notification_id,
                share_arn=share.arn,
                gateway_arn=gateway.arn,
                folder_list=folder_list,
                recursive=recursive,
                started=now,
                due=now + self._refresh_seconds,
                dropped=dropped,
            )
        )
        gateway.last_accepted_at = now
        outcome = RefreshOutcome.ACCEPTED
        self.calls.append(RefreshCall(now, share.arn, folder_list, recursive, notification_id, outcome, None))
        return {"FileShareARN": share.arn, "NotificationId": notification_id}

    def _completion_event(self, refresh: PendingRefresh) -> dict[str, Any]:
        """Build the refresh-complete event; its times are the acceptance and due times of the refresh."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": REFRESH_EVENT_DETAIL_TYPE,
            "source": EVENT_SOURCE,
            "account": self._account,
            "time": _iso_seconds(refresh.due),
            "region": self._region,
            "resources": [refresh.share_arn, refresh.gateway_arn],
            "detail": {
                "event-type": "refresh-complete",
                "notification-id": refresh.notification_id,
                "started": _iso_millis(refresh.started),
                "completed": _iso_millis(refresh.due),
                "folderList": list(refresh.folder_list),
            },
        }

    def _share(self, share_arn: str) -> ShareRecord:
        share = self._shares.get(share_arn)
        if share is None:
            raise UnknownFileShareError(
                f"unknown file share ARN {share_arn!r}: add it with add_share() first"
            )
        return share


def _folder_list_problem(folder_list: list[str]) -> InvalidGatewayRequest | None:
    """Check the FolderList limits that botocore leaves to the service (it checks only minimums)."""
    if not 1 <= len(folder_list) <= MAX_FOLDER_LIST_ENTRIES:
        return InvalidGatewayRequest(
            f"FolderList has {len(folder_list)} entries; it must have 1 to {MAX_FOLDER_LIST_ENTRIES}",
            "InvalidParameters",
            {"FolderList": f"length {len(folder_list)} is outside 1 to {MAX_FOLDER_LIST_ENTRIES}"},
        )
    for index, folder in enumerate(folder_list):
        if not 1 <= len(folder) <= MAX_FOLDER_ENTRY_CHARS:
            return InvalidGatewayRequest(
                f"FolderList entry {index} has {len(folder)} characters; "
                f"each entry must have 1 to {MAX_FOLDER_ENTRY_CHARS}",
                "InvalidParameters",
                {f"FolderList[{index}]": f"length {len(folder)} is outside 1 to {MAX_FOLDER_ENTRY_CHARS}"},
            )
    return None


def _throttle_reason(gateway: GatewayRecord, now: float) -> str | None:
    """Explain why the gateway cannot accept a refresh now, or return None when it can."""
    if gateway.in_flight(now) >= MAX_IN_FLIGHT:
        return f"{MAX_IN_FLIGHT} cache refreshes are already in progress"
    if gateway.last_accepted_at is None:
        return None
    elapsed = now - gateway.last_accepted_at
    if elapsed < MIN_SECONDS_BETWEEN_REFRESHES:
        return (
            f"the previous cache refresh was accepted {elapsed:.1f} s ago, "
            f"less than {MIN_SECONDS_BETWEEN_REFRESHES:.0f} s"
        )
    return None


def _unknown_share(share_arn: str) -> InvalidGatewayRequest:
    return InvalidGatewayRequest(
        f"The specified file share was not found: {share_arn}",
        "InvalidParameters",
        {"FileShareARN": share_arn},
    )


def _throttle_message(reason: str) -> str:
    # AWS documents the condition ("too many requests were sent to the server") but not the text.
    return f"Too many requests were sent to the server: {reason}"


def _refuse_to_send(request: Any, **_kwargs: Any) -> None:
    raise RuntimeError(
        f"blocked a Storage Gateway request to {request.url}: the file gateway emulator returned no "
        "response for it, and requests must never leave the machine"
    )


def _iso_seconds(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_millis(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
