"""A driver for the Sandbox that the refresh-economy and chaos benchmarks share.

It models the parts of AWS that the Sandbox leaves to its caller: the SQS event source of
ObjectEventsFunction (a batch is invoked when it holds `batch_size` records or its oldest record
has waited the batching window, as `BatchSize` and `MaximumBatchingWindowInSeconds` in
template.yaml set), the drain tick of EventBridge Scheduler every 60 s, and the refresh-complete
events of the gateway. It also records, for every edit, when the share first shows it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

BATCH_SIZE = 1000  # BatchSize of the ObjectEventsFunction queue in template.yaml
BATCHING_WINDOW_SECONDS = 20.0  # default BatchingWindowSeconds in template.yaml
DRAIN_TICK_SECONDS = 60.0  # the drain schedule in template.yaml runs every minute


@dataclass
class Edit:
    """One change of the bucket and what the share must show once it is visible.

    `size` is the size the share must show, or None when the file must be gone.
    """

    time: float
    share_arn: str
    path: str
    size: int | None
    direct: bool
    visible_at: float | None = None

    @property
    def staleness(self) -> float | None:
        return None if self.visible_at is None else self.visible_at - self.time


@dataclass
class EventQueue:
    """SQS in front of ObjectEventsFunction: records wait until a batch is full or the window passes."""

    batch_size: int = BATCH_SIZE
    window: float = BATCHING_WINDOW_SECONDS
    waiting: list[tuple[float, dict | str]] = field(default_factory=list)

    def send(self, now: float, body: dict | str) -> None:
        self.waiting.append((now, body))

    def due_batches(self, now: float) -> list[list[dict | str]]:
        batches = []
        while self.waiting and (
            len(self.waiting) >= self.batch_size or now - self.waiting[0][0] >= self.window
        ):
            batch, self.waiting = self.waiting[: self.batch_size], self.waiting[self.batch_size :]
            batches.append([body for _, body in batch])
        return batches


class BucketIndex:
    """The keys of one bucket, kept by the benchmark, to count what a refresh makes the gateway scan."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._sorted: list[str] | None = None

    def add(self, key: str) -> None:
        if key not in self._keys:
            self._keys.add(key)
            self._sorted = None

    def discard(self, key: str) -> None:
        if key in self._keys:
            self._keys.discard(key)
            self._sorted = None

    def __len__(self) -> int:
        return len(self._keys)

    def objects_scanned(self, prefix: str, folder: str, recursive: bool) -> int:
        """Count the objects a refresh of `folder` (FolderList form) on a share at `prefix` lists and HEADs.

        A non-recursive refresh covers the objects directly in the folder; a recursive one every
        object below it. The folder's own `dir/` marker is not counted.
        """
        if self._sorted is None:
            self._sorted = sorted(self._keys)
        base = prefix + (folder.strip("/") + "/" if folder.strip("/") else "")
        start = bisect.bisect_left(self._sorted, base)
        count = 0
        for key in self._sorted[start:]:
            if not key.startswith(base):
                break
            rest = key[len(base) :]
            if not rest:
                continue
            if recursive or "/" not in rest:
                count += 1
        return count


class Driver:
    """Runs a Sandbox on its virtual clock in one-second steps and records when edits become visible.

    `on_step` is called after every step, so a baseline can make its own RefreshCache calls.
    `pipeline` False leaves the sgw-drift handlers out: events are dropped and only the gateway runs.
    """

    def __init__(self, box, *, pipeline: bool = True, queue: EventQueue | None = None) -> None:
        from sgw_drift.sandbox.handlers import invoke

        self.box = box
        self.pipeline = pipeline
        self.queue = queue or EventQueue()
        self.edits: list[Edit] = []
        self.pending: list[Edit] = []
        self.batches = 0
        self.responses: list[dict] = []
        self._invoke = invoke
        self._next_tick = box.clock.now() + DRAIN_TICK_SECONDS
        self.on_step: Callable[[float], None] | None = None
        self.on_events: Callable[[float, list[dict | str]], None] | None = None

    # Edits -------------------------------------------------------------------------------------

    def record(self, edit: Edit, event: dict | str | None) -> Edit:
        """Remember an edit and queue its S3 event (a write through the share is visible at once)."""
        self.box.outbox.clear()
        self.edits.append(edit)
        if self._shown(edit):
            edit.visible_at = edit.time
        else:
            self.pending.append(edit)
        if event is not None:
            self.queue.send(self.box.clock.now(), event)
        return edit

    def send(self, body: dict | str) -> None:
        """Queue a raw SQS body, such as a duplicated or malformed event."""
        self.queue.send(self.box.clock.now(), body)

    # Running -----------------------------------------------------------------------------------

    def step(self, seconds: float = 1.0) -> None:
        box = self.box
        box.clock.advance(seconds)
        now = box.clock.now()
        for batch in self.queue.due_batches(now):
            self.batches += 1
            if self.on_events is not None:
                self.on_events(now, batch)
            if self.pipeline:
                self.responses.append(box.deliver(batch))
        if self.pipeline:
            box.complete_refreshes()
            if now >= self._next_tick:
                self._invoke("reconcile", {"mode": "drain"})
                self._next_tick += DRAIN_TICK_SECONDS
        else:
            box.gateway.tick()
            box.completions.clear()
        if self.on_step is not None:
            self.on_step(now)
        self._check_visibility(now)

    def run_until(self, done: Callable[[], bool], *, max_seconds: float, step: float = 1.0) -> float:
        """Step until `done()` holds or `max_seconds` of virtual time pass; return the seconds run."""
        start = self.box.clock.now()
        while not done() and self.box.clock.now() - start < max_seconds:
            self.step(step)
        return self.box.clock.now() - start

    def quiet(self) -> bool:
        """True when no event waits in the queue and every edit is visible."""
        return not self.queue.waiting and not self.pending

    def _check_visibility(self, now: float) -> None:
        still = []
        for edit in self.pending:
            if self._shown(edit):
                edit.visible_at = now
            else:
                still.append(edit)
        self.pending = still

    def _shown(self, edit: Edit) -> bool:
        entry = self.box.gateway.share_view(edit.share_arn).get(edit.path)
        if edit.size is None:
            return entry is None
        return entry is not None and not entry.is_dir and entry.size == edit.size


def staleness_figures(edits: Iterable[Edit]) -> dict:
    """Median, p99 and maximum staleness in seconds of the edits, and how many never became visible."""
    from benchlib import percentile

    edits = list(edits)
    values = [edit.staleness for edit in edits if edit.staleness is not None]
    never = sum(1 for edit in edits if edit.staleness is None)
    # An edit that never became visible is worse than any measured one: it sorts last.
    ranked = values + [float("inf")] * never
    return {
        "edits": len(edits),
        "median_seconds": percentile(ranked, 0.5),
        "p99_seconds": percentile(ranked, 0.99),
        "max_seconds": max(ranked) if ranked else None,
        "never_visible": never,
    }
