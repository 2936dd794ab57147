"""Chaos run: thousands of S3 events with duplicates, shuffled order, malformed records and failing
refreshes and Run Commands, across four shares on two buckets and two gateways.

Direct edits (new files, overwrites, deletes) and writes and deletes through the shares are made
at 10 a second. Of the events delivered, 10 % are duplicates of others, 5 % are malformed, and
every event (duplicates too) reaches the queue after a random delay of up to two minutes, so the
order is shuffled. A third of RefreshCache calls are rejected as throttled, and 10 % of the Run
Commands that list the shares fail. The shares are listed through the stack's Run Command
document on an emulated mount host.

Every alert the run publishes is delivered as an SNS event to the real Slack notifier, and 10 % of
the deliveries arrive twice (SNS delivers at least once). A webhook receiver on 127.0.0.1 returns
429 or 5xx for 20 % of the posts. Lambda retries a failed invocation twice, one and then two
minutes later, and then sends it to the notifier's dead-letter queue (see slack_delivery.py).

After quiescence the run checks and prints: every share equals its bucket, no direct edit is
lost, each incident has at most one opened and one resolved message, every malformed event is
in the dead-letter queue with its reason, and every alert is posted to Slack exactly once or is
in the notifier's dead-letter queue. The exit status is 0 only when all checks pass.

    python bench/chaos.py                  # 10,000 events
    python bench/chaos.py --events 2000    # a mid size
    python bench/chaos.py --smoke          # 120 events, for the test suite
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import heapq
import io
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import benchlib

benchlib.use_safe_environment()
# Malformed events are logged as errors by design; the checks report what matters.
os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"

from pipeline import Driver, Edit, EventQueue  # noqa: E402
from slack_delivery import SlackDelivery  # noqa: E402

BUCKETS = ("chaos-a", "chaos-b")
OUTPUT_BUCKET = "chaos-listing-output"
DOCUMENT = "sgw-drift-ShareListingDocument-Chaos1"
INSTANCE = "i-0c0ffee0c0ffee000"
OPERATIONS_PER_SECOND = 10
DUPLICATE_SHARE = 0.10
MALFORMED_SHARE = 0.05
MAX_DELIVERY_DELAY = 120.0
REFRESH_REJECT_RATE = 1 / 3
RUN_COMMAND_FAILURE_RATE = 0.10
SLACK_FAULT_RATE = 0.20  # share of Slack posts that get a 429 or 5xx response
SNS_DUPLICATE_SHARE = 0.10  # Slack notifier deliveries that SNS makes twice
MAX_QUIET_SECONDS = 6 * 3600.0
FOLDERS = [f"team/t{index}" for index in range(6)] + [f"data/d{index}" for index in range(6)] + ["misc"]


@dataclass
class Share:
    arn: str
    bucket: str
    prefix: str
    mount: str


@dataclass
class Chaos:
    """What the run made and what it injected, for the checks."""

    direct: list[Edit] = field(default_factory=list)
    through: list[Edit] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)
    duplicates: int = 0
    delivered: int = 0


def failing_host(seed: int):
    """An emulated mount host whose listing Run Commands fail at `RUN_COMMAND_FAILURE_RATE`."""
    from sgw_drift.sandbox.mounthost import EmulatedMountHost

    draw = random.Random(seed)

    class FailingMountHost(EmulatedMountHost):
        failed = 0

        def send_command(self, **request) -> dict:
            response = super().send_command(**request)
            if request["DocumentName"] == self.listing_document and draw.random() < RUN_COMMAND_FAILURE_RATE:
                # The agent ran the command and it failed: the output is not to be trusted.
                self.invocations[response["Command"]["CommandId"]].status = "Failed"
                FailingMountHost.failed += 1
            return response

    return FailingMountHost


def malformed_body(template: dict, draw: random.Random) -> str:
    """Return a body that no retry can fix, of a kind the pipeline must dead-letter with a reason."""
    wrong_size = copy.deepcopy(template)
    wrong_size["detail"]["object"]["size"] = "not-a-number"
    no_key = copy.deepcopy(template)
    del no_key["detail"]["object"]["key"]
    no_detail = copy.deepcopy(template)
    del no_detail["detail"]
    wrong_bucket = copy.deepcopy(template)
    wrong_bucket["detail"]["bucket"] = ["chaos-a"]
    variants = [
        "{not json",
        "",
        json.dumps(wrong_size),
        json.dumps(no_key),
        json.dumps(no_detail),
        json.dumps(wrong_bucket),
        json.dumps([1, 2, 3]),
    ]
    return draw.choice(variants)


class ChaosRun:
    def __init__(self, events: int, seed: int, slack_fault_rate: float = SLACK_FAULT_RATE) -> None:
        from sgw_drift.sandbox import Sandbox

        self.events = events
        self.seed = seed
        self.slack_fault_rate = slack_fault_rate
        self.slack: SlackDelivery | None = None
        self.draw = random.Random(seed)
        self.box = Sandbox(settle_seconds=120, verify_shares=False)
        self.box.__enter__()
        self.chaos = Chaos()
        self.delayed: list[tuple[float, int, dict | str]] = []
        self._order = 0

    def close(self) -> None:
        if self.slack is not None:
            self.slack.close()
        self.box.__exit__(None, None, None)

    # Set-up ------------------------------------------------------------------------------------

    def start(self) -> None:
        box = self.box
        for bucket in (*BUCKETS, OUTPUT_BUCKET):
            box.create_bucket(bucket)
        first, second = box.add_gateway(), box.add_gateway()
        self.shares = [
            Share(box.add_share(first, "chaos-a", ""), "chaos-a", "", "/mnt/a"),
            Share(box.add_share(second, "chaos-a", "team/", "SMB"), "chaos-a", "team/", "/mnt/a-team"),
            Share(box.add_share(second, "chaos-b", ""), "chaos-b", "", "/mnt/b"),
            Share(box.add_share(first, "chaos-b", "data/", "SMB"), "chaos-b", "data/", "/mnt/b-data"),
        ]
        host_class = failing_host(self.seed)
        self.host = host_class(box.gateway, box.s3, listing_document=DOCUMENT)
        for share in self.shares:
            self.host.mount(INSTANCE, share.arn, share.mount)
        box.gateway.inject_refresh_failure_rate(REFRESH_REJECT_RATE, seed=self.seed, throttle=True)
        box.start(
            {share.arn: {"mount": {"instance_id": INSTANCE, "path": share.mount}} for share in self.shares},
            environ={
                "LISTING_DOCUMENT_NAME": DOCUMENT,
                "LISTING_OUTPUT_BUCKET": OUTPUT_BUCKET,
                "MOUNT_INSTANCE_IDS": INSTANCE,
            },
            command_client=self.host,
        )
        lister = box.runtime.service.verifier.share_lister
        # NOTE: the Run Command lister sleeps in real time between polls; on the virtual clock the
        # bench skips those sleeps, which changes nothing but the wall time of the run.
        lister._sleep = lambda seconds: None
        self.driver = Driver(box, queue=EventQueue())
        self.slack = SlackDelivery(
            box, seed=self.seed, fault_rate=self.slack_fault_rate, duplicate_share=SNS_DUPLICATE_SHARE
        )
        self.driver.on_step = self.slack.step
        for bucket in BUCKETS:
            for folder in FOLDERS:
                self.write(self.whole_share(bucket), f"{folder}/seed.txt", b"seed")
        self.quiesce()
        self.driver.edits.clear()
        self.chaos = Chaos()

    def whole_share(self, bucket: str) -> Share:
        return next(share for share in self.shares if share.bucket == bucket and not share.prefix)

    # Operations --------------------------------------------------------------------------------

    def emit(self, body: dict | str) -> None:
        """Queue a body after a random delay: EventBridge delivers at least once and in no order."""
        due = self.box.clock.now() + self.draw.uniform(0, MAX_DELIVERY_DELAY)
        self._order += 1
        heapq.heappush(self.delayed, (due, self._order, body))

    def write(self, share: Share, path: str, body: bytes) -> None:
        event = self.box.write_through(share.arn, path, body)
        self.chaos.through.append(
            self.driver.record(Edit(self.box.clock.now(), share.arn, path, len(body), direct=False), None)
        )
        self.emit(event)

    def operate(self) -> dict | None:
        """Make one random edit and return its S3 event."""
        box, draw = self.box, self.draw
        bucket = draw.choice(BUCKETS)
        folder = draw.choice(FOLDERS)
        existing = [
            key
            for key in self.keys(bucket)
            if key.startswith(folder + "/") and "/" not in key[len(folder) + 1 :] and not key.endswith("/")
        ]
        roll = draw.random()
        if roll < 0.25 or (roll < 0.5 and not existing):
            key = f"{folder}/direct-{self._order}-{draw.randrange(10**6)}.bin"
            return self.direct_put(bucket, key, draw.randint(1, 4000))
        if roll < 0.40:
            return self.direct_put(bucket, draw.choice(existing), draw.randint(1, 4000))
        if roll < 0.50:
            return self.direct_delete(bucket, draw.choice(existing))
        shares = [
            share for share in self.shares if share.bucket == bucket and folder.startswith(share.prefix)
        ]
        share = draw.choice(shares)
        relative = folder[len(share.prefix) :]
        visible = [
            path
            for path, entry in box.gateway.view(share.arn).items()
            if not entry.is_dir and path.startswith(relative + "/") and "/" not in path[len(relative) + 1 :]
        ]
        if roll < 0.85 or not visible:
            body = b"w" * draw.randint(1, 4000)
            path = f"{relative}/written-{self._order}-{draw.randrange(10**6)}.txt"
            event = box.write_through(share.arn, path, body)
            self.chaos.through.append(Edit(box.clock.now(), share.arn, path, len(body), direct=False))
            return event
        path = draw.choice(visible)
        return box.delete_through(share.arn, path)

    def direct_put(self, bucket: str, key: str, size: int) -> dict:
        event = self.box.put_direct(bucket, key, b"d" * size)
        self.chaos.direct.append(Edit(self.box.clock.now(), bucket, key, size, direct=True))
        return event

    def direct_delete(self, bucket: str, key: str) -> dict:
        event = self.box.delete_direct(bucket, key)
        self.chaos.direct.append(Edit(self.box.clock.now(), bucket, key, None, direct=True))
        return event

    def keys(self, bucket: str) -> list[str]:
        pages = self.box.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    # Running -----------------------------------------------------------------------------------

    def step(self, seconds: float = 1.0) -> None:
        now = self.box.clock.now() + seconds
        while self.delayed and self.delayed[0][0] <= now:
            _, _, body = heapq.heappop(self.delayed)
            self.driver.send(body)
            self.chaos.delivered += 1
        self.driver.step(seconds)

    def run(self) -> None:
        base = round(self.events * (1 - DUPLICATE_SHARE - MALFORMED_SHARE))
        duplicates = round(self.events * DUPLICATE_SHARE)
        malformed = self.events - base - duplicates
        made: list[dict] = []
        for number in range(base):
            event = self.operate()
            self.box.outbox.clear()
            if event is not None:
                made.append(event)
                self.emit(event)
            if (number + 1) % OPERATIONS_PER_SECOND == 0:
                self.step()
        for _ in range(duplicates):
            self.emit(self.draw.choice(made))
            self.chaos.duplicates += 1
        for _ in range(malformed):
            body = malformed_body(self.draw.choice(made), self.draw)
            self.chaos.malformed.append(body)
            self.emit(body)
        self.quiesce()

    def quiesce(self) -> float:
        """Step until every event is delivered and no folder of any share waits for work.

        A folder whose refreshes failed waits for the next sweep, which the run leaves out, so it
        counts as quiet: the checks then report what it left behind.
        """
        from sgw_drift.state import Status

        start = self.box.clock.now()
        store = self.box.runtime.service.store
        while self.box.clock.now() - start < MAX_QUIET_SECONDS:
            for _ in range(12):
                self.step(5.0)
            if self.delayed or self.driver.queue.waiting or self.slack.pending:
                continue
            busy = [
                record
                for share in self.shares
                for record in store.folders(share.arn)
                if record.status != Status.FAILED
            ]
            if not busy:
                break
        return self.box.clock.now() - start

    # Checks ------------------------------------------------------------------------------------

    def checks(self) -> dict:
        box = self.box
        drift = {share.arn.rsplit("/", 1)[-1]: len(box.drift(share.arn)) for share in self.shares}
        lost = self.lost_direct_edits()
        alerts = box.alerts()
        per_incident = Counter(
            (alert["incident_id"], alert["event"]) for alert in alerts if alert["incident_id"]
        )
        repeated = {
            f"{incident} {event}": count
            for (incident, event), count in per_incident.items()
            if event in ("opened", "resolved") and count > 1
        }
        dead = list(box.dead_letters())
        reasons = [
            message.get("MessageAttributes", {}).get("error", {}).get("StringValue", "") for message in dead
        ]
        dead_bodies = Counter(message["Body"] for message in dead)
        expected_bodies = Counter(self.chaos.malformed)
        return {
            "every_share_equals_its_bucket": {"passed": not any(drift.values()), "drift_by_share": drift},
            "no_direct_edit_lost": {
                "passed": not lost,
                "direct_edits": len(self.chaos.direct),
                "lost": lost[:10],
            },
            "one_opened_one_resolved_per_incident": {
                "passed": not repeated,
                "incidents": len({incident for incident, _ in per_incident}),
                "repeated": repeated,
            },
            "malformed_in_dlq_with_reason": {
                "passed": dead_bodies == expected_bodies and all(reasons),
                "malformed_sent": len(self.chaos.malformed),
                "in_dlq": len(dead),
                "without_reason": sum(1 for reason in reasons if not reason),
                "sample_reason": reasons[0][:160] if reasons else None,
            },
            "every_alert_posted_to_slack_once_or_in_dlq": self.slack.check(),
        }

    def leftovers(self) -> dict:
        """Incidents still open and folders whose refreshes failed, which wait for the next sweep."""
        store = self.box.runtime.service.store
        failed = [
            f"{record.folder}: {record.status} after {record.attempts} attempts ({record.last_error})"
            for share in self.shares
            for record in store.folders(share.arn)
        ]
        open_incidents = sum(1 for share in self.shares if store.load_incident(share.arn))
        return {
            "incidents_open_at_end": open_incidents,
            "folders_left": len(failed),
            "folders_left_sample": failed[:5],
        }

    def lost_direct_edits(self) -> list[str]:
        """Direct edits whose key does not show its bucket state on every share that shows the key."""
        lost = []
        for key in sorted({(edit.share_arn, edit.path) for edit in self.chaos.direct}):
            bucket, path = key
            try:
                size = self.box.s3.head_object(Bucket=bucket, Key=path)["ContentLength"]
            except self.box.s3.exceptions.ClientError:
                size = None
            for share in self.shares:
                if share.bucket != bucket or not path.startswith(share.prefix):
                    continue
                entry = self.box.gateway.view(share.arn).get(path[len(share.prefix) :])
                shown = None if entry is None else entry.size
                if shown != size:
                    lost.append(f"{share.arn.rsplit('/', 1)[-1]}:{path} shows {shown}, bucket has {size}")
        return lost


def run(
    *, smoke: bool, seed: int = 11, events: int | None = None, slack_fault_rate: float = SLACK_FAULT_RATE
) -> dict:
    events = events or (120 if smoke else 10_000)
    started = time.perf_counter()
    chaos_run = ChaosRun(events, seed, slack_fault_rate)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            chaos_run.start()
            virtual_start = chaos_run.box.clock.now()
            chaos_run.run()
        checks = chaos_run.checks()
        calls = chaos_run.box.gateway.calls
        listing_commands = [request for request in chaos_run.host.sent if request["DocumentName"] == DOCUMENT]
        figures = {
            "events": events,
            "direct_edits": len(chaos_run.chaos.direct),
            "share_writes_and_deletes": len(chaos_run.chaos.through),
            "duplicates": chaos_run.chaos.duplicates,
            "malformed": len(chaos_run.chaos.malformed),
            "delivered": chaos_run.chaos.delivered,
            "refresh_calls": len(calls),
            "refresh_rejected": sum(1 for call in calls if call.outcome != "accepted"),
            "run_commands": len(listing_commands),
            "run_commands_failed": type(chaos_run.host).failed,
            "alerts": dict(Counter(alert["event"] for alert in chaos_run.box.alerts())),
            **chaos_run.slack.figures(),
            "virtual_seconds": round(chaos_run.box.clock.now() - virtual_start),
            **chaos_run.leftovers(),
        }
    finally:
        chaos_run.close()
    return {
        "benchmark": "chaos",
        "machine": benchlib.machine(),
        "seed": seed,
        "faults": {
            "duplicated": DUPLICATE_SHARE,
            "malformed": MALFORMED_SHARE,
            "max_delivery_delay_seconds": MAX_DELIVERY_DELAY,
            "refresh_rejected": round(REFRESH_REJECT_RATE, 3),
            "run_commands_failed": RUN_COMMAND_FAILURE_RATE,
            "slack_posts_failed": slack_fault_rate,
            "slack_deliveries_duplicated": SNS_DUPLICATE_SHARE,
        },
        "figures": figures,
        "checks": checks,
        "passed": all(check["passed"] for check in checks.values()),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def report_lines(report: dict) -> list[str]:
    figures = report["figures"]
    lines = [f"faults: {report['faults']}", f"seed {report['seed']}", ""]
    lines += [f"  {name:<26} {value}" for name, value in figures.items()]
    lines += ["", "checks:"]
    for name, check in report["checks"].items():
        details = {key: value for key, value in check.items() if key != "passed"}
        lines.append(f"  {'passed' if check['passed'] else 'FAILED'} {name}: {details}")
    lines.append(
        f"result: {'all checks passed' if report['passed'] else 'CHECKS FAILED'}; "
        f"wall time {report['wall_seconds']} s"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--smoke", action="store_true", help="run the small size used by the test suite")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    parser.add_argument("--seed", type=int, default=11, help="seed of the edits, delays and injected faults")
    parser.add_argument("--events", type=int, help="events to deliver (default 10,000; 120 with --smoke)")
    parser.add_argument(
        "--slack-fault-rate",
        type=float,
        default=SLACK_FAULT_RATE,
        help=f"share of Slack posts that get a 429 or 5xx response, from 0 to 1 (default {SLACK_FAULT_RATE})",
    )
    arguments = parser.parse_args(argv)
    if not 0 <= arguments.slack_fault_rate <= 1:
        parser.error(f"--slack-fault-rate must be from 0 to 1, got {arguments.slack_fault_rate}")
    report = run(
        smoke=arguments.smoke,
        seed=arguments.seed,
        events=arguments.events,
        slack_fault_rate=arguments.slack_fault_rate,
    )
    benchlib.emit(report, as_json=arguments.json, lines=report_lines(report))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
