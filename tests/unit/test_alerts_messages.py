"""Alert messages in every format and language: golden files, escaping, Slack and SNS limits.

Golden files live in tests/golden/. After an intended change of wording or layout, regenerate them
with `SGW_DRIFT_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_alerts_messages.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import string
from pathlib import Path

import pytest

from sgw_drift.alerts import chat, slack, text
from sgw_drift.alerts.catalogue import MESSAGES, Catalogue
from sgw_drift.alerts.model import Alert, audit_alert, incident_alert
from sgw_drift.alerts.publisher import MESSAGE_BYTES_LIMIT, fit_message, protocol_messages

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE_GOLDEN = os.environ.get("SGW_DRIFT_UPDATE_GOLDEN") == "1"

OPENED_AT = 1_780_000_000.0  # 2026-05-28 20:26:40 UTC
SHARE_ARN = "arn:aws:storagegateway:ap-northeast-1:123456789012:share/share-1A2B3C4D"
GATEWAY_ARN = "arn:aws:storagegateway:ap-northeast-1:123456789012:gateway/sgw-12A3456B"
HOSTILE_PATHS = ["R&D <draft> v2.xlsx", "<!channel> urgent.txt", "営業部/研究&開発/議事録 <最終>.docx"]


def make_incident(**changes) -> dict:
    incident = {
        "id": "0f1e2d3c4b5a",
        "status": "open",
        "share_arn": SHARE_ARN,
        "share_id": "share-1A2B3C4D",
        "gateway_arn": GATEWAY_ARN,
        "bucket": "sgw-drift-demo-bucket",
        "prefix": "projects/",
        "opened_at": OPENED_AT,
        "first_edit_at": OPENED_AT - 25,
        "last_seen": OPENED_AT + 40,
        "unverified": False,
        "counts": {"missing_on_share": 3, "only_on_share": 1, "size_differs": 2},
        "samples": ["reports/2026/q3.csv", "営業部/2026年 第1四半期 報告書.xlsx", "archive/2019.log"],
        "failures": [],
        "refreshes": ["a1b2c3d4-0001"],
        "escalated_at": None,
    }
    incident.update(changes)
    return incident


def make_audit(**changes) -> dict:
    audit = {
        "operation": "DeleteFileSystemItem",
        "document": "AWSFleetManager-DeleteFileSystemItem",
        "principal": "arn:aws:sts::123456789012:assumed-role/Operators/hanako",
        "session": "hanako-0123456789abcdef0",
        "event_time": "2026-05-28T20:30:00Z",
        "instance_id": "i-052fcf7f6fa590e08",
        "share_arn": SHARE_ARN,
        "paths": ["/storage/営業部/古い資料.xlsx"],
        "drift": {"only_on_share": 1},
    }
    audit.update(changes)
    return audit


# event name -> (incident changes, event, seconds after opening when the message is sent)
INCIDENT_CASES = {
    "opened": ({}, "opened", 60),
    "opened-unverified": (
        {"unverified": True, "counts": {"unverified_edit": 2}, "refreshes": []},
        "opened",
        0,
    ),
    "updated": ({}, "updated", 400),
    "failed": (
        {"failures": ["Cannot access the S3 bucket sgw-drift-demo-bucket: Access Denied"]},
        "failed",
        300,
    ),
    "escalated": (
        {"escalated_at": OPENED_AT + 3600, "refreshes": ["a1b2c3d4-0001", "a1b2c3d4-0002"]},
        "escalated",
        3600,
    ),
    "resolved": (
        {
            "status": "resolved",
            "resolved_at": OPENED_AT + 95,
            "refreshes": ["a1b2c3d4-0001", "a1b2c3d4-0002"],
        },
        "resolved",
        95,
    ),
}


def incident_case(name: str, language: str) -> Alert:
    changes, event, after = INCIDENT_CASES[name]
    return incident_alert(make_incident(**changes), event, language=language, now=OPENED_AT + after)


def audit_case(language: str) -> Alert:
    return audit_alert(make_audit(), language=language, now=OPENED_AT + 200)


ALL_CASES = [*INCIDENT_CASES, "audit"]


def alert_for(name: str, language: str) -> Alert:
    return audit_case(language) if name == "audit" else incident_case(name, language)


def rendered(alert: Alert, fmt: str) -> str:
    if fmt == "email":
        return f"Subject: {text.subject(alert)}\n\n{text.body(alert)}"
    if fmt == "chat":
        document = chat.render(alert)
    elif fmt == "slack":
        document = slack.render(alert)
    else:
        document = json.loads(protocol_messages(alert)["lambda"])
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"golden file {path} is missing: run with SGW_DRIFT_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


# Golden files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("fmt", ["email", "chat", "slack", "structured"])
@pytest.mark.parametrize("case", ALL_CASES)
def test_message_matches_golden(case, fmt, language):
    extension = "txt" if fmt == "email" else "json"

    check_golden(f"{case}.{language}.{fmt}.{extension}", rendered(alert_for(case, language), fmt))


def test_every_golden_file_is_used():
    expected = {
        f"{case}.{language}.{fmt}.{'txt' if fmt == 'email' else 'json'}"
        for case in ALL_CASES
        for language in ("en", "ja")
        for fmt in ("email", "chat", "slack", "structured")
    }

    assert {path.name for path in GOLDEN.iterdir()} == expected


# Languages ------------------------------------------------------------------------------------------


def placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def test_catalogue_languages_have_same_keys():
    assert set(MESSAGES["en"]) == set(MESSAGES["ja"])


@pytest.mark.parametrize("key", sorted(MESSAGES["en"]))
def test_catalogue_placeholders_match(key):
    assert placeholders(MESSAGES["en"][key]) == placeholders(MESSAGES["ja"][key])


@pytest.mark.parametrize("case", ALL_CASES)
def test_japanese_body_differs_from_english(case):
    english = text.body(alert_for(case, "en"))
    japanese = text.body(alert_for(case, "ja"))

    assert english != japanese
    assert re.search(r"[\u3040-\u30ff]", japanese), "the Japanese body has no kana"


def test_unknown_language_rejected():
    with pytest.raises(ValueError, match="unsupported alert language 'fr'"):
        Catalogue("fr")


@pytest.mark.parametrize(
    ("seconds", "english", "japanese"),
    [
        (42, "42 s", "42 秒"),
        (600, "10 min", "10 分"),
        (3900, "1 h 5 min", "1 時間 5 分"),
        (200_000, "2 d 7 h", "2 日 7 時間"),
    ],
)
def test_durations_in_both_languages(seconds, english, japanese):
    assert Catalogue("en").duration(seconds) == english
    assert Catalogue("ja").duration(seconds) == japanese


# Escaping -------------------------------------------------------------------------------------------


def hostile_alerts() -> list[Alert]:
    incident = make_incident(samples=HOSTILE_PATHS, prefix="R&D <team>/", failures=["<!here> denied & <b>"])
    audit = make_audit(paths=HOSTILE_PATHS, principal="<@U123> & co", operation="<!channel>")
    return [
        *(
            incident_alert(incident, event, language=language, now=OPENED_AT + 60)
            for event in ("opened", "failed")
            for language in ("en", "ja")
        ),
        *(audit_alert(audit, language=language, now=OPENED_AT) for language in ("en", "ja")),
    ]


def all_strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [item for value in node.values() for item in all_strings(value)]
    if isinstance(node, list):
        return [item for value in node for item in all_strings(value)]
    return []


@pytest.mark.parametrize("alert", hostile_alerts(), ids=lambda alert: f"{alert.event}-{alert.language}")
@pytest.mark.parametrize("renderer", [slack.render, chat.render], ids=["slack", "chat"])
def test_markup_escaped_everywhere(renderer, alert):
    payload = renderer(alert)
    strings = all_strings(payload)

    assert not any("<" in item or ">" in item for item in strings), "a raw < or > reached the payload"
    assert not any(re.search(r"&(?!amp;|lt;|gt;)", item) for item in strings), "a raw & reached the payload"
    assert "<!channel>" not in json.dumps(payload, ensure_ascii=False)


def test_hostile_paths_escaped_once_in_slack():
    alert = incident_alert(make_incident(samples=HOSTILE_PATHS), "opened", language="ja", now=OPENED_AT)

    payload = json.dumps(slack.render(alert), ensure_ascii=False)

    assert "R&amp;D &lt;draft&gt; v2.xlsx" in payload
    assert "&lt;!channel&gt; urgent.txt" in payload
    # Japanese is untouched; only & < > change.
    assert "営業部/研究&amp;開発/議事録 &lt;最終&gt;.docx" in payload
    assert "&amp;amp;" not in payload
    assert "&amp;lt;" not in payload


def test_hostile_paths_escaped_once_in_chat():
    alert = incident_alert(make_incident(samples=HOSTILE_PATHS), "opened", language="en", now=OPENED_AT)

    description = chat.render(alert)["content"]["description"]

    assert "R&amp;D &lt;draft&gt; v2.xlsx" in description
    assert "&lt;!channel&gt; urgent.txt" in description
    assert "営業部/研究&amp;開発/議事録 &lt;最終&gt;.docx" in description


def test_email_and_structured_keep_paths_verbatim():
    alert = incident_alert(make_incident(samples=HOSTILE_PATHS), "opened", language="ja", now=OPENED_AT)

    body = text.body(alert)
    structured = json.loads(protocol_messages(alert)["sqs"])

    for path in HOSTILE_PATHS:
        assert f"  {path}\n" in body
    assert structured["incident"]["sample_paths"] == HOSTILE_PATHS


def test_control_characters_cannot_forge_lines():
    forged = "ok.txt\nShare: arn:aws:storagegateway:forged\u202e"
    alert = incident_alert(make_incident(samples=[forged]), "opened", language="en", now=OPENED_AT)

    body = text.body(alert)
    slack_lines = [line for item in all_strings(slack.render(alert)) for line in item.split("\n")]

    assert "\nShare: arn:aws:storagegateway:forged" not in body
    assert "ok.txt\\nShare: arn:aws:storagegateway:forged\\u202e" in body
    assert not any(line.startswith("Share: arn:aws:storagegateway:forged") for line in slack_lines)
    assert not any("\u202e" in line for line in slack_lines)


def test_backticks_cannot_close_the_code_block():
    alert = incident_alert(make_incident(samples=["a```b.txt"]), "opened", language="en", now=OPENED_AT)

    paths_block = next(
        block
        for block in slack.render(alert)["blocks"]
        if block.get("text", {}).get("text", "").startswith("```")
    )

    assert paths_block["text"]["text"].count("```") == 2


# Limits -----------------------------------------------------------------------------------------------


def many_paths(count: int) -> list[str]:
    return [
        f"部署{index % 7}/プロジェクト {index:05d}/R&D <資料> 報告書 {index}.xlsx" for index in range(count)
    ]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_5000_paths_fit_slack_limits(language):
    paths = many_paths(5000)
    incident = make_incident(samples=paths, counts={"missing_on_share": 5000})
    alert = incident_alert(incident, "opened", language=language, now=OPENED_AT)

    payload = slack.render(alert)

    assert slack.within_limits(payload) == []
    assert len(payload["blocks"]) <= 50
    assert slack.text_size(payload) <= slack.TOTAL_TEXT_LIMIT
    code_blocks = [
        block["text"]["text"]
        for block in payload["blocks"]
        if block["type"] == "section" and block.get("text", {}).get("text", "").startswith("```")
    ]
    shown = sum(block.count("\n") - 1 for block in code_blocks)
    contexts = [
        element["text"]
        for block in payload["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    ]
    assert 0 < shown < 5000
    assert Catalogue(language)("value.more_paths", count=f"{5000 - shown:,}") in contexts


def test_5000_paths_keep_chat_description_bounded():
    alert = incident_alert(
        make_incident(samples=many_paths(5000), counts={"missing_on_share": 5000}),
        "opened",
        language="en",
        now=OPENED_AT,
    )

    description = chat.render(alert)["content"]["description"]

    assert len(description) <= chat.DESCRIPTION_LIMIT
    assert re.search(r"and [\d,]+ more", description)


def test_long_paths_and_fields_fit_slack_limits():
    long_path = "&" * 1024
    alert = incident_alert(
        make_incident(samples=[long_path] * 100, prefix="<" * 1000 + "/", failures=["&" * 4000] * 5),
        "failed",
        language="en",
        now=OPENED_AT,
    )

    payload = slack.render(alert)

    assert slack.within_limits(payload) == []
    assert not any(re.search(r"&(?!amp;|lt;|gt;)", item) for item in all_strings(payload))


def test_sns_message_fits_with_many_long_paths():
    paths = ["研究開発/" + "資料" * 160 + f"{index}.xlsx" for index in range(100)]  # about 1,000 bytes each
    alert = incident_alert(
        make_incident(samples=paths, counts={"missing_on_share": 100}), "opened", language="ja", now=OPENED_AT
    )

    fitted, message = fit_message(alert)

    assert len(message.encode("utf-8")) <= MESSAGE_BYTES_LIMIT
    assert 0 < len(fitted.incident.sample_paths) < 100
    assert set(json.loads(message)) == {"default", "email", "email-json", "sqs", "lambda", "http", "https"}


@pytest.mark.parametrize("case", ALL_CASES)
@pytest.mark.parametrize("language", ["en", "ja"])
def test_subject_ascii_and_short(case, language):
    subject = text.subject(alert_for(case, language))

    assert subject.isascii()
    assert subject.isprintable()
    assert 0 < len(subject) < 100


def test_subject_of_long_non_ascii_audit_is_clipped():
    alert = audit_alert(
        make_audit(operation="削除" * 100, instance_id="i-" + "0" * 200), language="ja", now=OPENED_AT
    )

    subject = text.subject(alert)

    assert subject.isascii()
    assert len(subject) == 99


def test_structured_message_parses_back():
    alert = incident_case("escalated", "ja")

    parsed = Alert.model_validate(json.loads(protocol_messages(alert)["lambda"]))

    assert parsed == alert


def test_structured_message_ignores_unknown_fields():
    document = json.loads(protocol_messages(incident_case("opened", "en"))["lambda"])
    document["added_later"] = {"x": 1}
    document["incident"]["new_field"] = True

    parsed = Alert.model_validate(document)

    assert parsed.incident.id == "0f1e2d3c4b5a"


@pytest.mark.parametrize(
    ("drift", "expected"),
    [
        ({"only_on_share": 2}, "on the share, gone from the bucket: 2"),
        (["a.txt", "b.txt"], "a.txt, b.txt"),
        ("folder /x differs", "folder /x differs"),
    ],
)
def test_audit_drift_forms(drift, expected):
    alert = audit_alert(make_audit(drift=drift), language="en", now=OPENED_AT)

    assert f"Drift found after the operation: {expected}" in text.body(alert)


def test_audit_without_paths_says_unknown():
    alert = audit_alert(make_audit(paths=[], share_arn=None, drift=None), language="en", now=OPENED_AT)

    body = text.body(alert)

    assert "Paths: unknown: the command's parameters could not be read" in body
    assert "Share: -" in body
    assert "Drift found" not in body
