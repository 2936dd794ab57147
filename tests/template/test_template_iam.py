"""Least-privilege checks on the IAM roles of the transformed template."""

from __future__ import annotations

import pytest
from cfn_template import (
    ACCOUNT_ID,
    DEMO_BUCKET,
    DEMO_SHARE_ARN,
    MOUNT_INSTANCE_IDS,
    REGION,
    SECOND_BUCKET,
    SECOND_SHARE_ARN,
    SLACK_WEBHOOK_SECRET_ARN,
    allowed_permissions,
    role_logical_id,
    role_policy_documents,
    transform_template,
)

SHARES = {DEMO_SHARE_ARN, SECOND_SHARE_ARN}

# What every function needs. "*" appears only for the X-Ray actions, which support no resource type
# (Service Authorization Reference, "Actions, resources, and condition keys for AWS X-Ray").
SHARED_PERMISSIONS = {
    "dynamodb:GetItem": {"<StateTable.Arn>"},
    "dynamodb:PutItem": {"<StateTable.Arn>"},
    "dynamodb:UpdateItem": {"<StateTable.Arn>"},
    "dynamodb:DeleteItem": {"<StateTable.Arn>"},
    "dynamodb:Query": {"<StateTable.Arn>"},
    "s3:ListBucket": {f"arn:aws:s3:::{DEMO_BUCKET}", f"arn:aws:s3:::{SECOND_BUCKET}"},
    "s3:GetObject": {f"arn:aws:s3:::{DEMO_BUCKET}/*", f"arn:aws:s3:::{SECOND_BUCKET}/*"},
    "storagegateway:RefreshCache": SHARES,
    "storagegateway:DescribeNFSFileShares": SHARES,
    "storagegateway:DescribeSMBFileShares": SHARES,
    "sns:Publish": {"<AlertTopic>"},
    # Publishing to a topic encrypted with a customer managed key (Amazon SNS Developer Guide).
    "kms:GenerateDataKey": {"<AlertTopicKey.Arn>"},
    "kms:Decrypt": {"<AlertTopicKey.Arn>"},
    "ssm:GetParameter": {f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/sgw-drift/shares"},
    "xray:PutTraceSegments": {"*"},
    "xray:PutTelemetryRecords": {"*"},
}
# Listing shares through their mount hosts. SendCommand names the stack's document and the instances
# of MountInstanceIds; GetCommandInvocation supports no resource type (Service Authorization Reference,
# "Actions, resources, and condition keys for AWS Systems Manager").
LISTING_DOCUMENT_ARN = f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:document/<ShareListingDocument>"
LISTING_PERMISSIONS = {
    "ssm:SendCommand": {
        LISTING_DOCUMENT_ARN,
        *(f"arn:aws:ec2:*:*:instance/{iid}" for iid in MOUNT_INSTANCE_IDS),
    },
    "ssm:GetCommandInvocation": {"*"},
    "s3:GetObject": {"<ListingOutputBucket.Arn>/listings/*"},
}
ACTIONS_WITHOUT_RESOURCE_TYPE = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ssm:GetCommandInvocation",
    "ssm:ListCommands",
}


def with_listing(permissions: dict[str, set[str]]) -> dict[str, set[str]]:
    merged = {action: set(resources) for action, resources in permissions.items()}
    for action, resources in LISTING_PERMISSIONS.items():
        merged.setdefault(action, set()).update(resources)
    return merged


EXPECTED_PERMISSIONS = {
    "ObjectEventsFunction": {
        **with_listing(SHARED_PERMISSIONS),
        "logs:CreateLogStream": {"<ObjectEventsLogGroup.Arn>"},
        "logs:PutLogEvents": {"<ObjectEventsLogGroup.Arn>"},
        "sqs:ReceiveMessage": {"<ObjectEventsQueue.Arn>"},
        "sqs:DeleteMessage": {"<ObjectEventsQueue.Arn>"},
        "sqs:GetQueueAttributes": {"<ObjectEventsQueue.Arn>"},
        "sqs:SendMessage": {"<ObjectEventsDLQ.Arn>"},
    },
    "RefreshCompletedFunction": {
        **with_listing(SHARED_PERMISSIONS),
        "logs:CreateLogStream": {"<RefreshCompletedLogGroup.Arn>"},
        "logs:PutLogEvents": {"<RefreshCompletedLogGroup.Arn>"},
        "sqs:SendMessage": {"<InvocationFailureDLQ.Arn>"},
    },
    "ReconcileFunction": {
        **with_listing(SHARED_PERMISSIONS),
        "logs:CreateLogStream": {"<ReconcileLogGroup.Arn>"},
        "logs:PutLogEvents": {"<ReconcileLogGroup.Arn>"},
        "sqs:SendMessage": {"<InvocationFailureDLQ.Arn>"},
    },
    "FleetManagerFunction": {
        **with_listing(SHARED_PERMISSIONS),
        "logs:CreateLogStream": {"<FleetManagerLogGroup.Arn>"},
        "logs:PutLogEvents": {"<FleetManagerLogGroup.Arn>"},
        "sqs:SendMessage": {"<InvocationFailureDLQ.Arn>"},
        "ssm:ListCommands": {"*"},
    },
}

# The Slack notifier reads its secret, keeps idempotency records and dead-letters failed posts; it gets
# none of the shared permissions, since it touches no bucket, share or parameter.
EXPECTED_PERMISSIONS["SlackNotifierFunction"] = {
    "logs:CreateLogStream": {"<SlackNotifierLogGroup.Arn>"},
    "logs:PutLogEvents": {"<SlackNotifierLogGroup.Arn>"},
    "secretsmanager:GetSecretValue": {SLACK_WEBHOOK_SECRET_ARN},
    "dynamodb:GetItem": {"<StateTable.Arn>"},
    "dynamodb:PutItem": {"<StateTable.Arn>"},
    "dynamodb:UpdateItem": {"<StateTable.Arn>"},
    "dynamodb:DeleteItem": {"<StateTable.Arn>"},
    "sqs:SendMessage": {"<SlackNotifierDLQ.Arn>"},
    "xray:PutTraceSegments": {"*"},
    "xray:PutTelemetryRecords": {"*"},
}


@pytest.fixture(scope="module")
def transformed():
    return transform_template()


def test_every_function_is_covered(transformed):
    functions = {
        logical_id
        for logical_id, resource in transformed["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }

    assert functions == set(EXPECTED_PERMISSIONS)


@pytest.mark.parametrize("function_id", sorted(EXPECTED_PERMISSIONS))
def test_function_role_exact_permissions(transformed, function_id):
    role_id = role_logical_id(transformed["Resources"][function_id])

    permissions = allowed_permissions(transformed, role_id)

    assert permissions == EXPECTED_PERMISSIONS[function_id]


@pytest.mark.parametrize("function_id", sorted(EXPECTED_PERMISSIONS))
def test_function_role_has_no_aws_managed_policy(transformed, function_id):
    role_id = role_logical_id(transformed["Resources"][function_id])

    _, outside_policies = role_policy_documents(transformed, role_id)

    assert outside_policies == []


@pytest.mark.parametrize("function_id", sorted(EXPECTED_PERMISSIONS))
def test_function_role_trusts_only_lambda(transformed, function_id):
    role_id = role_logical_id(transformed["Resources"][function_id])
    trust = transformed["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]

    assert trust == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_wildcard_only_for_actions_without_resource_type(transformed):
    role_ids = {
        logical_id
        for logical_id, resource in transformed["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    wildcard_actions = set()

    for role_id in role_ids:
        for action, resources in allowed_permissions(transformed, role_id).items():
            if "*" in resources:
                wildcard_actions.add(action)

    assert wildcard_actions == ACTIONS_WITHOUT_RESOURCE_TYPE


@pytest.mark.parametrize("schedule_id", ["ReconcileFunctionDrain", "ReconcileFunctionSweep"])
def test_schedule_role_invokes_only_reconcile(transformed, schedule_id):
    schedule = transformed["Resources"][schedule_id]

    permissions = allowed_permissions(transformed, role_logical_id(schedule))

    assert permissions == {
        "lambda:InvokeFunction": {"<ReconcileFunction.Arn>"},
        "sqs:SendMessage": {"<EventDeliveryDLQ.Arn>"},
    }


def test_rule_invoke_permission_names_its_rule(transformed):
    permission = transformed["Resources"]["RefreshCompletedFunctionRefreshCacheEventPermission"]["Properties"]

    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["RefreshCompletedFunctionRefreshCacheEvent", "Arn"]}


def test_queue_policies_allow_only_our_rules(transformed):
    resources = transformed["Resources"]
    object_queue = resources["ObjectEventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    delivery_dlq = resources["EventDeliveryDLQPolicy"]["Properties"]["PolicyDocument"]["Statement"]

    assert object_queue == [
        {
            "Sid": "ObjectChangesRule",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": ["ObjectEventsQueue", "Arn"]},
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ObjectChangesRule", "Arn"]}}},
        }
    ]
    assert len(delivery_dlq) == 1
    assert delivery_dlq[0]["Action"] == "sqs:SendMessage"
    assert delivery_dlq[0]["Resource"] == {"Fn::GetAtt": ["EventDeliveryDLQ", "Arn"]}
    # The generated rule must exist, or the queue policy would name a resource that is not there.
    assert "RefreshCompletedFunctionRefreshCacheEvent" in resources
    assert delivery_dlq[0]["Condition"] == {
        "ArnEquals": {
            "aws:SourceArn": [
                {"Fn::GetAtt": ["ObjectChangesRule", "Arn"]},
                {"Fn::GetAtt": ["RefreshCompletedFunctionRefreshCacheEvent", "Arn"]},
                {"Fn::GetAtt": ["FleetManagerFunctionFleetManagerCommands", "Arn"]},
            ]
        }
    }
