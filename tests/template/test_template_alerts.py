"""Alerting in template.yaml: parameters, the topic's key, the Slack notifier, alarms and the dashboard."""

from __future__ import annotations

import json
import re

import pytest
from cfn_template import (
    ACCOUNT_ID,
    REPO_ROOT,
    SLACK_WEBHOOK_SECRET_ARN,
    IntrinsicResolver,
    load_template,
    transform_template,
)

from sgw_drift.alerts.notifier import MAX_RETRIES, MAX_RETRY_AFTER_SECONDS, REQUEST_TIMEOUT_SECONDS
from sgw_drift.config import ENVIRONMENT_VARIABLES, load_settings

REQUIRED_METRICS = [
    "DirectEditsDetected",
    "DriftConfirmed",
    "RefreshRequested",
    "RefreshDeferred",
    "RefreshFailed",
    "StalenessSeconds",
    "UnverifiedShares",
    "MalformedEvents",
]
SLACK_RESOURCES = [
    "SlackNotifierFunction",
    "SlackNotifierFunctionRole",
    "SlackNotifierLogGroup",
    "SlackNotifierDLQ",
    "SlackNotifierDLQDepthAlarm",
    "SlackNotifierFunctionErrorsAlarm",
]
ALERT_VARIABLES = {
    "ALERT_LANGUAGE": "AlertLanguage",
    "ALERT_SAMPLE_PATHS": "AlertSamplePaths",
    "ALERT_UPDATE_INTERVAL_MINUTES": "AlertUpdateIntervalMinutes",
    "ESCALATION_MINUTES": "EscalationMinutes",
}


@pytest.fixture(scope="module")
def template():
    return load_template()


@pytest.fixture(scope="module")
def transformed():
    return transform_template()


def resources(template, resource_type):
    return {key: value for key, value in template["Resources"].items() if value["Type"] == resource_type}


# Parameters to settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "parameter"), ALERT_VARIABLES.items())
def test_alert_parameter_reaches_every_function(template, variable, parameter):
    assert variable in ENVIRONMENT_VARIABLES.values()
    assert template["Globals"]["Function"]["Environment"]["Variables"][variable] == {"Ref": parameter}


def test_alert_parameter_defaults_are_valid_settings(template):
    parameters = template["Parameters"]
    environ = {
        "STATE_TABLE_NAME": "table",
        "ALERT_TOPIC_ARN": "arn:aws:sns:ap-northeast-1:123456789012:alerts",
        "SHARES_PARAMETER_NAME": "/sgw-drift/shares",
        "FILE_SHARE_ARNS": "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D",
        "SETTLE_SECONDS": "120",
        "REFRESH_SLOT_TIMEOUT_SECONDS": "1800",
        "MAX_REFRESH_ATTEMPTS": "3",
        **{
            variable: str(parameters[parameter]["Default"]) for variable, parameter in ALERT_VARIABLES.items()
        },
    }

    settings = load_settings(environ)

    assert settings.alert_language == parameters["AlertLanguage"]["Default"] == "en"
    assert parameters["AlertLanguage"]["AllowedValues"] == ["en", "ja"]
    assert settings.escalation_minutes == parameters["EscalationMinutes"]["Default"]


@pytest.mark.parametrize(
    ("parameter", "field"),
    [
        ("AlertSamplePaths", "alert_sample_paths"),
        ("AlertUpdateIntervalMinutes", "alert_update_interval_minutes"),
        ("EscalationMinutes", "escalation_minutes"),
    ],
)
def test_parameter_range_matches_settings_range(template, parameter, field):
    from sgw_drift.config import Settings

    definition = template["Parameters"][parameter]
    metadata = {type(item).__name__: item for item in Settings.model_fields[field].metadata}

    assert definition["MinValue"] == metadata["Ge"].ge
    assert definition["MaxValue"] == metadata["Le"].le


def test_slack_secret_parameter_pattern(template):
    pattern = re.compile(template["Parameters"]["SlackWebhookSecretArn"]["AllowedPattern"])

    assert pattern.fullmatch("")
    assert pattern.fullmatch(SLACK_WEBHOOK_SECRET_ARN)
    assert not pattern.fullmatch("https://hooks.slack.com/services/T/B/x")
    assert template["Parameters"]["SlackWebhookSecretArn"]["Default"] == ""


# Topic encryption ---------------------------------------------------------------------------------


def test_topic_uses_customer_managed_key(template):
    topic = template["Resources"]["AlertTopic"]["Properties"]
    key = template["Resources"]["AlertTopicKey"]

    assert topic["KmsMasterKeyId"] == {"Ref": "AlertTopicKey"}
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True


def test_key_policy_lets_cloudwatch_publish(template):
    statements = {
        item["Sid"]: item
        for item in template["Resources"]["AlertTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    }
    resolved = IntrinsicResolver(template).resolve(statements)

    cloudwatch = resolved["CloudWatchAlarmsPublish"]
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert resolved["AccountAdministersKey"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert set(statements) == {"AccountAdministersKey", "CloudWatchAlarmsPublish"}


def test_publishers_may_use_the_key(template):
    statements = template["Resources"]["SharedFunctionPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (encrypt,) = [item for item in statements if item["Sid"] == "EncryptAlerts"]

    assert sorted(encrypt["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert encrypt["Resource"] == {"Fn::GetAtt": ["AlertTopicKey", "Arn"]}


# Slack notifier -----------------------------------------------------------------------------------


@pytest.mark.parametrize("logical_id", SLACK_RESOURCES)
def test_slack_resources_only_with_webhook_secret(template, logical_id):
    assert template["Resources"][logical_id]["Condition"] == "HasSlackWebhook"
    assert template["Conditions"]["HasSlackWebhook"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SlackWebhookSecretArn"}, ""]}]
    }


def test_generated_slack_resources_keep_condition(transformed):
    generated = [
        "SlackNotifierFunctionAlertTopic",
        "SlackNotifierFunctionAlertTopicPermission",
        "SlackNotifierFunctionEventInvokeConfig",
    ]

    for logical_id in generated:
        assert transformed["Resources"][logical_id]["Condition"] == "HasSlackWebhook", logical_id


def test_notifier_subscribes_with_lambda_protocol(transformed):
    subscription = transformed["Resources"]["SlackNotifierFunctionAlertTopic"]["Properties"]

    assert subscription["Protocol"] == "lambda"
    assert subscription["TopicArn"] == {"Ref": "AlertTopic"}
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["SlackNotifierFunction", "Arn"]}


def test_notifier_failures_go_to_its_dead_letter_queue(transformed):
    config = transformed["Resources"]["SlackNotifierFunctionEventInvokeConfig"]["Properties"]

    assert config["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["SlackNotifierDLQ", "Arn"]}}
    }
    assert config["MaximumRetryAttempts"] == 2


def test_notifier_dead_letter_queue_encrypted_14_days(template):
    queue = template["Resources"]["SlackNotifierDLQ"]["Properties"]

    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_notifier_function_settings(transformed):
    function = transformed["Resources"]["SlackNotifierFunction"]["Properties"]
    variables = function["Environment"]["Variables"]

    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "app.lambda_handler"
    assert function["LoggingConfig"] == {"LogGroup": {"Ref": "SlackNotifierLogGroup"}}
    assert variables["SLACK_WEBHOOK_SECRET_ARN"] == {"Ref": "SlackWebhookSecretArn"}
    assert variables["STATE_TABLE_NAME"] == {"Ref": "StateTable"}
    assert variables["ALERT_LANGUAGE"] == {"Ref": "AlertLanguage"}


def test_notifier_timeout_covers_its_retries(transformed):
    timeout = transformed["Resources"]["SlackNotifierFunction"]["Properties"]["Timeout"]

    worst_case = (1 + MAX_RETRIES) * REQUEST_TIMEOUT_SECONDS + MAX_RETRIES * MAX_RETRY_AFTER_SECONDS

    assert timeout >= worst_case


def test_notifier_makefile_copies_app():
    makefile = (REPO_ROOT / "functions/slack_notifier/Makefile").read_text(encoding="utf-8")

    assert re.search(
        r"^build-SlackNotifierFunction:\n\tcp \*\.py \"\$\(ARTIFACTS_DIR\)/\"$", makefile, re.MULTILINE
    )


def test_layer_pins_slack_sdk():
    lines = (REPO_ROOT / "layers/sgw_drift/requirements.txt").read_text(encoding="utf-8").splitlines()

    assert any(re.fullmatch(r"slack-sdk==\d+\.\d+\.\d+", line) for line in lines)


# Alarms -------------------------------------------------------------------------------------------


def alarm(template, logical_id):
    return template["Resources"][logical_id]["Properties"]


@pytest.mark.parametrize(
    "queue", ["ObjectEventsDLQ", "EventDeliveryDLQ", "InvocationFailureDLQ", "SlackNotifierDLQ"]
)
def test_dead_letter_queue_depth_alarm(template, queue):
    properties = alarm(template, f"{queue}DepthAlarm")

    assert properties["Namespace"] == "AWS/SQS"
    assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert properties["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert (properties["ComparisonOperator"], properties["Threshold"]) == ("GreaterThanThreshold", 0)


def test_every_function_has_an_errors_alarm(template):
    functions = set(resources(template, "AWS::Serverless::Function"))

    assert {
        function for function in functions if f"{function}ErrorsAlarm" in template["Resources"]
    } == functions


def test_every_dead_letter_queue_has_an_alarm(template):
    queues = {
        logical_id
        for logical_id, resource in resources(template, "AWS::SQS::Queue").items()
        if logical_id.endswith("DLQ")
    }

    assert {queue for queue in queues if f"{queue}DepthAlarm" in template["Resources"]} == queues


@pytest.mark.parametrize(
    "function",
    [
        "ObjectEventsFunction",
        "RefreshCompletedFunction",
        "ReconcileFunction",
        "FleetManagerFunction",
        "SlackNotifierFunction",
    ],
)
def test_function_errors_alarm(template, function):
    properties = alarm(template, f"{function}ErrorsAlarm")

    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/Lambda", "Errors")
    assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    assert (properties["ComparisonOperator"], properties["Threshold"]) == ("GreaterThanThreshold", 0)


def test_staleness_alarm_uses_threshold_parameter(template):
    properties = alarm(template, "StalenessAlarm")

    assert (properties["Namespace"], properties["MetricName"]) == ("SgwDrift", "StalenessSeconds")
    assert properties["Dimensions"] == [{"Name": "service", "Value": "sgw-drift"}]
    assert properties["Threshold"] == {"Ref": "StalenessAlarmSeconds"}
    assert properties["Statistic"] == "Maximum"


def test_expired_refresh_slot_alarm(template):
    properties = alarm(template, "RefreshSlotExpiredAlarm")

    assert (properties["Namespace"], properties["MetricName"]) == ("SgwDrift", "RefreshSlotExpired")
    assert (properties["ComparisonOperator"], properties["Threshold"]) == ("GreaterThanThreshold", 0)


def test_every_alarm_notifies_the_alert_topic(template):
    alarms = resources(template, "AWS::CloudWatch::Alarm")

    assert len(alarms) >= 10
    for logical_id, resource in alarms.items():
        properties = resource["Properties"]
        assert properties["AlarmActions"] == [{"Ref": "AlertTopic"}], logical_id
        assert properties["TreatMissingData"] == "notBreaching", logical_id


# Dashboard and metrics ----------------------------------------------------------------------------


def dashboard_body(template) -> dict:
    body = IntrinsicResolver(template).resolve(
        template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
    )
    return json.loads(body)


def test_dashboard_body_is_valid_json_with_resolved_references(template):
    body = dashboard_body(template)

    assert len(body["widgets"]) == 6
    text = json.dumps(body)
    assert "${" not in text
    assert '"value": 1800' in text  # the StalenessAlarmSeconds default, as a number


@pytest.mark.parametrize("metric", REQUIRED_METRICS)
def test_dashboard_shows_metric(template, metric):
    metrics = [
        line[1]
        for widget in dashboard_body(template)["widgets"]
        for line in widget["properties"].get("metrics", [])
        if line[0] == "SgwDrift"
    ]

    assert metric in metrics


@pytest.mark.parametrize("metric", [*REQUIRED_METRICS, "RefreshSlotExpired"])
def test_library_emits_metric(metric):
    sources = "\n".join(
        path.read_text(encoding="utf-8") for path in (REPO_ROOT / "layers/sgw_drift/sgw_drift").rglob("*.py")
    )

    assert f'name="{metric}"' in sources


def test_dashboard_alarm_widget_lists_alarms(template):
    (widget,) = [widget for widget in dashboard_body(template)["widgets"] if widget["type"] == "alarm"]

    assert "<StalenessAlarm.Arn>" in widget["properties"]["alarms"]
    assert "<RefreshSlotExpiredAlarm.Arn>" in widget["properties"]["alarms"]
