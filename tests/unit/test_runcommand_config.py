"""Mount host settings: which shares are listed through Run Command, and cold-start checks."""

from __future__ import annotations

import json

import pytest

from sgw_drift.bucket import BucketLister
from sgw_drift.config import ConfigurationError, load_settings, parse_shares_document
from sgw_drift.local import LocalDirectoryLister
from sgw_drift.shares import Share
from sgw_drift.verify import Verifier

SHARE = "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D"
OTHER = "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-5E6F7A8B"
ENVIRON = {
    "STATE_TABLE_NAME": "sgw-drift-state",
    "ALERT_TOPIC_ARN": "arn:aws:sns:ap-northeast-1:123456789012:alerts",
    "SHARES_PARAMETER_NAME": "/sgw-drift/shares",
    "FILE_SHARE_ARNS": f"{SHARE},{OTHER}",
    "SETTLE_SECONDS": "120",
    "REFRESH_SLOT_TIMEOUT_SECONDS": "1800",
    "MAX_REFRESH_ATTEMPTS": "3",
    "LISTING_DOCUMENT_NAME": "sgw-drift-ShareListingDocument-AbCdEf123456",
    "LISTING_OUTPUT_BUCKET": "sgw-drift-listing-output",
    "MOUNT_INSTANCE_IDS": "i-052fcf7f6fa590e08,i-0abcdef1234567890",
}


def document(instance_id: str) -> str:
    return json.dumps({"shares": {SHARE: {"mount": {"instance_id": instance_id, "path": "/storage"}}}})


def test_settings_read_listing_variables():
    settings = load_settings(ENVIRON)

    assert settings.listing_document_name == "sgw-drift-ShareListingDocument-AbCdEf123456"
    assert settings.mount_instance_ids == ("i-052fcf7f6fa590e08", "i-0abcdef1234567890")


def test_mount_host_in_mount_instance_ids_accepted():
    parsed = parse_shares_document(document("i-0abcdef1234567890"), load_settings(ENVIRON))

    assert parsed.shares[SHARE].mount.instance_id == "i-0abcdef1234567890"


def test_mount_host_outside_mount_instance_ids_rejected():
    with pytest.raises(ConfigurationError, match="MountInstanceIds") as raised:
        parse_shares_document(document("i-0fffffffffffffff0"), load_settings(ENVIRON))

    assert "i-0fffffffffffffff0" in str(raised.value)


def test_listing_document_without_bucket_rejected():
    settings = load_settings({**ENVIRON, "LISTING_OUTPUT_BUCKET": ""})

    with pytest.raises(ConfigurationError, match="LISTING_OUTPUT_BUCKET"):
        parse_shares_document(document("i-052fcf7f6fa590e08"), settings)


def test_verifier_is_per_share(tmp_path):
    mounted = Share(SHARE, "gateway", "bucket", "", "NFS")
    unmounted = Share(OTHER, "gateway", "bucket", "", "NFS")
    verifier = Verifier(BucketLister(None), LocalDirectoryLister({SHARE: str(tmp_path)}), settle_seconds=0)

    assert verifier.can_verify(mounted)
    assert not verifier.can_verify(unmounted)
    result = verifier.verify_folder(unmounted, "/", now=0.0)
    assert result.verified is False
    assert "no mount host" in result.error


def test_verifier_without_lister_verifies_nothing():
    verifier = Verifier(BucketLister(None), None, settle_seconds=0)

    assert not verifier.can_verify(Share(SHARE, "gateway", "bucket", "", "NFS"))
