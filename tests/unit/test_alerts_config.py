"""Alert settings: template parameters reach config.Settings through environment variables, validated."""

from __future__ import annotations

import pytest

from sgw_drift.alerts.notifier import SlackConfigurationError, load_notifier_settings
from sgw_drift.config import ConfigurationError, load_settings

BASE = {
    "STATE_TABLE_NAME": "sgw-drift-state",
    "ALERT_TOPIC_ARN": "arn:aws:sns:ap-northeast-1:123456789012:sgw-drift-alerts",
    "SHARES_PARAMETER_NAME": "/sgw-drift/shares",
    "FILE_SHARE_ARNS": "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D",
    "SETTLE_SECONDS": "120",
    "REFRESH_SLOT_TIMEOUT_SECONDS": "1800",
    "MAX_REFRESH_ATTEMPTS": "3",
}
SECRET_ARN = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:sgw-drift/slack-webhook-AbCdEf"


def test_alert_settings_read_from_environment():
    settings = load_settings(
        {
            **BASE,
            "ALERT_LANGUAGE": "ja",
            "ALERT_SAMPLE_PATHS": "25",
            "ALERT_UPDATE_INTERVAL_MINUTES": "15",
            "ESCALATION_MINUTES": "120",
        }
    )

    assert settings.alert_language == "ja"
    assert settings.alert_sample_paths == 25
    assert settings.alert_update_interval_minutes == 15
    assert settings.escalation_minutes == 120


def test_alert_settings_default_to_template_defaults():
    settings = load_settings(BASE)

    assert (settings.alert_language, settings.alert_sample_paths) == ("en", 10)
    assert (settings.alert_update_interval_minutes, settings.escalation_minutes) == (5, 60)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ALERT_LANGUAGE", "fr"),
        ("ALERT_SAMPLE_PATHS", "0"),
        ("ALERT_SAMPLE_PATHS", "many"),
        ("ALERT_UPDATE_INTERVAL_MINUTES", "0"),
        ("ESCALATION_MINUTES", "1"),
    ],
)
def test_invalid_alert_setting_named_in_error(variable, value):
    with pytest.raises(ConfigurationError) as raised:
        load_settings({**BASE, variable: value})

    assert variable in str(raised.value)
    assert repr(value) in str(raised.value)


def test_notifier_settings():
    settings = load_notifier_settings(
        {
            "STATE_TABLE_NAME": "sgw-drift-state",
            "SLACK_WEBHOOK_SECRET_ARN": SECRET_ARN,
            "ALERT_LANGUAGE": "ja",
        }
    )

    assert settings.slack_webhook_secret_arn == SECRET_ARN
    assert settings.alert_language == "ja"


def test_notifier_settings_missing_secret_named():
    with pytest.raises(SlackConfigurationError, match="SLACK_WEBHOOK_SECRET_ARN"):
        load_notifier_settings({"STATE_TABLE_NAME": "sgw-drift-state"})


def test_notifier_settings_bad_language_named():
    with pytest.raises(SlackConfigurationError, match="ALERT_LANGUAGE"):
        load_notifier_settings(
            {
                "STATE_TABLE_NAME": "sgw-drift-state",
                "SLACK_WEBHOOK_SECRET_ARN": SECRET_ARN,
                "ALERT_LANGUAGE": "de",
            }
        )
