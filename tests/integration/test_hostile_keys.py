"""Hostile object keys through the whole pipeline: S3 events, Run Command listings, refreshes, alerts.

The share is listed through the stack's Run Command document on an emulated mount host, so folder
names cross the SendCommand boundary as they would on AWS. The keys carry shell metacharacters,
Slack markup, `.` and `..` segments, control characters, names up to S3's 1,024-byte limit and
composed/decomposed twins. Nothing may run as code, no alert may break, and no folder may be
refreshed over and over.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from collections import Counter
from pathlib import Path

import pytest

from sgw_drift.paths import unrepresentable_reason
from sgw_drift.sandbox import Sandbox
from sgw_drift.sandbox.mounthost import EmulatedMountHost

BUCKET = "hostile-bucket"
OUTPUT_BUCKET = "hostile-listing-output"
DOCUMENT = "sgw-drift-ShareListingDocument-Hostile1"
INSTANCE = "i-0fedcba9876543210"
MOUNT = "/mnt/share"
RUN_SECONDS = 3600
QUIET_TAIL_SECONDS = 1200  # no refresh may happen in the last 20 minutes of the run
SENTINEL = Path("/tmp") / f"sgw-drift-hostile-{uuid.uuid4().hex}"  # noqa: S108 - must stay absent

CAFE_NFC = unicodedata.normalize("NFC", "caf\u00e9")
CAFE_NFD = unicodedata.normalize("NFD", "caf\u00e9")
# S3 allows keys of up to 1,024 bytes of UTF-8; segments stay within NFS's 255 bytes here.
LONG_KEY = "deep/" + "/".join(["d" * 250] * 4) + "/"
LONG_KEY += "f" * (1024 - len(LONG_KEY.encode()))

REPRESENTABLE = [
    f"inbox/$(touch {SENTINEL}).txt",
    f"inbox/`touch {SENTINEL}`.txt",
    "inbox/; rm -rf ~; echo pwned.txt",
    "inbox/a|b&c>d<e.txt",
    "inbox/'single' \"double\" \\back.txt",
    "inbox/*?[glob]{brace}.txt",
    "inbox/-rf",
    "inbox/--help",
    "inbox/<!channel> <@U012AB3CD> <mailto:a@example.com|click here>.txt",
    "inbox/*bold* _it_ ~strike~ ```code``` &amp; &lt;.txt",
    "inbox/line\nbreak.txt",
    "inbox/carriage\rreturn.txt",
    "inbox/tab\tand \x1b[31mred\x1b[0m.txt",
    "inbox/bell\x07 and del\x7f.txt",
    f"inbox/{CAFE_NFC}.txt",
    f"inbox/{CAFE_NFD}.txt",
    "inbox/a+b c%20d.txt",
    "inbox/\u202eevil\u202c.txt",
    f"$(touch {SENTINEL})/inside.txt",
    "<!here>/notes.txt",
    LONG_KEY,
]
UNREPRESENTABLE = [
    "dots/../escape.txt",
    "../outside.txt",
    "dots/./here.txt",
    "double//slash.txt",
    "long/" + "x" * 300 + ".txt",
]
MARKUP_FRAGMENTS = ["<!channel>", "<!here>", "<@U012AB3CD>", "<mailto:a@example.com|click here>"]


def start(box: Sandbox) -> EmulatedMountHost:
    box.create_bucket(BUCKET)
    box.create_bucket(OUTPUT_BUCKET)
    box.share_arn = box.add_share(box.add_gateway(), BUCKET)
    host = EmulatedMountHost(box.gateway, box.s3, listing_document=DOCUMENT)
    host.mount(INSTANCE, box.share_arn, MOUNT)
    box.start(
        {box.share_arn: {"mount": {"instance_id": INSTANCE, "path": MOUNT}}},
        environ={
            "LISTING_DOCUMENT_NAME": DOCUMENT,
            "LISTING_OUTPUT_BUCKET": OUTPUT_BUCKET,
            "MOUNT_INSTANCE_IDS": INSTANCE,
        },
        command_client=host,
    )
    return host


@pytest.fixture(scope="module")
def hostile_run():
    """Seed the folders through the share, make every hostile edit directly in S3, and run an hour."""
    # verify_shares=False leaves the emulator's own lister out, so the Run Command lister is used.
    with Sandbox(settle_seconds=0, verify_shares=False) as box:
        host = start(box)
        for folder in ("inbox", "dots", "double", "long", "deep"):
            box.write_through(box.share_arn, f"{folder}/seed.txt", b"seed")
        box.deliver()
        box.run(180)
        seeded_calls = len(box.gateway.calls)
        start_time = box.clock.now()

        for index, key in enumerate(REPRESENTABLE + UNREPRESENTABLE):
            box.put_direct(BUCKET, key, b"x" * (index + 1))
        box.clock.advance(20)
        box.deliver()
        box.run(RUN_SECONDS)

        yield {
            "box": box,
            "host": host,
            "calls": box.gateway.calls[seeded_calls:],
            "alerts": box.alerts(),
            "view": box.gateway.view(box.share_arn),
            "drift": box.drift(box.share_arn),
            "start": start_time,
            "dead_letters": list(box.dead_letters()),
        }


def test_hostile_keys_never_run_as_shell_code(hostile_run):
    assert not SENTINEL.exists()
    listing_requests = [
        request for request in hostile_run["host"].sent if request["DocumentName"] == DOCUMENT
    ]
    assert listing_requests, "the share must be listed through Run Command"
    for request in listing_requests:
        sent = json.dumps(request["Parameters"], ensure_ascii=False)
        for fragment in ("$(", "`", ";", "|", "<!", "\n", "\r", "\x1b", "..", CAFE_NFC, "inbox", "d" * 250):
            assert fragment not in sent, (fragment, request["Parameters"])


def test_every_representable_key_reaches_the_share(hostile_run):
    view = hostile_run["view"]
    for key in REPRESENTABLE:
        assert key in view, key
    assert f"inbox/{CAFE_NFC}.txt" in view
    assert f"inbox/{CAFE_NFD}.txt" in view
    assert hostile_run["drift"] == []
    assert hostile_run["dead_letters"] == []


def test_unrepresentable_keys_are_reported_not_refreshed(hostile_run):
    calls = hostile_run["calls"]
    for call in calls:
        for entry in call.folder_list:
            assert unrepresentable_reason(entry.lstrip("/") or "x") is None, entry
            assert len(entry) <= 1024
    for key in UNREPRESENTABLE:
        assert key not in hostile_run["view"]
    history = hostile_run["box"].runtime.service.store.incident_history(hostile_run["box"].share_arn)
    open_incident = hostile_run["box"].runtime.service.store.load_incident(hostile_run["box"].share_arn)
    counted = Counter()
    for incident in [*history, *([open_incident] if open_incident else [])]:
        counted.update(incident["counts"])
    assert counted["unrepresentable"] >= len(UNREPRESENTABLE)


def test_hostile_keys_cause_no_refresh_loop(hostile_run):
    accepted = [call for call in hostile_run["calls"] if call.outcome == "accepted"]
    assert 1 <= len(accepted) <= 10
    per_folder = Counter(entry for call in accepted for entry in call.folder_list)
    assert max(per_folder.values()) <= hostile_run["box"].max_attempts
    last_call = max(call.time for call in hostile_run["calls"])
    assert last_call - hostile_run["start"] <= RUN_SECONDS - QUIET_TAIL_SECONDS


def test_alerts_stay_well_formed(hostile_run):
    alerts = hostile_run["alerts"]
    assert alerts, "the hostile edits must raise an incident"
    for alert in alerts:
        subject = alert["subject"]
        assert len(subject) <= 100
        assert all(32 <= ord(character) < 127 for character in subject), subject
        # The text goes to email and other plain-text subscribers: a key must not add lines or escapes.
        for line in alert["message"].splitlines():
            assert all(character.isprintable() or character == " " for character in line), repr(line)
    events = Counter((alert["incident_id"], alert["event"]) for alert in alerts)
    assert all(count == 1 for (_, event), count in events.items() if event in ("opened", "resolved"))


def slack_texts(node) -> list[str]:
    """Every string value of a Slack payload, where Slack would read mrkdwn."""
    if isinstance(node, dict):
        return [text for value in node.values() for text in slack_texts(value)]
    if isinstance(node, list):
        return [text for value in node for text in slack_texts(value)]
    return [node] if isinstance(node, str) else []


def test_slack_payloads_escape_markup(hostile_run):
    notifier = pytest.importorskip("sgw_drift.alerts.notifier")
    if not hasattr(notifier, "payload_for"):
        pytest.skip("the Slack notifier has no payload_for(message, language) yet")
    box = hostile_run["box"]
    received = box.sqs.receive_message(QueueUrl=box.alert_queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    )
    assert received, "the alert topic must deliver to its SQS subscriber"

    for message in received:
        payload = notifier.payload_for(message["Body"], "en")
        assert payload is not None, message["Body"][:300]
        for text in slack_texts(payload):
            for fragment in MARKUP_FRAGMENTS:
                assert fragment not in text, (fragment, text)
            assert "\x1b" not in text
        json.dumps(payload)  # the webhook body must serialize
