"""Events processed long after the change they report: no false stale content, no refresh loop."""

from __future__ import annotations

from sgw_drift.sandbox import Sandbox

BUCKET = "late-events-bucket"


def test_late_share_write_on_two_shares_refreshes_only_the_other_once():
    with Sandbox(settle_seconds=120) as box:
        box.create_bucket(BUCKET)
        whole = box.add_share(box.add_gateway(), BUCKET)
        team = box.add_share(box.add_gateway(), BUCKET, "team/")
        box.start()
        box.write_through(whole, "team/plan/seed.txt", b"seed")
        box.deliver()
        box.run(600)
        calls_before = len(box.refresh_calls())

        box.write_through(whole, "team/plan/notes.txt", b"notes")
        box.clock.advance(90)  # delivered a minute and a half after the write
        box.deliver()
        box.run(1200)

        calls = box.refresh_calls()[calls_before:]
        assert [(call.share_arn, call.folder_list) for call in calls] == [(team, ["/plan"])]
        assert box.runtime.service.store.folders(whole) == []
        assert box.runtime.service.store.folders(team) == []
        assert "failed" not in [alert["event"] for alert in box.alerts()]
        assert box.drift(whole) == box.drift(team) == []
