"""Settings of the resources in template.yaml, before and after the SAM transform."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
from cfn_template import (
    REPO_ROOT,
    IntrinsicResolver,
    load_event,
    load_template,
    transform_template,
)
from packaging.requirements import Requirement

from sgw_drift.config import ENVIRONMENT_VARIABLES, OPTIONAL_VARIABLES, SharesDocument

FUNCTION_IDS = [
    "ObjectEventsFunction",
    "RefreshCompletedFunction",
    "ReconcileFunction",
    "FleetManagerFunction",
]
ASYNC_FUNCTION_IDS = ["RefreshCompletedFunction", "ReconcileFunction", "FleetManagerFunction"]
DEAD_LETTER_QUEUES = ["ObjectEventsDLQ", "EventDeliveryDLQ", "InvocationFailureDLQ"]
FOURTEEN_DAYS = 14 * 24 * 3600


@pytest.fixture(scope="module")
def template():
    return load_template()


@pytest.fixture(scope="module")
def transformed():
    return transform_template()


def resources_of_type(template, resource_type):
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


# --- State, alerts, configuration -----------------------------------------------------------------


def test_state_table_keys(template):
    table = template["Resources"]["StateTable"]["Properties"]

    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_state_table_ttl_pitr_sse(template):
    table = template["Resources"]["StateTable"]["Properties"]

    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_alert_topic_encrypted(template):
    topic = template["Resources"]["AlertTopic"]["Properties"]

    # A customer managed key: CloudWatch alarms cannot publish to a topic under alias/aws/sns.
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertTopicKey"}


def test_alert_email_subscription_optional(template):
    subscription = template["Resources"]["AlertEmailSubscription"]

    assert subscription["Condition"] == "HasAlertEmail"
    assert template["Conditions"]["HasAlertEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }
    assert template["Parameters"]["AlertEmail"]["Default"] == ""
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlertTopic"}


def test_shares_parameter_written_by_stack(template):
    parameter = template["Resources"]["SharesParameter"]["Properties"]

    assert parameter["Name"] == {"Ref": "SharesParameterName"}
    assert parameter["Type"] == "String"
    assert parameter["Value"] == {"Ref": "ShareOptions"}
    assert template["Parameters"]["SharesParameterName"]["Default"] == "/sgw-drift/shares"


def test_share_options_default_is_valid_document(template):
    default = template["Parameters"]["ShareOptions"]["Default"]

    document = SharesDocument.model_validate(json.loads(default))

    assert document.shares == {}


def test_shares_parameter_name_pattern(template):
    # The SSM parameter ARN in the IAM policy is "parameter" + name, which is valid only with a leading slash.
    pattern = re.compile(template["Parameters"]["SharesParameterName"]["AllowedPattern"])

    assert pattern.fullmatch("/sgw-drift/shares")
    assert not pattern.fullmatch("sgw-drift-shares")


# --- Queues ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("queue_id", ["ObjectEventsQueue", *DEAD_LETTER_QUEUES])
def test_queue_server_side_encryption(template, queue_id):
    assert template["Resources"][queue_id]["Properties"]["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("queue_id", DEAD_LETTER_QUEUES)
def test_dead_letter_queue_keeps_14_days(template, queue_id):
    assert template["Resources"][queue_id]["Properties"]["MessageRetentionPeriod"] == FOURTEEN_DAYS


def test_object_queue_redrive(template):
    queue = template["Resources"]["ObjectEventsQueue"]["Properties"]

    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["ObjectEventsDLQ", "Arn"]},
        "maxReceiveCount": 5,
    }


def test_object_queue_visibility_timeout(template, transformed):
    # Six times the function timeout (AWS Lambda Developer Guide) plus the longest batching window.
    queue = template["Resources"]["ObjectEventsQueue"]["Properties"]
    function_timeout = transformed["Resources"]["ObjectEventsFunction"]["Properties"]["Timeout"]
    longest_window = template["Parameters"]["BatchingWindowSeconds"]["MaxValue"]

    assert queue["VisibilityTimeout"] >= 6 * function_timeout + longest_window


def test_object_queue_event_source(template, transformed):
    mapping = transformed["Resources"]["ObjectEventsFunctionObjectEvents"]["Properties"]
    window = template["Parameters"]["BatchingWindowSeconds"]

    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ObjectEventsQueue", "Arn"]}
    assert mapping["BatchSize"] == 1000
    assert mapping["MaximumBatchingWindowInSeconds"] == {"Ref": "BatchingWindowSeconds"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Lambda rejects a batch size over 10 without a batching window of at least one second.
    assert window["MinValue"] >= 1
    assert window["MaxValue"] == 300
    assert window["Default"] == 20


# --- Rules and schedules ---------------------------------------------------------------------------


def test_object_rule_targets_queue_with_dead_letter(template):
    (target,) = template["Resources"]["ObjectChangesRule"]["Properties"]["Targets"]

    assert target["Arn"] == {"Fn::GetAtt": ["ObjectEventsQueue", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["EventDeliveryDLQ", "Arn"]}}
    assert set(target["RetryPolicy"]) == {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"}


def test_refresh_rule_target_dead_letter(transformed):
    (target,) = transformed["Resources"]["RefreshCompletedFunctionRefreshCacheEvent"]["Properties"]["Targets"]

    assert target["Arn"] == {"Fn::GetAtt": ["RefreshCompletedFunction", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["EventDeliveryDLQ", "Arn"]}}
    assert set(target["RetryPolicy"]) == {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"}


@pytest.mark.parametrize(
    ("schedule_id", "expression", "event_name"),
    [
        ("ReconcileFunctionDrain", "rate(1 minute)", "schedule-drain.json"),
        ("ReconcileFunctionSweep", {"Ref": "SweepScheduleExpression"}, "schedule-sweep.json"),
    ],
)
def test_reconcile_schedules(transformed, schedule_id, expression, event_name):
    schedule = transformed["Resources"][schedule_id]["Properties"]
    target = schedule["Target"]

    assert schedule["ScheduleExpression"] == expression
    assert target["Arn"] == {"Fn::GetAtt": ["ReconcileFunction", "Arn"]}
    assert json.loads(target["Input"]) == load_event(event_name)
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["EventDeliveryDLQ", "Arn"]}}
    assert "RetryPolicy" in target
    # A fixed schedule name would collide when a second stack is deployed in the same Region.
    assert "Name" not in schedule


def test_sweep_schedule_default(template):
    assert template["Parameters"]["SweepScheduleExpression"]["Default"] == "rate(6 hours)"


@pytest.mark.parametrize("function_id", ASYNC_FUNCTION_IDS)
def test_async_failures_go_to_dead_letter(transformed, function_id):
    config = transformed["Resources"][f"{function_id}EventInvokeConfig"]["Properties"]

    assert config["FunctionName"] == {"Ref": function_id}
    assert config["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["InvocationFailureDLQ", "Arn"]}}
    }


def test_queue_consumer_has_no_async_config(transformed):
    # Lambda invokes ObjectEventsFunction synchronously from the queue, so an on-failure destination
    # would never be used. Failed records go to the queue's redrive target instead.
    configs = resources_of_type(transformed, "AWS::Lambda::EventInvokeConfig")

    # SlackNotifierFunction is invoked by SNS and sends failures to its own dead-letter queue.
    assert {config["Properties"]["FunctionName"]["Ref"] for config in configs.values()} == {
        *ASYNC_FUNCTION_IDS,
        "SlackNotifierFunction",
    }


# --- Functions and layer ---------------------------------------------------------------------------


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_runtime_settings(transformed, function_id):
    function = transformed["Resources"][function_id]["Properties"]
    (layer_id,) = resources_of_type(transformed, "AWS::Lambda::LayerVersion")

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "app.lambda_handler"
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["Layers"] == [{"Ref": layer_id}]
    assert function["LoggingConfig"] == {
        "LogGroup": {"Ref": function_id.removesuffix("Function") + "LogGroup"}
    }


def test_layer_settings(transformed):
    (layer,) = resources_of_type(transformed, "AWS::Lambda::LayerVersion").values()

    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_function_environment(template, transformed, function_id):
    variables = transformed["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    required = {name for field, name in ENVIRONMENT_VARIABLES.items() if field not in OPTIONAL_VARIABLES}
    resolved = IntrinsicResolver(template).resolve(variables)

    assert required <= set(variables)
    assert variables["STATE_TABLE_NAME"] == {"Ref": "StateTable"}
    assert variables["ALERT_TOPIC_ARN"] == {"Ref": "AlertTopic"}
    assert resolved["FILE_SHARE_ARNS"] == (
        "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D,"
        "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-5E6F7A8B"
    )
    assert resolved["SHARES_PARAMETER_NAME"] == "/sgw-drift/shares"
    assert resolved["REFRESH_SLOT_TIMEOUT_SECONDS"] == 1800
    assert resolved["POWERTOOLS_SERVICE_NAME"] == "sgw-drift"
    assert resolved["POWERTOOLS_METRICS_NAMESPACE"] == "SgwDrift"
    assert resolved["POWERTOOLS_LOG_LEVEL"] == "INFO"


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_dead_letter_queue_url_only_for_object_events(transformed, function_id):
    variables = transformed["Resources"][function_id]["Properties"]["Environment"]["Variables"]

    if function_id == "ObjectEventsFunction":
        assert variables["DEAD_LETTER_QUEUE_URL"] == {"Ref": "ObjectEventsDLQ"}
    else:
        assert "DEAD_LETTER_QUEUE_URL" not in variables


def test_refresh_slot_timeout_mapping(template):
    minutes = template["Parameters"]["RefreshSlotTimeoutMinutes"]
    mapping = template["Mappings"]["RefreshSlotTimeout"]

    assert minutes["Default"] in minutes["AllowedValues"]
    assert set(mapping) == set(minutes["AllowedValues"])
    for value in minutes["AllowedValues"]:
        assert mapping[value]["Seconds"] == int(value) * 60


# --- Build ------------------------------------------------------------------------------------------


def build_targets(template):
    """Yield (logical ID, directory) for each resource that `sam build` builds with a Makefile."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        location = properties.get("CodeUri") or properties.get("ContentUri")
        if location is not None:
            yield logical_id, resource, REPO_ROOT / location


def test_every_build_uses_makefile(template):
    targets = list(build_targets(template))

    assert {logical_id for logical_id, _, _ in targets} == {
        *FUNCTION_IDS,
        "SlackNotifierFunction",
        "SgwDriftLayer",
    }
    for logical_id, resource, _ in targets:
        assert resource.get("Metadata", {}).get("BuildMethod") == "makefile", logical_id


def test_makefiles_define_build_targets(template):
    for logical_id, _, directory in build_targets(template):
        makefile = (directory / "Makefile").read_text(encoding="utf-8")

        assert re.search(rf"^build-{logical_id}:", makefile, re.MULTILINE), f"{directory}/Makefile"


def test_layer_makefile_targets_lambda_platform():
    makefile = (REPO_ROOT / "layers/sgw_drift/Makefile").read_text(encoding="utf-8")

    for flag in (
        "--platform manylinux2014_aarch64",
        "--implementation cp",
        "--python-version 3.13",
        "--only-binary=:all:",
        '--target "$(ARTIFACTS_DIR)/python"',
    ):
        assert flag in makefile
    assert 'cp -R sgw_drift "$(ARTIFACTS_DIR)/python/"' in makefile


def test_layer_pins_inside_pyproject_ranges():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    allowed = {Requirement(line).name: Requirement(line) for line in pyproject["project"]["dependencies"]}
    lines = (REPO_ROOT / "layers/sgw_drift/requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]

    assert {"aws-lambda-powertools", "pydantic"} <= {pin.name for pin in pins}
    for pin in pins:
        (specifier,) = pin.specifier
        assert specifier.operator == "==", f"{pin} is not pinned"
        if pin.name in allowed:
            assert allowed[pin.name].specifier.contains(specifier.version), f"{pin} is outside pyproject.toml"
            assert pin.extras >= allowed[pin.name].extras, f"{pin} lacks extras that pyproject.toml requires"


def test_outputs(template):
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}

    assert outputs["ObjectEventsQueueUrl"] == {"Ref": "ObjectEventsQueue"}
    assert outputs["ObjectEventsDLQUrl"] == {"Ref": "ObjectEventsDLQ"}
    assert outputs["EventDeliveryDLQUrl"] == {"Ref": "EventDeliveryDLQ"}
    assert outputs["InvocationFailureDLQUrl"] == {"Ref": "InvocationFailureDLQ"}
    assert outputs["StateTableName"] == {"Ref": "StateTable"}
    assert outputs["AlertTopicArn"] == {"Ref": "AlertTopic"}
