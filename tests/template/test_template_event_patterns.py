"""The EventBridge patterns in template.yaml, matched against the canonical events in events/."""

from __future__ import annotations

import pytest
from cfn_template import (
    IntrinsicResolver,
    event_file_names,
    is_eventbridge_event,
    load_event,
    load_template,
    pattern_matches,
)

# The rule that each EventBridge event in events/ is meant for. None means that no rule may match it.
INTENDED_RULE = {
    "s3-object-created-put.json": "ObjectChangesRule",
    "s3-object-created-copy.json": "ObjectChangesRule",
    "s3-object-created-multipart.json": "ObjectChangesRule",
    "s3-object-created-japanese-key.json": "ObjectChangesRule",
    "s3-object-created-folder-marker.json": "ObjectChangesRule",
    "s3-object-deleted.json": "ObjectChangesRule",
    "s3-object-deleted-marker.json": "ObjectChangesRule",
    "s3-object-deleted-lifecycle.json": "ObjectChangesRule",
    "s3-object-restore-completed.json": "ObjectChangesRule",
    "s3-object-tags-added.json": None,
    "s3-object-created-other-bucket.json": None,
    "refresh-complete.json": "RefreshCacheEvent",
    "refresh-complete-legacy.json": "RefreshCacheEvent",
    "cloudtrail-fleet-delete-file-system-item.json": "FleetManagerCommands",
    "cloudtrail-fleet-get-file-system-content.json": "FleetManagerCommands",
    "cloudtrail-fleet-copy-file-system-item.json": "FleetManagerCommands",
    "cloudtrail-fleet-create-directory.json": "FleetManagerCommands",
    "cloudtrail-fleet-move-file-system-item.json": "FleetManagerCommands",
    "cloudtrail-fleet-rename-file-system-item.json": "FleetManagerCommands",
    # The rule passes failed calls on; FleetManagerFunction ignores them (it reads errorCode).
    "cloudtrail-fleet-failed-call.json": "FleetManagerCommands",
    # sgw-drift's own listing document does not start with AWSFleetManager-.
    "cloudtrail-sgw-drift-own-listing.json": None,
}


@pytest.fixture(scope="module")
def patterns():
    template = load_template()
    resolver = IntrinsicResolver(template)
    resources = template["Resources"]
    refresh_event = resources["RefreshCompletedFunction"]["Properties"]["Events"]["RefreshCacheEvent"]
    fleet_event = resources["FleetManagerFunction"]["Properties"]["Events"]["FleetManagerCommands"]
    return {
        "ObjectChangesRule": resolver.resolve(resources["ObjectChangesRule"]["Properties"]["EventPattern"]),
        "RefreshCacheEvent": resolver.resolve(refresh_event["Properties"]["Pattern"]),
        "FleetManagerCommands": resolver.resolve(fleet_event["Properties"]["Pattern"]),
    }


def test_table_covers_every_eventbridge_event():
    eventbridge_files = {name for name in event_file_names() if is_eventbridge_event(load_event(name))}

    assert eventbridge_files == set(INTENDED_RULE)


@pytest.mark.parametrize("event_name", sorted(INTENDED_RULE))
def test_each_rule_matches_only_its_events(patterns, event_name):
    event = load_event(event_name)

    matching_rules = {rule for rule, pattern in patterns.items() if pattern_matches(pattern, event)}

    expected = {INTENDED_RULE[event_name]} - {None}
    assert matching_rules == expected


def test_object_rule_pattern_resolves_bucket_list(patterns):
    assert patterns["ObjectChangesRule"]["detail"]["bucket"]["name"] == [
        "sgw-drift-demo-bucket",
        "sgw-drift-second-bucket",
    ]


def test_object_rule_leaves_out_metadata_only_events(patterns):
    detail_types = set(patterns["ObjectChangesRule"]["detail-type"])

    assert {"Object Created", "Object Deleted"} <= detail_types
    assert detail_types.isdisjoint(
        {"Object Tags Added", "Object Tags Deleted", "Object ACL Updated", "Object Restore Initiated"}
    )


def test_refresh_rule_ignores_other_shares(patterns):
    event = load_event("refresh-complete.json")
    event["resources"] = [
        "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-99999999",
        "arn:aws:storagegateway:ap-northeast-1:123456789012:gateway/sgw-12A3456B",
    ]

    assert not pattern_matches(patterns["RefreshCacheEvent"], event)


def test_matcher_array_field_any_element():
    pattern = {"resources": ["b", "c"]}

    assert pattern_matches(pattern, {"resources": ["a", "c"]})
    assert not pattern_matches(pattern, {"resources": ["a", "d"]})
    assert not pattern_matches(pattern, {"other": ["c"]})


def test_matcher_nested_objects_all_fields():
    pattern = {"detail": {"bucket": {"name": ["x"]}, "reason": ["PutObject"]}}

    assert pattern_matches(pattern, {"detail": {"bucket": {"name": "x"}, "reason": "PutObject"}})
    assert not pattern_matches(pattern, {"detail": {"bucket": {"name": "x"}, "reason": "CopyObject"}})
    assert not pattern_matches(pattern, {"detail": {"bucket": "x", "reason": "PutObject"}})


def test_matcher_rejects_content_filters():
    with pytest.raises(NotImplementedError):
        pattern_matches({"source": [{"anything-but": "aws.s3"}]}, {"source": "aws.s3"})


def test_matcher_prefix_filter():
    pattern = {"detail": {"documentName": [{"prefix": "AWSFleetManager-"}]}}

    assert pattern_matches(pattern, {"detail": {"documentName": "AWSFleetManager-CreateDirectory"}})
    assert not pattern_matches(pattern, {"detail": {"documentName": "AWS-RunShellScript"}})
    assert not pattern_matches(pattern, {"detail": {"documentName": 7}})


def test_fleet_rule_matches_only_fleet_manager_send_command(patterns):
    event = load_event("cloudtrail-fleet-delete-file-system-item.json")
    other_call = {**event, "detail": {**event["detail"], "eventName": "UpdateInstanceInformation"}}

    assert pattern_matches(patterns["FleetManagerCommands"], event)
    assert not pattern_matches(patterns["FleetManagerCommands"], other_call)
