"""State records of the file gateway emulator: gateways, shares, refreshes and RefreshCache calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sgw_drift.emulator.view import ShareView


class UnknownFileShareError(LookupError):
    """The emulator has no file share with the given ARN."""


class RefreshOutcome(StrEnum):
    """Outcome of one RefreshCache call at the emulated gateway."""

    ACCEPTED = "accepted"
    REJECTED_THROTTLE = "rejected-throttle"
    REJECTED_INVALID = "rejected-invalid"
    REJECTED_FAILURE = "rejected-failure"


@dataclass(slots=True)
class RefreshCall:
    """One RefreshCache call as the gateway received it.

    `folder_list` is the FolderList sent, or `["/"]` when the call left it out. `message` is the
    error message of a rejected call and None for an accepted one.
    """

    time: float
    share_arn: str
    folder_list: list[str]
    recursive: bool
    notification_id: str | None
    outcome: RefreshOutcome
    message: str | None


@dataclass(slots=True)
class PendingRefresh:
    """An accepted refresh that has not completed yet."""

    sequence: int
    notification_id: str
    share_arn: str
    gateway_arn: str
    folder_list: list[str]
    recursive: bool
    started: float
    due: float
    # A dropped refresh frees its slot when due but never changes the view or emits an event.
    dropped: bool = False


@dataclass(slots=True)
class GatewayRecord:
    arn: str
    gateway_id: str
    name: str
    # Accepted refreshes that tick() has not delivered yet. Each occupies a slot until its due time.
    pending: list[PendingRefresh] = field(default_factory=list)
    last_accepted_at: float | None = None

    def in_flight(self, now: float) -> int:
        return sum(1 for refresh in self.pending if refresh.due > now)


@dataclass(slots=True)
class ShareRecord:
    arn: str
    share_id: str
    gateway_arn: str
    bucket: str
    # S3 key prefix of the share root: "" for the whole bucket, otherwise ending with "/".
    prefix: str
    protocol: str
    name: str
    notification_policy: str
    view: ShareView = field(default_factory=ShareView)

    @property
    def location_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}/{self.prefix}" if self.prefix else f"arn:aws:s3:::{self.bucket}"


@dataclass(slots=True)
class InjectedFailure:
    message: str
    throttle: bool
    error_code: str | None
    error_details: dict[str, str] = field(default_factory=dict)
