"""`sgw-drift demo`: the main job end to end on this machine, with no AWS account.

moto replaces S3, SQS, DynamoDB, SNS and SSM, and the file gateway emulator replaces Storage
Gateway. The real Lambda handlers process S3 and refresh-complete events in the shapes AWS sends,
on a virtual clock, so ten minutes of gateway time take a few seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
from dataclasses import dataclass, field

BUCKET = "sgw-drift-demo-bucket"
LISTING_OUTPUT_BUCKET = "sgw-drift-demo-listing-output"
LISTING_DOCUMENT = "sgw-drift-ShareListingDocument-Demo"
MOUNT_INSTANCE = "i-052fcf7f6fa590e08"
MOUNT_PATH = "/storage"
WINDOW_SECONDS = 20  # the SQS batching window the demo imitates

# Timeline labels, keyed by the pipeline log messages the demo reads.
TIMELINE_MESSAGES = {
    "edit recorded": "detected",
    "write through the share seen, nothing to refresh": "share write",
    "folders verified": "verified",
    "refresh requested": "refresh requested",
    "refresh deferred": "refresh deferred",
    "refresh completed": "completed",
    "incident opened": "incident opened",
    "incident resolved": "resolved",
}


@dataclass
class Timeline:
    clock: object
    start: float
    names: dict[str, str]
    lines: list[str] = field(default_factory=list)

    def add(self, label: str, text: str) -> None:
        offset = int(self.clock.now() - self.start)
        self.lines.append(f"  +{offset // 60:02d}:{offset % 60:02d}  {label:<18} {text}")


class _TimelineHandler(logging.Handler):
    """Turns the pipeline's log records into timeline lines."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__(logging.INFO)
        self.timeline = timeline

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        label = TIMELINE_MESSAGES.get(message)
        if label is None:
            return
        data = record.__dict__
        share = self.timeline.names.get(data.get("share_arn", ""), "")
        if message == "edit recorded":
            shares = ", ".join(self.timeline.names.get(arn, arn) for arn in data.get("share_arns", []))
            text = f"{data.get('key')!r} -> folders {data.get('folders')} on {shares}"
        elif message == "folders verified":
            differences = data.get("differences") or {}
            text = f"{share}: {data.get('folder_count')} folder(s), " + (
                ", ".join(f"{kind} {count}" for kind, count in sorted(differences.items())) or "no drift"
            )
        elif message == "refresh requested":
            text = f"{share}: RefreshCache FolderList={data.get('folders')} Recursive={data.get('recursive')}"
        elif message == "refresh completed":
            text = f"{share}: refresh-complete {data.get('folders')}"
        elif message == "write through the share seen, nothing to refresh":
            text = f"{share}: {data.get('key')!r} (no refresh)"
        elif message == "refresh deferred":
            text = f"{share}: {data.get('reason')}"
        else:
            text = share
        self.timeline.add(label, text)


def run_demo(as_json: bool = False) -> int:
    from .alerts.preview import post_to_local_slack
    from .sandbox import Sandbox
    from .sandbox.mounthost import EmulatedMountHost

    with Sandbox(settle_seconds=120) as box:
        box.create_bucket(BUCKET)
        gateway = box.add_gateway()
        whole = box.add_share(gateway, BUCKET, "", "NFS")
        projects = box.add_share(gateway, BUCKET, "projects/", "SMB")
        names = {whole: "share A (NFS, whole bucket)", projects: "share B (SMB, projects/)"}
        # Share A is mounted on an emulated EC2 instance, where an operator uses Fleet Manager.
        box.create_bucket(LISTING_OUTPUT_BUCKET)
        box.mount_host = EmulatedMountHost(box.gateway, box.s3, listing_document=LISTING_DOCUMENT)
        box.mount_host.mount(MOUNT_INSTANCE, whole, MOUNT_PATH)
        box.start(
            {whole: {"mount": {"instance_id": MOUNT_INSTANCE, "path": MOUNT_PATH}}},
            environ={
                "LISTING_DOCUMENT_NAME": LISTING_DOCUMENT,
                "LISTING_OUTPUT_BUCKET": LISTING_OUTPUT_BUCKET,
                "MOUNT_INSTANCE_IDS": MOUNT_INSTANCE,
            },
            command_client=box.mount_host,
        )

        timeline = Timeline(box.clock, box.clock.now(), names)
        handler = _quiet_logs(timeline)
        # Powertools prints metrics (EMF) to stdout as Lambda expects; keep them out of the report.
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                summary = _scenario(box, timeline, whole, projects)
                slack_posts = post_to_local_slack(
                    box.session,
                    table_name=box.environ["STATE_TABLE_NAME"],
                    topic_arn=box.topic_arn,
                    sent=box.alerts(),
                    language=box.runtime.settings.alert_language,
                )
                summary["slack_posts"] = len(slack_posts)
        finally:
            logging.getLogger("sgw-drift").removeHandler(handler)

    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_report(timeline, summary, slack_posts)
    return 0 if summary["drift_remaining"] == 0 else 1


def _scenario(box, timeline: Timeline, whole: str, projects: str) -> dict:
    gateway_writes = 0
    timeline.add("phase", "1. files written through the shares (the gateway uploads them)")
    for share, path, body in [
        (whole, "reports/2026/q1.csv", b"region,total\nkanto,120\n"),
        (whole, "reports/2026/q2.csv", b"region,total\nkansai,95\n"),
        (whole, "営業部/議事録.txt", "定例会議の議事録".encode()),
        (whole, "archive/2019.log", b"rotated\n"),
        (projects, "design/spec.md", b"# spec\n"),
    ]:
        box.write_through(share, path, body)
        timeline.add("share write", f"{path!r} via {timeline.names[share]}")
        gateway_writes += 1
    box.deliver()
    box.run(240)

    timeline.add("phase", "2. direct edits in S3 (console, CLI, other applications)")
    direct = [
        ("new file", lambda: box.put_direct(BUCKET, "reports/2026/q3.csv", b"region,total\ntohoku,41\n")),
        (
            "overwrite",
            lambda: box.put_direct(BUCKET, "reports/2026/q1.csv", b"region,total\nkanto,120\nchubu,77\n"),
        ),
        ("delete", lambda: box.delete_direct(BUCKET, "archive/2019.log")),
        (
            "Japanese name",
            lambda: box.put_direct(BUCKET, "営業部/2026年 第1四半期 報告書.xlsx", b"PK\x03\x04 demo"),
        ),
        ("folder marker", lambda: box.put_direct(BUCKET, "reports/2027/", b"")),
        ("under a prefix", lambda: box.put_direct(BUCKET, "projects/design/diagram.png", b"\x89PNG demo")),
    ]
    for label, edit in direct:
        event = edit()
        timeline.add("edit", f"{label}: s3://{BUCKET}/{event['detail']['object']['key']}")
    box.clock.advance(WINDOW_SECONDS)
    box.deliver()
    box.run(600)

    timeline.add("phase", "3. Fleet Manager on the mount host of share A (edits through the mount)")
    audits = _fleet_manager(box, timeline)

    alerts = box.alerts()
    calls = box.refresh_calls()
    drift = {timeline.names[share]: len(box.drift(share)) for share in (whole, projects)}
    return {
        "direct_edits": len(direct),
        "gateway_writes": gateway_writes,
        "refresh_calls": len(calls),
        "refresh_folders": sum(len(call.folder_list) for call in calls),
        "refresh_calls_rejected": sum(1 for call in box.gateway.calls if call.outcome != "accepted"),
        "incidents_opened": sum(1 for alert in alerts if alert["event"] == "opened"),
        "incidents_resolved": sum(1 for alert in alerts if alert["event"] == "resolved"),
        "drift_remaining": sum(drift.values()),
        "drift_by_share": drift,
        "fleet_manager_audits": len(audits),
        "fleet_manager_paths": [audit["paths"] for audit in audits],
        "virtual_seconds": int(box.clock.now() - timeline.start),
        "alerts": [{"event": alert["event"], "subject": alert["subject"]} for alert in alerts],
    }


def _fleet_manager(box, timeline: Timeline) -> list[dict]:
    """Delete and rename files through Fleet Manager, as CloudTrail reports each call to the function."""
    from .sandbox.handlers import invoke

    operations = [
        ("DeleteFileSystemItem", {"Path": [f"{MOUNT_PATH}/reports/2026/q2.csv"]}),
        (
            "RenameFileSystemItem",
            {"Path": [f"{MOUNT_PATH}/営業部/議事録.txt"], "NewName": ["議事録 2026.txt"]},
        ),
    ]
    audits = []
    for operation, parameters in operations:
        event = box.mount_host.fleet_manager(
            MOUNT_INSTANCE,
            operation,
            parameters,
            principal_role="OpsAdmin",
            session="operator@example.com",
            when=box.clock.now(),
        )
        timeline.add("fleet manager", f"{operation} on {MOUNT_INSTANCE} by role/OpsAdmin (parameters hidden)")
        invoke("fleet_manager", event)
        sent = [alert for alert in box.alerts() if alert["event"] == "audit"]
        record = box.runtime.service.store.table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": f"AUDIT#{MOUNT_INSTANCE}"},
            ScanIndexForward=False,
            Limit=1,
        )["Items"][0]
        audits.append({"subject": sent[-1]["subject"], "paths": list(record.get("paths", []))})
        timeline.add("audit alert", f"{operation}: path {audits[-1]['paths']} recovered with ListCommands")
        box.clock.advance(30)
    box.run(120)
    return audits


def _quiet_logs(timeline: Timeline) -> logging.Handler:
    """Keep the JSON log lines off the terminal and feed the timeline from them instead."""
    from .observability import logger

    logger.setLevel("INFO")
    pipeline_logger = logging.getLogger("sgw-drift")
    for existing in pipeline_logger.handlers:
        existing.setLevel(logging.ERROR)
    handler = _TimelineHandler(timeline)
    pipeline_logger.addHandler(handler)
    return handler


def _print_report(timeline: Timeline, summary: dict, slack_posts: list[dict]) -> None:
    from .alerts.preview import print_slack_posts

    out = sys.stdout
    out.write("sgw-drift demo: one gateway, two shares on one bucket, moto and the gateway emulator\n\n")
    out.write("Timeline (virtual clock):\n")
    out.write("\n".join(timeline.lines) + "\n\n")
    out.write("Alerts sent to the SNS topic:\n")
    for alert in summary["alerts"]:
        out.write(f"  {alert['event']:<9} {alert['subject']}\n")
    out.write("\n")
    print_slack_posts(slack_posts, out)
    out.write("\nSummary:\n")
    for key in (
        "direct_edits",
        "gateway_writes",
        "refresh_calls",
        "refresh_folders",
        "refresh_calls_rejected",
        "incidents_opened",
        "incidents_resolved",
        "drift_remaining",
        "fleet_manager_audits",
        "virtual_seconds",
    ):
        out.write(f"  {key:<24} {summary[key]}\n")
    verdict = "every share matches its bucket" if summary["drift_remaining"] == 0 else "DRIFT REMAINS"
    out.write(f"\nResult: {verdict}.\n")
