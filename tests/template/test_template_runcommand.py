"""The listing document, its output bucket and the Run Command permissions in template.yaml."""

from __future__ import annotations

import re

import pytest
from cfn_template import (
    ACCOUNT_ID,
    MOUNT_INSTANCE_IDS,
    REGION,
    IntrinsicResolver,
    allowed_permissions,
    load_template,
    role_logical_id,
    transform_template,
)

from sgw_drift.mountlisting import DOCUMENT_PARAMETERS, document_parameters

LISTING_ROLES = [
    "ObjectEventsFunction",
    "RefreshCompletedFunction",
    "ReconcileFunction",
    "FleetManagerFunction",
]
DOCUMENT_ARN = f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:document/<ShareListingDocument>"


@pytest.fixture(scope="module")
def template():
    return load_template()


@pytest.fixture(scope="module")
def document(template):
    return template["Resources"]["ShareListingDocument"]["Properties"]


def test_document_is_linux_command(document):
    assert document["DocumentType"] == "Command"
    assert document["TargetType"] == "/AWS::EC2::Instance"
    (step,) = document["Content"]["mainSteps"]
    assert step["action"] == "aws:runShellScript"
    assert step["precondition"] == {"StringEquals": ["platformType", "Linux"]}


def test_every_parameter_has_allowed_pattern(document):
    parameters = document["Content"]["parameters"]

    assert set(parameters) == set(DOCUMENT_PARAMETERS)
    for name, parameter in parameters.items():
        assert parameter["type"] == "String", name
        assert parameter.get("allowedPattern"), name


def test_patterns_accept_encoded_parameters(document):
    patterns = {
        name: re.compile(item["allowedPattern"]) for name, item in document["Content"]["parameters"].items()
    }
    # A command carries at most 50 folders, and a folder is at most 1,024 characters.
    folders = ["/", "/$(reboot)", "/営業部/議事録", "/" + "x" * 1023, *(f"/f{index}" for index in range(46))]

    values = document_parameters("/mnt/share with space", folders, recursive=True)

    for name, (value,) in values.items():
        assert patterns[name].fullmatch(value), name


@pytest.mark.parametrize("value", ["$(id)", "a'b", "`id`", "L2E=;reboot", "L2E=\nL2I=", "L2E= L2I=", "a\\b"])
def test_patterns_reject_shell_text(document, value):
    for name in ("MountPath", "Folders"):
        pattern = re.compile(document["Content"]["parameters"][name]["allowedPattern"])
        assert not pattern.fullmatch(value), (name, value)


def test_script_interpolates_only_quoted_parameters(document):
    script = "\n".join(document["Content"]["mainSteps"][0]["inputs"]["runCommand"])

    placeholders = re.findall(r".?\{\{ *(\w+) *\}\}.?", script)
    assert sorted(placeholders) == sorted(DOCUMENT_PARAMETERS)
    for name in DOCUMENT_PARAMETERS:
        # Each value is assigned once, inside single quotes, and used only through its variable.
        assert f"='{{{{ {name} }}}}'" in script


@pytest.mark.parametrize("function_id", LISTING_ROLES)
def test_send_command_only_document_and_instances(function_id):
    transformed = transform_template()

    permissions = allowed_permissions(transformed, role_logical_id(transformed["Resources"][function_id]))

    expected = {DOCUMENT_ARN, *(f"arn:aws:ec2:*:*:instance/{instance}" for instance in MOUNT_INSTANCE_IDS)}
    assert permissions["ssm:SendCommand"] == expected
    assert "*" not in permissions["ssm:SendCommand"]
    assert not any(resource.endswith("/*") for resource in permissions["ssm:SendCommand"])


def test_send_command_without_mount_hosts_names_no_instance(template):
    resolver = IntrinsicResolver(template, {"MountInstanceIds": ""})
    statements = template["Resources"]["ShareListingPolicy"]["Properties"]["PolicyDocument"]["Statement"]

    (send,) = [statement for statement in statements if statement["Action"] == "ssm:SendCommand"]

    assert set(resolver.resolve(send["Resource"])) == {DOCUMENT_ARN, "arn:aws:ec2:*:*:instance/"}


def test_only_fleet_function_lists_commands():
    transformed = transform_template()

    for function_id in LISTING_ROLES:
        permissions = allowed_permissions(transformed, role_logical_id(transformed["Resources"][function_id]))
        assert ("ssm:ListCommands" in permissions) == (function_id == "FleetManagerFunction"), function_id


def test_output_bucket_encrypted_private_short_lived(template):
    bucket = template["Resources"]["ListingOutputBucket"]["Properties"]

    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    (lifecycle,) = bucket["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["ExpirationInDays"] == 1


def test_output_bucket_denies_plain_http(template):
    (statement,) = template["Resources"]["ListingOutputBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]

    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_functions_get_listing_settings(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]

    assert variables["LISTING_DOCUMENT_NAME"] == {"Ref": "ShareListingDocument"}
    assert variables["LISTING_OUTPUT_BUCKET"] == {"Ref": "ListingOutputBucket"}
    assert variables["MOUNT_INSTANCE_IDS"] == {"Fn::Join": [",", {"Ref": "MountInstanceIds"}]}
