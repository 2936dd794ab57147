"""The drift pipeline: record edits, verify folders, plan and request refreshes, confirm fixes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from aws_lambda_powertools.metrics import MetricUnit

from .classify import Origin, candidate_keys, classify
from .clock import Clock
from .compare import Kind, compare
from .events import LISTING_CHANGES, RefreshCompleteEvent, S3ObjectEvent, sequencer_is_newer
from .incidents import Incidents
from .listing import ListingError
from .observability import logger, metrics
from .paths import ROOT, folder_list_entry, parent_folder
from .planner import MAX_FOLDERS_PER_CALL, RefreshPlan, plan_one_call, plan_refresh
from .scheduler import Failed, NoSlot, RefreshScheduler, Requested, Slot, Throttled
from .shares import Share, ShareRegistry
from .state import FolderRecord, StateStore, Status
from .verify import FolderResult, Verifier


@dataclass
class EventOutcome:
    """Outcome of one S3 event: the action taken and the shares and folders it marked."""

    action: str  # "ignored", "stale", "gateway_write", "recorded", "no_share"
    shares: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)


class DriftService:
    def __init__(
        self,
        *,
        registry: ShareRegistry,
        store: StateStore,
        scheduler: RefreshScheduler,
        verifier: Verifier,
        incidents: Incidents,
        s3_client,
        clock: Clock,
        max_attempts: int,
    ) -> None:
        self.registry = registry
        self.store = store
        self.scheduler = scheduler
        self.verifier = verifier
        self.incidents = incidents
        self.s3 = s3_client
        self.clock = clock
        self.max_attempts = max_attempts

    # S3 object events -----------------------------------------------------------------------

    def record_event(self, event: S3ObjectEvent) -> EventOutcome:
        """Classify one S3 event and mark the folders it touches on every share that shows the key."""
        detail = event.detail
        if event.detail_type not in LISTING_CHANGES:
            return EventOutcome("ignored")
        if not self.registry.for_key(detail.bucket.name, detail.object.key) and not any(
            self.registry.for_key(detail.bucket.name, key) for key in candidate_keys(detail.object.key)[1:]
        ):
            logger.info("object is under no configured share", bucket=detail.bucket.name)
            return EventOutcome("no_share")
        sequencer = detail.object.sequencer
        if sequencer and not self.store.advance_sequencer(
            detail.bucket.name, detail.object.key, sequencer, sequencer_is_newer
        ):
            logger.info(
                "older or repeated event for this key skipped",
                bucket=detail.bucket.name,
                sequencer=detail.object.sequencer,
            )
            return EventOutcome("stale")

        origin, keys = classify(self.s3, event)
        targets = [(share, key) for key in keys for share in self.registry.for_key(detail.bucket.name, key)]
        if len(keys) > 1:
            logger.warning(
                "object key may be URL-encoded, checking both forms",
                bucket=detail.bucket.name,
                candidates=len(keys),
            )
        # The gateway's metadata does not say which share wrote the object: when the key is
        # visible through several shares, the others are stale, so all of them are verified.
        if origin is Origin.GATEWAY and len(targets) == 1:
            logger.info(
                "write through the share seen, nothing to refresh",
                share_arn=targets[0][0].arn,
                key=detail.object.key,
            )
            return EventOutcome("gateway_write", shares=[targets[0][0].arn])

        if origin is not Origin.GATEWAY:
            metrics.add_metric(name="DirectEditsDetected", unit=MetricUnit.Count, value=1)
        outcome = EventOutcome("recorded")
        for share, key in targets:
            relative = share.relative_key(key)
            folder = parent_folder(relative)
            # Recorded keys count as direct writes, which the comparison may call stale by mtime. A
            # gateway write carries the client's mtime, often older than the upload, so it is not one.
            self.store.mark_dirty(
                share.arn,
                folder,
                relative_key=None if origin is Origin.GATEWAY else relative,
                deleted=event.is_delete,
                unverified=not self.verifier.can_verify(share),
            )
            outcome.shares.append(share.arn)
            outcome.folders.append(folder)
        logger.info(
            "edit recorded",
            origin=str(origin),
            detail_type=event.detail_type,
            key=detail.object.key,
            share_arns=sorted(set(outcome.shares)),
            folders=sorted(set(outcome.folders)),
        )
        return outcome

    # Verification -------------------------------------------------------------------------------

    def verify_dirty(self, share: Share) -> None:
        """Verify every dirty folder of a share: clean ones are forgotten, drifted ones wait for a refresh."""
        records = self.store.folders(share.arn, Status.DIRTY)
        if not records:
            return
        # A Run Command lister lists every folder in one command instead of one command per folder.
        self.verifier.prefetch(share, [record.folder for record in records if not record.unverified])
        started = self.clock.now()
        tally = _Tally()
        for record in records:
            self._verify_record(share, record, started, tally)

        logger.info(
            "folders verified",
            share_arn=share.arn,
            folder_count=len(records),
            unverified=tally.unverified,
            differences=dict(tally.counts),
        )
        if tally.counts:
            first_edit = min(record.first_seen for record in records)
            self.incidents.record_drift(
                share, dict(tally.counts), tally.samples, first_edit, unverified=tally.unverified
            )

    def _verify_record(self, share: Share, record: FolderRecord, started: float, tally: _Tally) -> None:
        if record.unverified or not self.verifier.can_verify(share):
            tally.add_unverified(record, with_samples=True)
            self._unverified_pending(share, record)
            return

        direct_writes = {key: record.first_seen for key in record.created_keys}
        result = self.verifier.verify_folder(share, record.folder, now=started, direct_writes=direct_writes)
        if not result.verified:
            logger.warning(
                "share listing failed, folder left unverified", share_arn=share.arn, error=result.error
            )
            metrics.add_metric(name="UnverifiedShares", unit=MetricUnit.Count, value=1)
            tally.add_unverified(record, with_samples=False)
            self._unverified_pending(share, record)
            return

        if not record.counted:
            tally.add_differences(result.differences)
        if result.drift and result.share_empty and record.folder != ROOT:
            ancestor_shown = self.verifier.shown_ancestor(share, record.folder)
            if ancestor_shown != record.folder:
                # Refresh the nearest folder the share shows; this one is verified again after.
                self._retarget(share, record, ancestor_shown)
                return
        self._settle(share, record, result, started)

    def _settle(self, share: Share, record: FolderRecord, result: FolderResult, started: float) -> None:
        """Move a verified folder on: drift waits for a refresh, a clean folder is forgotten."""
        if result.drift:
            metrics.add_metric(name="DriftConfirmed", unit=MetricUnit.Count, value=len(result.drift))
            next_status = Status.PENDING if record.attempts < self.max_attempts else Status.FAILED
            self.store.update_folder(share.arn, record.folder, status=next_status, late_edits=0, counted=True)
            if next_status == Status.FAILED:
                self.incidents.record_failure(
                    share,
                    f"{folder_list_entry(record.folder)} still differs after {record.attempts} refreshes",
                    record.first_seen,
                )
        elif result.unrepresentable:
            reasons = sorted({difference.reason or "" for difference in result.unrepresentable})
            self.store.update_folder(
                share.arn,
                record.folder,
                status=Status.FAILED,
                last_error="unrepresentable keys: " + "; ".join(reasons),
            )
        elif _direct_edit_looks_pending(result.differences, record):
            # A file written on the share within the settle window hides a direct edit of it:
            # the folder stays dirty and is verified again on a later tick, once the window passed.
            logger.info("direct edit of a recent share write, verifying again later", share_arn=share.arn)
        elif not self.store.delete_folder(share.arn, record.folder, unless_edited_after=started):
            logger.info("folder edited during verification, verifying again later", share_arn=share.arn)
            self.store.update_folder(share.arn, record.folder, status=Status.DIRTY)

    def _retarget(self, share: Share, record: FolderRecord, ancestor_shown: str) -> None:
        self.store.update_folder(share.arn, record.folder, counted=True)
        ancestor = next(
            (item for item in self.store.folders(share.arn) if item.folder == ancestor_shown), None
        )
        if ancestor is None or ancestor.status == Status.DIRTY:
            self.store.mark_dirty(
                share.arn, ancestor_shown, relative_key=None, deleted=False, unverified=False
            )
            self.store.update_folder(share.arn, ancestor_shown, status=Status.PENDING, counted=True)
        logger.info(
            "folder not shown by the share yet, refreshing its nearest shown ancestor",
            share_arn=share.arn,
            depth_gap=record.folder.count("/") - ancestor_shown.count("/"),
        )

    def _unverified_pending(self, share: Share, record: FolderRecord) -> None:
        """Without a listing, a direct edit is refreshed on the strength of its event alone."""
        status = Status.PENDING if record.attempts < self.max_attempts else Status.FAILED
        self.store.update_folder(share.arn, record.folder, status=status, unverified=True, late_edits=0)

    # Refreshes -----------------------------------------------------------------------------------

    def drain(self, gateway_arns: Iterable[str] | None = None) -> None:
        """Request the next refresh on each gateway that has a free slot and pending folders."""
        groups = self.registry.by_gateway()
        for gateway_arn in gateway_arns or list(groups):
            shares = groups.get(gateway_arn, [])
            self._requeue(self.scheduler.expire(gateway_arn))
            pending = {share.arn: self.store.folders(share.arn, Status.PENDING) for share in shares}
            ready = sorted(
                (share for share in shares if pending[share.arn]),
                key=lambda share: min(record.first_seen for record in pending[share.arn]),
            )
            if ready:
                self._request(gateway_arn, ready[0], pending[ready[0].arn])

    def _request(self, gateway_arn: str, share: Share, records: list[FolderRecord]) -> None:
        plan = self._plan(share, [record.folder for record in records])
        outcome, expired = self.scheduler.request(gateway_arn, share.arn, plan)
        self._requeue(expired)
        covered = [record for record in records if plan.covers(folder_list_entry(record.folder))]
        match outcome:
            case Requested(slot=slot):
                for record in covered:
                    self.store.update_folder(
                        share.arn,
                        record.folder,
                        status=Status.REFRESHING,
                        reservation=slot.token,
                        refresh_requested_at=slot.started,
                    )
                metrics.add_metric(name="RefreshRequested", unit=MetricUnit.Count, value=1)
                logger.info(
                    "refresh requested",
                    share_arn=share.arn,
                    gateway_arn=gateway_arn,
                    notification_id=slot.notification_id,
                    folders=list(plan.folders),
                    recursive=plan.recursive,
                    pending_left=len(records) - len(covered),
                )
                self.incidents.record_refresh(share, slot.notification_id or slot.token)
            case NoSlot(reason=reason):
                metrics.add_metric(name="RefreshDeferred", unit=MetricUnit.Count, value=1)
                logger.info("refresh deferred", share_arn=share.arn, reason=reason, folder_count=len(records))
            case Throttled(message=message):
                metrics.add_metric(name="RefreshDeferred", unit=MetricUnit.Count, value=1)
                logger.info(
                    "refresh rejected as too many, deferred",
                    share_arn=share.arn,
                    error=message,
                    folder_count=len(records),
                )
            case Failed(message=message, code=code):
                metrics.add_metric(name="RefreshFailed", unit=MetricUnit.Count, value=1)
                logger.error(
                    "refresh rejected",
                    share_arn=share.arn,
                    error=message,
                    error_code=code,
                    folder_count=len(covered),
                )
                for record in covered:
                    attempts = record.attempts + 1
                    status = Status.PENDING if attempts < self.max_attempts else Status.FAILED
                    self.store.update_folder(
                        share.arn, record.folder, attempts=attempts, status=status, last_error=message
                    )
                self.incidents.record_failure(share, message, min(record.first_seen for record in records))

    def _plan(self, share: Share, folders: list[str]) -> RefreshPlan:
        """Plan the next call: one recursive call when it rescans little more, else exact folders first."""
        if len(set(folders)) > MAX_FOLDERS_PER_CALL:
            lister = self.verifier.bucket_lister
            plan = plan_one_call(
                folders,
                direct_objects=lambda folder: lister.count_objects(share, folder, recursive=False),
                subtree_objects=lambda folder, limit: lister.count_objects(
                    share, folder, recursive=True, limit=limit
                ),
            )
            if plan is not None:
                return plan
        return plan_refresh(folders)[0]

    def _requeue(self, slots: list[Slot]) -> None:
        """Put the folders of expired slots back in the queue, counting the attempt."""
        for slot in slots:
            metrics.add_metric(name="RefreshSlotExpired", unit=MetricUnit.Count, value=1)
            for record in self.store.folders(slot.share_arn, Status.REFRESHING):
                if record.reservation != slot.token:
                    continue
                attempts = record.attempts + 1
                status = Status.PENDING if attempts < self.max_attempts else Status.FAILED
                self.store.update_folder(
                    slot.share_arn,
                    record.folder,
                    status=status,
                    attempts=attempts,
                    last_error="refresh completion did not arrive in time",
                )

    def refresh_completed(self, event: RefreshCompleteEvent) -> None:
        """Free the slot, re-verify the refreshed folders, resolve or retry, then drain the gateway."""
        share = self.registry.get(event.share_arn or "")
        if share is None:
            logger.info("refresh completion for a share sgw-drift does not watch", resources=event.resources)
            return
        gateway_arn = event.gateway_arn or share.gateway_arn
        slot = self.scheduler.complete(gateway_arn, share.arn, event.detail.notification_id)
        refreshed = self.store.folders(share.arn, Status.REFRESHING)
        logger.info(
            "refresh completed",
            share_arn=share.arn,
            notification_id=event.detail.notification_id,
            folders=event.detail.folder_list,
            requested_by_sgw_drift=slot is not None,
        )
        if slot is not None:
            refreshed = [record for record in refreshed if record.reservation == slot.token]
        else:
            logger.info(
                "refresh completion not requested by sgw-drift, checking its folders",
                share_arn=share.arn,
                notification_id=event.detail.notification_id,
            )
            listed = set(event.detail.folder_list)
            refreshed = [record for record in refreshed if folder_list_entry(record.folder) in listed]

        for record in refreshed:
            if record.unverified and record.late_edits == 0:
                self.store.delete_folder(share.arn, record.folder, unless_edited_after=self.clock.now())
            else:
                self.store.update_folder(
                    share.arn, record.folder, status=Status.DIRTY, attempts=record.attempts + 1
                )
        self.verify_dirty(share)
        self.incidents.resolve(share)
        self.drain([gateway_arn])

    # Scheduled work --------------------------------------------------------------------------------

    def process(self, share_arns: Iterable[str]) -> None:
        """Verify the dirty folders of the given shares, then drain their gateways."""
        shares = [share for arn in dict.fromkeys(share_arns) if (share := self.registry.get(arn))]
        for share in shares:
            self.verify_dirty(share)
            self.incidents.resolve(share)
        self.drain(dict.fromkeys(share.gateway_arn for share in shares))

    def tick(self) -> None:
        """Drain tick: verify what is dirty, expire slots, request deferred refreshes, review incidents.

        Reviewing escalates incidents open too long and sends updates that the rate limit held back.
        """
        self.process(share.arn for share in self.registry.shares)
        for share in self.registry.shares:
            self.incidents.review(share)

    def sweep(self) -> None:
        """Full comparison of each verifiable share with its bucket; stale folders become dirty."""
        for share in self.registry.shares:
            if not self.verifier.can_verify(share):
                metrics.add_metric(name="UnverifiedShares", unit=MetricUnit.Count, value=1)
                # Without a listing, the sweep can only retry refreshes that ran out of attempts.
                for record in self.store.folders(share.arn, Status.FAILED):
                    self.store.update_folder(share.arn, record.folder, status=Status.PENDING, attempts=0)
                continue
            for record in self.store.folders(share.arn, Status.FAILED):
                self.store.update_folder(share.arn, record.folder, status=Status.DIRTY, attempts=0)
            now = self.clock.now()
            settle = (
                share.settle_seconds if share.settle_seconds is not None else self.verifier.settle_seconds
            )
            folders = set()
            try:
                for difference in compare(
                    self.verifier.bucket_lister.list_tree(share),
                    self.verifier.share_lister.list_tree(share.arn),
                    now=now,
                    settle_seconds=settle,
                ):
                    if difference.kind.is_drift:
                        folders.add(parent_folder(difference.path))
            except ListingError as error:
                # A failed or truncated listing is never compared: nothing is marked from it.
                logger.warning(
                    "share listing failed, sweep of this share skipped", share_arn=share.arn, error=str(error)
                )
                metrics.add_metric(name="UnverifiedShares", unit=MetricUnit.Count, value=1)
                continue
            for folder in sorted(folders):
                self.store.mark_dirty(share.arn, folder, relative_key=None, deleted=False, unverified=False)
            logger.info("sweep finished", share_arn=share.arn, drifted_folders=len(folders))
        self.tick()


def _direct_edit_looks_pending(differences, record: FolderRecord) -> bool:
    """Tell whether a difference taken for a pending upload is a key that was edited directly."""
    edited = record.created_keys | record.deleted_keys
    return any(
        difference.kind is Kind.PENDING_UPLOAD and difference.path in edited for difference in differences
    )


@dataclass
class _Tally:
    """Differences found in one verification pass, for the share's incident."""

    counts: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    unverified: bool = False

    def add_unverified(self, record: FolderRecord, *, with_samples: bool) -> None:
        self.unverified = True
        self.counts["unverified_edit"] += record.edit_count
        if with_samples:
            self.samples.extend(sorted(record.created_keys | record.deleted_keys))

    def add_differences(self, differences: list) -> None:
        for difference in differences:
            if difference.kind is not Kind.PENDING_UPLOAD:
                self.counts[difference.kind.value] += 1
                self.samples.append(difference.path)
