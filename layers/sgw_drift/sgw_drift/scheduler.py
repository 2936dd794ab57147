"""Per-gateway refresh scheduler.

A gateway accepts at most two refreshes at a time (Storage Gateway API reference, RefreshCache).
sgw-drift also keeps at least 60 s between two calls on one gateway. That spacing is a rule of
this project, not a documented AWS limit. One slot record per gateway in DynamoDB, written with
optimistic locking, enforces both across concurrent Lambda invocations. A slot whose completion
event never arrives expires after `slot_timeout` seconds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from .clock import Clock
from .gateway import GatewayAdapter, RefreshFailed, RefreshThrottled
from .observability import logger
from .planner import RefreshPlan
from .state import StateStore

MAX_IN_FLIGHT = 2
MIN_INTERVAL_SECONDS = 60.0
_LOCK_RETRIES = 5
_UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Slot:
    """A refresh in flight, occupying one of the gateway's two places."""

    token: str
    share_arn: str
    folders: tuple[str, ...]
    recursive: bool
    started: float
    expires: float
    notification_id: str | None = None

    @classmethod
    def from_item(cls, token: str, item: dict) -> Slot:
        return cls(
            token=token,
            share_arn=item["share_arn"],
            folders=tuple(item["folders"]),
            recursive=bool(item["recursive"]),
            started=float(item["started"]),
            expires=float(item["expires"]),
            notification_id=item.get("notification_id"),
        )

    def to_item(self) -> dict:
        return {
            "share_arn": self.share_arn,
            "folders": list(self.folders),
            "recursive": self.recursive,
            "started": self.started,
            "expires": self.expires,
            "notification_id": self.notification_id,
        }


@dataclass(frozen=True)
class Requested:
    slot: Slot


@dataclass(frozen=True)
class NoSlot:
    reason: str
    retry_after: float


@dataclass(frozen=True)
class Throttled:
    message: str


@dataclass(frozen=True)
class Failed:
    message: str
    code: str | None


class ConcurrentUpdate(Exception):
    """The slot record kept changing under us; the next drain tries again."""


class RefreshScheduler:
    def __init__(
        self, store: StateStore, gateway: GatewayAdapter, clock: Clock, *, slot_timeout: float
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.clock = clock
        self.slot_timeout = slot_timeout

    def expire(self, gateway_arn: str) -> list[Slot]:
        """Remove and return the slots whose completion did not arrive in time."""
        expired, _ = self._update(gateway_arn, lambda record, now: _UNCHANGED)
        return expired

    def request(
        self, gateway_arn: str, share_arn: str, plan: RefreshPlan
    ) -> tuple[Requested | NoSlot | Throttled | Failed, list[Slot]]:
        """Take a slot and call RefreshCache for `plan`. Also returns slots that expired meanwhile."""
        token = uuid.uuid4().hex

        def reserve(record: dict, now: float) -> NoSlot | None:
            inflight = record["inflight"]
            wait = record["last_call"] + MIN_INTERVAL_SECONDS - now
            if len(inflight) >= MAX_IN_FLIGHT:
                earliest = min(float(item["expires"]) for item in inflight.values())
                return NoSlot("two refreshes in flight", max(earliest - now, 1.0))
            if wait > 0:
                return NoSlot("less than 60 s since the previous call", wait)
            slot = Slot(token, share_arn, plan.folders, plan.recursive, now, now + self.slot_timeout)
            inflight[token] = slot.to_item()
            record["last_call"] = now
            return None

        expired, refused = self._update(gateway_arn, reserve)
        if refused is not None:
            return refused, expired

        try:
            notification_id = self.gateway.refresh_cache(share_arn, plan)
        except RefreshThrottled as error:
            self._update(gateway_arn, lambda record, now: record["inflight"].pop(token, None) and None)
            return Throttled(error.message), expired
        except RefreshFailed as error:
            self._update(gateway_arn, lambda record, now: record["inflight"].pop(token, None) and None)
            return Failed(error.message, error.code), expired

        def record_id(record: dict, now: float) -> None:
            if token in record["inflight"]:
                record["inflight"][token]["notification_id"] = notification_id

        self._update(gateway_arn, record_id)
        started = self.clock.now()
        slot = Slot(
            token,
            share_arn,
            plan.folders,
            plan.recursive,
            started,
            started + self.slot_timeout,
            notification_id,
        )
        return Requested(slot), expired

    def complete(self, gateway_arn: str, share_arn: str | None, notification_id: str | None) -> Slot | None:
        """Free the slot of a completed refresh, matched by notification id, else by share (oldest first)."""
        found: list[Slot] = []

        def release(record: dict, now: float) -> None:
            found.clear()
            slots = sorted(
                (Slot.from_item(token, item) for token, item in record["inflight"].items()),
                key=lambda slot: slot.started,
            )
            match = None
            if notification_id is not None:
                match = next((slot for slot in slots if slot.notification_id == notification_id), None)
            if match is None and share_arn is not None:
                # The older event shape has no notification id, and a completion can overtake
                # the write that records the id: fall back to the share's oldest slot without one.
                match = next(
                    (
                        slot
                        for slot in slots
                        if slot.share_arn == share_arn
                        and (notification_id is None or slot.notification_id is None)
                    ),
                    None,
                )
            if match is not None:
                record["inflight"].pop(match.token)
                found.append(match)

        self._update(gateway_arn, release)
        return found[0] if found else None

    def in_flight(self, gateway_arn: str) -> list[Slot]:
        record, _ = self.store.load_slots(gateway_arn)
        return [Slot.from_item(token, item) for token, item in record["inflight"].items()]

    def _update(self, gateway_arn: str, change) -> tuple[list[Slot], object]:
        """Apply `change(record, now)` under optimistic locking, expiring stale slots first."""
        for _ in range(_LOCK_RETRIES):
            record, version = self.store.load_slots(gateway_arn)
            now = self.clock.now()
            expired = [
                Slot.from_item(token, item)
                for token, item in record["inflight"].items()
                if float(item["expires"]) <= now
            ]
            for slot in expired:
                record["inflight"].pop(slot.token)
            result = change(record, now)
            if result is not None and not expired:
                return expired, result  # nothing to write
            if self.store.save_slots(gateway_arn, record, version):
                for slot in expired:
                    logger.warning(
                        "refresh slot expired without a completion event",
                        gateway_arn=gateway_arn,
                        share_arn=slot.share_arn,
                        notification_id=slot.notification_id,
                        folder_count=len(slot.folders),
                        waited_seconds=round(now - slot.started),
                    )
                return expired, result
            logger.info("refresh slot record changed concurrently, retrying", gateway_arn=gateway_arn)
        raise ConcurrentUpdate(
            f"refresh slots of {gateway_arn} changed {_LOCK_RETRIES} times during one update"
        )
