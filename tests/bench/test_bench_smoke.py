"""Each benchmark at its smoke size, as its documented command: the output is well-formed and the
invariants hold. Timings are printed by the benchmarks, never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *arguments: str) -> dict:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--smoke", "--json", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["machine"]["nproc"] >= 1
    assert report["machine"]["python"].count(".") == 2
    for name, (met, measured, target) in report.get("targets", {}).items():
        assert isinstance(met, bool), name
        assert measured is not None, name
        assert target is not None, name
    return report


def test_refresh_economy_smoke():
    report = run_bench("refresh_economy.py")

    results = report["results"]
    assert set(results) == {"sgw_drift", "sgw_drift_a_third_rejected", "per_event", "whole_share_30_min"}
    edits = report["size"]["edits"]
    for name in ("sgw_drift", "sgw_drift_a_third_rejected"):
        result = results[name]
        assert result["drift_remaining"] == 0, name
        assert result["burst"]["never_visible"] == 0, name
        assert result["burst"]["edits"] == edits
        # Writes through the share never cause a refresh when the share can be verified.
        assert result["writes"]["refresh_calls"] == 0, name
        assert result["writes"]["median_seconds"] == 0
        assert 1 <= result["burst"]["accepted"] <= result["burst"]["refresh_calls"]
        assert result["alerts"].count("opened") == result["alerts"].count("resolved") == 1
    assert results["sgw_drift_a_third_rejected"]["burst"]["rejected"] >= 1
    # One call per event at least, and one per share write too.
    assert results["per_event"]["burst"]["refresh_calls"] >= edits
    assert results["per_event"]["writes"]["refresh_calls"] >= report["size"]["writes"]
    whole = results["whole_share_30_min"]["burst"]
    assert whole["accepted"] == 1
    assert whole["objects_rescanned"] == whole["share_objects"]
    assert whole["never_visible"] == 0
    assert whole["median_seconds"] > results["sgw_drift"]["burst"]["median_seconds"]


def test_compare_engine_smoke():
    report = run_bench("compare_engine.py")

    for mode in ("streamed", "in_memory"):
        result = report["results"][mode]
        assert result["same_differences"] is True, mode
        assert result["entries_compared"] >= 2 * report["entries_per_side"] - 100
        assert set(result["kinds"]) >= {"missing_on_share", "only_on_share", "size_differs"}
        assert result["sgw_drift"]["peak_mib"] >= 0
        assert result["set_based"]["seconds"] > 0


def test_cold_start_smoke():
    report = run_bench("cold_start.py")

    results = report["results"]
    assert set(results) == {"baseline", "object_events", "refresh_completed", "reconcile"}
    for name, figures in results.items():
        assert figures["process_median_ms"] > figures["imports_and_clients_median_ms"] > 0, name
    assert set(report["targets"]) == {f"{name}_at_most_1_25x" for name in results if name != "baseline"}


def test_check_peers_smoke():
    report = run_bench("check_peers.py")

    drift = report["drift"]
    results = report["results"]
    check = results["sgw_drift_check"]
    assert check["matches_injected_drift"] is True, check
    assert check["found"] == {kind: drift[kind] for kind in check["found"]}
    assert set(check["found"]) == {"only_in_bucket", "only_in_directory", "size_differs"}
    # A whole folder is missing locally, so only_in_bucket outnumbers the other kinds.
    assert drift["only_in_bucket"] > drift["size_differs"] >= 1
    # Check also lists that folder and the empty folder that only the directory has.
    assert check["folders_reported"] == 2
    for name in ("rclone_check", "rclone_check_fast_list", "aws_s3_sync_dryrun"):
        result = results[name]
        if "skipped" in result:
            assert "rclone is not installed" in result["skipped"] or "aws-cli" in result["skipped"], result
            continue
        assert result["matches_injected_drift"] is True, (name, result)
        assert result["same_as_check"] is True, name
        assert result["median_seconds"] > 0, name
    assert results["boto3_listing"]["median_seconds"] > 0
    timed = {name for name, result in results.items() if "median_seconds" in result}
    expected_targets = set()
    if timed & {"rclone_check", "rclone_check_fast_list"}:
        expected_targets.add("at_most_1_0x_rclone")
    if "aws_s3_sync_dryrun" in timed:
        expected_targets.add("at_most_0_5x_aws_cli")
    assert set(report["targets"]) == expected_targets


def test_chaos_smoke():
    report = run_bench("chaos.py")

    assert report["passed"] is True
    for name, check in report["checks"].items():
        assert check["passed"] is True, (name, check)
    figures = report["figures"]
    assert figures["delivered"] == figures["events"]
    assert figures["duplicates"] >= 1
    assert figures["malformed"] >= 1
    assert figures["refresh_rejected"] >= 1
    assert figures["run_commands"] >= 1
    assert report["checks"]["malformed_in_dlq_with_reason"]["in_dlq"] == figures["malformed"]
    # Every alert reached the Slack notifier, some twice, and some posts got a 429 or 5xx response.
    assert figures["slack_alerts"] == sum(figures["alerts"].values())
    assert figures["slack_deliveries"] == figures["slack_alerts"] + figures["slack_duplicate_deliveries"]
    assert figures["slack_duplicate_deliveries"] >= 1
    assert figures["slack_429"] + figures["slack_5xx"] >= 1
    assert figures["slack_posts"] + figures["slack_dlq"] >= figures["slack_alerts"]


def test_chaos_failing_slack_dead_letters_all():
    report = run_bench("chaos.py", "--slack-fault-rate", "1")

    assert report["passed"] is True
    figures = report["figures"]
    check = report["checks"]["every_alert_posted_to_slack_once_or_in_dlq"]
    assert figures["slack_posts"] == 0
    # Each invocation makes four requests (three retries); Lambda invokes each delivery three times.
    assert figures["slack_invocations"] == 3 * figures["slack_deliveries"]
    assert figures["slack_requests"] == 4 * figures["slack_invocations"]
    assert figures["slack_lambda_retries"] == 2 * figures["slack_deliveries"]
    assert figures["slack_dlq"] == figures["slack_deliveries"]
    assert check["in_dlq"] == figures["slack_alerts"] >= 1
    assert check["dlq_error_types"] == {"SlackDeliveryError": figures["slack_deliveries"]}


@pytest.mark.parametrize(
    "script", ["refresh_economy.py", "compare_engine.py", "check_peers.py", "cold_start.py", "chaos.py"]
)
def test_bench_documents_its_options(script):
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "--smoke" in completed.stdout
    assert "--json" in completed.stdout
