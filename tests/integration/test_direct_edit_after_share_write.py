"""A direct edit of a file that was written through the share moments before.

The share shows such a file with a recent modification time, which is what a pending upload looks
like. The direct edit must still reach the share once the settle window has passed.
"""

from __future__ import annotations

import pytest

from sgw_drift.sandbox import Sandbox

BUCKET = "settle-bucket"
SETTLE_SECONDS = 120


@pytest.fixture
def box():
    with Sandbox(settle_seconds=SETTLE_SECONDS) as sandbox:
        sandbox.create_bucket(BUCKET)
        sandbox.share_arn = sandbox.add_share(sandbox.add_gateway(), BUCKET)
        sandbox.start()
        sandbox.write_through(sandbox.share_arn, "docs/old.txt", b"old")
        sandbox.deliver()
        sandbox.run(180)
        yield sandbox


def test_direct_overwrite_right_after_share_write_reaches_share(box):
    box.write_through(box.share_arn, "docs/report.txt", b"12345")
    box.deliver()
    box.clock.advance(10)

    box.put_direct(BUCKET, "docs/report.txt", b"123456789")
    box.deliver()
    box.run(SETTLE_SECONDS + 300)

    assert box.gateway.view(box.share_arn)["docs/report.txt"].size == 9
    assert box.drift(box.share_arn) == []
    assert [call.folder_list for call in box.refresh_calls()] == [["/docs"]]


def test_direct_delete_right_after_share_write_reaches_share(box):
    box.write_through(box.share_arn, "docs/draft.txt", b"draft")
    box.deliver()
    box.clock.advance(10)

    box.delete_direct(BUCKET, "docs/draft.txt")
    box.deliver()
    box.run(SETTLE_SECONDS + 300)

    assert "docs/draft.txt" not in box.gateway.view(box.share_arn)
    assert box.drift(box.share_arn) == []


def test_share_write_alone_stays_pending_without_refresh(box):
    box.write_through(box.share_arn, "docs/new.txt", b"new")
    box.deliver()
    box.run(SETTLE_SECONDS + 300)

    assert box.refresh_calls() == []
    assert box.runtime.service.store.folders(box.share_arn) == []
